package io.streamrec.cli.metrics;

import io.streamrec.job.metrics.JobMetrics;
import java.util.Properties;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that hands the job's own metrics (group {@value JobMetrics#GROUP}) to
 * {@link InJvmMetrics}. Enabled by {@link #configure}; useful wherever the job runs in the JVM of
 * its caller: the demo, {@code run} and {@code backfill} on a local environment, and tests.
 */
public final class InJvmMetricReporter implements MetricReporter {
  /** The reporter's name in the Flink configuration. */
  public static final String NAME = "streamrec";

  private static final String JOB_ID = "<job_id>";

  private static final String LABEL = "<" + JobMetrics.LABEL_KEY + ">";

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
    String job = group.getAllVariables().get(JOB_ID);
    if (job != null && isOurs(group)) {
      InJvmMetrics.added(job, name, metric);
    } else if (job != null && isALabelsOfOurs(group)) {
      InJvmMetrics.added(job, JobMetrics.ofLabel(group.getAllVariables().get(LABEL), name), metric);
    }
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
    String job = group.getAllVariables().get(JOB_ID);
    if (job != null && (isOurs(group) || isALabelsOfOurs(group))) {
      InJvmMetrics.removed(job, metric);
    }
  }

  private static boolean isOurs(MetricGroup group) {
    String[] scope = group.getScopeComponents();
    return scope.length > 0 && JobMetrics.GROUP.equals(scope[scope.length - 1]);
  }

  /** A group of one label's figures ({@link JobMetrics#labelGroup}). */
  private static boolean isALabelsOfOurs(MetricGroup group) {
    String[] scope = group.getScopeComponents();
    return scope.length > 2
        && JobMetrics.GROUP.equals(scope[scope.length - 3])
        && JobMetrics.LABEL_KEY.equals(scope[scope.length - 2])
        && group.getAllVariables().containsKey(LABEL);
  }

  /** Adds this reporter to a Flink configuration. */
  public static void configure(org.apache.flink.configuration.Configuration conf) {
    conf.setString("metrics.reporter." + NAME + ".factory.class", Factory.class.getName());
  }

  /** Creates the reporter; registered for Flink's service loader. */
  public static final class Factory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
      return new InJvmMetricReporter();
    }
  }
}
