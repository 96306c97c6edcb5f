package io.streamrec.job.metrics;

import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.protocol.ModelUpdateRecord;
import java.util.Arrays;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Watches the model-update records on their way from the trainer to the Kafka sink and reports how
 * fresh the published model is: {@value JobMetrics#MODEL_FRESHNESS_MS}, the wall clock now minus
 * the event time of the newest version handed to the sink (its marker's timestamp, the end of its
 * publish period). It grows between publishes and drops at each one; with live traffic it is how
 * far the model lags the events. Before the first version it reads NaN; it reads 0 while the newest
 * version's period ends after now (a drained or finished job publishes its last period before it
 * ends). Records pass unchanged.
 */
public final class PublishedVersions extends RichMapFunction<ModelUpdateRecord, ModelUpdateRecord> {
  private static final long serialVersionUID = 1L;

  private static final byte[] VERSION_KEY = ModelUpdateKeys.version();

  private transient volatile long newestEventTimeMs;

  @Override
  public void open(OpenContext openContext) {
    newestEventTimeMs = Long.MIN_VALUE;
    JobMetrics.group(getRuntimeContext().getMetricGroup())
        .gauge(
            JobMetrics.MODEL_FRESHNESS_MS,
            () -> {
              long t = newestEventTimeMs;
              return t == Long.MIN_VALUE
                  ? Double.NaN
                  : (double) Math.max(0, System.currentTimeMillis() - t);
            });
  }

  @Override
  public ModelUpdateRecord map(ModelUpdateRecord r) {
    if (Arrays.equals(r.key, VERSION_KEY) && r.timestampMs > newestEventTimeMs) {
      newestEventTimeMs = r.timestampMs;
    }
    return r;
  }
}
