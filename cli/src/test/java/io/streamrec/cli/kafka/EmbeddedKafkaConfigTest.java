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
}
