package io.streamrec.cli.metrics;

import java.util.HashMap;
import java.util.IdentityHashMap;
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
 *
 * <p>A metric is known by its object, not by its name in Flink's scope: a task restarted after a
 * failover registers its metrics under the names its failed attempt used, possibly before that
 * attempt's are removed. And a removal moves a counter's value from the live metrics to the
 * finished ones in one step, so that a snapshot taken as a job ends (its tasks' metrics being
 * removed) sees each counter once, live or finished.
 */
public final class InJvmMetrics {
  private static final Map<String, JobView> JOBS = new ConcurrentHashMap<>();

  private InJvmMetrics() {}

  static void added(String jobId, String name, Metric metric) {
    JOBS.computeIfAbsent(jobId, k -> new JobView()).added(name, metric);
  }

  static void removed(String jobId, Metric metric) {
    JobView v = JOBS.get(jobId);
    if (v != null) {
      v.removed(metric);
    }
  }

  /** The job's metrics by name, now; empty if the job registered none (yet). */
  public static Map<String, Double> snapshot(String jobId) {
    JobView v = JOBS.get(jobId);
    return v == null ? new TreeMap<>() : v.snapshot();
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

  private record Named(String name, long added) {}

  private static final class JobView {
    /** Each registered metric of the job, by identity, with its name and when it came. */
    private final Map<Metric, Named> live = new IdentityHashMap<>();

    private long added;

    private final Map<String, Double> finishedCounters = new TreeMap<>();
    private final Map<String, Double> lastGauges = new TreeMap<>();

    synchronized void added(String name, Metric metric) {
      live.put(metric, new Named(name, added++));
    }

    synchronized void removed(Metric metric) {
      Named n = live.remove(metric);
      if (n == null) {
        return;
      }
      Double value = valueOf(metric);
      if (value == null) {
        return;
      }
      if (metric instanceof Counter) {
        finishedCounters.merge(n.name, value, Double::sum);
      } else {
        lastGauges.put(n.name, value);
      }
    }

    synchronized Map<String, Double> snapshot() {
      Map<String, Double> out = new TreeMap<>(lastGauges);
      finishedCounters.forEach((k, x) -> out.merge(k, x, Double::sum));
      // a live gauge over a removed one's last value; of two live ones (a failed attempt's not yet
      // removed), the newer
      Map<String, Long> gaugeAdded = new HashMap<>();
      live.forEach(
          (metric, n) -> {
            Double value = valueOf(metric);
            if (value == null) {
              return;
            }
            if (metric instanceof Counter) {
              out.merge(n.name, value, Double::sum);
            } else if (gaugeAdded.getOrDefault(n.name, -1L) < n.added) {
              gaugeAdded.put(n.name, n.added);
              out.put(n.name, value);
            }
          });
      return out;
    }
  }
}
