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

  @TempDir Path checkpoints;

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
