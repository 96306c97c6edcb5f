package io.streamrec.job.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A transaction of the model-updates sink that another producer fenced (a second job of the same
 * transactional ids) or the broker aborted failed its commit, and Kafka's committer logged it and
 * went on: the trainer published the next versions over the missing ones and a replica reading the
 * topic again had a model the trainer never had.
 */
class LostCommitCheckTest {
  private static KafkaCommittable committable(String id) {
    return new KafkaCommittable(7, (short) 1, id, null);
  }

  /** Kafka's committer where every transaction turns out fenced. */
  private static final class Fenced implements Committer<KafkaCommittable> {
    @Override
    public void commit(Collection<CommitRequest<KafkaCommittable>> requests) {
      for (CommitRequest<KafkaCommittable> r : requests) {
        r.signalFailedWithKnownReason(new ProducerFencedException("fenced"));
      }
    }

    @Override
    public void close() {}
  }

  private static final class Request implements Committer.CommitRequest<KafkaCommittable> {
    final KafkaCommittable committable;
    Throwable failed;

    Request(KafkaCommittable committable) {
      this.committable = committable;
    }

    @Override
    public KafkaCommittable getCommittable() {
      return committable;
    }

    @Override
    public int getNumberOfRetries() {
      return 0;
    }

    @Override
    public void signalFailedWithKnownReason(Throwable t) {
      failed = t;
    }

    @Override
    public void signalFailedWithUnknownReason(Throwable t) {
      failed = t;
    }

    @Override
    public void retryLater() {}

    @Override
    public void updateAndRetryLater(KafkaCommittable committable) {}

    @Override
    public void signalAlreadyCommitted() {}
  }

  @Test
  void aTransactionOfThisAttemptAbortedBeforeItsCommitFailsTheJob() {
    // a job restored from checkpoint 11, committing checkpoint 12's transaction
    LostCommitCheck.Checked committer =
        new LostCommitCheck.Checked(new Fenced(), "model-updates topic 'm'", 11);
    Request r = new Request(committable("streamrec-ctr-m-model-updates-0a1b2c3d4e5f-0-12"));
    assertThatThrownBy(() -> committer.commit(List.of(r)))
        .isInstanceOf(LostCommitCheck.LostTransactionException.class)
        .hasMessageContaining("model-updates topic 'm': transaction")
        .hasMessageContaining("-0-12' was aborted before its commit")
        .hasMessageContaining("publishes the whole model in its next version")
        .hasCauseInstanceOf(ProducerFencedException.class);
    assertThat(r.failed).as("Flink is told, as before").isInstanceOf(ProducerFencedException.class);
  }

  /** A lost transaction of the units log is counted and logged; the job goes on. */
  @Test
  void aLostTransactionOfTheUnitsLogIsCounted() throws Exception {
    org.apache.flink.metrics.SimpleCounter lost = new org.apache.flink.metrics.SimpleCounter();
    LostCommitCheck.Checked committer =
        new LostCommitCheck.Checked(new Fenced(), "request-units topic 'u'", 11, lost);
    Request r = new Request(committable("streamrec-ctr-m-request-units-0a1b2c3d4e5f-0-12"));
    committer.commit(List.of(r));
    assertThat(lost.getCount()).isEqualTo(1);
  }

  @Test
  void theFirstJobsTransactionsCountToo() {
    LostCommitCheck.Checked committer =
        new LostCommitCheck.Checked(new Fenced(), "model-updates topic 'm'", -1);
    Request r = new Request(committable("streamrec-ctr-m-model-updates-0a1b2c3d4e5f-0-1"));
    assertThatThrownBy(() -> committer.commit(List.of(r)))
        .isInstanceOf(LostCommitCheck.LostTransactionException.class);
  }

  @Test
  void aRestoredCheckpointsTransactionAbortedByTheRestoreIsLeftToTheTrainer() throws Exception {
    // the transaction of checkpoint 12, committed again on its restore
    LostCommitCheck.Checked committer =
        new LostCommitCheck.Checked(new Fenced(), "model-updates topic 'm'", 12);
    Request r = new Request(committable("streamrec-ctr-m-model-updates-0a1b2c3d4e5f-0-12"));
    committer.commit(List.of(r));
    assertThat(r.failed).isInstanceOf(ProducerFencedException.class);
  }

  /** The wrapped sink still says what it writes to a lineage listener, as Kafka's does. */
  @Test
  void theSinkKeepsKafkasLineage() {
    org.apache.flink.configuration.Configuration c =
        new org.apache.flink.configuration.Configuration();
    c.set(io.streamrec.job.config.JobOptions.BOOTSTRAP_SERVERS, "b:9092");
    c.set(io.streamrec.job.config.JobOptions.DELIVERY_GUARANTEE, "exactly-once");
    var sink = KafkaSinks.modelUpdates(io.streamrec.job.config.JobConfig.from(c), false);
    assertThat(sink).isInstanceOf(LostCommitCheck.class);
    assertThat(
            ((org.apache.flink.streaming.api.lineage.LineageVertexProvider) sink)
                .getLineageVertex())
        .isNotNull();
  }

  /** An exactly-once writer whose close fails as Kafka's does when the broker is away. */
  private static final class AbortTimesOut
      implements TwoPhaseCommittingStatefulSink.PrecommittingStatefulSinkWriter<
          String, KafkaWriterState, KafkaCommittable> {
    final List<String> calls = new ArrayList<>();

    @Override
    public void write(String element, Context context) {
      calls.add("write " + element);
    }

    @Override
    public void flush(boolean endOfInput) {
      calls.add("flush " + endOfInput);
    }

    @Override
    public void writeWatermark(Watermark watermark) {
      calls.add("watermark " + watermark.getTimestamp());
    }

    @Override
    public Collection<KafkaCommittable> prepareCommit() {
      calls.add("prepareCommit");
      return List.of(committable("t-0-3"));
    }

    @Override
    public List<KafkaWriterState> snapshotState(long checkpointId) {
      calls.add("snapshot " + checkpointId);
      return List.of();
    }

    @Override
    public void close() {
      calls.add("close");
      throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(false)");
    }
  }

  /**
   * A failed exactly-once writer's close, which aborts its open transaction, threw where the broker
   * did not answer; Flink closes the writer as it cleans up after the failure, where an exception
   * is fatal to the task manager ("FATAL - exception in exception handler"), and the local
   * cluster's job never ran again. The sink's writer closes without throwing, and passes everything
   * else on.
   */
  @Test
  void theWritersCloseDoesNotThrowWhereTheAbortTimesOut() throws Exception {
    AbortTimesOut inner = new AbortTimesOut();
    LostCommitCheck.QuietClose<String> writer =
        new LostCommitCheck.QuietClose<>(inner, "model-updates topic 'm'");
    writer.write("a", null);
    writer.writeWatermark(new Watermark(42));
    writer.flush(false);
    assertThat(writer.prepareCommit()).containsExactly(committable("t-0-3"));
    assertThat(writer.snapshotState(3)).isEmpty();
    writer.close();
    assertThat(inner.calls)
        .containsExactly(
            "write a", "watermark 42", "flush false", "prepareCommit", "snapshot 3", "close");
  }
}
