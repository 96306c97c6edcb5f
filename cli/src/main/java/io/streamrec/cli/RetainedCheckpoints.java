package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.CompletedCheckpoints;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigConstants;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptionsInternal;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.PluginManager;
import org.apache.flink.core.plugin.PluginUtils;

/**
 * The durable state of a job run by {@code streamrec run}: where its checkpoints go, which job they
 * belong to, and which one a new start resumes from.
 *
 * <p>A local run checkpoints by default, to a file system (a directory under {@code --state-dir}
 * unless {@code execution.checkpointing.dir} names another, e.g. {@code s3://...}), never to the
 * JobManager's heap, whose 5 MB limit a trainer's model overflows at once; checkpoints are kept
 * when the job is cancelled, and the Kafka sources commit their offsets on each one.
 *
 * <p>Every run of the same job gets the same Flink job id, derived from what makes it that job (its
 * consumer group and its model-updates topic), so that its checkpoints land in one known directory,
 * {@code <checkpoint dir>/<job id>/chk-<n>}. A new start picks the newest of them that is complete
 * (its {@code _metadata} written, which Flink does last) or the newest savepoint of the job,
 * whichever is newer, and restores from it: a process killed in any way and started again with the
 * same command continues the model where its last checkpoint stood. A checkpoint is restored in
 * claim mode (the new run owns it and deletes it once subsumed, as its own); a savepoint is left as
 * the user's.
 *
 * <p>Nothing is resumed when the configuration names a restore path itself ({@code
 * execution.state-recovery.path}), or when it replaces the model ({@code trainer.replace-model}):
 * that start begins a new model, whose checkpoints are then the newest.
 */
final class RetainedCheckpoints {
  /**
   * Where {@code run} keeps its state unless told otherwise (relative to the working directory).
   */
  static final Path DEFAULT_STATE_DIR = Path.of("streamrec-state");

  /** Often enough that a restart repeats little; a checkpoint of a large model takes seconds. */
  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

  /** The address the local Flink's REST and BLOB servers bind to unless configured. */
  static final String LOOPBACK = "127.0.0.1";

  /** What makes two runs the same job; changing it starts another job with its own checkpoints. */
  private static final String JOB_IDENTITY = "streamrec run/group=%s/model-updates=%s";

  private RetainedCheckpoints() {}

  /** A checkpoint or savepoint to restore from. */
  record Retained(String path, boolean savepoint, long checkpointId, long writtenAtMs) {
    String describe() {
      return (savepoint ? "savepoint " : "checkpoint " + checkpointId + " at ") + path;
    }
  }

  /**
   * The local Flink's servers on the loopback interface, where nothing else on the network reaches
   * them: the REST endpoint (which can cancel the job or write a savepoint anywhere) and the BLOB
   * server. Settings the configuration has win.
   */
  static Configuration bindLocally(Configuration conf) {
    Configuration c = new Configuration(conf);
    setIfAbsent(c, RestOptions.BIND_ADDRESS, LOOPBACK);
    setIfAbsent(c, RestOptions.ADDRESS, LOOPBACK);
    setIfAbsent(c, JobManagerOptions.BIND_HOST, LOOPBACK);
    setIfAbsent(c, TaskManagerOptions.BIND_HOST, LOOPBACK);
    return c;
  }

