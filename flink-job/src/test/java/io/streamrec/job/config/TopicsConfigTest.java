package io.streamrec.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TopicsConfigTest {

  @Test
  void defaultsNameTheFiveTopics() {
    TopicsConfig cfg = TopicsConfig.defaults();

    assertThat(cfg.all())
        .containsExactly(
            "requests", "impressions", "dead-letters", "model-updates", "request-units");
    assertThat(cfg.inputPartitions()).isEqualTo(2);
  }

  @Test
  void prefixAppliesToEveryName() {
    assertThat(TopicsConfig.defaults().withPrefix("t1.").all())
        .containsExactly(
            "t1.requests",
            "t1.impressions",
            "t1.dead-letters",
            "t1.model-updates",
            "t1.request-units");
  }

  @Test
  void illegalNamesAreRefusedWithTheName() {
    assertThatThrownBy(() -> TopicsConfig.defaults().withPrefix("a b "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a b requests'")
        .hasMessageStartingWith("configuration key 'topics.requests': ");
    assertThatThrownBy(() -> new TopicsConfig("requests", "m", "d", "m", "u", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "configuration keys 'topics.impressions' and 'topics.model-updates' both name topic"
                + " 'm', which is used for two topics");
    assertThatThrownBy(() -> TopicsConfig.defaults().withInputPartitions(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inputPartitions")
        .hasMessageContaining("0");
  }
}
