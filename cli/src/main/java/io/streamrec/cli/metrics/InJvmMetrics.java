package io.streamrec.cli.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;

/**
 * The job's {@link JobMetrics} as seen from inside the JVM that runs it (a local environment or a
 * MiniCluster): {@link InJvmMetricReporter} registers them here, and the command line reads them
 * for its progress lines and reports. Counters are summed over subtasks and survive the end of the
 * job (their last value is kept when Flink removes them); gauges read their newest value.
 */
public final class InJvmMetrics {
  private static final Map<String, JobView> JOBS = new ConcurrentHashMap<>();

  private InJvmMetrics() {}

  static void added(String jobId, String identifier, String name, Metric metric) {
    JOBS.computeIfAbsent(jobId, k -> new JobView()).live.put(identifier, new Named(name, metric));
  }

  static void removed(String jobId, String identifier) {
    JobView v = JOBS.get(jobId);
    if (v == null) {
      return;
    }
    Named n = v.live.remove(identifier);
    if (n == null) {
      return;
    }
    Double value = valueOf(n.metric);
    if (value == null) {
      return;
    }
    if (n.metric instanceof Counter) {
      v.finishedCounters.merge(n.name, value, Double::sum);
    } else {
      v.lastGauges.put(n.name, value);
    }
  }

  /** The job's metrics by name, now; empty if the job registered none (yet). */
  public static Map<String, Double> snapshot(String jobId) {
    Map<String, Double> out = new TreeMap<>();
    JobView v = JOBS.get(jobId);
    if (v == null) {
      return out;
    }
    out.putAll(v.lastGauges);
    v.finishedCounters.forEach((k, x) -> out.merge(k, x, Double::sum));
    for (Named n : v.live.values()) {
      Double value = valueOf(n.metric);
      if (value == null) {
        continue;
      }
      if (n.metric instanceof Counter) {
        out.merge(n.name, value, Double::sum);
      } else {
        out.put(n.name, value);
      }
    }
    return out;
  }

  /** Forgets a job's metrics. */
  public static void forget(String jobId) {
    JOBS.remove(jobId);
  }

  private static Double valueOf(Metric m) {
    if (m instanceof Counter c) {
      return (double) c.getCount();
    }
    if (m instanceof Gauge<?> g) {
      Object o = g.getValue();
      if (o instanceof Number num) {
        return num.doubleValue();
      }
    }
    return null;
  }

  private record Named(String name, Metric metric) {}

  private static final class JobView {
    final Map<String, Named> live = new ConcurrentHashMap<>();
    final Map<String, Double> finishedCounters = new ConcurrentHashMap<>();
    final Map<String, Double> lastGauges = new ConcurrentHashMap<>();
  }
}
