package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import picocli.CommandLine.Option;

/**
 * The Kafka client settings of {@code serve}, which only reads Kafka: a client file as Kafka's
 * tools take it ({@code --command-config FILE}) and single settings as the job's commands take them
 * ({@code -D properties.security.protocol=SASL_SSL}), the latter winning; both over those of the
 * job's configuration file where the command reads one ({@code --config}).
 */
public final class KafkaClientOptions {
  @Option(
      names = "--command-config",
      paramLabel = "FILE",
      description =
          "Kafka client settings (security.protocol, sasl.*, ssl.*, ...) in a properties file, as"
              + " Kafka's own tools take it.")
  Path commandConfig;

  @Option(
      names = {"-D", "--set"},
      paramLabel = "properties.KEY=VALUE",
      description =
          "One Kafka client setting, e.g. -D properties.security.protocol=SASL_SSL; wins over"
              + " --command-config. Repeatable.")
  Map<String, String> settings = new LinkedHashMap<>();

  /**
   * The settings these options give.
   *
   * @throws IllegalArgumentException for a {@code -D} key outside {@code properties.}, naming it
   */
  public KafkaClientProperties properties() {
    return properties(KafkaClientProperties.empty());
  }

  /**
   * The settings these options give over {@code base} (a job configuration file's {@code
   * properties.*}): {@code --command-config} wins over it, {@code -D} over both.
   *
   * @throws IllegalArgumentException for a {@code -D} key outside {@code properties.}, naming it
   */
  public KafkaClientProperties properties(KafkaClientProperties base) {
    KafkaClientProperties p =
        commandConfig == null ? base : base.with(KafkaClientProperties.load(commandConfig));
    for (String key : settings.keySet()) {
      if (!key.startsWith(KafkaClientProperties.PREFIX)) {
        throw new IllegalArgumentException(
            "-D "
                + key
                + ": this command takes Kafka client settings only, as "
                + KafkaClientProperties.PREFIX
                + "<kafka setting> (e.g. -D properties.security.protocol=SASL_SSL)");
      }
    }
    return p.with(KafkaClientProperties.fromPrefixed(settings));
  }

  /**
   * The words for {@code error} when it is the broker refusing the client (its login or an
   * operation), or null when it is something else.
   */
  public static String refusal(
      Throwable error, String bootstrapServers, KafkaClientProperties client) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SslAuthenticationException) {
        return client.tlsRefusal(bootstrapServers, t);
      }
      if (t instanceof AuthenticationException || t instanceof AuthorizationException) {
        return client.refusal(
            bootstrapServers, t instanceof AuthorizationException, t.getMessage());
      }
    }
    return null;
  }
}