  /**
   * Checkpointing as {@code run} does it unless configured otherwise: every {@link
   * #DEFAULT_INTERVAL}, to the file system under {@code stateDir}, kept on cancellation.
   */
  static Configuration withCheckpointDefaults(Configuration conf, Path stateDir) {
    Configuration c = withFileSystemStorage(conf, stateDir);
    setIfAbsent(c, CheckpointingOptions.CHECKPOINTING_INTERVAL, DEFAULT_INTERVAL);
    setIfAbsent(
        c,
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    return c;
  }

  /**
   * Checkpoints and savepoints to the file system, under {@code stateDir} ({@code checkpoints},
   * {@code savepoints}), unless the configuration names a storage or directories of its own: never
   * the JobManager's heap, Flink's default without a storage named, which refuses a checkpoint or
   * savepoint of more than 5 MB, as a trainer's model soon is.
   */
  static Configuration withFileSystemStorage(Configuration conf, Path stateDir) {
    Configuration c = new Configuration(conf);
    Path dir = stateDir.toAbsolutePath().normalize();
    setIfAbsent(c, CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    setIfAbsent(c, CheckpointingOptions.CHECKPOINTS_DIRECTORY, uri(dir.resolve("checkpoints")));
    setIfAbsent(c, CheckpointingOptions.SAVEPOINT_DIRECTORY, uri(dir.resolve("savepoints")));
    return c;
  }

  /** The job's id: the same for every run of the same job (see the class comment). */
  static JobID jobId(JobConfig cfg) {
    String identity = String.format(JOB_IDENTITY, cfg.groupId(), cfg.modelUpdatesTopic());
    UUID u = UUID.nameUUIDFromBytes(identity.getBytes(StandardCharsets.UTF_8));
    return new JobID(u.getLeastSignificantBits(), u.getMostSignificantBits());
  }

  /** What a start does about earlier state. */
  record Plan(Configuration conf, JobID jobId, Optional<Retained> resumeFrom, String message) {}

  /**
   * Fixes the job's id and, unless the configuration says otherwise, points it at the newest
   * retained checkpoint or savepoint of that job.
   */
  static Plan plan(Configuration conf, JobConfig cfg) {
    Configuration c = new Configuration(conf);
    JobID id =
        c.getOptional(PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID)
            .map(JobID::fromHexString)
            .orElseGet(() -> jobId(cfg));
    c.set(PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID, id.toHexString());
    String where = checkpointsOf(c, id);
    // without state to restore, the trainer starts a new model, or goes on from a handoff
    String fresh =
        cfg.handoffStartFrom().isEmpty()
            ? "starting a new model"
            : "going on from the handoff at " + cfg.handoffStartFrom();
    // a new model reads what its group has not read: under an old job's group, none of the history
    String reads =
        cfg.handoffStartFrom().isEmpty()
            ? "; it reads the topics from where consumer group '"
                + cfg.groupId()
                + "' stands (their start where the group has committed nothing)"
            : "";
    String handoffUnused =
        cfg.handoffStartFrom().isEmpty()
            ? ""
            : "; the handoff at "
                + cfg.handoffStartFrom()
                + " is not used: the job has state of its own";
    Optional<String> given = c.getOptional(StateRecoveryOptions.SAVEPOINT_PATH);
    if (given.isPresent()) {
      requireLocalState(given.get());
      requireNoNewerCheckpoints(c, id, given.get());
      return new Plan(
          c,
          id,
          Optional.empty(),
          "restoring from "
              + given.get()
              + " ("
              + StateRecoveryOptions.SAVEPOINT_PATH.key()
              + ")"
              + handoffUnused);
    }
    if (c.get(JobOptions.REPLACE_MODEL)) {
      Optional<Retained> old = newestCheckpointOf(c, id);
      if (old.isPresent()) {
        // the new model's checkpoints would be numbered from 1 in the same directory: at the first
        // number the old model retained, Flink fails to write it ("_metadata already exists"), the
        // job fails over, and does so again at every attempt
        throw new StreamrecException(
            "--replace starts a new model, and "
                + where
                + " holds checkpoints of the model it replaces (the newest: "
                + old.get().describe()
                + "), whose numbers the new model's checkpoints would collide with: give this run"
                + " another --state-dir, or move that directory away (it is the replaced model's"
                + " state)");
      }
      return new Plan(
          c,
          id,
          Optional.empty(),
          fresh
              + " ("
              + JobOptions.REPLACE_MODEL.key()
              + "), not resuming from the checkpoints under "
              + where
              + reads);
    }
    Optional<Retained> newest = newest(c, id);
    if (newest.isEmpty()) {
      return new Plan(
          c,
          id,
          newest,
          fresh + ": no retained checkpoint of this job under " + where + otherJobs(c, id) + reads);
    }
    Retained r = newest.get();
    c.set(StateRecoveryOptions.SAVEPOINT_PATH, r.path());
    if (!r.savepoint()) {
      c.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
    }
    return new Plan(c, id, newest, "resuming from " + r.describe() + handoffUnused);
  }

  /**
   * A restore path on this machine that does not exist fails here, in one line, where Flink failed
   * the job's submission with a page of trace. (Paths of other file systems are Flink's to read.)
   */
  private static void requireLocalState(String given) {
    java.net.URI uri;
    try {
      uri = new org.apache.flink.core.fs.Path(given).toUri();
    } catch (IllegalArgumentException e) {
      throw new StreamrecException(
          StateRecoveryOptions.SAVEPOINT_PATH.key() + " is not a path: " + given);
    }
    if (uri.getScheme() != null && !uri.getScheme().equals("file")) {
      return;
    }
    if (!java.nio.file.Files.exists(java.nio.file.Path.of(uri.getPath()))) {
      throw new StreamrecException(
          StateRecoveryOptions.SAVEPOINT_PATH.key()
              + " names "
              + given
              + ", which does not exist: give a retained checkpoint (its chk-N directory) or a"
              + " savepoint directory, or leave it out to resume from the newest checkpoint under"
              + " the state directory");
    }
  }

  /**
   * A restore path older than a complete checkpoint of this job in its checkpoint directory is
   * refused: Flink numbers the restored job's checkpoints on from the restored one, so its first
   * ones collide with the newer ones' numbers ("chk-79/_metadata already exists"), fail, and in
   * failing delete those newer checkpoints, and the job restarts for ever.
   */
  private static void requireNoNewerCheckpoints(Configuration c, JobID id, String given) {
    org.apache.flink.core.fs.Path restore;
    try {
      restore = new org.apache.flink.core.fs.Path(given);
    } catch (IllegalArgumentException e) {
      return;
    }
    Optional<Long> restoreWritten;
    try {
      restoreWritten = metadataWritten(restore);
    } catch (UncheckedIOException e) {
      return; // a file system this process cannot read (no plugin): Flink's to read
    }
    if (restoreWritten.isEmpty()) {
      return; // no metadata: not a checkpoint Flink can restore, which Flink says
    }
    Optional<Retained> newer =
        newestCheckpointOf(c, id)
            .filter(r -> r.writtenAtMs() > restoreWritten.get())
            .filter(r -> !new org.apache.flink.core.fs.Path(r.path()).equals(restore));
    if (newer.isPresent()) {
      throw new StreamrecException(
          StateRecoveryOptions.SAVEPOINT_PATH.key()
              + " names "
              + given
              + ", older than "
              + newer.get().describe()
              + " of this job: Flink numbers the checkpoints of a restored job on from the one it"
              + " restores, so they would collide with the newer ones, fail, and delete them. Move"
              + " the newer chk-N directories out of "
              + checkpointsOf(c, id)
              + " (keep shared/, which the older one may reference), or restore into another"
              + " --state-dir");
    }
  }

  /**
   * A note when the checkpoint directory holds checkpoints of other jobs: a job's id is drawn from
   * its kafka.group-id and model-updates topic, so a start with either changed finds none of its
   * own and starts a new model, which is what it should say.
   */
  private static String otherJobs(Configuration c, JobID id) {
    long others = otherJobsWithCheckpoints(c, id);
    return others == 0
        ? ""
        : " (it holds checkpoints of "
            + others
            + (others == 1 ? " other job" : " other jobs")
            + ": a job is known by its kafka.group-id and topics.model-updates, and a start with"
            + " either changed is another job)";
  }

  /**
   * Whether the checkpoint directory holds a complete checkpoint of a job other than {@code id}.
   */
  static boolean otherJobsHaveCheckpoints(Configuration c, JobID id) {
    return otherJobsWithCheckpoints(c, id) > 0;
  }

  private static long otherJobsWithCheckpoints(Configuration c, JobID id) {
    Optional<String> dir = c.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    if (dir.isEmpty()) {
      return 0;
    }
    long others = 0;
    for (FileStatus s : list(new org.apache.flink.core.fs.Path(dir.get()))) {
      String name = s.getPath().getName();
      if (s.isDir()
          && !name.equals(id.toHexString())
          && newestCheckpoint(s.getPath()).isPresent()) {
        others++;
      }
    }
    return others;
  }

  /**
   * Deletes the unfinished checkpoints ({@code chk-N} without {@code _metadata}) of {@code plan}'s
   * job numbered past the checkpoint it resumes (past 0 for a new model of a job with no complete
   * checkpoint), where its checkpoint directory is under {@code stateDir}, which the caller holds
   * locked; returns their names. A run killed while it wrote checkpoint N left its directory with
   * part of its files: the next start numbered its own checkpoints on from the one it resumed,
   * wrote its N into that directory, and could never delete it ("Directory ... chk-N is not
   * empty"), which stayed in the state directory for good.
   */
  static List<String> removeUnfinished(Plan plan, java.nio.file.Path stateDir) {
    Optional<String> dir = plan.conf().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    if (dir.isEmpty() || plan.resumeFrom().map(Retained::savepoint).orElse(false)) {
      return List.of();
    }
    long after;
    if (plan.resumeFrom().isPresent()) {
      after = plan.resumeFrom().get().checkpointId();
    } else if (newestCheckpointOf(plan.conf(), plan.jobId()).isEmpty()) {
      after = 0;
    } else {
      return List.of();
    }
    java.nio.file.Path jobDir;
    try {
      java.net.URI uri =
          new org.apache.flink.core.fs.Path(dir.get(), plan.jobId().toHexString()).toUri();
      if (uri.getScheme() != null && !uri.getScheme().equals("file")) {
        return List.of(); // another file system: not the state directory's
      }
      jobDir = java.nio.file.Path.of(uri.getPath()).toAbsolutePath().normalize();
    } catch (RuntimeException e) {
      return List.of();
    }
    if (!jobDir.startsWith(stateDir.toAbsolutePath().normalize()) || !Files.isDirectory(jobDir)) {
      return List.of();
    }
    List<String> removed = new java.util.ArrayList<>();
    try (java.util.stream.Stream<java.nio.file.Path> s = Files.list(jobDir)) {
      for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) s::iterator) {
        java.util.regex.Matcher m =
            CompletedCheckpoints.CHECKPOINT.matcher(p.getFileName().toString());
        if (m.matches()
            && m.group(1).length() <= 18
            && Long.parseLong(m.group(1)) > after
            && Files.isDirectory(p)
            && !Files.exists(p.resolve(CompletedCheckpoints.METADATA))) {
          org.apache.flink.util.FileUtils.deleteDirectory(p.toFile());
          removed.add(p.getFileName().toString());
        }
      }
    } catch (IOException | NumberFormatException e) {
      // left as they were: Flink says so if they get in its way
    }
    removed.sort(null);
    return removed;
  }

