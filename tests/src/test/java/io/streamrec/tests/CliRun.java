package io.streamrec.tests;

import io.streamrec.cli.StreamrecCli;
import io.streamrec.job.config.TopicsConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;

/** A streamrec command run in this JVM: how it ended, what it printed, how long it took. */
record CliRun(int exit, String out, String err, Duration took) {
  /** Runs {@code streamrec ARGS}. */
  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cl = StreamrecCli.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    long t0 = System.nanoTime();
    int exit = cl.execute(args);
    return new CliRun(
        exit, out.toString(), err.toString(), Duration.ofNanos(System.nanoTime() - t0));
  }

  /** The {@code -D topics.*} arguments that name {@code topics}' four topics to a job command. */
  static List<String> topicArguments(TopicsConfig topics) {
    return List.of(
        "-D",
        "topics.requests=" + topics.requests(),
        "-D",
        "topics.impressions=" + topics.impressions(),
        "-D",
        "topics.dead-letters=" + topics.deadLetters(),
        "-D",
        "topics.model-updates=" + topics.modelUpdates());
  }
}
