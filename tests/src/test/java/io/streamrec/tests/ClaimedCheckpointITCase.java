package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.testutils.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job started again on its own checkpoint, each start in a local Flink of its own as each start
 * of {@code streamrec run} is (one cluster takes a job id once, so no shared MiniCluster here).
 */
class ClaimedCheckpointITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  /**
   * {@code streamrec run} started again resumes its own newest checkpoint in claim mode: Flink
   * deletes that checkpoint once subsumed, and the trainer deleted none of its table files, since
   * only a failover counted them as its own. Every restart left a model's worth of files in {@code
   * shared/} for good (a walk: 19 files after one restart, 38 after two). Now the files of the
   * claimed checkpoint that no later checkpoint references are deleted.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "num-retained {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3})
  void aJobStartedAgainOnItsOwnCheckpointInClaimModeDeletesThatCheckpointsFilesOnceUnused(
      int retained, @TempDir Path dir) throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "claim-" + retained + "-");
    long start = 1_767_225_600_000L;
    PipelineSupport.produce(bootstrap, topics, RecoveryITCase.minute(21, start));
    Configuration job = PipelineSupport.jobConf(bootstrap, topics, 2_000);
    job.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(2));
    Configuration flink = new Configuration();
    flink.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    flink.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
    flink.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    flink.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(300));
    flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    flink.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, retained);
    flink.set(
        org.apache.flink.configuration.PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID,
        "5eed00000000000000000000000000" + (20 + retained));
    String topic = topics.modelUpdates();

    // each in a local cluster of its own, as each start of streamrec run is: one cluster takes a
    // job id once
    org.apache.flink.core.execution.JobClient first = local(flink, job);
    try {
      long v = RecoveryITCase.settled(bootstrap, topic, 1, first);
      for (int i = 0; i < retained; i++) {
        checkpointAfter(dir, first, v);
      }
    } finally {
      first.cancel().get();
    }
    List<Path> kept;
    try (Stream<Path> s = Files.walk(dir)) {
      kept =
          s.filter(p -> p.getFileName().toString().equals("_metadata"))
              .map(Path::getParent)
              .sorted(java.util.Comparator.comparing(p -> p.toFile().lastModified()))
              .toList();
    }
    assertThat(kept).as("checkpoints retained").hasSize(retained);
    Path claimed = kept.get(kept.size() - 1);
    java.util.Set<String> claimedFiles = sharedFilesNamedIn(claimed);
    // the older checkpoints retained beside it, which a start may go back to (docs/deploy.md)
    java.util.Set<String> olderFiles = new java.util.TreeSet<>();
    for (Path older : kept.subList(0, kept.size() - 1)) {
      olderFiles.addAll(sharedFilesNamedIn(older));
    }
    assertThat(claimedFiles).as("shared files of %s", claimed).isNotEmpty();

    Configuration restore = new Configuration(flink);
    restore.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, claimed.toString());
    restore.set(
        org.apache.flink.configuration.StateRecoveryOptions.RESTORE_MODE,
        org.apache.flink.core.execution.RecoveryClaimMode.CLAIM);
    restore.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
    org.apache.flink.core.execution.JobClient second = local(restore, job);
    java.util.Set<String> unused = new java.util.TreeSet<>();
    try {
      long v = 0;
      // new minutes until the store's compactions have replaced some of the claimed files
      for (int m = 1; unused.isEmpty() && m <= 8; m++) {
        PipelineSupport.produce(
            bootstrap, topics, RecoveryITCase.minute(21 + m, start + m * 3_600_000L));
        v = RecoveryITCase.settled(bootstrap, topic, v, second);
        unused.addAll(claimedFiles);
        unused.removeAll(namesInACheckpointAfter(dir, second, v));
      }
      assertThat(unused).as("claimed files no newer checkpoint references").isNotEmpty();
      // the files go when the checkpoint after the first that no longer names them completes
      checkpointAfter(dir, second, v);
      checkpointAfter(dir, second, v);
    } finally {
      second.cancel().get();
    }
    Path shared = claimed.getParent().resolve("shared");
    if (retained == 1) {
      assertThat(unused.stream().filter(f -> Files.exists(shared.resolve(f))))
          .as("files of the claimed checkpoint %s that no later checkpoint references", claimed)
          .isEmpty();
    } else {
      // with three retained, the claimed files were deleted once unused, and the two older
      // checkpoints beside it, which reference them, could no longer be restored ("which is
      // gone"): the files stay
      java.util.Set<String> needed = new java.util.TreeSet<>(olderFiles);
      needed.retainAll(unused);
      assertThat(needed)
          .as("files of the older checkpoints the new run no longer uses")
          .isNotEmpty();
      assertThat(olderFiles.stream().filter(f -> !Files.exists(shared.resolve(f))))
          .as("files of the checkpoints retained beside the claimed one, gone")
          .isEmpty();
    }
  }

  /**
   * A completed checkpoint under {@code dir} taken after the topic reached version {@code version}
   * (one that holds it), while {@code job} runs.
   */
  private static Path checkpointAfter(
      Path dir, org.apache.flink.core.execution.JobClient job, long version) throws Exception {
    long after = System.currentTimeMillis();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      try (Stream<Path> s = Files.walk(dir)) {
        java.util.Optional<Path> done =
            s.filter(p -> p.getFileName().toString().equals("_metadata"))
                .filter(p -> p.toFile().lastModified() > after)
                .map(Path::getParent)
                .findFirst();
        if (done.isPresent()) {
          return done.get();
        }
      } catch (java.io.UncheckedIOException gone) {
        // a checkpoint went while the walk ran: walk again
      }
      assertThat(job.getJobStatus().get().isTerminalState()).as("the job ended").isFalse();
      assertThat(System.nanoTime())
          .as("a checkpoint after version %d", version)
          .isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /**
   * The shared files named by a checkpoint taken after version {@code version}, read whole (one
   * subsumed while it was read is passed over).
   */
  private static java.util.Set<String> namesInACheckpointAfter(
      Path dir, org.apache.flink.core.execution.JobClient job, long version) throws Exception {
    while (true) {
      Path checkpoint = checkpointAfter(dir, job, version);
      try {
        java.util.Set<String> names = sharedFilesNamedIn(checkpoint);
        if (Files.exists(checkpoint.resolve("_metadata"))) {
          return names;
        }
      } catch (java.io.IOException | java.io.UncheckedIOException gone) {
        // subsumed while it was read
      }
    }
  }

  /** The shared files a checkpoint's own files name ({@code shared/<uuid>}). */
  private static java.util.Set<String> sharedFilesNamedIn(Path checkpoint) throws Exception {
    java.util.regex.Pattern named = java.util.regex.Pattern.compile("shared/([0-9a-f-]{36})");
    java.util.Set<String> names = new java.util.TreeSet<>();
    try (Stream<Path> s = Files.walk(checkpoint)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        java.util.regex.Matcher m =
            named.matcher(
                new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1));
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  /** The live job in a local cluster of its own, which ends with the job. */
  private static org.apache.flink.core.execution.JobClient local(
      Configuration flink, Configuration job) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    StreamrecJob.build(env, JobConfig.from(job), StreamrecJob.Bounds.live());
    return env.executeAsync("it-claim");
  }
}
