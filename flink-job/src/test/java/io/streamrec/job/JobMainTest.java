package io.streamrec.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.streamrec.job.config.ConfigException;
import io.streamrec.job.kafka.KafkaAccessException;
import io.streamrec.job.kafka.KafkaUnreachableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In application mode a JobManager that restarts runs the job's entry again. During a broker outage
 * its check of Kafka failed after 30 s, and the deployment with it, where the running job waits an
 * outage out. The entry waits for a broker that does not answer, and fails at once on one that
 * refuses.
 */
class JobMainTest {
  @Test
  void aBrokerThatDoesNotAnswerIsWaitedForSayingSo() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<String> said = new ArrayList<>();
    JobMain.awaitKafka(
        () -> {
          if (calls.incrementAndGet() <= 2) {
            throw new KafkaUnreachableException(
                "Kafka at k:9092 did not answer within 30 s.", null);
          }
        },
        Duration.ofMillis(1),
        said::add);

    assertThat(calls).hasValue(3);
    assertThat(said).hasSize(3);
    assertThat(said.get(0))
        .startsWith("streamrec: Kafka at k:9092 did not answer within 30 s. The job's start waits")
        .contains("check kafka.bootstrap-servers");
    assertThat(said.get(2)).startsWith("streamrec: Kafka answered after ");
  }

  @Test
  void aRefusalFailsAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                JobMain.awaitKafka(
                    () -> {
                      calls.incrementAndGet();
                      throw new KafkaAccessException(
                          "Kafka at k:9092 refused streamrec's login", null);
                    },
                    Duration.ofMillis(1),
                    s -> {}))
        .isInstanceOf(KafkaAccessException.class)
        .hasMessageContaining("refused");
    assertThat(calls).hasValue(1);
  }

  /**
   * {@code streamrec run} checkpoints every 30 s unless told otherwise; the job's entry took none
   * where neither its configuration nor the cluster's asked (the ConfigMap's file on a session
   * cluster): a live job that committed no offsets, published nothing exactly-once, and began a new
   * model, refused by the topic's, at its first restart.
   */
  @Test
  void aLiveJobThatWouldTakeNoCheckpointsIsRefusedBeforeItReachesKafka(@TempDir Path dir)
      throws Exception {
    Path config = dir.resolve("streamrec.yaml");
    // nothing listens there: a start that went on to Kafka would wait for it
    Files.writeString(config, "kafka.bootstrap-servers: localhost:1\n");

    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () ->
            assertThatThrownBy(() -> JobMain.main(new String[] {"--config", config.toString()}))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(
                    "configuration key 'execution.checkpointing.interval' is set neither")
                .hasMessageContaining("--execution.checkpointing.interval '30 s'"));
  }

  @Test
  void aLiveJobIsRefusedCheckpointsInTheJobManagersMemory() {
    Configuration interval = new Configuration();
    interval.setString("execution.checkpointing.interval", "30 s");
    assertThatThrownBy(() -> JobMain.requireCheckpoints(interval, StreamrecJob.Bounds.live()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("configuration key 'execution.checkpointing.dir' is set neither");
    Configuration jobManager = new Configuration(interval);
    jobManager.setString("execution.checkpointing.dir", "file:///flink-data/checkpoints");
    jobManager.setString("execution.checkpointing.storage", "jobmanager");
    assertThatThrownBy(() -> JobMain.requireCheckpoints(jobManager, StreamrecJob.Bounds.live()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "configuration key 'execution.checkpointing.storage' is 'jobmanager'");

    Configuration durable = new Configuration(interval);
    durable.setString("execution.checkpointing.dir", "file:///flink-data/checkpoints");
    assertThatCode(() -> JobMain.requireCheckpoints(durable, StreamrecJob.Bounds.live()))
        .doesNotThrowAnyException();
    // a backfill ends with its model published, whether it checkpoints or not
    assertThatCode(
            () ->
                JobMain.requireCheckpoints(
                    new Configuration(), StreamrecJob.Bounds.backfill(null, null)))
        .doesNotThrowAnyException();
  }

  /**
   * On the Flink Kubernetes Operator the checkpoint interval is the cluster's (the
   * FlinkDeployment's flinkConfiguration), the delivery guarantee and the Kafka settings the job's
   * (the ConfigMap): the check that an exactly-once job's transactions outlive a checkpoint
   * interval saw only the job's, and let a job start whose every transaction the broker aborted.
   */
  @Test
  void anExactlyOnceJobIsRefusedTransactionsThatTimeOutWithinTheClustersCheckpointInterval(
      @TempDir Path dir) throws Exception {
    Path config = exactlyOnce(dir);
    Cluster.runWith(checkpointingEvery20Min());
    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () ->
              assertThatThrownBy(() -> JobMain.main(new String[] {"--config", config.toString()}))
                  .isInstanceOf(ConfigException.class)
                  .hasMessageStartingWith(
                      "configuration key 'sink.delivery-guarantee' is exactly-once with"
                          + " transactions that time out after 15 min")
                  .hasMessageContaining("within one checkpoint interval (20 min)"));
    } finally {
      Cluster.leave();
    }
  }

  /**
   * {@code streamrec run} keeps its checkpoints when its job is cancelled or fails; Flink's default
   * deletes them then. Started by the entry with no retention set in its configuration or the
   * cluster's (a session cluster under {@code flink run}), a live job cancelled for an upgrade, or
   * failed without restarts, left no checkpoint to resume its model from, and its next start began
   * a new model, which the topic's refused.
   */
  @Test
  void aLiveJobKeepsItsCheckpointsWhenCancelledUnlessTheConfigurationSaysOtherwise(
      @TempDir Path dir) throws Exception {
    // exactly-once with transactions shorter than the interval: refused before Kafka is reached,
    // after the environment is set up
    Path config = exactlyOnce(dir);
    Configuration cluster = checkpointingEvery20Min();
    assertThat(retentionOfTheJobStartedWith(cluster, config))
        .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);

    Configuration deleting = new Configuration(cluster);
    deleting.setString(
        "execution.checkpointing.externalized-checkpoint-retention", "DELETE_ON_CANCELLATION");
    assertThat(retentionOfTheJobStartedWith(deleting, config))
        .as("the cluster's own setting")
        .isEqualTo(ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION);
  }

  /** A job's configuration file: exactly-once, at a broker that is not there. */
  private static Path exactlyOnce(Path dir) throws java.io.IOException {
    return Files.writeString(
        dir.resolve("streamrec.yaml"),
        String.join(
            "\n",
            "kafka.bootstrap-servers: localhost:1",
            "sink.delivery-guarantee: exactly-once",
            ""));
  }

  /** A cluster's configuration: durable checkpoints every 20 min, past a transaction's timeout. */
  private static Configuration checkpointingEvery20Min() {
    Configuration cluster = new Configuration();
    cluster.setString("execution.checkpointing.interval", "20 min");
    cluster.setString("execution.checkpointing.dir", "file:///flink-data/checkpoints");
    return cluster;
  }

  /** The retention of the environment {@code JobMain} set up on {@code cluster}. */
  private static ExternalizedCheckpointRetention retentionOfTheJobStartedWith(
      Configuration cluster, Path config) {
    List<StreamExecutionEnvironment> made = new ArrayList<>();
    Cluster.runWith(cluster, made);
    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () ->
              assertThatThrownBy(() -> JobMain.main(new String[] {"--config", config.toString()}))
                  .isInstanceOf(ConfigException.class)
                  .hasMessageStartingWith("configuration key 'sink.delivery-guarantee'"));
    } finally {
      Cluster.leave();
    }
    assertThat(made).hasSize(1);
    return made.get(0).getCheckpointConfig().getExternalizedCheckpointRetention();
  }

  /** What application mode does: the job's environment is the cluster's, the job's keys over it. */
  private static final class Cluster extends StreamExecutionEnvironment {
    static void runWith(Configuration cluster) {
      runWith(cluster, new ArrayList<>());
    }

    /** As above, each environment made added to {@code made}. */
    static void runWith(Configuration cluster, List<StreamExecutionEnvironment> made) {
      initializeContextEnvironment(
          job -> {
            Configuration merged = new Configuration(cluster);
            merged.addAll(job);
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(merged);
            made.add(env);
            return env;
          });
    }

    static void leave() {
      resetContextEnvironment();
    }
  }
}
