package io.streamrec.job.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.protocol.ModelUpdateRecord;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.StreamMap;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class PublishedVersionsTest {
  /**
   * A job restored while its input was silent read model_freshness_ms NaN until its next version:
   * the model grew older with every minute of the outage and the figure, and the alert on it, said
   * nothing. The newest version's event time is in the checkpoint.
   */
  @Test
  void theNewestVersionsEventTimeOutlivesARestore() throws Exception {
    PublishedVersions first = new PublishedVersions();
    OperatorSubtaskState snapshot;
    try (OneInputStreamOperatorTestHarness<ModelUpdateRecord, ModelUpdateRecord> h =
        new OneInputStreamOperatorTestHarness<>(new StreamMap<>(first))) {
      h.open();
      assertThat(first.freshnessMs(10_000)).isNaN();
      h.processElement(
          new StreamRecord<>(new ModelUpdateRecord(new byte[] {1}, new byte[0], 9_000)));
      assertThat(first.freshnessMs(10_000)).as("a delta is not a version").isNaN();
      h.processElement(
          new StreamRecord<>(new ModelUpdateRecord(ModelUpdateKeys.version(), new byte[0], 7_000)));
      assertThat(first.freshnessMs(10_000)).isEqualTo(3_000);
      snapshot = h.snapshot(1, 1);
    }
    PublishedVersions restored = new PublishedVersions();
    try (OneInputStreamOperatorTestHarness<ModelUpdateRecord, ModelUpdateRecord> h =
        new OneInputStreamOperatorTestHarness<>(new StreamMap<>(restored))) {
      h.initializeState(snapshot);
      h.open();
      assertThat(restored.freshnessMs(70_000)).isEqualTo(63_000);
    }
    PublishedVersions fresh = new PublishedVersions();
    try (OneInputStreamOperatorTestHarness<ModelUpdateRecord, ModelUpdateRecord> h =
        new OneInputStreamOperatorTestHarness<>(new StreamMap<>(fresh))) {
      h.open();
      assertThat(fresh.freshnessMs(70_000)).as("a new job, before its first version").isNaN();
    }
  }
}
