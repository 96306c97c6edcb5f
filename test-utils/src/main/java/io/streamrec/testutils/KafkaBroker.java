package io.streamrec.testutils;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real in-process KRaft broker for one test class: {@code @RegisterExtension static final
 * KafkaBroker KAFKA}.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
  private EmbeddedKafka kafka;

  @Override
  public void beforeAll(ExtensionContext context) {
    kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    kafka.close();
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }
}
