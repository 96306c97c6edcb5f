package io.streamrec.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How often a job-running command prints its progress line. */
final class ProgressOptions {
  @Option(
      names = "--progress-interval",
      paramLabel = "DURATION",
      defaultValue = "5s",
      converter = Durations.class,
      description = "How often to print a progress line (default ${DEFAULT-VALUE}).")
  Duration interval;

  long millis() {
    return interval.toMillis();
  }
}
