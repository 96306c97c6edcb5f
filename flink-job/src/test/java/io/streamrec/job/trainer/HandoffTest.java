package io.streamrec.job.trainer;

import static io.streamrec.job.trainer.TrainerOperatorTest.assertContinuedExactly;
import static io.streamrec.job.trainer.TrainerOperatorTest.config;
import static io.streamrec.job.trainer.TrainerOperatorTest.feed;
import static io.streamrec.job.trainer.TrainerOperatorTest.markers;
import static io.streamrec.job.trainer.TrainerOperatorTest.units;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.ModelOptions;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.protocol.ModelUpdateRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backfill's handoff: the trainer that saves it at its input's end and the one that goes on from
 * it publish what one trainer over both inputs publishes; a handoff that is missing, foreign,
 * replaced since the job was built, or of another model's layout is refused in words.
 */
class HandoffTest {
  /** Where the "backfill" stopped: any offsets, carried through as they are. */
  private static final Map<TopicPartition, Long> OFFSETS =
      Map.of(
          new TopicPartition("requests", 0), 1_234L,
          new TopicPartition("requests", 1), 987L,
          new TopicPartition("impressions", 0), 55_000L);

  /** Units 0..399 close before, 400.. at or after, the start of a publish period. */
  private static final int CUT = 400;

  @TempDir Path dir;

