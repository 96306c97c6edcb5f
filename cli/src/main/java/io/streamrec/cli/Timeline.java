package io.streamrec.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The figures of a run over time, for the report's plots: every {@code intervalMs} a sample of the
 * job's metrics (progressive AUC, log loss, calibration, freshness, counts of impressions and dead
 * letters) and whatever the command adds (the demo's oracle AUC and replica freshness). A long run
 * keeps at most {@value #MAX_SAMPLES} samples: past that, every other one goes and the interval
 * doubles, so the whole run stays in view.
 */
final class Timeline implements AutoCloseable {
  /** Enough points for a smooth line across a page; few enough for a small report. */
  static final int MAX_SAMPLES = 1200;

  /** The job's metrics a sample keeps, by their names. */
  static final List<String> METRICS = metrics();

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final long startMs;
  private final Supplier<Map<String, Double>> metrics;
  private final Supplier<Map<String, Double>> extra;
  private final List<ObjectNode> samples = new ArrayList<>();
  private final Thread thread;
  private volatile long intervalMs;
  private volatile boolean running = true;

  Timeline(
      long startMs,
      long intervalMs,
      Supplier<Map<String, Double>> metrics,
      Supplier<Map<String, Double>> extra) {
    this.startMs = startMs;
    this.intervalMs = intervalMs;
    this.metrics = metrics;
    this.extra = extra;
    this.thread =
        new Thread(
            () -> {
              while (running) {
                try {
                  Thread.sleep(this.intervalMs);
                } catch (InterruptedException e) {
                  return;
                }
                if (running) {
                  sample();
                }
              }
            },
            "timeline");
    thread.setDaemon(true);
    thread.start();
  }

  private static List<String> metrics() {
    List<String> m =
        new ArrayList<>(
            List.of(
                JobMetrics.REQUESTS_IN,
                JobMetrics.IMPRESSIONS_IN,
                JobMetrics.IMPRESSIONS_TRAINED,
                JobMetrics.PROGRESSIVE_AUC,
                JobMetrics.PROGRESSIVE_LOGLOSS,
                JobMetrics.CALIBRATION,
                JobMetrics.MODEL_VERSION,
                JobMetrics.MODEL_FRESHNESS_MS,
                JobMetrics.STORE_HIT_RATE_1M,
                JobMetrics.STORE_ROWS_HOT,
                JobMetrics.STORE_ROWS_COLD));
    DeadLetterReasons.ALL.forEach(r -> m.add(JobMetrics.deadLetters(r)));
    return List.copyOf(m);
  }

  /** Takes a sample now (the last one of a run, say). */
  synchronized void sample() {
    ObjectNode s = MAPPER.createObjectNode();
    s.put("t_s", (System.currentTimeMillis() - startMs) / 1000.0);
    Map<String, Double> m = metrics.get();
    for (String name : METRICS) {
      Report.putNumber(s, name, m.get(name));
    }
    // each label's AUC, for a model of several
    Map<String, Double> byLabel = new java.util.TreeMap<>();
    m.forEach(
        (name, value) -> {
          if (JobMetrics.labelOf(name, JobMetrics.PROGRESSIVE_AUC) != null) {
            byLabel.put(name, value);
          }
        });
    if (byLabel.size() > 1) {
      byLabel.forEach((name, value) -> Report.putNumber(s, name, value));
    }
    extra.get().forEach((k, v) -> Report.putNumber(s, k, v));
    samples.add(s);
    if (samples.size() > MAX_SAMPLES) {
      for (int i = samples.size() - 2; i > 0; i -= 2) {
        samples.remove(i);
      }
      intervalMs *= 2;
    }
  }

  /** The samples so far, oldest first. */
  synchronized ArrayNode toJson() {
    ArrayNode a = MAPPER.createArrayNode();
    samples.forEach(a::add);
    return a;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
