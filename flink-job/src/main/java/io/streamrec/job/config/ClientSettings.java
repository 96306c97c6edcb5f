package io.streamrec.job.config;

import io.streamrec.common.KafkaClientProperties;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The options every command that reads the job's configuration shares: where the broker is, how the
 * job and its Kafka clients are configured. {@link JobSettings} adds those of the commands that
 * train.
 */
public class ClientSettings {
  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (sets kafka.bootstrap-servers).")
  String bootstrapServers;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Configuration file in YAML, nested or flat keys as in Flink's config.yaml (see the README's"
              + " configuration table).")
  Path configFile;

  @Option(
      names = "--command-config",
      paramLabel = "FILE",
      description =
          "Kafka client settings (security.protocol, sasl.*, ssl.*, ...) in a properties file, as"
              + " Kafka's own tools take it; each sets properties.<key>. Wins over --config, loses to -D.")
  Path commandConfig;

  @Option(
      names = {"-D", "--set"},
      paramLabel = "KEY=VALUE",
      description = "Sets one configuration key; wins over --config. Repeatable.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /**
   * The Flink configuration these options describe.
   *
   * @throws IllegalArgumentException for a key under one of streamrec's prefixes that no option
   *     declares, naming the nearest one
   */
  public final Configuration configuration() {
    Configuration conf = assemble();
    JobArguments.rejectACheckpointIntervalFlinkRefuses(conf);
    return conf;
  }

  /**
   * As {@link #configuration}, without the check of the checkpoint interval: for the job's entry,
   * whose own arguments still set keys after this ({@link JobArguments}), and checks it then.
   */
  final Configuration assemble() {
    Configuration conf = configFile == null ? new Configuration() : ConfigFiles.load(configFile);
    if (commandConfig != null) {
      KafkaClientProperties.load(commandConfig).asPrefixed().forEach(conf::setString);
    }
    overrides.forEach(conf::setString);
    if (bootstrapServers != null) {
      conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
    }
    addTo(conf);
    // a typo in one of streamrec's keys (-D model.embeding-dim=8) would leave the default in
    // force without a word: every command that runs the job refuses it, as the job's entry does
    JobArguments.rejectUnknownStreamrecKeys(conf);
    return conf;
  }

  /**
   * A job's configuration file as a command that only reads what it names (the broker, topics,
   * client settings) takes it: {@code --config} alone.
   *
   * @throws IllegalArgumentException for a key under one of streamrec's prefixes that no option
   *     declares, naming the nearest one
   */
  public static Configuration ofFile(Path file) {
    ClientSettings s = new ClientSettings();
    s.configFile = file;
    return s.assemble();
  }

  /** The configuration file given ({@code --config}); null where none. */
  public final Path configFile() {
    return configFile;
  }

  /** Whether {@code -D} set {@code key}. */
  public final boolean setOnTheCommandLine(String key) {
    return overrides.containsKey(key);
  }

  /** Sets what the options of a subclass say, after -D and before the keys are checked. */
  void addTo(Configuration conf) {}
}
