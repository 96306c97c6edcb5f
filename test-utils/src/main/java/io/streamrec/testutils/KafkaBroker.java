package io.streamrec.testutils;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real in-process KRaft broker for one test class: {@code @RegisterExtension static final
 * KafkaBroker KAFKA = new KafkaBroker()}, or {@code KafkaBroker.withSaslUsers(Map.of("alice",
 * "pw"))} for a client listener that asks for SASL/PLAIN.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> saslUsers;
  private EmbeddedKafka kafka;

  public KafkaBroker() {
    this(Map.of());
  }

  private KafkaBroker(Map<String, String> saslUsers) {
    this.saslUsers = Map.copyOf(saslUsers);
  }

  /** A broker whose clients log in with SASL/PLAIN as one of {@code users} (name to password). */
  public static KafkaBroker withSaslUsers(Map<String, String> users) {
    return new KafkaBroker(users);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults().withSaslUsers(saslUsers));
  }

  @Override
  public void afterAll(ExtensionContext context) {
    kafka.close();
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** Kafka client settings that log in as {@code user} (empty for a plaintext broker). */
  public Map<String, String> clientSettings(String user) {
    return kafka.clientSettings(user);
  }

  /** Settings of an admin client of this broker. */
  public Map<String, Object> adminSettings() {
    return kafka.adminSettings();
  }
}
