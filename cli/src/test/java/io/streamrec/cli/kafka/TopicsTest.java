package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.streamrec.job.config.TopicsConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void specsGiveEachTopicItsPartitionsAndPolicy() {
    List<NewTopic> specs =
        Topics.specs(TopicsConfig.defaults().withInputPartitions(4), Optional.empty());

    assertThat(specs)
        .extracting(NewTopic::name, NewTopic::numPartitions)
        .containsExactly(
            tuple("requests", 4),
            tuple("impressions", 4),
            tuple("dead-letters", 1),
            tuple("model-updates", 1),
            tuple("request-units", 4));
    assertThat(specs.get(3).configs())
        .isEqualTo(
            Map.of(
                "cleanup.policy",
                "compact",
                "min.compaction.lag.ms",
                "10000",
                "segment.ms",
                "300000",
                "message.timestamp.type",
                "LogAppendTime"));
    for (int i : new int[] {0, 1, 2, 4}) {
      assertThat(specs.get(i).configs())
          .as(specs.get(i).name())
          .isEqualTo(Map.of("cleanup.policy", "delete"));
    }
    // the cluster's default.replication.factor unless --replication-factor says otherwise
    assertThat(specs).allSatisfy(s -> assertThat(s.replicationFactor()).isEqualTo((short) -1));
  }

  /**
   * The topics were always created with the cluster's default.replication.factor, which Kafka
   * leaves at 1: a production cluster got topics of one replica, and no way to ask for more.
   */
  @Test
  void specsTakeTheReplicationFactorAskedFor() {
    assertThat(Topics.specs(TopicsConfig.defaults(), Optional.of((short) 3)))
        .allSatisfy(s -> assertThat(s.replicationFactor()).isEqualTo((short) 3));
  }

  @Test
  void compactedWithOnePartitionPasses() {
    assertThatCode(() -> Topics.checkModelUpdates("m", 1, "compact")).doesNotThrowAnyException();
  }

  @Test
  void oneDeletePartitionCanBeFixedInPlace() {
    assertThatThrownBy(() -> Topics.checkModelUpdates("m", 1, "delete"))
        .isInstanceOf(TopicConfigException.class)
        .hasMessageContaining("topic 'm'")
        .hasMessageContaining("cleanup.policy=delete and 1 partition.")
        .hasMessageContaining("--entity-name m --add-config cleanup.policy=compact");
  }

  @Test
  void compactAndDeleteIsRejected() {
    // retention would delete rows no publish has touched lately: the model would lose them
    assertThatThrownBy(() -> Topics.checkModelUpdates("m", 1, "compact,delete"))
        .isInstanceOf(TopicConfigException.class)
        .hasMessageContaining("cleanup.policy=compact,delete");
  }

  @Test
  void severalPartitionsNeedTheTopicRecreated() {
    assertThatThrownBy(() -> Topics.checkModelUpdates("m", 6, "compact"))
        .isInstanceOf(TopicConfigException.class)
        .hasMessageContaining("cleanup.policy=compact and 6 partitions")
        .hasMessageContaining("--delete --topic m");
  }
}