  /** {@code <checkpoint dir>/<job id>}, or a note that checkpoints have no directory. */
  private static String checkpointsOf(Configuration c, JobID id) {
    return c.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
        .map(d -> new org.apache.flink.core.fs.Path(d, id.toHexString()).toString())
        .orElse("(no " + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + ")");
  }

  /**
   * The newest complete checkpoint of job {@code id} under the configured checkpoint directory, or
   * its newest savepoint under the savepoint directory, whichever was written last.
   */
  static Optional<Retained> newest(Configuration conf, JobID id) {
    FileSystem.initialize(conf, pluginManager(conf));
    return newestOfInitialized(conf, id);
  }

  /**
   * As {@link #newest}, with Flink's file systems as this process initialised them: what a look
   * made while the job runs in this process uses, so as not to reset the file systems under it.
   */
  static Optional<Retained> newestOfInitialized(Configuration conf, JobID id) {
    Optional<Retained> checkpoint = newestCheckpointOf(conf, id);
    // Flink names a savepoint savepoint-<first 6 hex digits of the job id>-<random>
    String prefix = "savepoint-" + id.toHexString().substring(0, 6) + "-";
    Optional<Retained> savepoint =
        conf.getOptional(CheckpointingOptions.SAVEPOINT_DIRECTORY)
            .flatMap(d -> newestSavepoint(new org.apache.flink.core.fs.Path(d), prefix));
    if (checkpoint.isEmpty()) {
      return savepoint;
    }
    if (savepoint.isEmpty()) {
      return checkpoint;
    }
    return savepoint.get().writtenAtMs() > checkpoint.get().writtenAtMs() ? savepoint : checkpoint;
  }

