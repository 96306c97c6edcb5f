package io.streamrec.job.trainer;

import io.streamrec.common.Directories;
import io.streamrec.common.StreamrecException;
import io.streamrec.embedding.EmbeddingStore;
import io.streamrec.embedding.StoreException;
import io.streamrec.embedding.StoreLayoutException;
import io.streamrec.embedding.StoreStats;
import io.streamrec.gpu.BackendMode;
import io.streamrec.gpu.Backends;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.kafka.AwaitKafka;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.metrics.TrainerGauges;
import io.streamrec.job.sink.EncodingDeltaSink;
import io.streamrec.job.units.CodecTypeInfo;
import io.streamrec.model.MiniBatchTrainer;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.TableCapacities;
import io.streamrec.model.UnitBatch;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.VersionMarker;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.execution.Environment;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StatePartitionStreamProvider;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.SerializableFunction;

/**
 * The trainer: turns request units into minibatches, trains on them, and publishes the model.
 *
 * <p><b>Determinism.</b> Everything the trainer does is a function of the units' event times and
 * ids, never of arrival order or wall-clock time, so a replay of the same topics forms the same
 * batches and publishes the same versions. Units wait until the watermark passes their close time
 * (by then every unit that closes earlier has arrived, whatever the upstream parallelism), then are
 * trained in (close time, request key) order ({@link CompactUnit#TRAINING_ORDER}). A minibatch
 * takes units in that order until one of: {@code trainer.batch.max-units}; a unit that closed more
 * than {@code trainer.batch.max-wait} after the batch's first; the end of a publish period.
 *
 * <p><b>Publishing.</b> Event time is cut into periods of {@code trainer.publish-interval}. Once
 * the watermark passes the end of a period in which the trainer learnt anything, the changes go out
 * as one version: changed rows, tombstones, dense blocks, then the version marker (the spec record
 * precedes the first version). Versions are numbered 1, 2, 3, … without gaps. At the end of a
 * bounded input (or a drain) the watermark jumps to the end of time and everything is published.
 *
 * <p><b>Checkpoints.</b> A checkpoint holds the units waiting for the watermark (operator list
 * state) and a {@link TrainerCheckpoint}: the publishing position, the trainer's dense weights,
 * optimizer state and metrics, and the embedding store's snapshot. The trainer thread only takes
 * the consistent cut (the store flushes and hard-links a RocksDB checkpoint locally); the files go
 * to the checkpoint storage on Flink's asynchronous snapshot thread, and table files an earlier
 * checkpoint uploaded are referenced, not copied ({@link SharedStoreFiles}). Snapshots are taken
 * between batches, so a restore continues exactly where the checkpoint stood: the same batches, the
 * same versions, the same rows, bit for bit on the CPU backend.
 *
 * <p><b>Handoff.</b> A backfill with a {@link Handoff.Plan#saves()} plan writes, at the end of its
 * input, the same state as a checkpoint cut (every file inline) with the offsets its sources
 * stopped at; a trainer with a start plan and no checkpoint (live, or a backfill of a later range)
 * restores that state instead of starting a new model, so its first version follows the backfill's
 * last on the same lineage.
 *
 * <p>Runs with parallelism 1: one model.
 */
