package io.streamrec.tests;

import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.cli.metrics.InJvmMetricReporter;
import io.streamrec.cli.metrics.InJvmMetrics;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.traffic.OutgoingRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * What the end-to-end tests share: a MiniCluster that reports the job's metrics, topics, produce,
 * run, read.
 */
final class PipelineSupport {
  private PipelineSupport() {}

  static MiniClusterExtension miniCluster() {
    Configuration conf = new Configuration();
    InJvmMetricReporter.configure(conf);
    return new MiniClusterExtension(
        new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .setConfiguration(conf)
            .build());
  }

  static TopicsConfig topics(String bootstrap, String prefix) {
    TopicsConfig t = TopicsConfig.defaults().withPrefix(prefix);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Topics.ensure(admin, t);
    }
    return t;
  }

  static void produce(String bootstrap, TopicsConfig topics, List<OutgoingRecord> records) {
    try (ByteRecordProducer p = new ByteRecordProducer(bootstrap)) {
      for (OutgoingRecord r : records) {
        p.send(
            r.topic() == OutgoingRecord.Topic.REQUESTS ? topics.requests() : topics.impressions(),
            r.key(),
            r.timestampMs(),
            r.value());
      }
      p.flush();
    }
  }

  /** The job's configuration for these topics, with test-sized windows. */
  static Configuration jobConf(String bootstrap, TopicsConfig topics, long joinWindowMs) {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, bootstrap);
    c.set(JobOptions.REQUESTS_TOPIC, topics.requests());
    c.set(JobOptions.IMPRESSIONS_TOPIC, topics.impressions());
    c.set(JobOptions.DEAD_LETTERS_TOPIC, topics.deadLetters());
    c.set(JobOptions.MODEL_UPDATES_TOPIC, topics.modelUpdates());
    c.set(JobOptions.REQUEST_UNITS_TOPIC, topics.requestUnits());
    c.set(JobOptions.GROUP_ID, "it-" + topics.requests());
    c.set(JobOptions.JOIN_WINDOW, Duration.ofMillis(joinWindowMs));
    c.set(JobOptions.MAX_OUT_OF_ORDERNESS, Duration.ofMillis(500));
    c.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(10));
    c.set(JobOptions.METRICS_WINDOW, 20_000);
    return c;
  }

  /** Runs a backfill over everything the topics hold; returns the job's metrics at the end. */
  static Map<String, Double> backfill(Configuration conf) throws Exception {
    return backfill(conf, 0);
  }

  /** The same, checkpointing every {@code checkpointMs} (0: not at all). */
  static Map<String, Double> backfill(Configuration conf, long checkpointMs) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    if (checkpointMs > 0) {
      env.enableCheckpointing(checkpointMs);
    }
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.backfill(null, null));
    JobExecutionResult r = env.execute("it-backfill");
    return InJvmMetrics.snapshot(r.getJobID().toHexString());
  }

  static long count(Map<String, Double> m, String name) {
    Double v = m.get(name);
    return v == null ? 0 : Math.round(v);
  }
}
