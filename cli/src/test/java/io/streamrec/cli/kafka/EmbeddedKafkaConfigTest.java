package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmbeddedKafkaConfigTest {

  @Test
  void embeddedKafkaConfigValidatesPortAndPartitions() {
    assertThatThrownBy(() -> EmbeddedKafkaConfig.defaults().withPort(70_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("70000");
    assertThatThrownBy(() -> EmbeddedKafkaConfig.defaults().withDefaultPartitions(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("defaultPartitions");
    assertThat(EmbeddedKafkaConfig.defaults().withPort(9092).port()).isEqualTo(9092);
  }

  /**
   * A broker with SASL users talked to itself over a plaintext listener of its own, on loopback,
   * which took any client without a login: `tail` and `produce` worked against it with no
   * credentials. Every client listener now asks for a login; the broker logs in as its own user.
   */
  @Test
  void aBrokerWithUsersTakesNoClientWithoutALogin() throws Exception {
    java.util.Map<String, String> s =
        EmbeddedKafka.listenerSettings(
            EmbeddedKafkaConfig.defaults().withSaslUsers(java.util.Map.of("alice", "pw")));
    java.util.Map<String, String> protocol = new java.util.HashMap<>();
    for (String entry : s.get("listener.security.protocol.map").split(",")) {
      String[] kv = entry.split(":");
      protocol.put(kv[0], kv[1]);
    }
    for (String listener : s.get("listeners").split(",")) {
      String name = listener.substring(0, listener.indexOf(':'));
      if (!name.equals(EmbeddedKafka.CONTROLLER_LISTENER)) {
        assertThat(protocol.get(name)).as("listener %s", listener).isEqualTo("SASL_PLAINTEXT");
      }
    }
    assertThat(s.get("inter.broker.listener.name")).isEqualTo(EmbeddedKafka.CLIENT_LISTENER);

    assertThatThrownBy(
            () ->
                EmbeddedKafka.listenerSettings(
                    EmbeddedKafkaConfig.defaults()
                        .withSaslUsers(java.util.Map.of(EmbeddedKafka.BROKER_USER, "pw"))))
        .hasMessageContaining("the broker's own user");
  }
}
