package io.streamrec.job.trainer;

import static io.streamrec.job.trainer.TrainerOperatorTest.assertContinuedExactly;
import static io.streamrec.job.trainer.TrainerOperatorTest.assertSamePublishes;
import static io.streamrec.job.trainer.TrainerOperatorTest.config;
import static io.streamrec.job.trainer.TrainerOperatorTest.feed;
import static io.streamrec.job.trainer.TrainerOperatorTest.harness;
import static io.streamrec.job.trainer.TrainerOperatorTest.uninterrupted;
import static io.streamrec.job.trainer.TrainerOperatorTest.units;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.config.ModelOptions;
import io.streamrec.job.units.CodecTypeInfo;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.protocol.ModelUpdateRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.CheckpointStorageAccess;
import org.apache.flink.runtime.state.CheckpointStorageLocationReference;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFinalizer;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's checkpoints on a file-system checkpoint storage, as Flink takes them: the
 * synchronous phase on the test thread (the task thread), the asynchronous phase on another thread,
 * and a restore from what came back.
 */
class TrainerCheckpointTest {
  @TempDir Path checkpoints;

  private CheckpointStorageAccess storage;
  private ExecutorService snapshotThread;

  @BeforeEach
  void storage() throws IOException {
    // threshold 0: every stream becomes a file, so bytes are counted where they land
    storage =
        new FileSystemCheckpointStorage(checkpoints.toUri(), 0)
            .createCheckpointStorage(new JobID());
    storage.initializeBaseLocationsForCheckpoint();
    snapshotThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "async-snapshot"));
  }

  @AfterEach
  void stop() {
    snapshotThread.shutdownNow();
  }

  /** The synchronous phase of checkpoint {@code id}, on this (the task's) thread. */
  private OperatorSnapshotFutures cut(
      OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> h, long id)
      throws Exception {
    CheckpointStreamFactory factory =
        storage.resolveCheckpointStorageLocation(
            id, CheckpointStorageLocationReference.getDefault());
    return h.getOperator()
        .snapshotState(id, id, CheckpointOptions.forCheckpointWithDefaultLocation(), factory);
  }

  /** The asynchronous phase, on another thread, as Flink's snapshot thread runs it. */
  private OperatorSubtaskState finish(OperatorSnapshotFutures futures) throws Exception {
    try {
      return snapshotThread
          .submit(() -> OperatorSnapshotFinalizer.create(futures).getJobManagerOwnedState())
          .get();
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private OperatorSubtaskState checkpoint(
      OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> h, long id)
      throws Exception {
    return finish(cut(h, id));
  }

  /** Every file under the checkpoint storage, by path, with its size. */
  private Map<Path, Long> files() throws IOException {
    Map<Path, Long> out = new HashMap<>();
    try (Stream<Path> s = Files.walk(checkpoints)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(p, Files.size(p));
      }
    }
    return out;
  }

  private static long bytesAddedSince(Map<Path, Long> before, Map<Path, Long> after) {
    return bytesAddedSince(before, after, Path.of("/"));
  }

  private static long bytesAddedSince(Map<Path, Long> before, Map<Path, Long> after, Path under) {
    long n = 0;
    for (Map.Entry<Path, Long> e : after.entrySet()) {
      if (e.getKey().startsWith(under) && !before.containsKey(e.getKey())) {
        n += e.getValue();
      }
    }
    return n;
  }

  private Path sharedDir() throws IOException {
    try (Stream<Path> s = Files.walk(checkpoints)) {
      return s.filter(p -> p.getFileName().toString().equals("shared")).findFirst().orElseThrow();
    }
  }

  @Test
  void theTrainerThreadOnlyCutsTheFilesAreWrittenByTheSnapshotThread() throws Exception {
    List<CompactUnit> units = units(600);
    try (var h = harness()) {
      h.open();
      feed(h, units, 0, units.size());
      Map<Path, Long> before = files();
      OperatorSnapshotFutures futures = cut(h, 1);
      assertThat(bytesAddedSince(before, files()))
          .as("bytes in the checkpoint storage once the synchronous phase returned")
          .isZero();
      finish(futures);
      long written = bytesAddedSince(before, files());
      assertThat(written).as("bytes once the asynchronous phase finished").isGreaterThan(10_000);
    }
  }

  @Test
  void aCheckpointAfterFewChangesWritesWhatChangedAndReferencesTheEarlierFiles() throws Exception {
    // a world of many users and items and a small hot tier: the rows, most of them cold, outweigh
    // what every checkpoint holds whole (dense weights, the hot tier's layout)
    List<CompactUnit> units = units(1_200, 20_000, 5_000);
    Configuration c = new Configuration();
    c.set(ModelOptions.HOT_CAPACITY_ROWS, 4_096);
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(c)))) {
      h.open();
      feed(h, units, 0, 1_150);
      h.processWatermark(new Watermark(units.get(1_149).closedAtMs()));
      Map<Path, Long> start = files();
      checkpoint(h, 1);
      Map<Path, Long> afterFirst = files();
      long first = bytesAddedSince(start, afterFirst);
      feed(h, units, 1_150, 1_160);
      h.processWatermark(new Watermark(units.get(1_159).closedAtMs()));
      checkpoint(h, 2);
      Map<Path, Long> afterSecond = files();
      long second = bytesAddedSince(afterFirst, afterSecond);
      System.out.printf("checkpoint bytes: first %d, second %d%n", first, second);
      Path shared = sharedDir();
      long tablesFirst = bytesAddedSince(start, afterFirst, shared);
      long tablesSecond = bytesAddedSince(afterFirst, afterSecond, shared);
      assertThat(tablesSecond)
          .as(
              "table-file bytes of checkpoint 2 (10 more units) against checkpoint 1 (%d)",
              tablesFirst)
          .isLessThan(tablesFirst / 4);
      assertThat(second)
          .as("all bytes of checkpoint 2 against checkpoint 1")
          .isLessThan(first * 2 / 3);
      // checkpoint 1's files are checkpoint 2's too: none was written again, all are still there
      assertThat(afterSecond.keySet()).containsAll(afterFirst.keySet());
    }
  }

  @Test
  void aRestoreFromAChainOfIncrementalCheckpointsContinuesBitForBit() throws Exception {
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(harness(), units);
    List<ModelUpdateRecord> resumed;
    OperatorSubtaskState third;
    try (var h = harness()) {
      h.open();
      int[] cuts = {300, 500, 700};
      int from = 0;
      OperatorSubtaskState last = null;
      for (int i = 0; i < cuts.length; i++) {
        feed(h, units, from, cuts[i]);
        last = checkpoint(h, i + 1);
        h.notifyOfCompletedCheckpoint(i + 1);
        from = cuts[i];
      }
      third = last;
      resumed = new ArrayList<>(h.extractOutputValues());
      feed(h, units, 700, 760); // lost in the kill
    }
    // the restored trainer's next checkpoint references the files it inherited; a restore from it
    OperatorSubtaskState fourth;
    try (var r = harness()) {
      r.initializeState(third);
      r.open();
      feed(r, units, 700, 900);
      fourth = checkpoint(r, 4);
      resumed.addAll(r.extractOutputValues());
      feed(r, units, 900, 950); // lost in a second kill
    }
    try (var r = harness()) {
      r.initializeState(fourth);
      r.open();
      feed(r, units, 900, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      resumed.addAll(r.extractOutputValues());
    }
    assertContinuedExactly(uninterrupted, resumed, "after the restore");
  }

  /**
   * A restore whose checkpoint names a shared file that is gone (its directory deleted, or a state
   * directory copied away from the original it references) failed with an IOException, and Flink
   * restarted it for ever. It now stops at once, saying what to do.
   */
  @Test
  void aRestoreWhoseSharedFileIsGoneStopsWithoutRestarts() throws Exception {
    List<CompactUnit> units = units(600);
    OperatorSubtaskState taken;
    try (var h = harness()) {
      h.open();
      feed(h, units, 0, 500);
      taken = checkpoint(h, 1);
    }
    try (java.util.stream.Stream<Path> files = Files.list(sharedDir())) {
      Path one = files.filter(Files::isRegularFile).findFirst().orElseThrow();
      Files.delete(one);
    }
    try (var r = harness()) {
      Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> r.initializeState(taken));
      assertThat(t)
          .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
          .rootCause()
          .isInstanceOf(java.io.FileNotFoundException.class);
      assertThat(t.getCause())
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("which is gone")
          .hasMessageContaining("Resume from another retained checkpoint");
    }
  }

  @Test
  void aFailedUploadGivesNoCheckpointAndTheNextOneRestores() throws Exception {
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(harness(), units);
    List<ModelUpdateRecord> resumed;
    OperatorSubtaskState second;
    try (var h = harness()) {
      h.open();
      feed(h, units, 0, 400);
      Path shared = sharedDir();
      Files.delete(shared);
      Files.writeString(shared, "a file where the shared directory belongs: uploads fail");
      OperatorSnapshotFutures futures = cut(h, 1);
      assertThatThrownBy(() -> finish(futures))
          .satisfies(
              e -> assertThat(ExceptionUtils.findThrowable(e, IOException.class)).isPresent());
      Files.delete(shared);
      Files.createDirectories(shared);
      h.getOperator().notifyCheckpointAborted(1);
      feed(h, units, 400, 600);
      second = checkpoint(h, 2);
      resumed = new ArrayList<>(h.extractOutputValues());
    }
    try (var r = harness()) {
      r.initializeState(second);
      r.open();
      feed(r, units, 600, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      resumed.addAll(r.extractOutputValues());
    }
    assertSamePublishes(uninterrupted, resumed);
  }

  /**
   * Rewrites a trainer's checkpoint in the format of earlier releases: the waiting units as they
   * were, the store and the dense state as raw operator state (format 1) instead of the trainer's
   * list state.
   */
  private static final class EarlierReleaseWriter extends AbstractStreamOperator<ModelUpdateRecord>
      implements OneInputStreamOperator<CompactUnit, ModelUpdateRecord> {
    private transient ListState<CompactUnit> units;
    private transient TrainerCheckpoint restored;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
      super.initializeState(context);
      units =
          context
              .getOperatorStateStore()
              .getListState(
                  new ListStateDescriptor<>(
                      TrainerOperator.PENDING_UNITS_STATE, CodecTypeInfo.COMPACT_UNIT));
      ListState<TrainerCheckpoint> trainer =
          context
              .getOperatorStateStore()
              .getListState(
                  new ListStateDescriptor<>(
                      TrainerOperator.TRAINER_STATE, new TrainerCheckpointSerializer()));
      for (TrainerCheckpoint cp : trainer.get()) {
        restored = cp;
      }
      trainer.clear();
    }

    @Override
    public void processElement(StreamRecord<CompactUnit> element) {}

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
      super.snapshotState(context);
      var out = context.getRawOperatorStateOutput();
      out.startNewPartition();
      TrainerCheckpoint.writeLegacy(
          out,
          restored.storeDir,
          restored.version,
          restored.openPeriod,
          restored.specPublished,
          restored.trainerState);
    }

    @Override
    public void close() throws Exception {
      io.streamrec.common.Directories.deleteRecursively(restored.storeDir);
      super.close();
    }
  }

  @Test
  void aCheckpointOfAnEarlierReleaseRestores() throws Exception {
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(harness(), units);
    List<ModelUpdateRecord> resumed;
    OperatorSubtaskState current;
    try (var h = harness()) {
      h.open();
      feed(h, units, 0, 500);
      current = h.snapshot(1, 1); // the JobManager's memory: every file inline
      resumed = new ArrayList<>(h.extractOutputValues());
    }
    OperatorSubtaskState earlier;
    try (var w = new OneInputStreamOperatorTestHarness<>(new EarlierReleaseWriter())) {
      w.initializeState(current);
      w.open();
      earlier = w.snapshot(2, 2);
    }
    assertThat(earlier.getRawOperatorState()).as("raw operator state").isNotEmpty();
    try (var r = harness()) {
      r.initializeState(earlier);
      r.open();
      feed(r, units, 500, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      resumed.addAll(r.extractOutputValues());
    }
    assertSamePublishes(uninterrupted, resumed);
  }
}
