package io.streamrec.job;

import io.streamrec.job.config.ConfigException;
import io.streamrec.job.config.JobArguments;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.sink.KafkaSinks;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's entry point on a Flink cluster: the {@code Main-Class} of {@code streamrec-job.jar}
 * (flink-job/target/streamrec-job.jar, built by {@code package}) and the {@code entryClass} of the
 * Kubernetes deployment. For example:
 *
 * <pre>
 *   flink run flink-job/target/streamrec-job.jar --config streamrec.yaml
 *   flink run flink-job/target/streamrec-job.jar --config streamrec.yaml --mode backfill --from 2026-01-01T00:00:00Z
 * </pre>
 *
 * <p>Arguments are described in {@link JobArguments}. The configuration they give (streamrec's keys
 * and Flink's) is handed to the execution environment, so job-level Flink settings such as
 * checkpointing can live in the same file. Unlike {@code streamrec run}, which starts its own local
 * Flink, this runs on whatever environment launched it: the cluster's under {@code flink run} or in
 * application mode, a local one when started as a plain Java program.
 *
 * <p>A live job needs durable checkpoints, from its own configuration or the cluster's ({@link
 * #requireCheckpoints}), kept when it is cancelled or fails unless configured otherwise ({@link
 * #retainCheckpoints}). Bad arguments or configuration throw with a message naming the argument or
 * key; nothing here calls {@code System.exit}, which in application mode would take the JobManager
 * down with it. A broker that does not answer is waited for ({@link #awaitKafka}).
 */
public final class JobMain {
  private static final Logger LOG = LoggerFactory.getLogger(JobMain.class);

  /** How long a start waits between two calls to a broker that did not answer. */
  static final java.time.Duration BROKER_RETRY_PAUSE = java.time.Duration.ofSeconds(10);

  private JobMain() {}

  /**
   * Runs {@code check} against Kafka until the broker answers, saying so on {@code log} at each
   * call that got no answer; a refusal or a missing topic fails at once. In application mode a
   * JobManager that restarts (a pod rescheduled, a failover) runs this entry again: during a broker
   * outage it failed after 30 s, and the deployment with it, where the running job waits the outage
   * out. A first deployment to a wrong address waits too, saying where it waits.
   */
  static void awaitKafka(
      Runnable check, java.time.Duration pause, java.util.function.Consumer<String> log)
      throws InterruptedException {
    io.streamrec.job.kafka.AwaitKafka.untilChecked(
        check,
        pause,
        new io.streamrec.job.kafka.AwaitKafka.Waiting() {
          @Override
          public void unanswered(
              io.streamrec.job.kafka.KafkaUnreachableException e, int attempt, long seconds) {
            log.accept(
                "streamrec: "
                    + e.getMessage()
                    + " The job's start waits for it ("
                    + seconds
                    + " s so far, calling again every "
                    + pause.toSeconds()
                    + " s); check kafka.bootstrap-servers if it never answers");
          }

          @Override
          public void answered(long seconds) {
            log.accept("streamrec: Kafka answered after " + seconds + " s; the job starts");
          }
        });
  }

  /**
   * Refuses a live job that would take no checkpoints its model could resume from: none at all
   * (neither the job's configuration nor the cluster's sets {@code
   * execution.checkpointing.interval}, which {@code streamrec run} defaults to 30 s and this entry
   * did not), or checkpoints held in the JobManager's memory, which refuses one of more than 5 MB,
   * as a trainer's model soon is. Without checkpoints the sources never committed an offset, an
   * exactly-once job never committed a transaction (nothing reached the model-updates topic), and
   * any restart began a new model, which the topic's model then refused, for good. {@code config}
   * is the environment's: the cluster's settings with the job's over them.
   */
  static void requireCheckpoints(ReadableConfig config, StreamrecJob.Bounds bounds) {
    if (bounds.bounded()) {
      return;
    }
    java.util.Optional<java.time.Duration> interval;
    try {
      interval = config.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL);
    } catch (IllegalArgumentException e) {
      return; // not a duration: Flink's refusal names the key and the value
    }
    if (interval.isEmpty()) {
      throw new ConfigException(
          CheckpointingOptions.CHECKPOINTING_INTERVAL,
          "is set neither in the job's configuration nor in the cluster's, so this live job would"
              + " take no checkpoints",
          "a live job keeps its model, and commits its read offsets, at its checkpoints; without"
              + " them every restart starts a new model, which the model-updates topic's refuses,"
              + " and an exactly-once job publishes nothing. Set it (e.g."
              + " --execution.checkpointing.interval '30 s', what streamrec run takes by default)"
              + " and execution.checkpointing.dir, on storage every TaskManager reaches");
    }
    String storage = config.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).orElse("").strip();
    String inMemory =
        ", so this live job's checkpoints would be held in the JobManager's memory, which refuses"
            + " one of more than 5 MB, as a trainer's model soon is, and loses them with the"
            + " JobManager";
    String durable =
        "give execution.checkpointing.dir a directory every TaskManager reaches"
            + " (file:///flink-data/checkpoints on a shared volume, s3://bucket/streamrec/checkpoints,"
            + " ...)";
    if (storage.equalsIgnoreCase("jobmanager")) {
      throw new ConfigException(
          CheckpointingOptions.CHECKPOINT_STORAGE,
          "is 'jobmanager'" + inMemory,
          "remove it and " + durable);
    }
    if (storage.isEmpty()
        && config.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
      throw new ConfigException(
          CheckpointingOptions.CHECKPOINTS_DIRECTORY,
          "is set neither in the job's configuration nor in the cluster's" + inMemory,
          durable);
    }
  }

  /**
   * A live job keeps its checkpoints when it is cancelled or fails for good, as under {@code
   * streamrec run}, unless its configuration or the cluster's says otherwise ({@code
   * execution.checkpointing.externalized-checkpoint-retention}). Flink's default deletes them then:
   * a live job under {@code flink run} cancelled to be started again on a new jar, or failed
   * without restarts, left no checkpoint to resume its model from, and its next start began a new
   * model, which the model-updates topic's refused.
   */
  static void retainCheckpoints(StreamExecutionEnvironment env, StreamrecJob.Bounds bounds) {
    if (bounds.bounded()) {
      return;
    }
    try {
      if (env.getConfiguration()
          .getOptional(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION)
          .isPresent()) {
        return;
      }
    } catch (IllegalArgumentException e) {
      return; // not a retention: Flink's refusal names the key and the value
    }
    env.getCheckpointConfig()
        .setExternalizedCheckpointRetention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    LOG.info(
        "streamrec: {} is {} (not set in the job's configuration nor the cluster's): a cancelled"
            + " or failed job's checkpoints stay, to resume its model from",
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION.key(),
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
  }

  public static void main(String[] args) throws Exception {
    if (JobArguments.helpRequested(args)) {
      System.out.println(JobArguments.usage());
      return;
    }
    JobArguments.Parsed a = JobArguments.parse(args);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(a.configuration());
    requireCheckpoints(env.getConfiguration(), a.bounds());
    retainCheckpoints(env, a.bounds());
    if (a.config().exactlyOnce()) {
      // the cluster's checkpoint interval (a FlinkDeployment's flinkConfiguration), which the
      // job's own configuration does not hold, bounds its transactions as much as its own
      JobConfig.refuseATransactionTimeoutWithinTheCheckpointInterval(env.getConfiguration());
    }
    // a refused login or a missing topic fails the submission here, in words, rather than the
    // running job after the clients' timeouts; a broker that does not answer is waited for
    awaitKafka(
        () -> {
          KafkaPreflight.checkJob(a.config());
          KafkaSinks.abortLeftOpenTransactions(a.config(), a.bounds().bounded());
        },
        BROKER_RETRY_PAUSE,
        LOG::warn);
    StreamrecJob.build(env, a.config(), a.bounds());
    LOG.info(
        "streamrec: submitting '{}' ({}) reading {} + {} at {} ({}), publishing to {}",
        a.jobName(),
        a.bounds().bounded() ? "backfill" : "live",
        a.config().requestsTopic(),
        a.config().impressionsTopic(),
        a.config().bootstrapServers(),
        a.config().kafkaProperties().describe(),
        a.config().modelUpdatesTopic());
    env.execute(a.jobName());
  }
}
