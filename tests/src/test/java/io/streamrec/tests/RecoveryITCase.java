package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job that fails mid-stream and restores from its last checkpoint ends with the model of a run
 * that never failed: the same latest value under every key of the model-update topic (rows, dense
 * blocks, spec) and the same last version. The failure is injected into the trainer's first attempt
 * after a checkpoint holding trained state completed; the trainer's restore counter proves the
 * failure and the restore happened (with the at-least-once sink, the versions after that checkpoint
 * are published twice; the latest value under each key is what counts). The input is throttled so
 * that the stream takes seconds to read whatever the machine's speed: checkpoints (every 100 ms)
 * then complete while training runs, not only after the input ended.
 */
class RecoveryITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  /** A second Kafka cluster: another cluster id, the same topic names. */
  @RegisterExtension static final KafkaBroker OTHER = new KafkaBroker();

  @TempDir Path checkpoints;

  /** One store.dir for both runs and the restarts: each trainer works in a directory of its own. */
  @TempDir Path storeDir;

  @Test
  void aFailedAndRestoredBackfillEndsWithTheModelOfAnUninterruptedOne() throws Exception {
    recoverAndCompare("recover-", new Configuration());
  }

  /**
   * The same with checkpoints on a file system, as production runs them: the trainer's store goes
   * to the checkpoint directory incrementally (its table files in the shared directory), and the
   * restore after the failure fetches them from there.
   */
  @Test
  void aFailedAndRestoredBackfillWithIncrementalCheckpointsOnAFileSystemEndsTheSame()
      throws Exception {
    Configuration fs = new Configuration();
    fs.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    fs.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    recoverAndCompare("recover-fs-", fs);
    List<Path> shared;
    try (Stream<Path> s = Files.walk(checkpoints)) {
      shared = s.filter(p -> p.getParent().getFileName().toString().equals("shared")).toList();
    }
    assertThat(shared).as("table files in the checkpoints' shared directories").isNotEmpty();
  }

  /**
   * A checkpoint resumed against another Kafka cluster (a DR switch, a new cluster under the same
   * address) took its offsets as positions in the new cluster's topics: the records before them
   * were skipped, or read twice, in silence. The trainer keeps the cluster id in its checkpoint and
   * refuses another unless told the offsets were kept ({@code kafka.resume-on-other-cluster}).
   */
  @Test
  void aCheckpointOfAnotherKafkaClusterIsRefusedUnlessItsOffsetsWereKept() throws Exception {
    TopicsConfig topics = onBothClusters("cluster-", minute(9, 1_767_225_600_000L));

    Configuration flink = new Configuration();
    flink.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    flink.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    flink.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    flink.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(300));
    flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    org.apache.flink.core.execution.JobClient first =
        live(flink, PipelineSupport.jobConf(KAFKA.bootstrapServers(), topics, 2_000));
    Path taken;
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while ((taken = newestCheckpoint()) == null) {
        assertThat(System.nanoTime()).as("a checkpoint").isLessThan(deadline);
        Thread.sleep(200);
      }
    } finally {
      first.cancel().get();
    }

    Configuration restore = new Configuration(flink);
    restore.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, taken.toString());
    Configuration other = PipelineSupport.jobConf(OTHER.bootstrapServers(), topics, 2_000);
    org.apache.flink.core.execution.JobClient refused = live(restore, other);
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> refused.getJobExecutionResult().get(120, TimeUnit.SECONDS)))
        .rootCause()
        .isInstanceOf(io.streamrec.job.trainer.CheckpointMismatchException.class)
        .hasMessageContaining("it was taken reading Kafka cluster")
        .hasMessageContaining("kafka.resume-on-other-cluster=true");
    assertThat(TopicRecords.readAll(OTHER.bootstrapServers(), topics.modelUpdates()))
        .as("what the refused job published")
        .isEmpty();

    other.set(JobOptions.RESUME_ON_OTHER_CLUSTER, true);
    org.apache.flink.core.execution.JobClient resumed = live(restore, other);
    // the checkpoint may hold offsets past every record: later ones, for it to train and publish
    PipelineSupport.produce(
        OTHER.bootstrapServers(), topics, minute(12, 1_767_225_600_000L + 3_600_000));
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (ModelUpdateRecords.versions(
              TopicRecords.readAll(OTHER.bootstrapServers(), topics.modelUpdates()))
          .isEmpty()) {
        assertThat(resumed.getJobStatus().get().isTerminalState())
            .as("the resumed job ended")
            .isFalse();
        assertThat(System.nanoTime()).as("the resumed job publishes").isLessThan(deadline);
        Thread.sleep(200);
      }
    } finally {
      resumed.cancel().get();
    }
  }

  /**
   * A restore that found the topic ahead of its checkpoint trained those versions again without
   * publishing them. Under a shorter TTL than the first run's, it expired rows the first run had
   * kept, and their tombstones, part of the versions not published again, never reached the topic:
   * replicas held those rows for good (86-95 rows past the marker's count in every later version).
   * The first version after them now tombstones the rows the topic holds and the trainer does not,
   * and publishes those it lacks.
   */
  @Test
  void aRestoreThatTrainsAgainUnderAShorterTtlLeavesTheTopicHoldingTheTrainersRowsOnly()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "ttl-");
    long start = 1_767_225_600_000L;
    PipelineSupport.produce(bootstrap, topics, minute(10, start));
    Configuration job = PipelineSupport.jobConf(bootstrap, topics, 2_000);
    job.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(2));
    job.set(JobOptions.MODEL_ID, "5eed000000000007");
    job.setString("model.table.ttl", "user_id:40s");
    Configuration flink = checkpointingToWithoutRestarts(checkpoints);
    String topic = topics.modelUpdates();

    org.apache.flink.core.execution.JobClient first = live(flink, job);
    String savepoint;
    long ahead;
    try {
      long saved = settled(bootstrap, topic, 2, first);
      savepoint =
          first
              .triggerSavepoint(
                  checkpoints.resolve("savepoints").toUri().toString(),
                  org.apache.flink.core.execution.SavepointFormatType.CANONICAL)
              .get(120, TimeUnit.SECONDS);
      // a minute more is published, and no checkpoint holds it: the restore trains it again
      PipelineSupport.produce(bootstrap, topics, minute(11, start + 3_600_000));
      ahead = settled(bootstrap, topic, saved + 2, first);
    } finally {
      first.cancel().get();
    }

    job.setString("model.table.ttl", "user_id:3s");
    Configuration restore = new Configuration(flink);
    restore.set(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
    org.apache.flink.core.execution.JobClient second = live(restore, job);
    try {
      Thread.sleep(5_000); // trains the minute again, publishing none of it
      PipelineSupport.produce(bootstrap, topics, minute(12, start + 7_200_000));
      settled(bootstrap, topic, ahead + 1, second);
    } finally {
      second.cancel().get();
    }

    TopicModel onTopic = TopicModel.of(bootstrap, topic);
    Map<String, Long> current = onTopic.current();
    io.streamrec.protocol.ModelUpdate.Version last = onTopic.last();
    assertThat(last.version()).isGreaterThan(ahead);
    assertThat((long) current.size())
        .as("rows current on the topic against version %d's count", last.version())
        .isEqualTo(last.marker().getLiveRows());
  }

  /**
   * A failure that cut a publish short left its entries on the topic without their marker, and the
   * restore found the topic at the version it restored: it published that version again over them,
   * its own entries only. A row the cut-short publish wrote and the restored run does not (one the
   * first run admitted or trained otherwise: another admission threshold or TTL since, a unit
   * joined otherwise) was applied by every replica with the new marker, and stayed on the topic for
   * good beside the trainer's rows.
   */
  @Test
  void aPublishCutShortLeavesNoRowOnTheTopicThatTheRestoredTrainerDoesNotHold() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "cut-");
    long start = 1_767_225_600_000L;
    PipelineSupport.produce(bootstrap, topics, minute(10, start));
    Configuration job = PipelineSupport.jobConf(bootstrap, topics, 2_000);
    job.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(2));
    job.set(JobOptions.MODEL_ID, "5eed000000000008");
    Configuration flink = checkpointingToWithoutRestarts(checkpoints);
    String topic = topics.modelUpdates();

    org.apache.flink.core.execution.JobClient first = live(flink, job);
    String savepoint;
    long saved;
    try {
      saved = settled(bootstrap, topic, 2, first);
      savepoint =
          first
              .triggerSavepoint(
                  checkpoints.resolve("savepoints").toUri().toString(),
                  org.apache.flink.core.execution.SavepointFormatType.CANONICAL)
              .get(120, TimeUnit.SECONDS);
    } finally {
      first.cancel().get();
    }
    // what the failure left of the next version's publish: a row the restored run does not
    // hold, no marker
    io.streamrec.protocol.ModelUpdate.Row some = null;
    long model = 0;
    for (io.streamrec.protocol.ModelUpdate u :
        ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic))) {
      if (u instanceof io.streamrec.protocol.ModelUpdate.Row r && r.table().equals("user_id")) {
        some = r;
      } else if (u instanceof io.streamrec.protocol.ModelUpdate.Version v) {
        model = v.marker().getModel();
      }
    }
    assertThat(some).isNotNull();
    long stray = 0x5eed_dead_beefL;
    List<io.streamrec.protocol.ModelUpdateRecord> cut = new ArrayList<>();
    io.streamrec.protocol.ModelUpdateEncoder enc =
        new io.streamrec.protocol.ModelUpdateEncoder(model, saved + 1, start, cut::add);
    enc.row("user_id", stray, some.values(), 0, some.values().length);
    java.util.Properties p = new java.util.Properties();
    p.put("bootstrap.servers", bootstrap);
    try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
        new org.apache.kafka.clients.producer.KafkaProducer<>(
            p,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      for (io.streamrec.protocol.ModelUpdateRecord r : cut) {
        producer.send(
            new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, r.key, r.value));
      }
    }

    Configuration restore = new Configuration(flink);
    restore.set(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
    org.apache.flink.core.execution.JobClient second = live(restore, job);
    try {
      PipelineSupport.produce(bootstrap, topics, minute(12, start + 7_200_000));
      settled(bootstrap, topic, saved + 1, second);
    } finally {
      second.cancel().get();
    }

    TopicModel onTopic = TopicModel.of(bootstrap, topic);
    Map<String, Long> current = onTopic.current();
    io.streamrec.protocol.ModelUpdate.Version last = onTopic.last();
    assertThat(current)
        .as("the row the cut-short publish wrote")
        .doesNotContainKey("row/user_id/" + Long.toUnsignedString(stray));
    assertThat((long) current.size())
        .as("rows current on the topic against version %d's count", last.version())
        .isEqualTo(last.marker().getLiveRows());
  }

  /** A cluster's checkpoints in files under {@code dir}, and no restart after a failure. */
  private static Configuration checkpointingToWithoutRestarts(java.nio.file.Path dir) {
    Configuration flink = new Configuration();
    flink.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    flink.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
    flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    return flink;
  }

  /** The rows current on a model-updates topic (by key, their model), and its newest marker. */
  private record TopicModel(
      Map<String, Long> current, io.streamrec.protocol.ModelUpdate.Version last) {
    static TopicModel of(String bootstrap, String topic) {
      Map<String, Long> current = new java.util.HashMap<>();
      io.streamrec.protocol.ModelUpdate.Version last = null;
      for (io.streamrec.protocol.ModelUpdate u :
          ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic))) {
        if (u instanceof io.streamrec.protocol.ModelUpdate.Row r) {
          current.put(r.key(), r.model());
        } else if (u instanceof io.streamrec.protocol.ModelUpdate.Tombstone t) {
          current.remove(t.key());
        } else if (u instanceof io.streamrec.protocol.ModelUpdate.Version v) {
          last = v;
        }
      }
      return new TopicModel(current, last);
    }
  }

  /** Topics of {@code prefix} on both clusters, each holding {@code traffic}. */
  private static TopicsConfig onBothClusters(
      String prefix, List<io.streamrec.traffic.OutgoingRecord> traffic) {
    TopicsConfig topics = PipelineSupport.topics(KAFKA.bootstrapServers(), prefix);
    PipelineSupport.produce(KAFKA.bootstrapServers(), topics, traffic);
    PipelineSupport.produce(
        OTHER.bootstrapServers(),
        PipelineSupport.topics(OTHER.bootstrapServers(), prefix),
        traffic);
    return topics;
  }

  /** A minute of traffic from {@code startMs}. */
  static List<io.streamrec.traffic.OutgoingRecord> minute(int seed, long startMs) {
    return new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(seed).withUsers(400).withItems(200),
            FaultConfig.defaults().withSeed(seed).withAllRates(0.0).withJoinWindowMs(2_000),
            3_000,
            startMs,
            60,
            1)
        .records;
  }

  /**
   * The topic's newest version once it is past {@code after} and has not moved for 3 s, while
   * {@code job} runs.
   */
  static long settled(
      String bootstrap, String topic, long after, org.apache.flink.core.execution.JobClient job)
      throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    long newest = -1, since = System.nanoTime();
    while (true) {
      List<Long> versions = ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, topic));
      long v = versions.isEmpty() ? 0 : versions.get(versions.size() - 1);
      if (v != newest) {
        newest = v;
        since = System.nanoTime();
      } else if (v > after && System.nanoTime() - since > 3_000_000_000L) {
        return v;
      }
      assertThat(job.getJobStatus().get().isTerminalState()).as("the job ended").isFalse();
      assertThat(System.nanoTime()).as("version %d is published", after + 1).isLessThan(deadline);
      Thread.sleep(300);
    }
  }

  /**
   * A handoff holds the offsets its backfill stopped at, positions in one cluster's topics; a live
   * job of another cluster took them as its own ("run --from-handoff" on a DR cluster) and skipped
   * or trained again what lay between. It is refused as a checkpoint of another cluster is.
   */
  @Test
  void aHandoffOfAnotherKafkaClusterIsRefused(@TempDir Path dir) throws Exception {
    TopicsConfig topics = onBothClusters("handoff-cluster-", minute(15, 1_767_225_600_000L));
    String handoff = dir.resolve("model.handoff").toString();
    Configuration backfill = PipelineSupport.jobConf(KAFKA.bootstrapServers(), topics, 2_000);
    backfill.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    PipelineSupport.backfill(backfill);

    Configuration live = PipelineSupport.jobConf(OTHER.bootstrapServers(), topics, 2_000);
    live.set(JobOptions.HANDOFF_START_FROM, handoff);
    Configuration flink = new Configuration();
    flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    org.apache.flink.core.execution.JobClient refused = live(flink, live);
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> refused.getJobExecutionResult().get(120, TimeUnit.SECONDS)))
        .rootCause()
        .isInstanceOf(io.streamrec.job.trainer.CheckpointMismatchException.class)
        .hasMessageContaining("cannot go on from the handoff at " + handoff)
        .hasMessageContaining("it was written reading Kafka cluster");
  }

  private static org.apache.flink.core.execution.JobClient live(
      Configuration flink, Configuration job) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    StreamrecJob.build(env, JobConfig.from(job), StreamrecJob.Bounds.live());
    return env.executeAsync("it-cluster");
  }

  /** The newest completed checkpoint's directory under {@link #checkpoints}; null while none. */
  private Path newestCheckpoint() throws java.io.IOException {
    while (true) {
      try (Stream<Path> s = Files.walk(checkpoints)) {
        return s.filter(p -> p.getFileName().toString().equals("_metadata"))
            .map(Path::getParent)
            .max(
                java.util.Comparator.comparing(
                    p -> Integer.parseInt(p.getFileName().toString().substring(4))))
            .orElse(null);
      } catch (java.io.UncheckedIOException gone) {
        // a checkpoint went while the walk ran (a running job subsumes them): walk again
      }
    }
  }

  private void recoverAndCompare(String prefix, Configuration checkpointStorage) throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, prefix);
    GeneratedTraffic traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(8).withUsers(600).withItems(300),
            FaultConfig.defaults().withSeed(8).withAllRates(0.0).withJoinWindowMs(2_000),
            6_000,
            1_767_225_600_000L,
            60,
            1);
    PipelineSupport.produce(bootstrap, topics, traffic.records);

    List<List<ConsumerRecord<byte[], byte[]>>> runs = new ArrayList<>();
    List<Double> restores = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      TopicsConfig out = PipelineSupport.topics(bootstrap, prefix + "out" + run + "-");
      Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 2_000);
      conf.set(JobOptions.MODEL_UPDATES_TOPIC, out.modelUpdates());
      conf.set(JobOptions.DEAD_LETTERS_TOPIC, out.deadLetters());
      conf.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(5));
      // the same lineage for both runs, so their records compare byte for byte
      conf.set(JobOptions.MODEL_ID, "5eed000000000001");
      // both runs read at the same pace (about 3 s of impressions), so checkpoints complete
      // mid-stream
      conf.set(JobOptions.MAX_RECORDS_PER_SECOND, 8_000);
      conf.set(JobOptions.STORE_DIR, storeDir.toString());
      if (run == 1) {
        conf.set(JobOptions.INJECT_FAILURE_AFTER_UNITS, 3_000L);
      }
      Configuration flink = new Configuration(checkpointStorage);
      flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
      flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
      flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
      env.enableCheckpointing(100);
      StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.backfill(null, null));
      String job = env.execute("it-recovery-" + run).getJobID().toHexString();
      restores.add(
          io.streamrec.cli.metrics.InJvmMetrics.snapshot(job)
              .getOrDefault(JobMetrics.TRAINER_RESTORES, 0.0));
      runs.add(TopicRecords.readAll(bootstrap, out.modelUpdates()));
    }
    try (Stream<Path> left = Files.list(storeDir)) {
      assertThat(left.filter(p -> p.getFileName().toString().startsWith("trainer-")))
          .as("the trainers' working directories, each deleted when its trainer closed")
          .isEmpty();
    }

    System.out.printf(
        "recovery: trainer restores %s; version markers read (the topic is compacted) %s and %s%n",
        restores,
        ModelUpdateRecords.versions(runs.get(0)),
        ModelUpdateRecords.versions(runs.get(1)));
    assertThat(restores).as("trainer restores per run").containsExactly(0.0, 1.0);
    // the restored trainer read the topic's newest marker and did not publish those versions again
    List<Long> restored = ModelUpdateRecords.versions(runs.get(1));
    for (int i = 1; i < restored.size(); i++) {
      assertThat(restored.get(i))
          .as("marker %d of the restored run's topic, after %s", i, restored.subList(0, i))
          .isGreaterThan(restored.get(i - 1));
    }
    Map<String, String> a = ModelUpdateRecords.latest(runs.get(0)),
        b = ModelUpdateRecords.latest(runs.get(1));
    assertThat(a).hasSizeGreaterThan(500);
    assertThat(b.keySet()).isEqualTo(a.keySet());
    for (String k : a.keySet()) {
      assertThat(b.get(k)).as("latest value of %s", k).isEqualTo(a.get(k));
    }
  }
}