  /**
   * Flink's plugins (its S3 and other file systems) where a Flink installation has them, as Flink's
   * own entry points load them; none where the plugins directory is missing, as on a machine
   * without Flink (Flink would say so in a warning, which here is only noise).
   */
  private static PluginManager pluginManager(Configuration conf) {
    String dir =
        System.getenv()
            .getOrDefault(
                ConfigConstants.ENV_FLINK_PLUGINS_DIR, ConfigConstants.DEFAULT_FLINK_PLUGINS_DIRS);
    return Files.isDirectory(Path.of(dir))
        ? PluginUtils.createPluginManagerFromRootFolder(conf)
        : null;
  }

  private static Optional<Retained> newestCheckpoint(org.apache.flink.core.fs.Path jobDir) {
    List<CompletedCheckpoints.Completed> done;
    try {
      done = CompletedCheckpoints.in(jobDir);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot list " + jobDir + " for checkpoints to resume from", e);
    }
    // the newest written wins; among those written in the same millisecond, the higher number
    return done.stream()
        .max(
            Comparator.comparingLong(CompletedCheckpoints.Completed::writtenAtMs)
                .thenComparingLong(CompletedCheckpoints.Completed::id))
        .map(c -> new Retained(c.dir().toString(), false, c.id(), c.writtenAtMs()));
  }

