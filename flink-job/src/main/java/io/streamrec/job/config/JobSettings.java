package io.streamrec.job.config;

import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/** The options of the commands that run the job: {@link ClientSettings}, the backend, --replace. */
public final class JobSettings extends ClientSettings {
  @Option(
      names = "--backend",
      paramLabel = "auto|cpu|cuda",
      description = "Compute backend (sets trainer.backend; default auto).")
  String backend;

  @Option(
      names = "--replace",
      description =
          "Replace the model on the model-updates topic if it is another model (sets"
              + " trainer.replace-model): its rows are tombstoned and replicas switch to this one."
              + " Without it the job refuses to publish over another model.")
  boolean replace;

  @Override
  void addTo(Configuration conf) {
    if (backend != null) {
      conf.set(JobOptions.BACKEND, backend);
    }
    if (replace) {
      conf.set(JobOptions.REPLACE_MODEL, true);
    }
  }
}