  /**
   * Trains units [0, CUT) to the end of event time and saves a handoff; returns what it published.
   */
  private List<ModelUpdateRecord> backfill(JobConfig cfg, List<CompactUnit> units, String path)
      throws Exception {
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new TrainerOperator(cfg, null, 0, Handoff.Plan.saveTo(path, OFFSETS)));
    try (h) {
      h.open();
      feed(h, units, 0, CUT);
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      h.endInput();
      return new ArrayList<>(h.extractOutputValues());
    } // close() calls finish(), where the handoff is written
  }

  /** What one trainer of {@code cfg} over every unit publishes. */
  private static List<ModelUpdateRecord> uninterrupted(JobConfig cfg, List<CompactUnit> units)
      throws Exception {
    return TrainerOperatorTest.uninterrupted(
        new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg)), units);
  }

  private static OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> live(
      JobConfig cfg, String path, Map<TopicPartition, Long> offsets) throws Exception {
    return new OneInputStreamOperatorTestHarness<>(
        new TrainerOperator(
            cfg, null, 0, Handoff.Plan.startFrom(path, new Handoff.Header(0, 0, offsets))));
  }

  @Test
  void aLiveTrainerGoingOnFromABackfillsHandoffPublishesWhatOneTrainerOverBothWould()
      throws Exception {
    JobConfig cfg = config();
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(cfg, units);
    String path = dir.resolve("model.handoff").toString();

    List<ModelUpdateRecord> published = backfill(cfg, units, path);
    Handoff.Header header = Handoff.readHeader(path);
    assertThat(header.model()).isEqualTo(ModelLineage.parse("0123456789abcdef"));
    assertThat(header.version()).isEqualTo(markers(published).size()).isEqualTo(2);
    assertThat(header.offsets()).isEqualTo(OFFSETS);
    assertThat(Files.exists(Path.of(path + ".inprogress"))).isFalse();

    try (var h = live(cfg, path, header.offsets())) {
      h.open();
      feed(h, units, CUT, units.size());
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      published.addAll(h.extractOutputValues());
    }
    assertContinuedExactly(uninterrupted, published, "across the handoff");
  }

  /**
   * A backfill that read on past its cut hands on earlier offsets than it stopped at: its handoff
   * keeps both (format 4), and a job started from it knows where the backfill stopped reading. One
   * that stopped where the next job reads from is written as format 3, which earlier releases read.
   */
  @Test
  void aHandoffKeepsWhereItsBackfillStoppedReadingWhereThatIsPastWhereTheNextJobReadsFrom()
      throws Exception {
    JobConfig cfg = config();
    Map<TopicPartition, Long> stopped = new java.util.HashMap<>(OFFSETS);
    stopped.put(new TopicPartition("impressions", 0), 56_000L);
    String path = dir.resolve("model.handoff").toString();
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new TrainerOperator(cfg, null, 0, Handoff.Plan.saveTo(path, stopped, OFFSETS)));
    try (h) {
      h.open();
      feed(h, units(CUT), 0, CUT);
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      h.endInput();
    }
    Handoff.Header header = Handoff.readHeader(path);
    assertThat(header.offsets()).isEqualTo(OFFSETS);
    assertThat(header.stopped()).isEqualTo(stopped);
    assertThat(header.overlaps()).isTrue();
    assertThat(formatOf(path)).isEqualTo(4);
    Handoff.Plan plan = Handoff.Plan.startFrom(path, header);
    assertThat(plan.startStopped()).isEqualTo(stopped);
    try (var live =
        new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg, null, 0, plan))) {
      live.open(); // the handoff is the one the job was built from
    }

    String plain = dir.resolve("plain.handoff").toString();
    backfill(cfg, units(CUT), plain);
    assertThat(formatOf(plain)).isEqualTo(3);
    assertThat(Handoff.readHeader(plain).stopped()).isEqualTo(OFFSETS);
  }

  private static int formatOf(String path) throws java.io.IOException {
    try (var in = new java.io.DataInputStream(Files.newInputStream(Path.of(path)))) {
      in.readInt();
      return in.readInt();
    }
  }

  /**
   * {@code flink stop --drain} on a backfill ends its input early and finishes the trainer as if
   * the input had ended: the handoff it would write names offsets its sources had not reached, and
   * a live job from it would skip the records between. The drain's savepoint comes after the
   * finish, so the handoff staged there is discarded, and the earlier handoff at the path stays.
   */
  /**
   * A handoff now names the Kafka cluster its offsets are of (format 2); one written before (format
   * 1) is still read, as of a cluster not told, which no check refuses.
   */
  @Test
  void aHandoffOfTheEarlierFormatIsReadAsOfAClusterNotTold() throws Exception {
    Path old = dir.resolve("old.handoff");
    try (var out = new java.io.DataOutputStream(Files.newOutputStream(old))) {
      out.writeInt(Handoff.MAGIC);
      out.writeInt(1);
      out.writeLong(7);
      out.writeLong(42);
      out.writeInt(1);
      out.writeUTF("requests");
      out.writeInt(0);
      out.writeLong(1_234);
    }
    Handoff.Header h = Handoff.readHeader(old.toString());
    assertThat(h.version()).isEqualTo(42);
    assertThat(h.cluster()).isEmpty();
    assertThat(h.offsets()).containsEntry(new TopicPartition("requests", 0), 1_234L);
  }

  @Test
  void aBackfillStoppedWithADrainLeavesNoHandoff() throws Exception {
    JobConfig cfg = config();
    String path = dir.resolve("model.handoff").toString();
    backfill(cfg, units(CUT), path);
    byte[] earlier = Files.readAllBytes(Path.of(path));
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new TrainerOperator(cfg, null, 0, Handoff.Plan.saveTo(path, OFFSETS)));
    try (h) {
      h.open();
      feed(h, units(CUT * 2), 0, CUT + 100);
      h.processWatermark(new Watermark(Long.MAX_VALUE)); // what a drain sends
      h.endInput();
      h.getOperator().finish();
      h.snapshotWithLocalState(
          1, 1, SavepointType.terminate(SavepointFormatType.CANONICAL)); // the drain's savepoint
    }
    assertThat(Files.readAllBytes(Path.of(path))).isEqualTo(earlier);
    assertThat(Path.of(path + ".inprogress")).doesNotExist();
  }

  @Test
  void aHandoffReplacedAfterTheJobWasBuiltIsRefusedWithoutARestart() throws Exception {
    JobConfig cfg = config();
    String path = dir.resolve("model.handoff").toString();
    backfill(cfg, units(CUT), path);
    Map<TopicPartition, Long> older = Map.of(new TopicPartition("requests", 0), 1_000L);
    try (var h = live(cfg, path, older)) {
      assertThat(catchThrowable(h::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("was replaced after this job was submitted")
          .hasMessageContaining("requests[0]=1234")
          .hasMessageContaining("requests[0]=1000");
    }
  }

  /**
   * A handoff cut short, or with a byte changed, fails to read every time: before, Flink restarted
   * the job without end, and a damaged store file was reported under a temporary path.
   */
  @Test
  void aHandoffCutShortOrDamagedStopsTheJobWithoutARestartSayingSo() throws Exception {
    JobConfig cfg = config();
    String path = dir.resolve("model.handoff").toString();
    backfill(cfg, units(CUT), path);
    byte[] whole = Files.readAllBytes(Path.of(path));

    Files.write(Path.of(path), Arrays.copyOf(whole, whole.length / 2));
    try (var h = live(cfg, path, OFFSETS)) {
      assertThat(catchThrowable(h::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("cannot go on from the handoff at " + path)
          .hasMessageContaining("damaged or incomplete")
          .hasMessageContaining("write it again with backfill --handoff");
    }

    byte[] changed = whole.clone();
    changed[changed.length - 1] ^= 0x5a;
    Files.write(Path.of(path), changed);
    try (var h = live(cfg, path, OFFSETS)) {
      assertThat(catchThrowable(h::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("cannot go on from the handoff at " + path)
          .hasMessageContaining("damaged or incomplete");
    }
  }

  /**
   * A byte changed inside a handoff's state, or in an offset of its header, was started from as if
   * whole (a walk flipped one bit 700,000 bytes in: the job trained on from the altered state). The
   * file's checksums refuse both.
   */
  @Test
  void aHandoffWithAByteChangedAnywhereIsRefusedByItsChecksums() throws Exception {
    JobConfig cfg = config();
    String path = dir.resolve("model.handoff").toString();
    backfill(cfg, units(CUT), path);
    byte[] whole = Files.readAllBytes(Path.of(path));

    byte[] inState = whole.clone();
    inState[whole.length * 2 / 3] ^= 0x40;
    Files.write(Path.of(path), inState);
    try (var h = live(cfg, path, OFFSETS)) {
      assertThat(catchThrowable(h::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .hasMessageContaining("cannot go on from the handoff at " + path)
          .hasMessageContaining("its checksum does not match its content")
          .hasMessageContaining("write it again with backfill --handoff");
    }

    // the header: magic, format, its length, then the lineage and version; the last offset's low
    // byte is just before the header's checksum
    int headerLength = java.nio.ByteBuffer.wrap(whole, 8, 4).getInt();
    byte[] inHeader = whole.clone();
    inHeader[12 + headerLength - 1] ^= 0x01;
    Files.write(Path.of(path), inHeader);
    assertThat(catchThrowable(() -> Handoff.readHeader(path)))
        .hasMessageContaining("cannot read the handoff at " + path)
        .hasMessageContaining("its header's checksum does not match the header");
  }

  @Test
  void aHandoffOfAnotherModelLayoutIsRefusedSayingSo() throws Exception {
    String path = dir.resolve("model.handoff").toString();
    backfill(config(), units(CUT), path);
    Configuration narrower = new Configuration();
    narrower.set(ModelOptions.EMBEDDING_DIM, 8);
    try (var h = live(config(narrower), path, OFFSETS)) {
      assertThat(catchThrowable(h::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("cannot go on from the handoff at " + path)
          .hasMessageContaining("rows of 16 values, this model's 8 (the embedding dimension)")
          .hasMessageContaining("the model configuration the backfill was trained with");
    }
  }

  /**
   * A live job never ends, so it cannot save a handoff; a backfill from a handoff starts where that
   * handoff's backfill stopped, so not also from a time. Both are refused by name, before any
   * Kafka.
   */
  @Test
  void aLiveJobRefusesToSaveAHandoffAndABackfillFromOneTakesNoStartTime() throws Exception {
    Configuration save = new Configuration();
    save.set(io.streamrec.job.config.JobOptions.HANDOFF_SAVE_TO, dir.resolve("h").toString());
    assertThatThrownBy(() -> build(save, StreamrecJob.Bounds.live()))
        .isInstanceOf(io.streamrec.job.config.ConfigException.class)
        .hasMessageContaining("trainer.handoff.save-to")
        .hasMessageContaining("trainer.handoff.start-from");
    String path = dir.resolve("model.handoff").toString();
    backfill(config(), units(CUT), path);
    Configuration start = new Configuration();
    start.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, path);
    assertThatThrownBy(() -> build(start, StreamrecJob.Bounds.backfill(1_767_225_600_000L, null)))
        .isInstanceOf(io.streamrec.job.config.ConfigException.class)
        .hasMessageContaining("trainer.handoff.start-from")
        .hasMessageContaining("and --from both say where the backfill starts");
  }

  /**
   * A model trained range by range: a backfill of units 0–399 hands over to a backfill of units
   * 400–799, which hands over to a live job from unit 800 on; together they publish what one
   * trainer over all the units publishes.
   */
  @Test
  void backfillsChainedThroughHandoffsPublishWhatOneTrainerWould() throws Exception {
    JobConfig cfg = config();
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(cfg, units);
    String first = dir.resolve("first.handoff").toString();
    String second = dir.resolve("second.handoff").toString();
    Map<TopicPartition, Long> later = Map.of(new TopicPartition("requests", 0), 5_000L);

    List<ModelUpdateRecord> published = backfill(cfg, units, first);
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new TrainerOperator(
                cfg,
                null,
                0,
                Handoff.Plan.startFrom(first, Handoff.readHeader(first))
                    .andSaveTo(second, later, later)));
    try (h) {
      h.open();
      feed(h, units, CUT, 2 * CUT);
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      h.endInput();
      published.addAll(h.extractOutputValues());
    }
    Handoff.Header mid = Handoff.readHeader(second);
    assertThat(mid.offsets()).isEqualTo(later);
    assertThat(mid.version()).isEqualTo(4);
    try (var live = live(cfg, second, later)) {
      live.open();
      feed(live, units, 2 * CUT, units.size());
      live.processWatermark(new Watermark(Long.MAX_VALUE));
      published.addAll(live.extractOutputValues());
    }
    assertContinuedExactly(uninterrupted, published, "across two handoffs");
  }

  /** A live job must read the topics whose offsets the handoff holds, or it would start nowhere. */
  @Test
  void aLiveJobOfOtherTopicsThanTheHandoffsIsRefused() throws Exception {
    String path = dir.resolve("model.handoff").toString();
    backfill(config(), units(CUT), path); // offsets of requests and impressions
    Configuration units = new Configuration();
    units.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, path);
    units.set(io.streamrec.job.config.JobOptions.SOURCE_KIND, "units");
    assertThatThrownBy(() -> build(units, StreamrecJob.Bounds.live()))
        .isInstanceOf(io.streamrec.job.config.ConfigException.class)
        .hasMessageContaining("names a handoff with the offsets of [impressions, requests]")
        .hasMessageContaining("this job reads [request-units]");
  }

  /**
   * A live job on a cluster is built again from its first arguments at each failover of its
   * JobManager and each upgrade from its last state: once the handoff it first started from was
   * gone, that build failed ("no handoff at ...") and the job stayed down, though it goes on from
   * its checkpoint. It is built and restores; only a start without a checkpoint is refused, by the
   * trainer, before it trains or publishes anything. A backfill from it is still refused at once.
   */
  @Test
  void aLiveJobWhoseHandoffIsGoneGoesOnFromItsCheckpointAndOnlyANewStartIsRefused()
      throws Exception {
    JobConfig cfg = config();
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted = uninterrupted(cfg, units);
    String path = dir.resolve("model.handoff").toString();
    List<ModelUpdateRecord> published = backfill(cfg, units, path);
    Handoff.Header header = Handoff.readHeader(path);
    org.apache.flink.runtime.checkpoint.OperatorSubtaskState checkpoint;
    try (var h = live(cfg, path, header.offsets())) {
      h.open();
      feed(h, units, CUT, 900);
      checkpoint = h.snapshot(1, 1);
      published.addAll(h.extractOutputValues());
    }
    Files.delete(Path.of(path));

    Configuration c = new Configuration();
    c.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, path);
    build(c, StreamrecJob.Bounds.live());
    assertThatThrownBy(() -> build(c, StreamrecJob.Bounds.backfill(null, Long.MAX_VALUE)))
        .hasMessageContaining("no handoff at " + path);

    Handoff.Plan gone = Handoff.Plan.startFromGone(path);
    try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg, null, 0, gone))) {
      r.initializeState(checkpoint);
      r.open();
      feed(r, units, 900, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      published.addAll(r.extractOutputValues());
    }
    assertContinuedExactly(uninterrupted, published, "across the handoff and a restore without it");

    try (var fresh =
        new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg, null, 0, gone))) {
      assertThat(catchThrowable(fresh::open))
          .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
          .rootCause()
          .hasMessageContaining("no handoff at " + path);
      assertThat(fresh.extractOutputValues()).isEmpty();
    }
  }

  private static void build(Configuration c, StreamrecJob.Bounds bounds) {
    StreamrecJob.build(
        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
            .getExecutionEnvironment(),
        config(c),
        bounds);
  }

  /**
   * A handoff the backfill could not write is found before it trains, not at its end: a directory,
   * or a place it cannot create a file in.
   */
  @Test
  void aPathTheBackfillCouldNotWriteIsRefusedBeforeItStarts() throws Exception {
    assertThatThrownBy(() -> Handoff.checkWritable(dir.toString()))
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("is a directory");
    Path blocked = Files.writeString(dir.resolve("a-file"), "x");
    String inside = blocked.resolve("model.handoff").toString();
    assertThatThrownBy(() -> Handoff.checkWritable(inside))
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("cannot write the handoff at " + inside)
        .hasMessageContaining("would train to its end and fail there");
    String fine = dir.resolve("model.handoff").toString();
    Handoff.checkWritable(fine);
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("a-file");
    }
  }

  @Test
  void aMissingOrForeignFileIsNoHandoff() throws Exception {
    String missing = dir.resolve("none.handoff").toString();
    assertThatThrownBy(() -> Handoff.readHeader(missing))
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("no handoff at " + missing)
        .hasMessageContaining("--handoff");
    Path foreign = dir.resolve("notes.txt");
    Files.writeString(foreign, "not a handoff");
    assertThatThrownBy(() -> Handoff.readHeader(foreign.toString()))
        .hasMessageContaining("is not a streamrec handoff");
    Path empty = Files.createFile(dir.resolve("empty"));
    assertThatThrownBy(() -> Handoff.readHeader(empty.toString()))
        .hasMessageContaining("is not a streamrec handoff");
  }

  @Test
  void aBackfillWrittenAgainReplacesItsHandoffWhole() throws Exception {
    JobConfig cfg = config();
    String path = dir.resolve("model.handoff").toString();
    backfill(cfg, units(CUT), path);
    long first = Files.size(Path.of(path));
    backfill(cfg, units(CUT), path);
    assertThat(Files.size(Path.of(path))).isEqualTo(first);
    assertThat(Handoff.readHeader(path).version()).isEqualTo(2);
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model.handoff");
    }
  }
}
