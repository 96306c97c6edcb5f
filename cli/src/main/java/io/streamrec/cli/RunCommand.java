package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.JobSettings;
import io.streamrec.job.kafka.AwaitKafka;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.KafkaUnreachableException;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.job.trainer.Handoff;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptionsInternal;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code streamrec run}: the job against any broker, unbounded, until stopped. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the job against a Kafka broker, unbounded: trains on the requests and impressions topics "
          + "and publishes the model to the model-updates topic until stopped (Ctrl-C).",
      "Checkpoints every 30 s (execution.checkpointing.interval) to --state-dir, kept when the job"
          + " stops, and resumes from the newest checkpoint or savepoint of the same job (the same"
          + " kafka.group-id and topics.model-updates) when there is one; the sources commit their"
          + " offsets on each checkpoint. Without one it starts a new model from the consumer"
          + " group's committed offsets, or the earliest where there are none."
    })
final class RunCommand implements Callable<Integer> {
  /** How long reading the model-updates topic's newest version may take. */
  private static final Duration TOPIC_HEAD_TIMEOUT = Duration.ofSeconds(30);

  @Mixin JobSettings settings;

  @Mixin ProgressOptions progress = new ProgressOptions();

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description =
          "Where checkpoints (DIR/checkpoints) and savepoints (DIR/savepoints) go unless"
              + " execution.checkpointing.dir / execution.checkpointing.savepoint-dir name another"
              + " place, e.g. s3://... (default: ./streamrec-state).")
  Path stateDir = RetainedCheckpoints.DEFAULT_STATE_DIR;

  @Option(
      names = "--from-handoff",
      paramLabel = "FILE",
      description =
          "On a start without a checkpoint, go on from the model a backfill handed over (backfill"
              + " --handoff FILE): its next version on the same lineage, the inputs read from the"
              + " offsets the backfill handed on. A start that resumes a checkpoint does not use it,"
              + " so it may stay on the command line (sets trainer.handoff.start-from).")
  String fromHandoff;

  /** Pause between two checks of a broker that a resuming start waits for. */
  static final Duration BROKER_RETRY_PAUSE = Duration.ofSeconds(5);

  @Override
  public Integer call() throws Exception {
    try (DirectoryLock lock = DirectoryLock.ofStateDir(stateDir)) {
      return runHolding();
    }
  }

  private int runHolding() throws Exception {
    Configuration conf =
        RetainedCheckpoints.withCheckpointDefaults(settings.configuration(), stateDir);
    if (fromHandoff != null) {
      conf.set(JobOptions.HANDOFF_START_FROM, fromHandoff);
    }
    RetainedCheckpoints.Plan plan = RetainedCheckpoints.plan(conf, JobConfig.from(conf));
    keepNewModelId(plan.conf(), stateDir);
    handoffOnlyForANewStart(plan.conf());
    List<String> unfinished = RetainedCheckpoints.removeUnfinished(plan, stateDir);
    if (!unfinished.isEmpty()) {
      System.out.println(
          "streamrec: removed "
              + String.join(", ", unfinished)
              + " under "
              + conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
              + ": checkpoint(s) a stopped run left unfinished, whose numbers this run's take");
    }
    JobConfig cfg = JobConfig.from(plan.conf());
    System.out.println(
        "streamrec: job "
            + plan.jobId()
            + ", checkpoints every "
            + TimeUtils.formatWithHighestUnit(conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
            + " to "
            + conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
            + "; "
            + startMessage(plan, cfg));
    awaitBroker(
        () -> KafkaPreflight.checkJob(cfg),
        plan.resumeFrom().isPresent(),
        BROKER_RETRY_PAUSE,
        System.out);
    long submittedAtMs = System.currentTimeMillis();
    JobRunner.Started job =
        JobRunner.start(plan.conf(), StreamrecJob.Bounds.live(), "streamrec", true);
    System.out.println(
        "streamrec: job "
            + job.client().getJobID()
            + " reading "
            + job.config().requestsTopic()
            + " + "
            + job.config().impressionsTopic()
            + " at "
            + job.config().bootstrapServers()
            + ", publishing to "
            + job.config().modelUpdatesTopic());
    System.out.flush();
    try (JobRunner.CancelOnExit exit =
            job.cancelOnExit(stoppingLine(stateDir, plan.conf(), true), "streamrec run: stopped")
                // where no checkpoint completed (every one failed, or a stop within the first
                // interval), the promise of a resume would be false
                .stopping(
                    () ->
                        stoppingLine(
                            stateDir,
                            plan.conf(),
                            RetainedCheckpoints.newestOfInitialized(plan.conf(), plan.jobId())
                                .isPresent()))
                .unmended(STOPPING);
        Progress p = Progress.of(job, progress.millis())) {
      job.awaitEnd(exit);
    }
    if (!JobRunner.stopping()) {
      // a live job ends without a failure only when stopped with a savepoint (Flink's REST API or
      // CLI): the process ended after its last progress line without a word
      System.out.println(
          savepointStopLine(
              RetainedCheckpoints.newest(plan.conf(), plan.jobId()),
              stateDir,
              plan.conf().get(CheckpointingOptions.SAVEPOINT_DIRECTORY),
              submittedAtMs));
    }
    return 0;
  }

  private static final String STOPPING = "streamrec run: stopping: cancelling the job";

  /**
   * What {@code run} says as a stop begins: what a start again goes on from, its newest checkpoint
   * where one was {@code retained}.
   */
  static String stoppingLine(Path stateDir, Configuration conf, boolean retained) {
    if (retained) {
      return STOPPING
          + "; started again with --state-dir "
          + stateDir
          + ", it resumes from its newest checkpoint in "
          + conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    }
    String none = STOPPING + "; no checkpoint has completed, so started again";
    // a path given to restore is restored again by the same options; a handoff is read again by a
    // start without a checkpoint (a restore drops it: handoffOnlyForANewStart)
    java.util.Optional<String> given = conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH);
    if (given.isPresent()) {
      return none + " with the same options it restores from " + given.get() + " again";
    }
    String handoff = conf.get(JobOptions.HANDOFF_START_FROM);
    if (!handoff.isEmpty()) {
      return none + " it goes on from the handoff at " + handoff + " again";
    }
    return none + " it begins a new model";
  }

  /**
   * What {@code run} says when its job was stopped with a savepoint: where the newest checkpoint or
   * savepoint of the job is ({@code newest}), which a start on {@code stateDir} resumes; a
   * savepoint written before the job was submitted ({@code submittedAtMs}) is an earlier stop's.
   */
  static String savepointStopLine(
      java.util.Optional<RetainedCheckpoints.Retained> newest,
      Path stateDir,
      String savepoints,
      long submittedAtMs) {
    String line =
        "streamrec run: the job was stopped with a savepoint (Flink's stop); started again with"
            + " --state-dir "
            + stateDir
            + ", it resumes from ";
    // a savepoint of an earlier stop, where this one's went elsewhere, is not "that savepoint"
    if (newest.isPresent()
        && newest.get().savepoint()
        && newest.get().writtenAtMs() >= submittedAtMs) {
      return line + "that savepoint, " + newest.get().path();
    }
    return newest
            .map(r -> line + r.describe())
            .orElse(line.replace(", it resumes from ", ", it finds no checkpoint of this job"))
        + " (this stop's savepoint is not in "
        + savepoints
        + ": give it with -D execution.state-recovery.path=... to resume from it)";
  }

  /**
   * Checks the broker before a start ({@code check}). A start that resumes a checkpoint of its job,
   * which read from this broker before, waits for a broker that does not answer, checking again
   * after {@code pause}, as the job itself waits through an outage: started during one (a machine
   * booted before its broker, a supervisor's restart), it exited after 30 s. A first start fails at
   * once, as the address may be wrong. A refusal or a missing topic fails either way.
   */
  static void awaitBroker(Runnable check, boolean resuming, Duration pause, PrintStream out)
      throws InterruptedException {
    AwaitKafka.untilChecked(
        check,
        pause,
        new AwaitKafka.Waiting() {
          @Override
          public void unanswered(KafkaUnreachableException e, int attempt, long seconds) {
            if (!resuming) {
              throw e;
            }
            out.println(
                attempt == 1
                    ? "streamrec run: "
                        + e.getMessage()
                        + " This start resumes a checkpoint of a job that read from it, so it"
                        + " waits for the broker (Ctrl-C stops)."
                    : String.format(
                        Locale.ROOT, "streamrec run: still waiting for Kafka (%d s)", seconds));
            out.flush();
          }

          @Override
          public void answered(long seconds) {
            out.printf(Locale.ROOT, "streamrec run: Kafka answers after %d s; starting%n", seconds);
          }
        });
  }

  /**
   * A new model keeps its id in the state directory over a stop before its first checkpoint; not
   * one that goes on from a handoff, whose model has its own (an id drawn here was named in a
   * warning as a new lineage that the handoff's model went on without), nor a start that restores a
   * checkpoint or savepoint ({@code conf}, the plan's, names one), whose model is the restored one
   * (a resume of a state directory from before the file drew an id there that matched no model).
   * {@code conf} names the job ({@link RetainedCheckpoints#plan} fixes its id): each job of the
   * directory keeps its own ({@link StateDirModelId}). A start that restores forgets the kept id
   * (the checkpoint has the lineage now), and a start with {@code --replace} draws a new one.
   */
  static void keepNewModelId(Configuration conf, java.nio.file.Path stateDir) {
    String job = conf.get(PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID);
    if (conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent()) {
      // the checkpoint holds the model's lineage from now on: a kept id outliving the checkpoints
      // (moved away, deleted) came back as the model of a new start, the one just stopped, which
      // then published nothing until its versions passed those on the topic
      StateDirModelId.forget(stateDir, job);
      return;
    }
    if (conf.get(JobOptions.MODEL_ID).isBlank()
        && conf.get(JobOptions.HANDOFF_START_FROM).isEmpty()) {
      if (conf.get(JobOptions.REPLACE_MODEL)) {
        // --replace starts a new model: a kept id is the one it replaces (its checkpoints moved
        // away as the refusal of a resume with --replace says), never the new one
        StateDirModelId.forget(stateDir, job);
      }
      conf.set(
          JobOptions.MODEL_ID,
          StateDirModelId.of(
              stateDir,
              job,
              () -> !RetainedCheckpoints.otherJobsHaveCheckpoints(conf, JobID.fromHexString(job))));
    }
  }

  /**
   * A start that restores a checkpoint or savepoint ({@code conf}, the plan's, names one) does not
   * read {@code --from-handoff}: the checkpoint holds the offsets, the model and the handoff's cut.
   * The option may stay on the command line (a supervisor's), and the job's build read the file all
   * the same: once it was gone (a handoff in /tmp, or removed after use), or another backfill's,
   * every restart of the live job failed.
   */
  static void handoffOnlyForANewStart(Configuration conf) {
    if (conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent()) {
      conf.removeConfig(JobOptions.HANDOFF_START_FROM);
    }
  }

  /**
   * What the start does ({@link RetainedCheckpoints.Plan#message}), and, where it goes on from a
   * handoff, what the handoff holds; a handoff of other topics than the job reads is refused here,
   * before anything starts.
   */
  private String startMessage(RetainedCheckpoints.Plan plan, JobConfig cfg) {
    if (cfg.handoffStartFrom().isEmpty()
        || plan.conf().getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent()) {
      return plan.message();
    }
    Handoff.Header h = Handoff.readHeader(cfg.handoffStartFrom());
    h.requireTopics(StreamrecJob.inputTopics(cfg));
    String refusal =
        HandoffStarts.refusal(
            h,
            new ModelTopicHead(
                    cfg.bootstrapServers(),
                    cfg.kafkaProperties(),
                    cfg.modelUpdatesTopic(),
                    TOPIC_HEAD_TIMEOUT)
                .newestMarker(),
            cfg.handoffStartFrom(),
            stateDir,
            cfg.modelUpdatesTopic());
    if (refusal != null) {
      throw new StreamrecException(refusal);
    }
    if (HandoffStarts.startedHere(stateDir, h, cfg.handoffStartFrom())) {
      // the versions past the handoff are this run's own, from before its first checkpoint: the
      // trainer trains them again and does not publish them twice, where it refuses another job's
      plan.conf().set(JobOptions.HANDOFF_CONTINUE_PUBLISHED, true);
    }
    HandoffStarts.record(stateDir, h, cfg.handoffStartFrom());
    return plan.message() + "; it holds " + h + ", the inputs from " + h.describeOffsets();
  }
}
