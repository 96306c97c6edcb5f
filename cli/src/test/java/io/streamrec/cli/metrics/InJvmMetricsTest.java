package io.streamrec.cli.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.metrics.JobMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InJvmMetricsTest {
  private static final String JOB = "00000000000000000000000000000042";

  private final InJvmMetricReporter reporter = new InJvmMetricReporter();

  @AfterEach
  void forget() {
    InJvmMetrics.forget(JOB);
  }

  /** A subtask's group of the job's own metrics, as Flink names it (no attempt in the name). */
  private static final class Subtask extends UnregisteredMetricsGroup {
    private final int index;

    Subtask(int index) {
      this.index = index;
    }

    @Override
    public Map<String, String> getAllVariables() {
      return Map.of("<job_id>", JOB, "<subtask_index>", Integer.toString(index));
    }

    @Override
    public String[] getScopeComponents() {
      return new String[] {
        "localhost", "taskmanager", "trainer", Integer.toString(index), JobMetrics.GROUP
      };
    }

    @Override
    public String getMetricIdentifier(String metricName) {
      return String.join(".", getScopeComponents()) + "." + metricName;
    }
  }

  private static long count(String name) {
    Double v = InJvmMetrics.snapshot(JOB).get(name);
    return v == null ? 0 : Math.round(v);
  }

  @Test
  void aRestartedTasksCountersAddToItsFailedAttemptsWhicheverFlinkNotifiesFirst() {
    String trained = JobMetrics.IMPRESSIONS_TRAINED;
    Counter failed = new SimpleCounter();
    reporter.notifyOfAddedMetric(failed, trained, new Subtask(0));
    failed.inc(100);
    // the restarted attempt's counter, under the same name in Flink's scope, before the failed
    // attempt's is removed
    Counter restarted = new SimpleCounter();
    reporter.notifyOfAddedMetric(restarted, trained, new Subtask(0));
    restarted.inc(5);
    assertThat(count(trained)).isEqualTo(105);
    reporter.notifyOfRemovedMetric(failed, trained, new Subtask(0));
    restarted.inc(40);
    assertThat(count(trained))
        .as("the failed attempt's 100, the restarted one's 45")
        .isEqualTo(145);
    reporter.notifyOfRemovedMetric(restarted, trained, new Subtask(0));
    assertThat(count(trained)).as("after the job's end").isEqualTo(145);
  }

  @Test
  void aGaugeReadsItsNewestAttemptAndItsLastValueOnceRemoved() {
    String version = JobMetrics.MODEL_VERSION;
    Gauge<Long> failed = () -> 7L;
    reporter.notifyOfAddedMetric(failed, version, new Subtask(0));
    Gauge<Long> restarted = () -> 5L;
    reporter.notifyOfAddedMetric(restarted, version, new Subtask(0));
    assertThat(count(version)).isEqualTo(5);
    reporter.notifyOfRemovedMetric(failed, version, new Subtask(0));
    assertThat(count(version)).isEqualTo(5);
    reporter.notifyOfRemovedMetric(restarted, version, new Subtask(0));
    assertThat(count(version)).isEqualTo(5);
  }

  @Test
  void aSnapshotTakenWhileTheJobsMetricsAreRemovedCountsEachCounterOnce() throws Exception {
    // as a job ends, Flink removes its tasks' metrics on its own threads while the command reads
    // the job's figures: a counter between the live metrics and the finished ones was in neither
    // (a backfill's report once read 0 impressions trained)
    String trained = JobMetrics.IMPRESSIONS_TRAINED;
    int subtasks = 20_000;
    List<Counter> counters = new ArrayList<>();
    for (int i = 0; i < subtasks; i++) {
      Counter c = new SimpleCounter();
      c.inc(1);
      reporter.notifyOfAddedMetric(c, trained, new Subtask(i));
      counters.add(c);
    }
    AtomicBoolean done = new AtomicBoolean();
    Thread remover =
        new Thread(
            () -> {
              for (int i = 0; i < subtasks; i++) {
                reporter.notifyOfRemovedMetric(counters.get(i), trained, new Subtask(i));
              }
              done.set(true);
            });
    remover.start();
    List<Long> seen = new ArrayList<>();
    while (!done.get()) {
      seen.add(count(trained));
    }
    remover.join();
    seen.add(count(trained));
    assertThat(seen).hasSizeGreaterThan(1).containsOnly((long) subtasks);
  }
}
