package io.streamrec.cli;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code streamrec run}: the job against any broker, unbounded, until stopped. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the job against a Kafka broker, unbounded: trains on the requests and impressions topics "
          + "and publishes the model to the model-updates topic until stopped (Ctrl-C).",
      "Starts from the consumer group's committed offsets, or the earliest where there are none."
    })
final class RunCommand implements Callable<Integer> {
  @Mixin JobSettings settings;

  @Mixin ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    JobRunner.Started job =
        JobRunner.start(settings.configuration(), StreamrecJob.Bounds.live(), "streamrec");
    System.out.println(
        "streamrec: job "
            + job.client().getJobID()
            + " reading "
            + job.config().requestsTopic()
            + " + "
            + job.config().impressionsTopic()
            + " at "
            + job.config().bootstrapServers()
            + ", publishing to "
            + job.config().modelUpdatesTopic());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    job.client().cancel().get();
                  } catch (Exception e) {
                    // the JVM is going away; nothing more to do
                  }
                },
                "streamrec-cancel"));
    try (Progress p =
        new Progress(System.out, progress.millis(), job.startedAtMs(), job::metrics, () -> "")) {
      job.client().getJobExecutionResult().get();
    }
    return 0;
  }
}
