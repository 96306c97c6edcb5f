package io.streamrec.job.metrics;

import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.protocol.ModelUpdateRecord;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

/**
 * Watches the model-update records on their way from the trainer to the Kafka sink and reports how
 * fresh the published model is: {@value JobMetrics#MODEL_FRESHNESS_MS}, the wall clock now minus
 * the event time of the newest version handed to the sink (its marker's timestamp, the end of its
 * publish period). It grows between publishes and drops at each one; with live traffic it is how
 * far the model lags the events. Before the first version it reads NaN; it reads 0 while the newest
 * version's period ends after now (a drained or finished job publishes its last period before it
 * ends). Records pass unchanged.
 *
 * <p>The newest version's event time is checkpointed: a job restored while its input is silent read
 * NaN until its next version, so the figure (and the alert on it) said nothing of a model that grew
 * older with every minute of the outage.
 */
public final class PublishedVersions extends RichMapFunction<ModelUpdateRecord, ModelUpdateRecord>
    implements CheckpointedFunction {
  private static final long serialVersionUID = 1L;

  private static final byte[] VERSION_KEY = ModelUpdateKeys.version();

  private transient volatile long newestEventTimeMs = Long.MIN_VALUE;

  private transient ListState<Long> checkpointed;

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    checkpointed =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>("newest-version-event-time", Long.class));
    long newest = Long.MIN_VALUE;
    if (context.isRestored()) {
      for (Long t : checkpointed.get()) {
        newest = Math.max(newest, t);
      }
    }
    newestEventTimeMs = newest;
  }

  @Override
  public void snapshotState(FunctionSnapshotContext context) throws Exception {
    long t = newestEventTimeMs;
    checkpointed.update(t == Long.MIN_VALUE ? List.of() : List.of(t));
  }

  @Override
  public void open(OpenContext openContext) {
    JobMetrics.group(getRuntimeContext().getMetricGroup())
        .gauge(JobMetrics.MODEL_FRESHNESS_MS, () -> freshnessMs(System.currentTimeMillis()));
  }

  /** The figure at {@code nowMs}: NaN before the first version. */
  double freshnessMs(long nowMs) {
    long t = newestEventTimeMs;
    return t == Long.MIN_VALUE ? Double.NaN : (double) Math.max(0, nowMs - t);
  }

  @Override
  public ModelUpdateRecord map(ModelUpdateRecord r) {
    if (Arrays.equals(r.key, VERSION_KEY) && r.timestampMs > newestEventTimeMs) {
      newestEventTimeMs = r.timestampMs;
    }
    return r;
  }
}