public final class TrainerOperator extends AbstractStreamOperator<ModelUpdateRecord>
    implements OneInputStreamOperator<CompactUnit, ModelUpdateRecord>, BoundedOneInput {
  private static final long serialVersionUID = 1L;

  /**
   * Its own, over Flink's AbstractStreamOperator's it inherits: under that one every line it wrote
   * went out as Flink's, and the command's log, which keeps Flink at WARN, never showed its INFO
   * lines (the version it restored, the versions it trains again, a new model's lineage).
   */
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(TrainerOperator.class);

  private static final long NO_PERIOD = Long.MIN_VALUE;

  /** The waiting units in a checkpoint (compact units). */
  static final String PENDING_UNITS_STATE = "pending-compact-units";

  /**
   * The waiting units in a checkpoint of a release before compact units (Avro {@code
   * RequestUnit}s): read once on restore, encoded, and not written again.
   */
  static final String LEGACY_PENDING_UNITS_STATE = "pending-units";

  /** The model lineage in a checkpoint. */
  static final String LINEAGE_STATE = "model-lineage";

  /** The id of the Kafka cluster whose offsets the checkpoint holds (none before this state). */
  static final String CLUSTER_STATE = "kafka-cluster";

  /**
   * The publish interval the checkpoint's versions, and those the topic holds past them, were cut
   * by (none before this state).
   */
  static final String PUBLISH_INTERVAL_STATE = "publish-interval";

  /** The trainer's checkpoint ({@link TrainerCheckpoint}, one element). */
  static final String TRAINER_STATE = "trainer-checkpoint";

  /** Under the store's working directory: the cuts of checkpoints whose upload is pending. */
  static final String CUTS_DIR = "trainer-checkpoints";

  /** In the working directory: the store's files of the checkpoint or handoff being restored. */
  static final String RESTORING_DIR = "restoring";

  private final JobConfig config;

  /** Reads the model-updates topic before the first publish; null: no topic to check (tests). */
  private final ModelTopicHead topicHead;

  /** Versions per re-publication cycle of every row (0: rows go out only when they change). */
  private final int refreshVersions;

  /** The handoff this trainer saves at its input's end or starts from; null: none. */
  private final Handoff.Plan handoff;

  /** Makes the backend the trainer runs on. */
  private SerializableFunction<BackendMode, ComputeBackend> backends = Backends::create;

  /** Whether the state being applied in open came from a handoff rather than a checkpoint. */
  private transient boolean fromHandoff;

  /**
   * The handoff written at the input's end, not yet in place: it goes in place on close, unless a
   * savepoint that drains the job came in between (the input was cut short, not read to its end).
   */
  private transient boolean handoffStaged;

  /** Whether a savepoint that drains the job was taken (the input may not have been read out). */
  private transient boolean drained;

  /** Versions up to this one are on the topic already (a restore): computed, not published. */
  private transient long publishedThrough;

  /** On a replace: the rows of the replaced model still current on the topic, to tombstone. */
  private transient ModelTopicHead.Rows replacedRows;

  private transient PriorityQueue<CompactUnit> waiting;
  private transient ArrayDeque<CompactUnit> ready;

  /** Sees another job take the topic over ({@code --replace}); null without a topic head. */
  private transient ReplacementWatch watch;

  /** The model this trainer replaces on its topic (0: none). */
  private transient long replacing;

  /** The rows each table keeps hot, which a batch's rows of that table must fit. */
  private transient TableCapacities tables;

  /** Scratch: a batch's rows per table, and one unit's, while a batch is cut. */
  private transient long[] batchRows;

  private transient long[] unitRows;

  private transient ListState<CompactUnit> unitsState;

  /** The model lineage this trainer publishes ({@link ModelLineage}); kept in every checkpoint. */
  private transient ListState<Long> lineageState;

  private transient ListState<String> clusterState;

  private transient ListState<Long> publishIntervalState;

  /** The restored checkpoint's {@link #PUBLISH_INTERVAL_STATE}; 0 where it does not say. */
  private transient long restoredIntervalMs;

  /**
   * Where the publish interval changed since the restored checkpoint and the topic holds versions
   * past it: the event time of the topic's newest version, through which the periods are trained
   * again and not published; {@link Long#MIN_VALUE} otherwise. The topic's versions were cut by the
   * checkpoint's interval, so a version number of this one's is another stretch of event time:
   * skipped by number, the versions went back in event time (5 s to 2 s: version 17 after 16 was
   * the model of 6 s before, replicas sent back to it) or left the training between unpublished (2
   * s to 10 s).
   */
  private transient long retrainedThroughMs = Long.MIN_VALUE;

  /**
   * The rows of this model the topic held when the trainer found it ahead of the restored version;
   * null once the first version after them has brought the topic to the trainer's rows (or when the
   * trainer did not find the topic ahead).
   */
  private transient java.util.Map<String, io.streamrec.common.LongIntHashMap> rowsOnTopic;

  /**
   * What the versions trained again and not published left each row they named at ({@link
   * ReconcilingPublish#noteTrainedAgain}), until the first version after them.
   */
  private transient java.util.Map<String, io.streamrec.common.LongIntHashMap> trainedAgain;

  /**
   * Whether the next version publishes every row over {@link #rowsOnTopic}: the topic lacks
   * versions this trainer published, so the rows it holds may hold older values.
   */
  private transient boolean republishWhole;

  /** The Kafka cluster's id: the restored checkpoint's, then this job's; null while not known. */
  private transient String cluster;

  private transient long model;

  /**
   * The lineage of a model this job trains from scratch: {@code trainer.model-id}, or one drawn
   * when the job is built. Drawn here and not when the trainer opens, so that every attempt of one
   * job (a restart before its first checkpoint, which has no state to restore) trains the same
   * model: an attempt drawing its own would find the model the one before it published on the
   * topic, and refuse it as another's.
   */
  private final long newModel;

  /** The spec's JSON, published with every version so the topic never depends on its first. */
  private transient String specJson;

  private transient String specFormat;

  private transient ListState<TrainerCheckpoint> checkpointState;
  private transient SharedStoreFiles sharedFiles;

  /** Deletes the shared files no checkpoint references any more, off the trainer's thread. */
  private transient BackgroundDeletes unreferencedFiles;

  /** Where cuts wait for their upload (in the store's working directory: hard links work). */
  private transient Path cutsDir;

  /** The options and stream factory of the snapshot being taken (task thread), else null. */
  private transient CheckpointOptions snapshotOptions;

  private transient CheckpointStreamFactory snapshotFactory;
  private transient MiniBatchTrainer trainer;

  /** The store's working directory, of this trainer's own (deleted on close). */
  private transient io.streamrec.common.LockedDirectory workDir;

  /**
   * The store's counters as of the last batch or publish, for the metric gauges (other threads).
   */
  private transient volatile StoreStats storeStats;

  private transient long openPeriod;
  private transient volatile long version;

  /** The close of the newest unit trained on, event time; {@code Long.MIN_VALUE} before one. */
  private transient volatile long trainedUntilMs;

  /**
   * The checkpoint restored in initializeState, applied in open; its store files in restoredStore.
   */
  private transient TrainerCheckpoint restored;

  /** Units trained as of the latest completed checkpoint, and as of each pending one (by id). */
  private transient long unitsInCompletedCheckpoint;

  private transient java.util.Map<Long, Long> unitsInPendingCheckpoints;
  private transient Path restoredStore;

  private transient Counter unitsTrained;
  private transient Counter impressionsTrained;
  private transient Counter batchesTrained;
  private transient Counter batchesSkipped;
  private transient Counter impressionsSkipped;
  private transient Counter lateUnits;

  /** When a late unit was last logged (wall clock), and those counted since. */
  private transient long lateLoggedAtMs;

  private transient long lateUnlogged;
  private transient Counter deltasPublished;

  /**
   * Nanoseconds spent in train and publish; the first batch's start and the latest end (0: none).
   */
  private transient volatile long busyNanos;

  private transient volatile long firstStartNanos;
  private transient volatile long lastEndNanos;
  private transient volatile long cpuNanos;
  private transient ThreadMXBean threads;

  /**
   * A trainer that publishes without reading the topic first (no lineage check), re-publishing rows
   * as a backfill does.
   */
  public TrainerOperator(JobConfig config) {
    this(config, null, config.refreshVersions(true));
  }

  /**
   * A trainer that reads {@code topicHead} before its first publish: it refuses another lineage's
   * topic unless {@code trainer.replace-model}, and after a restore skips the versions the topic
   * already holds; every row goes out again at least once per {@code refreshVersions} versions (0:
   * never).
   */
  public TrainerOperator(JobConfig config, ModelTopicHead topicHead, int refreshVersions) {
    this(config, topicHead, refreshVersions, null);
  }

  /**
   * As above, and with {@code handoff} (null: none) either saved once the bounded input has been
   * trained and published ({@link Handoff.Plan#saves()}), or started from when the job has no
   * checkpoint to restore.
   */
  public TrainerOperator(
      JobConfig config, ModelTopicHead topicHead, int refreshVersions, Handoff.Plan handoff) {
    this.config = config;
    this.topicHead = topicHead;
    this.refreshVersions = refreshVersions;
    this.handoff = handoff;
    this.newModel =
        config.modelId().isEmpty() ? ModelLineage.newId() : ModelLineage.parse(config.modelId());
  }

  /**
   * Makes this trainer's backend for {@code trainer.backend} ({@link Backends#create}); another
   * only in tests, which see what the trainer does with it.
   */
  TrainerOperator withBackends(SerializableFunction<BackendMode, ComputeBackend> backends) {
    this.backends = backends;
    return this;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    int trainers = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
    if (trainers != 1) {
      // one model, trained in one order: two trainers would each train and publish a part of it
      // (a scheduler that sets every operator's parallelism, as Flink's reactive mode does)
      throw new SuppressRestartsException(
          new StreamrecException(
              "the trainer runs with parallelism 1, and this job gave it "
                  + trainers
                  + ": scale the sources and the assembler with assembler.parallelism, and run the"
                  + " job without a scheduler that sets every operator's parallelism"
                  + " (scheduler-mode: reactive)"));
    }
    waiting = new PriorityQueue<>(CompactUnit.TRAINING_ORDER);
    unitsInPendingCheckpoints = new java.util.HashMap<>();
    ready = new ArrayDeque<>();
    openPeriod = NO_PERIOD;
    trainedAgain = new java.util.TreeMap<>();
    unitsState =
        context
            .getOperatorStateStore()
            .getListState(
                new ListStateDescriptor<>(PENDING_UNITS_STATE, CodecTypeInfo.COMPACT_UNIT));
    lineageState =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>(LINEAGE_STATE, Types.LONG));
    model = ModelLineage.NONE;
    clusterState =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>(CLUSTER_STATE, Types.STRING));
    cluster = null;
    publishIntervalState =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>(PUBLISH_INTERVAL_STATE, Types.LONG));
    restoredIntervalMs = 0;
    retrainedThroughMs = Long.MIN_VALUE;
    checkpointState =
        context
            .getOperatorStateStore()
            .getListState(
                new ListStateDescriptor<>(TRAINER_STATE, new TrainerCheckpointSerializer()));
    sharedFiles = new SharedStoreFiles(retainedCheckpoints());
    // before any restore: its files go into the working directory, on store.dir's disk, and are
    // deleted with it however the start ends
    workDir = claimStoreDir();
    try {
      restore(context);
    } catch (Exception | Error e) {
      closeWorkDir(e);
      throw e;
    }
  }

  /** The checkpoint or handoff to go on from, if any, into {@link #restored}. */
  private void restore(StateInitializationContext context) throws Exception {
    if (context.isRestored()) {
      for (Long m : lineageState.get()) {
        model = m;
      }
      for (String c : clusterState.get()) {
        cluster = c;
      }
      if (model != ModelLineage.NONE) {
        warnOfAnotherModelId("the checkpoint");
      }
      for (Long i : publishIntervalState.get()) {
        restoredIntervalMs = i;
      }
      for (CompactUnit u : unitsState.get()) {
        waiting.add(u);
      }
      ListState<RequestUnit> legacy =
          context
              .getOperatorStateStore()
              .getListState(
                  new ListStateDescriptor<>(
                      LEGACY_PENDING_UNITS_STATE, new AvroTypeInfo<>(RequestUnit.class)));
      UnitEncoder encoder = new UnitEncoder(new UnitLayout(config.model().features()));
      int migrated = 0;
      for (RequestUnit u : legacy.get()) {
        waiting.add(encoder.encode(u));
        migrated++;
      }
      legacy.clear();
      if (migrated > 0) {
        LOG.info("trainer: {} waiting units of an earlier release's checkpoint encoded", migrated);
      }
      for (TrainerCheckpoint cp : checkpointState.get()) {
        checkOnePart();
        restored = cp.relocate(workDir.path().resolve(RESTORING_DIR));
        restoredStore = restored.storeDir;
      }
      checkpointState.clear();
      for (StatePartitionStreamProvider p : context.getRawOperatorStateInputs()) {
        checkOnePart();
        restoredStore = Files.createDirectories(workDir.path().resolve(RESTORING_DIR));
        try (InputStream in = p.getStream()) {
          restored = TrainerCheckpoint.readLegacy(in, restoredStore);
        }
        LOG.info("trainer: restoring a checkpoint of an earlier release (raw operator state)");
      }
      if (restored != null && !restored.sharedFiles.isEmpty()) {
        try {
          restored.fetchSharedFiles();
        } catch (TrainerCheckpoint.FileGone e) {
          // the same restore would fail again: Flink's restarts went on for ever
          throw new SuppressRestartsException(
              new CheckpointMismatchException(
                  "cannot resume from this checkpoint: "
                      + e.getMessage()
                      + " Resume from another retained checkpoint"
                      + " (execution.state-recovery.path), or start a new model from no"
                      + " checkpoint. A state directory copied elsewhere still names the"
                      + " original's shared files by their paths: restore a copy only while the"
                      + " original is there, or take a savepoint, which stands alone",
                  e));
        }
        // a failover of this job restores its own files, and so does a start of the same job
        // that claimed its checkpoint (streamrec run's restart: Flink deletes the claimed
        // checkpoint once subsumed, and its files are the new run's to delete); another restore
        // leaves the files of the checkpoint it came from alone (that checkpoint may be restored
        // again). A job restored from another's checkpoint still references some of that one's
        // files: they are not this job's either (they were deleted, and the other job's newest
        // checkpoint with them)
        boolean own =
            getRuntimeContext().getTaskInfo().getAttemptNumber() > 0
                || (restoredInClaimMode() && noOlderCheckpointBeside(restored));
        String ownDir = "/" + getRuntimeContext().getJobInfo().getJobId().toHexString() + "/";
        java.util.Map<String, SharedStoreFiles.SharedFile> inherited = new java.util.HashMap<>();
        restored.sharedFiles.forEach(
            (name, f) ->
                inherited.put(
                    SharedStoreFiles.key(name, f.size()),
                    new SharedStoreFiles.SharedFile(
                        f.path(), f.size(), own && ownsFile(f.path().toString(), ownDir))));
        sharedFiles.inherit(restored.checkpointId, inherited);
        LOG.info(
            "trainer: {} store files of checkpoint {} fetched from the shared directory ({} of"
                + " them this job's, deleted once no checkpoint references them)",
            inherited.size(),
            restored.checkpointId,
            inherited.values().stream().filter(SharedStoreFiles.SharedFile::deletable).count());
      }
    } else if (handoff != null && handoff.starts()) {
      startFromHandoff();
    }
  }

  /**
   * A restore goes on with the restored model's lineage: a {@code trainer.model-id} naming another
   * one is not taken (it names a new model's), which the log says. Before, a restore ignored it
   * without a word.
   */
  private void warnOfAnotherModelId(String from) {
    if (!config.modelId().isEmpty() && ModelLineage.parse(config.modelId()) != model) {
      LOG.warn(
          "trainer: trainer.model-id {} names a new model's lineage; {}'s model {} goes on under its"
              + " own (a new model starts from no checkpoint or handoff, and takes a topic that"
              + " holds another model with --replace)",
          config.modelId(),
          from,
          ModelLineage.format(model));
    }
  }

  /**
   * Whether a shared file of a restored checkpoint was written by this job: it lies in this job's
   * own checkpoint directory ({@code .../<job id>/shared/...}).
   */
  static boolean ownsFile(String path, String ownDir) {
    return path.contains(ownDir);
  }

  /**
   * A job without a checkpoint (live, or a backfill of a later range): the earlier backfill's
   * state, lineage and version from the handoff, whose offsets must be the ones the sources were
   * built to start from.
   */
  private void startFromHandoff() {
    fromHandoff = true;
    Handoff.Loaded h;
    try {
      h = Handoff.read(handoff.startFrom(), workDir.path().resolve(RESTORING_DIR));
    } catch (StreamrecException e) {
      throw damaged(e);
    }
    if (!h.header().offsets().equals(handoff.startOffsets())
        || !h.header().stopped().equals(handoff.startStopped())) {
      try {
        h.state().discard();
      } catch (IOException e) {
        LOG.warn("cannot delete {}: {}", h.state().storeDir, e.toString());
      }
      throw new SuppressRestartsException(
          new CheckpointMismatchException(
              "the handoff at "
                  + handoff.startFrom()
                  + " was replaced after this job was submitted (now "
                  + h.header().describeStop()
                  + "; the job was built for the one where "
                  + new Handoff.Header(0, 0, handoff.startOffsets(), "", handoff.startStopped())
                      .describeStop()
                  + "): submit the job again",
              null));
    }
    restored = h.state();
    restoredStore = restored.storeDir;
    model = h.header().model();
    // its offsets are positions in that cluster's topics: open() checks them against this job's
    cluster = h.header().cluster().isEmpty() ? null : h.header().cluster();
    warnOfAnotherModelId("the handoff");
    LOG.info(
        "trainer: no checkpoint; going on from the handoff at {}: {}, the inputs from {}",
        handoff.startFrom(),
        h.header(),
        h.header().describeOffsets());
  }

  private void checkOnePart() {
    if (restored != null) {
      throw new IllegalStateException(
          "the trainer runs with parallelism 1; its checkpoint has more than one part");
    }
  }

  /**
   * Whether no complete checkpoint older than the restored one lies beside it in its job's
   * directory. Flink's claim covers the checkpoint it restores only: older ones retained there
   * ({@code execution.checkpointing.num-retained} above 1) stay on disk, reference the same files,
   * and may be restored later (docs/deploy.md), so their files are then not this job's to delete.
   * Where the directory cannot be listed: false.
   */
  private boolean noOlderCheckpointBeside(TrainerCheckpoint cp) {
    if (cp.sharedFiles.isEmpty()) {
      return true;
    }
    // <job dir>/shared/<file>
    org.apache.flink.core.fs.Path jobDir =
        cp.sharedFiles.values().iterator().next().path().getParent().getParent();
    try {
      java.util.Optional<io.streamrec.job.CompletedCheckpoints.Completed> older =
          io.streamrec.job.CompletedCheckpoints.in(jobDir).stream()
              .filter(c -> c.id() < cp.checkpointId)
              .findFirst();
      older.ifPresent(
          c ->
              LOG.info(
                  "trainer: the files of checkpoint {} stay when unused: {} is retained beside it",
                  cp.checkpointId,
                  c.dir()));
      return older.isEmpty();
    } catch (IOException | RuntimeException e) {
      LOG.info("trainer: cannot list {} ({}): the restored files stay", jobDir, e.toString());
      return false;
    }
  }

  /**
   * Whether this job was started on a checkpoint in claim mode ({@code
   * execution.state-recovery.claim-mode: CLAIM}, as {@code streamrec run} resumes its own), as the
   * job or the task manager configures it.
   */
  private boolean restoredInClaimMode() {
    return configurations().stream()
        .anyMatch(
            c ->
                c.getOptional(StateRecoveryOptions.RESTORE_MODE).orElse(null)
                    == RecoveryClaimMode.CLAIM);
  }

  /** The job's configuration and the task manager's, those there are. */
  private List<Configuration> configurations() {
    Environment env = getContainingTask().getEnvironment();
    List<Configuration> all = new ArrayList<>();
    for (Configuration c :
        new Configuration[] {
          env.getJobConfiguration(), env.getTaskManagerInfo().getConfiguration()
        }) {
      if (c != null) {
        all.add(c);
      }
    }
    return all;
  }

  /**
   * How many completed checkpoints Flink keeps ({@code execution.checkpointing.num-retained}), as
   * the job or the task manager configures it: shared files go only when none of them references
   * them.
   */
  private int retainedCheckpoints() {
    int retained = CheckpointingOptions.MAX_RETAINED_CHECKPOINTS.defaultValue();
    for (Configuration c : configurations()) {
      retained = Math.max(retained, c.get(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS));
    }
    return retained;
  }

  /** Pause between two reads of the model topic's cluster while the broker does not answer. */
  static final java.time.Duration KAFKA_RETRY_PAUSE = java.time.Duration.ofSeconds(5);

  @Override
  public void open() throws Exception {
    super.open();
    try {
      openTrainer();
    } catch (Exception | Error e) {
      // the store first, then its directory: a restart in this process starts clean
      try {
        if (trainer != null) {
          trainer.close();
          trainer = null;
        }
      } catch (Exception | Error closing) {
        e.addSuppressed(closing);
      }
      closeWorkDir(e);
      throw e;
    }
  }

  /**
   * Closes {@code store} (if made) and then {@code backend}, their failures suppressed in {@code
   * e}.
   */
  private static void closeUnowned(Throwable e, EmbeddingStore store, ComputeBackend backend) {
    for (AutoCloseable c : new AutoCloseable[] {store, backend}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception | Error closing) {
          e.addSuppressed(closing);
        }
      }
    }
  }

  /** What a dense block's record holds besides its values: key, version, block name, framing. */
  static final long DENSE_RECORD_OVERHEAD_BYTES = 1_024;

  /**
   * Each dense block of the model is one record of the model-updates topic: one larger than the
   * producer takes ({@code max.request.size}, 1 MB unless {@code properties.max.request.size} says
   * otherwise) failed every publish with {@code RecordTooLargeException}, and the job restarted
   * into it until stopped (towers of 1024;512;16 make a block of 2.3 MB). Said before training,
   * without restarts.
   */
  private void checkDenseBlocksFit(Map<String, int[]> blocks) {
    long limit = io.streamrec.job.sink.KafkaSinks.maxRequestBytes(config);
    for (Map.Entry<String, int[]> e : blocks.entrySet()) {
      long bytes = 4L * e.getValue()[1] + DENSE_RECORD_OVERHEAD_BYTES;
      if (bytes > limit) {
        throw new SuppressRestartsException(
            new StreamrecException(
                String.format(
                    java.util.Locale.ROOT,
                    "the model's dense block '%s' has %,d parameters, a model-updates record of"
                        + " about %,d bytes, over the producer's max.request.size of %,d bytes:"
                        + " make the towers smaller (model.towers.*), or raise"
                        + " properties.max.request.size above it, with the topic's"
                        + " max.message.bytes and the brokers' replica.fetch.max.bytes",
                    e.getKey(),
                    e.getValue()[1],
                    bytes,
                    limit)));
      }
    }
  }

  private void openTrainer() throws Exception {
    if (topicHead != null) {
      // a trainer restarted during a broker outage waits for the broker, as the sources and sinks
      // do: it failed its start every 30 s until the broker was back
      checkCluster(
          AwaitKafka.untilAnswered(
              topicHead::clusterId,
              KAFKA_RETRY_PAUSE,
              (e, attempt, seconds) ->
                  LOG.warn(
                      "trainer: {} It waits for the broker ({} s so far) before it starts.",
                      e.getMessage(),
                      seconds)));
    }
    tables = config.limits().tables();
    batchRows = tables.counts();
    unitRows = tables.counts();
    ComputeBackend backend;
    try {
      backend = backends.apply(config.backend());
    } catch (io.streamrec.gpu.BackendUnavailableException e) {
      // trainer.backend: cuda on a machine without a usable device: every restart failed the same
      // way, and the job restarted until someone stopped it
      throw new SuppressRestartsException(e);
    }
    EmbeddingStore store = null;
    try {
      Path storeDir = workDir.path();
      cutsDir = storeDir.resolve(CUTS_DIR);
      Directories.deleteRecursively(cutsDir);
      if (restored == null) {
        store = TrainerStores.create(storeDir, config, backend);
      } else {
        try {
          // before the store: a checkpoint of other wide rows is refused by the option's name
          MiniBatchTrainer.checkWideOptimizer(config.model(), restored.trainerState);
          store = TrainerStores.restore(storeDir, config, backend, restoredStore);
        } catch (IllegalArgumentException | StoreLayoutException e) {
          throw notRestorable(e);
        } catch (StoreException e) {
          throw damaged(e);
        }
      }
      trainer = new MiniBatchTrainer(config.model(), store, backend, config.metricsWindow());
    } catch (Exception | Error e) {
      // only the trainer closes the store and the backend: without one, a CUDA backend kept its
      // context and device memory (the hot slab) in this TaskManager, and each restart had less
      closeUnowned(e, store, backend);
      throw e;
    }
    checkDenseBlocksFit(trainer.model().blocks());
    // before the gauges that read it: a reporter may read them at once
    storeStats = trainer.store().stats();
    MetricGroup g = JobMetrics.group(getMetricGroup());
    unitsTrained = g.counter(JobMetrics.UNITS_TRAINED);
    impressionsTrained = g.counter(JobMetrics.IMPRESSIONS_TRAINED);
    batchesTrained = g.counter(JobMetrics.BATCHES_TRAINED);
    batchesSkipped = g.counter(JobMetrics.BATCHES_SKIPPED);
    impressionsSkipped = g.counter(JobMetrics.IMPRESSIONS_SKIPPED);
    lateUnits = g.counter(JobMetrics.LATE_UNITS);
    deltasPublished = g.counter(JobMetrics.DELTAS_PUBLISHED);
    Counter restores = g.counter(JobMetrics.TRAINER_RESTORES);
    // the first label's figures without a label, and every label's in its subgroup
    progressiveGauges(g, 0);
    List<String> labels = config.model().features().labels();
    for (int l = 0; l < labels.size(); l++) {
      progressiveGauges(JobMetrics.labelGroup(g, labels.get(l)), l);
    }
    g.gauge(JobMetrics.MODEL_VERSION, () -> version);
    trainedUntilMs = Long.MIN_VALUE;
    g.gauge(
        JobMetrics.TRAINED_UNTIL_MS,
        () -> trainedUntilMs == Long.MIN_VALUE ? Double.NaN : (double) trainedUntilMs);
    g.gauge(JobMetrics.TRAINER_BUSY_SECONDS, () -> busyNanos / 1e9);
    g.gauge(JobMetrics.TRAINER_CPU_SECONDS, () -> cpuNanos / 1e9);
    threads = ManagementFactory.getThreadMXBean();
    g.gauge(
        JobMetrics.TRAINER_ACTIVE_SECONDS,
        () -> firstStartNanos == 0 ? 0.0 : (lastEndNanos - firstStartNanos) / 1e9);
    g.gauge(JobMetrics.STORE_HIT_RATE, () -> storeStats.hitRate());
    g.gauge(JobMetrics.STORE_ROWS_HOT, () -> storeStats.rowsHot());
    g.gauge(JobMetrics.STORE_ROWS_COLD, () -> storeStats.rowsCold());
    g.gauge(JobMetrics.STORE_ADMITTED, () -> storeStats.admitted());
    g.gauge(JobMetrics.STORE_EVICTED, () -> storeStats.evicted());
    g.gauge(JobMetrics.STORE_EXPIRED, () -> storeStats.expired());
    TrainerGauges.register(g, () -> storeStats, () -> busyNanos, batchesTrained, batchesSkipped);
    if (restored != null) {
      try {
        trainer.restoreState(restored.trainerState);
        checkWaitingUnits();
      } catch (IllegalArgumentException e) {
        throw notRestorable(e);
      }
      version = restored.version;
      openPeriod = openPeriodUnderThisInterval(restored.openPeriod);
      LOG.info(
          "trainer {} at version {} ({} impressions trained)",
          fromHandoff ? "goes on from the handoff" : "restored",
          version,
          trainer.impressionsTrained());
      Directories.deleteRecursively(restoredStore);
      restored = null;
      if (!fromHandoff) {
        restores.inc();
      }
    }
    if (model == ModelLineage.NONE) {
      model = newModel;
      LOG.info("trainer: a new model, lineage {}", ModelLineage.format(model));
    }
    specJson = ModelConfigJson.toJson(config.model());
    specFormat = SpecFormat.of(config.model());
    storeStats = trainer.store().stats();
    publishedThrough = 0;
    replacedRows = ModelTopicHead.Rows.NONE;
    rowsOnTopic = null;
    republishWhole = false;
    replacing = 0;
    if (topicHead != null) {
      checkTopic();
      watch = ReplacementWatch.of(topicHead, model, replacing, Math.max(version, publishedThrough));
      watch.start();
    }
  }

  /**
   * Deletes the working directory, and with it the files of a restore, after a start that failed
   * ({@code close} deletes it too, where Flink calls it).
   */
  private void closeWorkDir(Throwable failure) {
    try {
      workDir.close();
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * The store's working directory: one of its own under {@code store.dir}, or under {@code
   * java.io.tmpdir}/streamrec-store-&lt;user&gt; where that is not set, so that what a killed
   * process left there is deleted by the next trainer. A {@code store.dir} that cannot be a
   * directory (a file, no permission) stops the job without restarts: every restart would fail the
   * same way.
   */
  private io.streamrec.common.LockedDirectory claimStoreDir() throws IOException {
    Path parent =
        config.storeDir().isEmpty()
            ? io.streamrec.common.LockedDirectory.tempParent("streamrec-store")
            : Path.of(config.storeDir());
    int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    try {
      io.streamrec.common.LockedDirectory d =
          io.streamrec.common.LockedDirectory.claim(parent, "trainer-" + subtask + "-");
      d.notes().forEach(n -> LOG.info("trainer: {}", n));
      return d;
    } catch (java.nio.file.FileSystemException e) {
      // a file, no permission, a path under a file (/etc/passwd/store) or one nothing may make
      // (/proc/nope): every restart failed the same way
      if (config.storeDir().isEmpty()) {
        return io.streamrec.common.LockedDirectory.claim(
            Files.createTempDirectory("streamrec-store"), "trainer-" + subtask + "-");
      }
      throw new SuppressRestartsException(
          new StreamrecException(
              "store.dir '"
                  + config.storeDir()
                  + "' cannot hold the trainer's working directory ("
                  + e
                  + "): set store.dir to a directory this process may write, on a local disk",
              e));
    }
  }

  /**
   * The units the checkpoint holds waiting to be trained, against this model's feature layout: a
   * checkpoint of an earlier release does not name its layout, and its units were each refused at
   * their batch, failing the job at every restart.
   */
  private void checkWaitingUnits() {
    long ours = new UnitLayout(config.model().features()).fingerprint();
    List<CompactUnit> pending = new ArrayList<>(ready);
    pending.addAll(waiting);
    long other = pending.stream().filter(u -> u.layoutFingerprint() != ours).count();
    if (other > 0) {
      throw new IllegalArgumentException(
          "it holds "
              + other
              + " units waiting to be trained that were encoded under other features or labels, or"
              + " another order of them, than this model's (model.features, model.labels)");
    }
  }

  /**
   * The checkpoint's Kafka cluster against this job's ({@code here}): its source offsets are
   * positions in that cluster's topics, which in another cluster's point at other records.
   */
  private void checkCluster(String here) {
    if (cluster != null && !cluster.equals(here)) {
      if (!config.resumeOnOtherCluster()) {
        throw new SuppressRestartsException(
            new CheckpointMismatchException(
                (fromHandoff
                        ? "cannot go on from the handoff at "
                            + handoff.startFrom()
                            + ": it was written reading Kafka cluster "
                        : "cannot resume from this checkpoint: it was taken reading Kafka cluster ")
                    + cluster
                    + ", and this job reads cluster "
                    + here
                    + " at "
                    + config.bootstrapServers()
                    + ". Its offsets are positions in the other cluster's topics: here they point"
                    + " at other records, which would be skipped or trained twice. Resume it"
                    + " against the cluster it was taken on. If this cluster's topics were copied"
                    + " with their offsets (restored from a backup, a link that keeps offsets;"
                    + " MirrorMaker does not), set kafka.resume-on-other-cluster=true. Otherwise"
                    + " start a new model on this cluster (another state directory, and --replace"
                    + " to take over its model-updates topic)",
                null));
      }
      LOG.warn(
          "trainer: resuming a checkpoint of Kafka cluster {} on cluster {}, its offsets taken as"
              + " they are (kafka.resume-on-other-cluster)",
          cluster,
          here);
    }
    cluster = here;
  }

  /**
   * A checkpoint of a model configured otherwise than this job's: restoring it again would fail
   * again, so the job stops at once (no restart) with what differs and the ways on.
   */
  private SuppressRestartsException notRestorable(RuntimeException e) {
    if (e instanceof io.streamrec.model.NewerStateFormatException) {
      // a rollback: the configuration is not at fault, and a new model is not the way back
      return stop(
          e,
          ". Go on from it with the release that wrote it (or a newer one), or backfill again"
              + " with this release",
          ". A checkpoint goes on in the release that wrote it or a newer one, not an older one:"
              + " start the job with that release to resume its model. To go back to this"
              + " release, resume a checkpoint or savepoint this release took before the upgrade"
              + " (execution.state-recovery.path, into another state directory)");
    }
    return stop(
        e,
        ". Start the job with the model configuration the backfill was trained with, or backfill"
            + " again under this one",
        ". Start the job with the configuration the checkpoint was trained with to resume its"
            + " model, or start a new model from no checkpoint (another state directory, or no"
            + " execution.state-recovery.path) and --replace to take over its topic, or beside it,"
            + " on a topic of its own, while the current one serves (docs/deploy.md, \"A model of"
            + " another shape\")");
  }

  /**
   * A checkpoint or handoff whose files cannot be read (cut short, damaged): reading it again would
   * fail again, so the job stops at once (no restart) saying what to do instead.
   */
  private SuppressRestartsException damaged(StreamrecException e) {
    return stop(
        e,
        e.getCause() instanceof IOException
            ? ". The file is damaged or incomplete (cut short, or copied while a backfill was still"
                + " writing it): write it again with backfill --handoff"
            : "",
        ". Its files are damaged: resume from an earlier retained checkpoint"
            + " (execution.state-recovery.path), or start a new model from no checkpoint");
  }

  /** Stops the job without restarts: the restore failed with {@code e}, and what to do instead. */
  private SuppressRestartsException stop(
      RuntimeException e, String handoffAdvice, String checkpointAdvice) {
    return new SuppressRestartsException(
        new CheckpointMismatchException(
            fromHandoff
                ? "cannot go on from the handoff at "
                    + handoff.startFrom()
                    + ": "
                    + String.valueOf(e.getMessage())
                        .replace(Handoff.unreadablePrefix(handoff.startFrom()), "")
                    + handoffAdvice
                : "cannot resume from this checkpoint: " + e.getMessage() + checkpointAdvice,
            e));
  }

  /** How long a restored trainer waits for the transactions open on its topic to end. */
  static final java.time.Duration SETTLE_TIMEOUT = java.time.Duration.ofSeconds(60);

  /**
   * A restored trainer over a topic that holds fewer of its versions than it published ({@code
   * newest}: the topic's newest marker, of this lineage or none): the versions after the topic's
   * never reached it. A transaction the broker aborted (one open past transaction.timeout.ms, or
   * fenced by another producer of its id) loses its versions; so does a topic made again. What they
   * changed is missing from the topic, and rows the topic holds may hold older values, so the next
   * version publishes the whole model (every row, and a tombstone for each row of this model the
   * topic holds and the trainer has not). A replica sees the versions missing, reads the topic
   * again and has the trainer's model at that version; until it comes, it serves the topic's newest
   * version, which is whole.
   *
   * <p>First, the transactions open on the topic are waited for: the sink commits the restored
   * checkpoint's own in a task of its own, perhaps after this reads the head. Returns the newest
   * marker then.
   */
  private Optional<VersionMarker> checkNotShort(Optional<VersionMarker> newest)
      throws InterruptedException {
    if (newest.isPresent() && newest.get().getVersion() >= version) {
      return newest;
    }
    if (!topicHead.awaitNoOpenTransaction(SETTLE_TIMEOUT)) {
      LOG.warn(
          "trainer: a transaction on topic '{}' is still open after {} s; going on with the"
              + " versions committed",
          config.modelUpdatesTopic(),
          SETTLE_TIMEOUT.toSeconds());
    }
    newest = topicHead.newestMarker();
    if (newest.isPresent()
        && (newest.get().getModel() != model || newest.get().getVersion() >= version)) {
      return newest;
    }
    LOG.warn(
        "trainer: topic '{}' {}, and this trainer restored version {}: {} never reached the topic"
            + " (a transaction the broker aborted or another producer fenced, a topic made again,"
            + " or a handoff's model sent to a topic that never had it). Version {} publishes the"
            + " whole model, so that replicas reading the topic have the trainer's rows",
        config.modelUpdatesTopic(),
        newest.isPresent()
            ? "holds this model ("
                + ModelLineage.format(model)
                + ") up to version "
                + newest.get().getVersion()
            : "holds no version of this model (" + ModelLineage.format(model) + ")",
        version,
        newest.isPresent() ? "the versions after it" : "its versions",
        version + 1);
    rowsOnTopic = topicHead.rowsOf(model);
    republishWhole = true;
    return newest;
  }

  /**
   * The topic's newest marker against this trainer's lineage and version: the same lineage ahead of
   * us means a restore (skip what is there); another lineage needs {@code trainer.replace-model}.
   */
  private void checkTopic() throws InterruptedException {
    Optional<VersionMarker> newest = topicHead.newestMarker();
    if (version > 0 && (newest.isEmpty() || newest.get().getModel() == model)) {
      newest = checkNotShort(newest);
    }
    if (newest.isEmpty()) {
      return;
    }
    VersionMarker m = newest.get();
    String topic = config.modelUpdatesTopic();
    if (m.getModel() == model) {
      if (m.getVersion() > version
          && fromHandoff
          && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0
          && !config.handoffContinuePublished()) {
        // a restart of this job (a later attempt) finds its own versions; a new job from the
        // handoff finds another job's, which it would publish other versions of the same numbers
        // next to: replicas would serve rows of the two as one model
        throw new SuppressRestartsException(
            new ModelLineageException(
                "model-updates topic '"
                    + topic
                    + "' already holds version "
                    + m.getVersion()
                    + " of model "
                    + ModelLineage.format(model)
                    + ", past the version "
                    + version
                    + " the handoff at "
                    + handoff.startFrom()
                    + " holds: another job has gone on from it, and this one would publish other"
                    + " versions of the same numbers. Resume that job from its own checkpoint, or"
                    + " stop it and go on from a handoff written after its last version. If those"
                    + " versions came from an earlier start of this same job that stopped before"
                    + " its first checkpoint, start it with"
                    + " trainer.handoff.continue-published=true"));
      }
      if (m.getVersion() > version) {
        publishedThrough = m.getVersion();
        LOG.info(
            "trainer: topic '{}' holds versions up to {} of this model; from version {} (restored)"
                + " through {} they are trained again and not published twice, and version {}"
                + " brings the topic to the trainer's rows",
            topic,
            m.getVersion(),
            version + 1,
            m.getVersion(),
            m.getVersion() + 1);
        // what the versions trained again change need not be what the topic holds (another TTL
        // or admission threshold since the checkpoint): the next version makes the topic the
        // trainer's rows exactly
        rowsOnTopic = topicHead.rowsOf(model);
        if (restoredIntervalMs > 0 && restoredIntervalMs != config.publishIntervalMs()) {
          retrainedThroughMs = m.getEventTimeMs();
          republishWhole = true;
          LOG.info(
              "trainer: trainer.publish-interval is {} ms, and was {} ms for the checkpoint and the"
                  + " versions after it on the topic: the periods through that version's event time"
                  + " ({}) are trained again and not published, and version {}, the first after"
                  + " it, publishes the whole model (its batches were cut otherwise)",
              config.publishIntervalMs(),
              restoredIntervalMs,
              java.time.Instant.ofEpochMilli(m.getEventTimeMs()),
              m.getVersion() + 1);
        }
      } else if (m.getVersion() == version && version > 0 && topicHead.rowsAfterNewestMarker()) {
        // a publish of the next version that the failure cut short: its rows are on the topic
        // without their marker, and replicas apply them with the marker this trainer writes. They
        // are the first run's, which need not be what this one publishes (another TTL or admission
        // threshold since the checkpoint, a unit joined otherwise): the next version makes the
        // topic the trainer's rows exactly
        LOG.info(
            "trainer: topic '{}' holds rows after its newest version {} of this model, the"
                + " restored one (a publish the failure cut short): version {} brings the topic to"
                + " the trainer's rows",
            topic,
            m.getVersion(),
            version + 1);
        rowsOnTopic = topicHead.rowsOf(model);
      }
      return;
    }
    String theirs =
        "model-updates topic '"
            + topic
            + "' holds model "
            + ModelLineage.format(m.getModel())
            + " at version "
            + m.getVersion();
    if (!config.replaceModel()) {
      throw new SuppressRestartsException(
          new ModelLineageException(
              theirs
                  + "; this job trains model "
                  + ModelLineage.format(model)
                  + (version == 0 ? " (a new one)" : " (restored at version " + version + ")")
                  + ". Resume the job that trains that model from its checkpoint, use another"
                  + " topic, or replace that model with --replace (trainer.replace-model=true): its"
                  + " rows are then tombstoned and every replica switches to this model."));
    }
    replacing = m.getModel();
    replacedRows = topicHead.rowsNotOf(model);
    LOG.warn(
        "{}; replacing it with model {}: {} of its rows are tombstoned in the next version",
        theirs,
        ModelLineage.format(model),
        replacedRows.count());
    if (version > 0) {
      // a model that goes on from its state and takes the topic back from the one that replaced
      // it: that replace tombstoned this model's rows, and its next version alone, carrying only
      // what changed since, left replicas fewer rows than its marker counts (never served)
      rowsOnTopic = topicHead.rowsOf(model);
      republishWhole = true;
      LOG.info(
          "trainer: model {} goes on at version {} over model {}, which tombstoned its rows:"
              + " version {} publishes the whole model",
          ModelLineage.format(model),
          version,
          ModelLineage.format(replacing),
          version + 1);
    }
  }

  /** The newest watermark this operator has had (0 before any). */
  private transient long lastWatermark;

  @Override
  public void processElement(StreamRecord<CompactUnit> element) {
    CompactUnit u = element.getValue();
    if (u.closedAtMs() <= lastWatermark) {
      late(u);
    }
    waiting.add(u);
  }

  /**
   * A unit whose close the watermark has passed: it trains with the next batch, behind units that
   * closed after it, where a run over the same events trained it in order. Counted and logged (at
   * most once a minute), naming what to raise.
   */
  private void late(CompactUnit u) {
    lateUnits.inc();
    lateUnlogged++;
    long now = System.currentTimeMillis();
    if (lateLoggedAtMs == 0 || now - lateLoggedAtMs >= LATE_LOG_INTERVAL_MS) {
      LOG.warn(
          "trainer: {} unit(s) came after the watermark had passed their close (the latest,"
              + " request {}, {} ms behind it): trained in a later batch than their close puts"
              + " them in. A request-units log out of close order by more than {} is read so;"
              + " raise it to train such a log as its events were trained",
          lateUnlogged,
          u.requestId(),
          lastWatermark - u.closedAtMs(),
          io.streamrec.job.config.JobOptions.UNITS_MAX_OUT_OF_ORDERNESS.key());
      lateLoggedAtMs = now;
      lateUnlogged = 0;
    }
  }

  /** Late units counted since this operator opened. */
  long lateUnits() {
    return lateUnits.getCount();
  }

  /** How often late units are logged at most. */
  private static final long LATE_LOG_INTERVAL_MS = 60_000;

  /**
   * The input's end (a drain's, a backfill's) takes it to the end of event time: a units source
   * that is idle when a drain ends it drops the end-of-time watermark it emits (an idle output
   * sends none), and the units waiting here stayed untrained.
   */
  @Override
  public void endInput() throws Exception {
    if (lastWatermark < Long.MAX_VALUE) {
      processWatermark(Watermark.MAX_WATERMARK);
    }
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    long w = mark.getTimestamp();
    lastWatermark = w;
    while (!waiting.isEmpty() && waiting.peek().closedAtMs() <= w) {
      ready.addLast(waiting.poll());
    }
    trainReady(w);
    super.processWatermark(mark);
  }

  private void trainReady(long w) {
    long p = config.publishIntervalMs();
    while (!ready.isEmpty()) {
      CompactUnit first = ready.peekFirst();
      long period = Math.floorDiv(first.closedAtMs(), p);
      if (openPeriod != NO_PERIOD && period != openPeriod) {
        publish(openPeriod);
      }
      long deadline =
          Math.min(
              periodEnd(period) - 1, saturatedAdd(first.closedAtMs(), config.batchMaxWaitMs()));
      // the first unit always joins its batch, whatever its time (a close at the end of time must
      // not leave an empty batch to spin on); the rest while they fit its deadline and the tiers
      int k = 0;
      java.util.Arrays.fill(batchRows, 0);
      for (CompactUnit u : ready) {
        java.util.Arrays.fill(unitRows, 0);
        tables.add(u, UnitBatch.rows(config.model(), u), unitRows);
        if (k > 0
            && (k == config.batchMaxUnits()
                || u.closedAtMs() > deadline
                || !tables.fit(batchRows, unitRows))) {
          break;
        }
        tables.addTo(batchRows, unitRows);
        k++;
      }
      boolean closed = k == config.batchMaxUnits() || k < ready.size() || w >= deadline;
      if (!closed) {
        break;
      }
      List<CompactUnit> batch = new ArrayList<>(k);
      for (int i = 0; i < k; i++) {
        batch.add(ready.pollFirst());
      }
      train(batch);
      openPeriod = period;
    }
    if (openPeriod != NO_PERIOD && w >= periodEnd(openPeriod) - 1) {
      publish(openPeriod);
    }
  }

  /**
   * The restored open period ({@code period}, counted in the checkpoint's publish interval) in this
   * job's: the period of the newest unit trained. Taken as it was under another interval, its end
   * was the wrong multiple of the new one, and the version closing it told an event time decades
   * off (2250 for 2 s to 10 s), held the freshness figure at 0 for good and, with the topic ahead,
   * went out as a version the topic was past.
   */
  private long openPeriodUnderThisInterval(long period) {
    long p = config.publishIntervalMs();
    if (period == NO_PERIOD || restoredIntervalMs <= 0 || restoredIntervalMs == p) {
      return period;
    }
    long trainedTo = trainer.eventTimeMs();
    // (the period's start, where no unit was trained: a period is floorDiv(time, interval))
    return Math.floorDiv(trainedTo != Long.MIN_VALUE ? trainedTo : period * restoredIntervalMs, p);
  }

  private long periodEnd(long period) {
    long p = config.publishIntervalMs();
    return period >= Long.MAX_VALUE / p ? Long.MAX_VALUE : (period + 1) * p;
  }

  private static long saturatedAdd(long a, long b) {
    long s = a + b;
    return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
  }

  private void train(List<CompactUnit> batch) {
    long failAfter = config.injectFailureAfterUnits();
    if (failAfter > 0 && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
      if (unitsInCompletedCheckpoint > 0 && trainer.unitsTrained() >= failAfter) {
        throw new IllegalStateException(
            "injected failure (trainer.inject-failure-after-units = "
                + failAfter
                + ") after "
                + trainer.unitsTrained()
                + " units; the job restores from its last checkpoint");
      }
    }
    if (batch.size() == 1) {
      // the assembler and the units' decoder refuse units of more ids than a table keeps hot; one
      // over it still (its wide crosses) must not stop the job on a full hot tier
      CompactUnit u = batch.get(0);
      long[] rows = tables.counts();
      tables.add(u, UnitBatch.rows(config.model(), u), rows);
      int over = tables.over(rows);
      if (over >= 0) {
        batchesSkipped.inc();
        impressionsSkipped.inc(u.impressions());
        LOG.warn("skipped unit '{}': it takes {}", u.requestId(), tables.describe(over, rows));
        return;
      }
    }
    long t0 = System.nanoTime();
    long c0 = cpuTime();
    MiniBatchTrainer.Step step = trainer.train(batch);
    storeStats = trainer.store().stats();
    busy(t0, c0);
    if (step.skipped()) {
      batchesSkipped.inc();
      impressionsSkipped.inc(step.impressions());
      LOG.warn(
          "skipped a batch of {} units / {} impressions: non-finite loss {}",
          step.units(),
          step.impressions(),
          step.loss());
    } else {
      batchesTrained.inc();
      unitsTrained.inc(step.units());
      impressionsTrained.inc(step.impressions());
    }
    // a batch is in order of close (the watermark releases units in that order)
    trainedUntilMs = Math.max(trainedUntilMs, batch.get(batch.size() - 1).closedAtMs());
  }

  /** This thread's CPU time (ns), or -1 where the JVM does not measure it. */
  private long cpuTime() {
    return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : -1;
  }

  /** Adds the time since {@code t0} (and CPU time since {@code c0}) to the trainer's busy time. */
  private void busy(long t0, long c0) {
    if (c0 >= 0) {
      cpuNanos += cpuTime() - c0;
    }
    long t1 = System.nanoTime();
    if (firstStartNanos == 0) {
      firstStartNanos = t0;
    }
    busyNanos += t1 - t0;
    lastEndNanos = t1;
  }

  private void publish(long period) {
    Throwable lost = watch == null ? null : watch.failure();
    if (lost != null) {
      // unwatched, a replace or a second job of this model would go unseen: a restart follows the
      // topic again from a fresh watch
      throw new IllegalStateException(
          "the model-updates topic '"
              + config.modelUpdatesTopic()
              + "' is no longer followed for another job's versions, so nothing more is published"
              + " before a restart",
          lost);
    }
    VersionMarker other = watch == null ? null : watch.replacedBy();
    if (other != null) {
      // two models interleaved on one topic: replicas would re-read a model whose rows the replace
      // tombstoned; the newer model keeps the topic
      throw new SuppressRestartsException(
          new ModelLineageException(
              "model-updates topic '"
                  + config.modelUpdatesTopic()
                  + "' now holds version "
                  + other.getVersion()
                  + " of model "
                  + ModelLineage.format(other.getModel())
                  + ": another job replaced this model ("
                  + ModelLineage.format(model)
                  + ", at version "
                  + version
                  + "), and this one stops rather than publish over it. To take the topic back,"
                  + " start it again with --replace (trainer.replace-model=true)"));
    }
    VersionMarker twin = watch == null ? null : watch.twin();
    if (twin != null) {
      // two jobs of one model: their rows under the same version numbers, which replicas serve as
      // one model; the job that meets the other's version stops
      throw new SuppressRestartsException(
          new ModelLineageException(
              "model-updates topic '"
                  + config.modelUpdatesTopic()
                  + "' holds a version "
                  + twin.getVersion()
                  + " of this model ("
                  + ModelLineage.format(model)
                  + ", published at "
                  + java.time.Instant.ofEpochMilli(twin.getPublishedAtMs())
                  + ") that this job did not publish: another job trains the same model (one"
                  + " started from the same checkpoint, savepoint or handoff) and publishes it, and"
                  + " replicas would serve the rows of both as one model. This one stops at version "
                  + version
                  + " and publishes nothing more. Keep one job per model: if this one is the one to"
                  + " keep, stop the other and resume this one from its checkpoint"));
    }
    long t0 = System.nanoTime();
    long c0 = cpuTime();
    long eventTime = periodEnd(period);
    long v = version + 1;
    if (retrainedThroughMs != Long.MIN_VALUE) {
      if (eventTime <= retrainedThroughMs) {
        // a period of those the topic holds under another interval: trained again, not published
        // (the restored version is behind the topic's), and the number stays where it was
        v = version;
      } else {
        v = publishedThrough + 1;
        retrainedThroughMs = Long.MIN_VALUE;
      }
    }
    List<ModelUpdateRecord> records = new ArrayList<>();
    ModelUpdateEncoder enc =
        new ModelUpdateEncoder(model, v, eventTime, config.rowEncoding(), records::add);
    enc.spec(specFormat, specJson);
    replacedRows
        .byTable()
        .forEach(
            (table, ids) -> {
              for (long id : ids) {
                enc.tombstone(table, id);
              }
            });
    if (v > publishedThrough && rowsOnTopic != null) {
      ReconcilingPublish.markTrainedAgain(rowsOnTopic, trainedAgain);
      trainedAgain.clear();
    }
    ReconcilingPublish reconcile =
        v > publishedThrough && rowsOnTopic != null
            ? new ReconcilingPublish(
                new EncodingDeltaSink(enc), rowsOnTopic, republishWhole, config.rowEncoding())
            : null;
    int slices = refreshVersions;
    if (slices > 0) {
      trainer.markSlice((int) Long.remainderUnsigned(v, slices), slices);
    }
    if (reconcile != null) {
      trainer.publish(reconcile);
      reconcile.onlyWhatTheTopicLacks();
      trainer.markSlice(0, 1);
      trainer.publish(reconcile);
      int gone = reconcile.finish();
      rowsOnTopic = null;
      LOG.info(
          "trainer: version {}, the first after {}, also publishes {} row(s) {} and tombstones {}"
              + " row(s) of this model the topic held and the trainer does not",
          v,
          republishWhole ? "versions the topic lacks" : "those trained again",
          reconcile.rowsSent(),
          republishWhole
              ? "more: the whole model"
              : "the topic lacked or held at other values than the versions trained again left",
          gone);
      republishWhole = false;
    } else {
      trainer.publish(new EncodingDeltaSink(enc));
    }
    storeStats = trainer.store().stats();
    long publishedAt = System.currentTimeMillis();
    enc.close(
        VersionMarker.newBuilder()
            .setPublishedAtMs(publishedAt)
            .setTrainedImpressions(trainer.impressionsTrained())
            .setTrainedUnits(trainer.unitsTrained())
            .setProgressiveAuc(nanToZero(trainer.metrics().auc()))
            .setProgressiveLogLoss(nanToZero(trainer.metrics().logLoss()))
            .setSkippedBatches(trainer.batchesSkipped())
            .setLiveRows(storeStats.rows()));
    if (v <= publishedThrough && rowsOnTopic != null) {
      ReconcilingPublish.noteTrainedAgain(records, trainedAgain);
    }
    if (v > publishedThrough) {
      if (watch != null) {
        watch.published(v, publishedAt);
      }
      for (ModelUpdateRecord r : records) {
        output.collect(new StreamRecord<>(r, r.timestampMs));
      }
      deltasPublished.inc(enc.emitted());
      replacedRows = ModelTopicHead.Rows.NONE;
    }

    version = v;
    openPeriod = NO_PERIOD;
    if (firstStartNanos != 0) {
      busy(t0, c0);
    }
  }

  /** The store's counters as of the last batch or publish. */
  StoreStats storeStatsForTests() {
    return storeStats;
  }

  /** The progressive figures of label {@code label} ({@link JobMetrics#PER_LABEL}) in {@code g}. */
  private void progressiveGauges(MetricGroup g, int label) {
    g.gauge(JobMetrics.PROGRESSIVE_AUC, () -> trainer.metrics(label).auc());
    g.gauge(JobMetrics.PROGRESSIVE_AUC_LIFETIME, () -> trainer.metrics(label).lifetimeAuc());
    g.gauge(JobMetrics.PROGRESSIVE_LOGLOSS, () -> trainer.metrics(label).logLoss());
    g.gauge(JobMetrics.CALIBRATION, () -> trainer.metrics(label).calibration());
  }

  private static double nanToZero(double x) {
    return Double.isNaN(x) ? 0.0 : x;
  }

  @Override
  public OperatorSnapshotFutures snapshotState(
      long checkpointId,
      long timestamp,
      CheckpointOptions checkpointOptions,
      CheckpointStreamFactory factory)
      throws Exception {
    snapshotOptions = checkpointOptions;
    snapshotFactory = factory;
    try {
      return super.snapshotState(checkpointId, timestamp, checkpointOptions, factory);
    } finally {
      snapshotOptions = null;
      snapshotFactory = null;
    }
  }

  /**
   * The consistent cut, on the trainer thread: the store's snapshot into a local directory (hard
   * links) and the dense state as bytes. The upload happens when Flink serializes the operator
   * state, asynchronously ({@link TrainerCheckpoint}).
   */
  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    if (snapshotOptions != null
        && snapshotOptions.getCheckpointType() instanceof SavepointType t
        && t.shouldDrain()) {
      drained = true;
    }
    List<CompactUnit> pending = new ArrayList<>(ready);
    pending.addAll(waiting);
    unitsState.update(pending);
    lineageState.update(List.of(model));
    clusterState.update(cluster == null ? List.of() : List.of(cluster));
    // while the versions on the topic are trained again under another interval, those are still
    // the ones this checkpoint's version is of
    publishIntervalState.update(
        List.of(
            retrainedThroughMs != Long.MIN_VALUE
                ? restoredIntervalMs
                : config.publishIntervalMs()));
    long id = context.getCheckpointId();
    unitsInPendingCheckpoints.put(id, trainer.unitsTrained());
    Path dir = cutsDir.resolve("cp-" + id);
    Directories.deleteRecursively(dir);
    Files.createDirectories(cutsDir);
    try {
      trainer.store().snapshot(dir);
      checkpointState.update(
          List.of(
              TrainerCheckpoint.cut(
                  id,
                  version,
                  openPeriod,
                  version > 0, // the spec goes out with every version
                  trainer.saveState(),
                  dir,
                  sharesFiles() ? sharedFiles : null,
                  snapshotFactory)));
    } catch (Exception | Error e) {
      Directories.deleteRecursively(dir);
      throw e;
    }
  }

  /**
   * Whether this snapshot's table files go to the shared directory: not for a savepoint (it must
   * stand alone) nor where the storage holds state in the JobManager's memory.
   */
  private boolean sharesFiles() {
    return snapshotFactory != null
        && !(snapshotFactory instanceof MemCheckpointStreamFactory)
        && (snapshotOptions == null || !snapshotOptions.getCheckpointType().isSavepoint());
  }

  @Override
  public void finish() throws Exception {
    long failAfter = config.injectFailureAfterUnits();
    if (failAfter > 0 && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
      LOG.warn(
          "the recovery drill did not fire: the input ended ({} units trained) before a checkpoint holding"
              + " trained state completed and {} units were trained; slow the input down with source.max-records-per-second",
          trainer.unitsTrained(),
          failAfter);
    }
    if (handoff != null && handoff.saves() && !handoffStaged) {
      stageHandoff();
    }
    super.finish();
  }

  /**
   * The end of a backfill: every unit trained and the last version published (the watermark went to
   * the end of time), so the state is the published model's; it is staged as the handoff with the
   * offsets the sources stopped at, and put in place on close ({@link #closeHandoff}).
   */
  private void stageHandoff() throws IOException {
    if (!waiting.isEmpty() || !ready.isEmpty() || openPeriod != NO_PERIOD) {
      throw new IllegalStateException(
          "the input ended with "
              + (waiting.size() + ready.size())
              + " units untrained or a version unpublished; no handoff is written");
    }
    long t0 = System.nanoTime();
    Path dir = cutsDir.resolve("handoff");
    Directories.deleteRecursively(dir);
    Files.createDirectories(cutsDir);
    Handoff.Header header = handoff.handOn(model, version, cluster == null ? "" : cluster);
    try {
      trainer.store().snapshot(dir);
      Handoff.stage(
          handoff.saveTo(),
          header,
          TrainerCheckpoint.cut(
              0, version, openPeriod, version > 0, trainer.saveState(), dir, null, null));
    } finally {
      Directories.deleteRecursively(dir);
    }
    handoffStaged = true;
    LOG.info(
        "trainer: handoff written beside {} in {} ms: {}, {} impressions trained, {}",
        handoff.saveTo(),
        (System.nanoTime() - t0) / 1_000_000,
        header,
        trainer.impressionsTrained(),
        header.describeStop());
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) throws Exception {
    super.notifyCheckpointComplete(checkpointId);
    Long units = unitsInPendingCheckpoints.remove(checkpointId);
    if (units != null) {
      unitsInCompletedCheckpoint = units;
    }
    unitsInPendingCheckpoints.keySet().removeIf(id -> id < checkpointId);
    deleteCutsUpTo(checkpointId);
    for (SharedStoreFiles.SharedFile f : sharedFiles.completed(checkpointId)) {
      if (unreferencedFiles == null) {
        unreferencedFiles = new BackgroundDeletes("streamrec-checkpoint-file-deletes");
      }
      unreferencedFiles.delete(f.path());
    }
  }

  @Override
  public void notifyCheckpointAborted(long checkpointId) throws Exception {
    super.notifyCheckpointAborted(checkpointId);
    unitsInPendingCheckpoints.remove(checkpointId);
    sharedFiles.aborted(checkpointId);
    Directories.deleteRecursively(cutsDir.resolve("cp-" + checkpointId));
  }

  /** Deletes the local cuts of checkpoints up to {@code checkpointId} (written or subsumed). */
  private void deleteCutsUpTo(long checkpointId) throws IOException {
    if (cutsDir == null || !Files.isDirectory(cutsDir)) {
      return;
    }
    try (Stream<Path> s = Files.list(cutsDir)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith("cp-") && Long.parseLong(name.substring(3)) <= checkpointId) {
          Directories.deleteRecursively(p);
        }
      }
    }
  }

  /**
   * Puts the staged handoff in place, or, when a savepoint drained the job (its input was cut short
   * while the sources had offsets left before their stopping ones), discards it: a live job would
   * otherwise start after records nothing trained on.
   */
  private void closeHandoff() throws IOException {
    if (!handoffStaged) {
      return;
    }
    handoffStaged = false;
    if (drained) {
      Handoff.discard(handoff.saveTo());
      LOG.warn(
          "trainer: the backfill was stopped with a drain before its input's end; no handoff is"
              + " written to {} (it would name offsets the sources had not reached)",
          handoff.saveTo());
      return;
    }
    Handoff.commit(handoff.saveTo());
    LOG.info("trainer: handoff in place at {}", handoff.saveTo());
  }

  @Override
  public void close() throws Exception {
    // a failure of any step (a handoff that cannot be put in place) still closes the store, the
    // backend (a CUDA context, pinned memory) and the working directory, which otherwise stayed in
    // the task manager for its life
    try {
      if (watch != null) {
        watch.close();
      }
      if (unreferencedFiles != null) {
        unreferencedFiles.close();
      }
      closeHandoff();
    } finally {
      try {
        if (trainer != null) {
          trainer.close();
        }
      } finally {
        if (workDir != null) {
          workDir.close();
        }
      }
    }
    super.close();
  }
}
