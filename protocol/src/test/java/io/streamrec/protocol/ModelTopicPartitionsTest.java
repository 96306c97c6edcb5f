package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelTopicPartitionsTest {
  @Test
  void aRecordOutsideTheModelsPartitionIsAModelInPieces() {
    assertThat(ModelTopicPartitions.inPieces("m", Map.of(0, 40L))).isNull();
    assertThat(ModelTopicPartitions.inPieces("m", Map.of(0, 40L, 1, 0L, 2, 0L))).isNull();
    assertThat(ModelTopicPartitions.inPieces("m", Map.of(0, 40L, 1, 0L, 2, 7L, 3, 9L)))
        .isEqualTo(
            "topic 'm' has 4 partitions, and partition 2 holds 7 records: the model is published"
                + " in pieces, and the versions of partition 0 miss them; the model-update protocol"
                + " needs the model in one partition (make the topic again with one, and start the"
                + " trainer again: its next version publishes the whole model;"
                + " docs/model-updates.md)");
    assertThat(ModelTopicPartitions.inPieces("m", Map.of(0, 0L, 1, 3L))).contains("partition 1");
  }

  @Test
  void aTopicGrewAroundTheModelOnlyWhereTheModelIsThereAndTheOthersEmpty() {
    assertThat(ModelTopicPartitions.grewAroundTheModel(Map.of(0, 40L)))
        .as("one partition")
        .isFalse();
    assertThat(ModelTopicPartitions.grewAroundTheModel(Map.of(0, 40L, 1, 0L))).isTrue();
    assertThat(ModelTopicPartitions.grewAroundTheModel(Map.of(0, 0L, 1, 0L)))
        .as("made with two, nothing in it yet")
        .isFalse();
    assertThat(ModelTopicPartitions.grewAroundTheModel(Map.of(0, 40L, 1, 1L)))
        .as("in pieces")
        .isFalse();
  }
}
