package io.streamrec.job.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The options every job-running command shares: where the broker is and how the job is configured.
 */
public final class JobSettings {
  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (sets kafka.bootstrap-servers).")
  String bootstrapServers;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Configuration file of 'key: value' lines (see the README's configuration table).")
  Path configFile;

  @Option(
      names = {"-D", "--set"},
      paramLabel = "KEY=VALUE",
      description = "Sets one configuration key; wins over --config. Repeatable.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(
      names = "--backend",
      paramLabel = "auto|cpu|cuda",
      description = "Compute backend (sets trainer.backend; default auto).")
  String backend;

  /** The Flink configuration these options describe. */
  public Configuration configuration() {
    Configuration conf = configFile == null ? new Configuration() : ConfigFiles.load(configFile);
    overrides.forEach(conf::setString);
    if (bootstrapServers != null) {
      conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
    }
    if (backend != null) {
      conf.set(JobOptions.BACKEND, backend);
    }
    return conf;
  }
}
