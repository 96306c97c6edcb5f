package io.streamrec.job.sink;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.metrics.JobMetrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * An exactly-once Kafka sink whose committer notices a transaction that turns out aborted under it.
 * For the model-updates topic it fails the job; for the request-units log it logs and counts the
 * loss. Kafka's committer only logs it ("this most likely signals data loss") and goes on. For the
 * model: the versions the transaction held never reach the topic, the trainer publishes the next
 * ones over the gap, and a replica that reads the topic again after the gap has a model the trainer
 * never had. Failing the job instead restores the trainer from the checkpoint just completed, which
 * finds the topic short of those versions and publishes the whole model in its next one.
 *
 * <p>A transaction the broker aborts (one open past {@code transaction.timeout.ms}: a broker or
 * commit outage that long) or another producer fences (another job with the same transactional ids)
 * ends this way. Only a transaction of a checkpoint after the one the job restored counts (the sink
 * names each by the checkpoint that commits it, {@code <prefix>-<subtask>-<checkpoint>}): those of
 * the restored checkpoint, committed again as the job starts, may have been aborted in the attempt
 * before, which is what the restored trainer handles (the units log cannot have them back).
 */
final class LostCommitCheck<T>
    implements TwoPhaseCommittingStatefulSink<T, KafkaWriterState, KafkaCommittable>,
        SupportsPostCommitTopology<KafkaCommittable>,
        org.apache.flink.streaming.api.lineage.LineageVertexProvider {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(LostCommitCheck.class);

  private final KafkaSink<T> sink;
  private final String what;
  private final boolean failJob;

  /** {@code sink}, exactly-once; {@code what} names its topic in the failure. */
  LostCommitCheck(KafkaSink<T> sink, String what) {
    this(sink, what, true);
  }

  /**
   * With {@code failJob} false, a lost transaction is logged and counted ({@value
   * JobMetrics#LOST_TRANSACTIONS}) and the job goes on: for the request-units log, whose lost units
   * a restart would not bring back (its checkpoint is past them).
   */
  LostCommitCheck(KafkaSink<T> sink, String what, boolean failJob) {
    this.sink = sink;
    this.what = what;
    this.failJob = failJob;
  }

  @Override
  public PrecommittingStatefulSinkWriter<T, KafkaWriterState, KafkaCommittable> createWriter(
      WriterInitContext context) throws IOException {
    return new QuietClose<>(sink.createWriter(context), what);
  }

  @Override
  public PrecommittingStatefulSinkWriter<T, KafkaWriterState, KafkaCommittable> restoreWriter(
      WriterInitContext context, Collection<KafkaWriterState> recovered) throws IOException {
    return new QuietClose<>(sink.restoreWriter(context, recovered), what);
  }

  /**
   * Kafka's exactly-once writer, whose close does not throw. It aborts its open transaction there,
   * which waits up to {@code max.block.ms} for the broker and then throws; Flink closes a failed
   * task's writer while it cleans up after the failure, where any exception is fatal to the task
   * manager ({@code FATAL - exception in exception handler}). A sink that failed during a broker
   * outage took the whole local cluster down that way, and {@code run}'s job never ran again. The
   * transaction it could not abort stays open until the next start of the job aborts it (the sink
   * aborts its earlier transactions as it starts) or the broker does, after {@code
   * transaction.timeout.ms}.
   */
  static final class QuietClose<T>
      implements PrecommittingStatefulSinkWriter<T, KafkaWriterState, KafkaCommittable> {
    private final PrecommittingStatefulSinkWriter<T, KafkaWriterState, KafkaCommittable> writer;
    private final String what;

    QuietClose(
        PrecommittingStatefulSinkWriter<T, KafkaWriterState, KafkaCommittable> writer,
        String what) {
      this.writer = writer;
      this.what = what;
    }

    @Override
    public void write(T element, Context context) throws IOException, InterruptedException {
      writer.write(element, context);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
      writer.flush(endOfInput);
    }

    @Override
    public void writeWatermark(org.apache.flink.api.common.eventtime.Watermark watermark)
        throws IOException, InterruptedException {
      writer.writeWatermark(watermark);
    }

    @Override
    public Collection<KafkaCommittable> prepareCommit() throws IOException, InterruptedException {
      return writer.prepareCommit();
    }

    @Override
    public List<KafkaWriterState> snapshotState(long checkpointId) throws IOException {
      return writer.snapshotState(checkpointId);
    }

    @Override
    public void close() {
      try {
        writer.close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        LOG.warn(
            "{}: the writer's close failed ({}). A transaction it could not abort is aborted when"
                + " the job starts again, or by the broker after transaction.timeout.ms; readers of"
                + " committed records wait at it until then",
            what,
            e.toString());
      }
    }
  }

  @Override
  public SimpleVersionedSerializer<KafkaWriterState> getWriterStateSerializer() {
    return sink.getWriterStateSerializer();
  }

  @Override
  public Committer<KafkaCommittable> createCommitter(CommitterInitContext context)
      throws IOException {
    return new Checked(
        sink.createCommitter(context),
        what,
        context.getRestoredCheckpointId().orElse(-1),
        failJob
            ? null
            : JobMetrics.group(context.metricGroup()).counter(JobMetrics.LOST_TRANSACTIONS));
  }

  @Override
  public SimpleVersionedSerializer<KafkaCommittable> getCommittableSerializer() {
    return sink.getCommittableSerializer();
  }

  @Override
  public void addPostCommitTopology(DataStream<CommittableMessage<KafkaCommittable>> committed) {
    sink.addPostCommitTopology(committed);
  }

  /** Kafka's sink's lineage (its topic), for a lineage listener: the same sink. */
  @Override
  public org.apache.flink.streaming.api.lineage.LineageVertex getLineageVertex() {
    return sink.getLineageVertex();
  }

  /** Thrown by the committer: a transaction of this attempt was aborted before its commit. */
  static final class LostTransactionException extends StreamrecException {
    private static final long serialVersionUID = 1L;

    LostTransactionException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The committer, failing where a transaction of this attempt could not be committed. */
  static final class Checked implements Committer<KafkaCommittable> {
    private final Committer<KafkaCommittable> committer;
    private final String what;
    private final long restoredCheckpoint;
    private final org.apache.flink.metrics.Counter lostCounter;

    /** {@code restoredCheckpoint}: the checkpoint the job restored, -1 for none. */
    Checked(Committer<KafkaCommittable> committer, String what, long restoredCheckpoint) {
      this(committer, what, restoredCheckpoint, null);
    }

    /** With {@code lostCounter}, a lost transaction is logged and counted there, not thrown. */
    Checked(
        Committer<KafkaCommittable> committer,
        String what,
        long restoredCheckpoint,
        org.apache.flink.metrics.Counter lostCounter) {
      this.committer = committer;
      this.what = what;
      this.restoredCheckpoint = restoredCheckpoint;
      this.lostCounter = lostCounter;
    }

    @Override
    public void commit(Collection<CommitRequest<KafkaCommittable>> requests)
        throws IOException, InterruptedException {
      List<Watched> watched = new ArrayList<>(requests.size());
      for (CommitRequest<KafkaCommittable> r : requests) {
        watched.add(new Watched(r, restoredCheckpoint));
      }
      committer.commit(new ArrayList<>(watched));
      for (Watched w : watched) {
        if (w.restoredFailed != null) {
          // Kafka's committer has just logged "this most likely signals data loss" (which the
          // command line keeps off the terminal: this line says what it means)
          LOG.warn(
              "{}: transaction '{}' of the checkpoint this job restored could not be committed"
                  + " again ({}): it was committed before the restart (the usual case: nothing is"
                  + " missing), or aborted with it. {}",
              what,
              w.getCommittable().getTransactionalId(),
              w.restoredFailed.getClass().getSimpleName(),
              lostCounter == null
                  ? "The trainer checks the topic for its versions and, where they are missing,"
                      + " publishes the whole model in its next version"
                  : "Only if it was aborted are its units missing from the log");
        }
        if (w.lost != null && lostCounter != null) {
          lostCounter.inc();
          LOG.error(
              "{}: transaction '{}' was aborted before its commit (open past"
                  + " transaction.timeout.ms, or fenced by another producer of that id): the units"
                  + " it held are missing from the log, and a job over the log does not train them",
              what,
              w.getCommittable().getTransactionalId(),
              w.lost);
        } else if (w.lost != null) {
          throw new LostTransactionException(
              what
                  + ": transaction '"
                  + w.getCommittable().getTransactionalId()
                  + "' was aborted before its commit (open past transaction.timeout.ms, or fenced"
                  + " by another producer of that id), and the records it held never reach the"
                  + " topic. The job restarts from the checkpoint just completed, and its trainer"
                  + " publishes the whole model in its next version",
              w.lost);
        }
      }
    }

    @Override
    public void close() throws Exception {
      committer.close();
    }
  }

  /** The checkpoint a transactional id {@code <prefix>-<subtask>-<checkpoint>} names; -1: none. */
  static long checkpointOf(String transactionalId) {
    try {
      return Long.parseLong(transactionalId.substring(transactionalId.lastIndexOf('-') + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A commit request that notes a failure of a transaction after the restored checkpoint. */
  private static final class Watched implements Committer.CommitRequest<KafkaCommittable> {
    private final Committer.CommitRequest<KafkaCommittable> request;
    private final long restoredCheckpoint;
    private Throwable lost;
    private Throwable restoredFailed;

    Watched(Committer.CommitRequest<KafkaCommittable> request, long restoredCheckpoint) {
      this.request = request;
      this.restoredCheckpoint = restoredCheckpoint;
    }

    @Override
    public KafkaCommittable getCommittable() {
      return request.getCommittable();
    }

    @Override
    public int getNumberOfRetries() {
      return request.getNumberOfRetries();
    }

    @Override
    public void signalFailedWithKnownReason(Throwable t) {
      if (checkpointOf(request.getCommittable().getTransactionalId()) > restoredCheckpoint) {
        lost = t;
      } else {
        restoredFailed = t;
      }
      request.signalFailedWithKnownReason(t);
    }

    @Override
    public void signalFailedWithUnknownReason(Throwable t) {
      request.signalFailedWithUnknownReason(t);
    }

    @Override
    public void retryLater() {
      request.retryLater();
    }

    @Override
    public void updateAndRetryLater(KafkaCommittable committable) {
      request.updateAndRetryLater(committable);
    }

    @Override
    public void signalAlreadyCommitted() {
      request.signalAlreadyCommitted();
    }
  }
}
