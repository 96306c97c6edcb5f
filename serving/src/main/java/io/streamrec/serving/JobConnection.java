package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import java.nio.file.Path;

/**
 * What a job's configuration file says about where its model is: the broker ({@code
 * kafka.bootstrap-servers}, null where the file does not name one), the model-updates topic ({@code
 * topics.model-updates}) and the Kafka client settings ({@code properties.*}). {@code serve
 * --config} reads it, so a replica and its job are configured in one place.
 */
public record JobConnection(
    String bootstrapServers, String modelUpdatesTopic, KafkaClientProperties client) {

  /** Reads a job's configuration file; the command line gives one that knows the job's keys. */
  @FunctionalInterface
  public interface Reader {
    /**
     * @throws RuntimeException naming the file when it cannot be read or holds a misspelled key
     */
    JobConnection read(Path configFile);
  }

  /**
   * {@code bootstrapServers} where it names a broker; otherwise what a command that reads Kafka
   * says (the options given, or {@code configFile} read, named none).
   *
   * @throws IllegalArgumentException saying what to give
   */
  public static String requireBroker(String bootstrapServers, Path configFile) {
    if (bootstrapServers != null && !bootstrapServers.isBlank()) {
      return bootstrapServers;
    }
    throw new IllegalArgumentException(
        configFile == null
            ? "give the broker: --bootstrap-servers HOST:PORT, or --config with the job's"
                + " configuration file"
            : "--config "
                + configFile
                + " names no kafka.bootstrap-servers: give"
                + " --bootstrap-servers");
  }

  /**
   * The reader of a process that holds no reader of the job's configuration ({@link ServingMain},
   * whose class path has no Flink): refuses, saying what to give instead.
   */
  static final Reader NONE =
      file -> {
        throw new IllegalArgumentException(
            "--config "
                + file
                + ": this entry point reads no job configuration file; give --bootstrap-servers,"
                + " --topic and --command-config, or run 'streamrec serve --config'");
      };
}