  /** The newest complete checkpoint of job {@code id} under the configured checkpoint directory. */
  private static Optional<Retained> newestCheckpointOf(Configuration c, JobID id) {
    return c.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
        .flatMap(d -> newestCheckpoint(new org.apache.flink.core.fs.Path(d, id.toHexString())));
  }

  private static Optional<Retained> newestSavepoint(
      org.apache.flink.core.fs.Path dir, String prefix) {
    Retained best = null;
    for (FileStatus s : list(dir)) {
      if (!s.isDir() || !s.getPath().getName().startsWith(prefix)) {
        continue;
      }
      Optional<Long> written = metadataWritten(s.getPath());
      if (written.isPresent() && (best == null || written.get() > best.writtenAtMs())) {
        best = new Retained(s.getPath().toString(), true, -1, written.get());
      }
    }
    return Optional.ofNullable(best);
  }

  private static FileStatus[] list(org.apache.flink.core.fs.Path dir) {
    try {
      FileSystem fs = dir.getFileSystem();
      if (!fs.exists(dir)) {
        return new FileStatus[0];
      }
      FileStatus[] all = fs.listStatus(dir);
      return all == null ? new FileStatus[0] : all;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + " for checkpoints to resume from", e);
    }
  }

  private static Optional<Long> metadataWritten(org.apache.flink.core.fs.Path dir) {
    try {
      return CompletedCheckpoints.metadataWritten(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the metadata in " + dir, e);
    }
  }

  /** {@code file:///...}, without the trailing slash {@link Path#toUri} gives a directory. */
  private static String uri(Path dir) {
    String u = dir.toUri().toString();
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  private static <T> void setIfAbsent(Configuration c, ConfigOption<T> option, T value) {
    if (!c.contains(option)) {
      c.set(option, value);
    }
  }
}
