package io.streamrec.job.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.ModelOptions;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.RequestOnlyModel;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.ModelSpec;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrainerOperatorTest {
  private static final long PUBLISH_MS = 1_000;
  private static final long START = 1_767_225_600_000L;

  static JobConfig config() {
    return config(new Configuration());
  }

  static JobConfig config(Configuration c) {
    c.set(JobOptions.BOOTSTRAP_SERVERS, "unused:9092");
    if (!c.contains(JobOptions.PUBLISH_INTERVAL)) {
      c.set(JobOptions.PUBLISH_INTERVAL, Duration.ofMillis(PUBLISH_MS));
    }
    c.set(JobOptions.BATCH_MAX_UNITS, 16);
    c.set(JobOptions.BATCH_MAX_WAIT, Duration.ofMillis(200));
    if (!c.contains(JobOptions.BACKEND)) {
      c.set(JobOptions.BACKEND, "cpu");
    }
    if (!c.contains(JobOptions.MODEL_ID)) {
      c.set(JobOptions.MODEL_ID, "0123456789abcdef");
    }
    return JobConfig.from(c);
  }

  /** A harness around a trainer of {@link #config()}. */
  static OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> harness()
      throws Exception {
    return new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config()));
  }

  /** Units closing 10 ms apart, two per close time, over about five publish periods. */
  static List<CompactUnit> units(int n) {
    return units(n, 300, 200);
  }

  /** As {@link #units(int)}, from a world of {@code users} users and {@code items} items. */
  static List<CompactUnit> units(int n, int users, int items) {
    TrafficGenerator g =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(9).withUsers(users).withItems(items));
    UnitEncoder enc = new UnitEncoder(new UnitLayout(config().model().features()));
    List<CompactUnit> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long close = START + 10L * (i / 2);
      GeneratedRequest r = g.next(close - 500);
      out.add(enc.encode(RequestUnits.of(r.request(), r.impressions(), close)));
    }
    return out;
  }

  private static List<ModelUpdateRecord> run(List<CompactUnit> units, long seed) throws Exception {
    List<CompactUnit> arrival = new ArrayList<>(units);
    Random rnd = new Random(seed);
    // units reach the trainer out of order (within the watermark's lag) and watermarks come at odd
    // times
    for (int i = 0; i < arrival.size(); i++) {
      Collections.swap(arrival, i, Math.min(arrival.size() - 1, i + rnd.nextInt(4)));
    }
    try (var h = harness()) {
      h.open();
      long maxClose = Long.MIN_VALUE;
      for (CompactUnit u : arrival) {
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
        maxClose = Math.max(maxClose, u.closedAtMs());
        if (rnd.nextInt(10) == 0) {
          h.processWatermark(new Watermark(maxClose - 100));
        }
      }
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      return new ArrayList<>(h.extractOutputValues());
    }
  }

  static String key(ModelUpdateRecord r) {
    return new String(r.key, StandardCharsets.UTF_8);
  }

  static List<VersionMarker> markers(List<ModelUpdateRecord> out) {
    List<VersionMarker> m = new ArrayList<>();
    for (ModelUpdateRecord r : out) {
      if (key(r).equals(ModelUpdateKeys.VERSION)) {
        m.add(AvroCodec.decode(r.value, VersionMarker.class));
      }
    }
    return m;
  }

  @Test
  void aUnitClosingAtTheEndOfTimeIsTrainedAndTheTrainerMovesOn() throws Exception {
    UnitEncoder enc = new UnitEncoder(new UnitLayout(config().model().features()));
    GeneratedRequest r =
        new TrafficGenerator(TrafficConfig.defaults().withSeed(3)).next(Long.MAX_VALUE - 1);
    CompactUnit endOfTime =
        enc.encode(RequestUnits.of(r.request(), r.impressions(), Long.MAX_VALUE));
    List<ModelUpdateRecord> out =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            () -> {
              try (var h = harness()) {
                h.open();
                for (CompactUnit u : units(10)) {
                  h.processElement(new StreamRecord<>(u, u.closedAtMs()));
                }
                h.processElement(new StreamRecord<>(endOfTime, Long.MAX_VALUE));
                h.processWatermark(new Watermark(Long.MAX_VALUE));
                return new ArrayList<>(h.extractOutputValues());
              }
            });
    List<VersionMarker> m = markers(out);
    assertThat(m).hasSizeGreaterThanOrEqualTo(2);
    assertThat(m.get(m.size() - 1).getEventTimeMs()).isEqualTo(Long.MAX_VALUE);
    assertThat(m.get(m.size() - 1).getRows()).isPositive();
  }

  @Test
  void batchesAreCutSoThatTheirRowsFitTheSmallestHotTierAndAUnitLargerThanItIsSkipped()
      throws Exception {
    Configuration c = new Configuration();
    c.set(ModelOptions.HOT_CAPACITY_ROWS, 64);
    JobConfig small = config(c);
    List<CompactUnit> units = units(120);
    int maxIds = units.stream().mapToInt(u -> u.ids().length).max().orElseThrow();
    assertThat(maxIds).as("a unit fits the tier alone").isLessThanOrEqualTo(64);
    assertThat(16 * maxIds).as("16 units (a full batch) do not").isGreaterThan(64);
    UnitEncoder enc = new UnitEncoder(new UnitLayout(small.model().features()));
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(4));
    GeneratedRequest r = g.next(START);
    // one unit with more ids than the tier holds: its request carries 100 history items
    var history = new ArrayList<String>();
    for (int i = 0; i < 100; i++) {
      history.add("hist-" + i);
    }
    var request = r.request();
    var features = new java.util.HashMap<>(request.getFeatures());
    features.put("recent_items", history);
    request.setFeatures(features);
    CompactUnit huge = enc.encode(RequestUnits.of(request, r.impressions(), START + 5));
    assertThat(huge.ids().length).isGreaterThan(64);
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(small))) {
      h.open();
      for (CompactUnit u : units) {
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      }
      h.processElement(new StreamRecord<>(huge, huge.closedAtMs()));
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      List<VersionMarker> m = markers(h.extractOutputValues());
      assertThat(m).isNotEmpty();
      assertThat(m.stream().mapToInt(VersionMarker::getRows).sum()).isPositive();
    }
  }

  /**
   * A table configured small for a small vocabulary bounds its own rows only. Before, the smallest
   * table's capacity bounded a unit's ids of every table: with item_cat at 12 rows, every unit of
   * more than 12 ids in all was skipped (and the assembler dead-lettered such impressions).
   */
  @Test
  void aSmallTableBoundsItsOwnRowsOnlyAndBatchesAreCutToFitIt() throws Exception {
    Configuration c = new Configuration();
    c.set(ModelOptions.TABLE_HOT_CAPACITY, java.util.Map.of("item_cat", "12"));
    JobConfig small = config(c);
    List<CompactUnit> units = units(200);
    long impressions = units.stream().mapToLong(CompactUnit::impressions).sum();
    assertThat(units.stream().mapToInt(u -> u.ids().length).max().orElseThrow())
        .as("units of more ids than item_cat keeps")
        .isGreaterThan(12);
    assertThat(units.stream().mapToInt(CompactUnit::impressions).max().orElseThrow())
        .as("each unit's item_cat ids fit it (one per impression)")
        .isLessThanOrEqualTo(12);
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(small))) {
      h.open();
      for (CompactUnit u : units) {
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      }
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      List<VersionMarker> m = markers(h.extractOutputValues());
      assertThat(m.get(m.size() - 1).getTrainedImpressions()).isEqualTo(impressions);
      assertThat(m.get(m.size() - 1).getTrainedUnits()).isEqualTo(units.size());
    }
  }

  @Test
  void arrivalOrderAndWatermarkTimingDoNotChangeWhatIsPublished() throws Exception {
    List<CompactUnit> units = units(1_000);
    assertSamePublishes(run(units, 1), run(units, 2));
  }

  /**
   * A run continued across a cut (a restore, a handoff) published versions 1 to 6, record for
   * record what the run without the cut published.
   */
  static void assertContinuedExactly(
      List<ModelUpdateRecord> uninterrupted, List<ModelUpdateRecord> continued, String what) {
    assertThat(markers(continued))
        .as("versions %s", what)
        .extracting(VersionMarker::getVersion)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertSamePublishes(uninterrupted, continued);
  }

  /** Equal records, markers compared without their wall-clock publish time. */
  static void assertSamePublishes(List<ModelUpdateRecord> a, List<ModelUpdateRecord> b) {
    assertThat(b).hasSameSizeAs(a);
    for (int i = 0; i < a.size(); i++) {
      if (key(a.get(i)).equals(ModelUpdateKeys.VERSION)) {
        VersionMarker ma = AvroCodec.decode(a.get(i).value, VersionMarker.class);
        VersionMarker mb = AvroCodec.decode(b.get(i).value, VersionMarker.class);
        ma.setPublishedAtMs(0);
        mb.setPublishedAtMs(0);
        assertThat(mb).isEqualTo(ma);
      } else {
        assertThat(b.get(i)).as("record %d (%s)", i, key(a.get(i))).isEqualTo(a.get(i));
      }
    }
  }

  @Test
  void eachPublishPeriodBecomesOneVersionClosedByItsMarker() throws Exception {
    List<CompactUnit> units = units(1_000); // close times span START .. START + 4,990
    List<ModelUpdateRecord> out = run(units, 3);
    assertThat(key(out.get(0))).isEqualTo(ModelUpdateKeys.SPEC);
    assertThat(AvroCodec.decode(out.get(0).value, ModelSpec.class).getJson()).contains("user_id");
    List<VersionMarker> m = markers(out);
    assertThat(m).extracting(VersionMarker::getVersion).containsExactly(1L, 2L, 3L, 4L, 5L);
    for (int v = 0; v < m.size(); v++) {
      // START is a multiple of the period: version v covers [START + v s, START + (v+1) s)
      assertThat(m.get(v).getEventTimeMs()).isEqualTo(START + (v + 1) * PUBLISH_MS);
    }
    assertThat(m.get(4).getTrainedUnits()).isEqualTo(1_000);
    assertThat(key(out.get(out.size() - 1))).isEqualTo(ModelUpdateKeys.VERSION);
    // between two markers: the spec, then the rows and dense blocks of that version, tagged with
    // it and the lineage
    long version = 1;
    int rows = 0;
    for (ModelUpdateRecord r : out) {
      if (key(r).equals(ModelUpdateKeys.SPEC)) {
        ModelSpec spec = AvroCodec.decode(r.value, ModelSpec.class);
        assertThat(spec.getVersion()).isEqualTo(version);
        assertThat(spec.getModel()).isEqualTo(0x0123456789abcdefL);
        assertThat(rows).as("the spec opens its version's publish").isZero();
      } else if (key(r).equals(ModelUpdateKeys.VERSION)) {
        VersionMarker mk = AvroCodec.decode(r.value, VersionMarker.class);
        assertThat(mk.getRows() + mk.getDenseBlocks()).isEqualTo(rows);
        version++;
        rows = 0;
      } else {
        ModelDelta d = AvroCodec.decode(r.value, ModelDelta.class);
        assertThat(d.getVersion()).isEqualTo(version);
        assertThat(d.getModel()).isEqualTo(0x0123456789abcdefL);
        rows++;
      }
    }
  }

  /**
   * Flink starts every attempt of a job from the operator it was built with, deserialized anew. A
   * restart before the first checkpoint has no state, so an attempt that drew a lineage of its own
   * published another model than the attempt before it, and then found that one's versions on the
   * topic and refused them as another model's: the job stopped on a plain restart.
   */
  @Test
  void everyAttemptOfOneJobTrainsTheSameNewModelAndAnotherJobAnother() throws Exception {
    Configuration noId = new Configuration();
    noId.set(JobOptions.MODEL_ID, "");
    TrainerOperator built = new TrainerOperator(config(noId));
    List<CompactUnit> units = units(200);

    long first = lineage(uninterrupted(harnessOf(InstantiationUtil.clone(built)), units));
    long restarted = lineage(uninterrupted(harnessOf(InstantiationUtil.clone(built)), units));
    long anotherJob = lineage(uninterrupted(harnessOf(new TrainerOperator(config(noId))), units));

    assertThat(restarted).isEqualTo(first);
    assertThat(anotherJob).isNotEqualTo(first);
  }

  private static OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> harnessOf(
      TrainerOperator op) throws Exception {
    return new OneInputStreamOperatorTestHarness<>(op);
  }

  /** The one lineage every marker of {@code out} names. */
  private static long lineage(List<ModelUpdateRecord> out) {
    List<VersionMarker> m = markers(out);
    assertThat(m).isNotEmpty();
    assertThat(m).extracting(VersionMarker::getModel).containsOnly(m.get(0).getModel());
    return m.get(0).getModel();
  }

  @Test
  void nothingIsPublishedBeforeTheWatermarkPassesTheEndOfAPeriod() throws Exception {
    try (var h = harness()) {
      h.open();
      for (CompactUnit u : units(100)) { // close times START .. START + 490
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      }
      h.processWatermark(new Watermark(START + PUBLISH_MS - 2));
      assertThat(markers(new ArrayList<>(h.extractOutputValues()))).isEmpty();
      h.processWatermark(new Watermark(START + PUBLISH_MS - 1));
      List<VersionMarker> m = markers(new ArrayList<>(h.extractOutputValues()));
      assertThat(m).hasSize(1);
      assertThat(m.get(0).getTrainedUnits()).isEqualTo(100);
    }
  }

  /**
   * A drain of a job whose units source is idle: the source drops the end-of-time watermark (an
   * idle output sends none), and the input's end alone tells the trainer. The units waiting for a
   * watermark stayed untrained.
   */
  @Test
  void theInputsEndTrainsEveryUnitWaitingWithoutTheEndOfTimeWatermark() throws Exception {
    try (var h = harness()) {
      h.open();
      for (CompactUnit u : units(100)) {
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      }
      h.processWatermark(new Watermark(START + 200));
      h.endInput();
      List<VersionMarker> m = markers(new ArrayList<>(h.extractOutputValues()));
      assertThat(m).hasSize(1);
      assertThat(m.get(0).getTrainedUnits()).isEqualTo(100);
      h.processWatermark(new Watermark(Long.MAX_VALUE)); // where it comes too: nothing more
      assertThat(markers(new ArrayList<>(h.extractOutputValues()))).hasSize(1);
    }
  }

  @Test
  void unitsWaitingAtASnapshotAreTrainedAfterARestore() throws Exception {
    List<CompactUnit> units = units(40);
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.open();
      for (CompactUnit u : units) {
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      }
      snapshot = h.snapshot(1, 1);
    }
    try (var h = harness()) {
      h.initializeState(snapshot);
      h.open();
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      List<VersionMarker> m = markers(new ArrayList<>(h.extractOutputValues()));
      assertThat(m).hasSize(1);
      assertThat(m.get(0).getTrainedUnits()).isEqualTo(40);
      assertThat(m.get(0).getTrainedImpressions())
          .isEqualTo(units.stream().mapToLong(u -> u.impressions()).sum());
    }
  }

  /** What a run of {@code h} over every unit, to the end of event time, publishes. */
  static List<ModelUpdateRecord> uninterrupted(
      OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> h, List<CompactUnit> units)
      throws Exception {
    try (h) {
      h.open();
      feed(h, units, 0, units.size());
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      return new ArrayList<>(h.extractOutputValues());
    }
  }

  /** Feeds units in order with a watermark after every 7th; returns nothing (read the harness). */
  static void feed(
      OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> h,
      List<CompactUnit> units,
      int from,
      int to)
      throws Exception {
    for (int i = from; i < to; i++) {
      CompactUnit u = units.get(i);
      h.processElement(new StreamRecord<>(u, u.closedAtMs()));
      if (i % 7 == 6) {
        h.processWatermark(new Watermark(u.closedAtMs() - 100));
      }
    }
  }

  /**
   * A unit whose close the watermark has already passed (a request-units log out of close order by
   * more than its reader allows) trains with the next batch, behind units that closed after it:
   * nothing counted or logged it, and a run over the log trained another model than the run over
   * its events with no word. It is counted (late_units) and still trained.
   */
  @Test
  void aUnitThatComesAfterTheWatermarkPassedItsCloseIsCountedAndStillTrained() throws Exception {
    List<CompactUnit> units = units(300);
    TrainerOperator op = new TrainerOperator(config());
    try (var h = new OneInputStreamOperatorTestHarness<>(op)) {
      h.open();
      List<CompactUnit> early = new ArrayList<>(units.subList(0, 200));
      CompactUnit behind = early.remove(40);
      feed(h, early, 0, early.size());
      h.processWatermark(new Watermark(units.get(199).closedAtMs()));
      assertThat(op.lateUnits()).isZero();
      h.processElement(new StreamRecord<>(behind, behind.closedAtMs()));
      assertThat(op.lateUnits()).isEqualTo(1);
      feed(h, units, 200, units.size());
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      assertThat(op.lateUnits()).as("units in close order after it").isEqualTo(1);
      List<VersionMarker> m = markers(h.extractOutputValues());
      assertThat(m.get(m.size() - 1).getTrainedUnits()).isEqualTo(units.size());
    }
  }

  /**
   * With either optimizer of the wide rows: under FTRL each wide row carries two floats of state
   * through the tiered store's checkpoint.
   */
  @ParameterizedTest(name = "wide rows by {0}")
  @ValueSource(strings = {"adagrad", "ftrl"})
  void aRestoreAfterAKillContinuesExactlyWhereTheCheckpointStood(String optimizer)
      throws Exception {
    Configuration c = new Configuration();
    c.set(ModelOptions.WIDE_OPTIMIZER, optimizer);
    JobConfig cfg = config(c);
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted =
        uninterrupted(new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg)), units);
    for (int cut : new int[] {1, 437, 601, 1_150}) {
      List<ModelUpdateRecord> resumed;
      OperatorSubtaskState snapshot;
      var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg));
      h.open();
      feed(h, units, 0, cut);
      snapshot = h.snapshot(1, 1);
      resumed = new ArrayList<>(h.extractOutputValues());
      feed(
          h,
          units,
          cut,
          Math.min(units.size(), cut + 50)); // work after the checkpoint, lost in the kill
      h.close();
      try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg))) {
        r.initializeState(snapshot);
        r.open();
        feed(r, units, cut, units.size());
        r.processWatermark(new Watermark(Long.MAX_VALUE));
        resumed.addAll(r.extractOutputValues());
      }
      assertContinuedExactly(uninterrupted, resumed, "after a kill at unit " + cut);
    }
  }

  /**
   * A checkpoint resumed under another hot tier (larger, or smaller than the rows the model has, so
   * that rows are evicted to the cold tier and come back) continues the model exactly: the same
   * versions, rows and weights as without the change. Before, the store refused the checkpoint and
   * a new hot capacity meant a new model.
   */
  @ParameterizedTest(name = "hot tier of {0} rows")
  @ValueSource(ints = {5_000, 260})
  void aCheckpointResumesUnderAnotherHotCapacityExactly(int rows) throws Exception {
    Configuration c = new Configuration();
    c.set(ModelOptions.HOT_CAPACITY_ROWS, 1_000);
    JobConfig before = config(c);
    Configuration resized = new Configuration();
    resized.set(ModelOptions.HOT_CAPACITY_ROWS, rows);
    JobConfig after = config(resized);
    List<CompactUnit> units = units(1_200);
    List<ModelUpdateRecord> uninterrupted =
        uninterrupted(new OneInputStreamOperatorTestHarness<>(new TrainerOperator(before)), units);
    OperatorSubtaskState snapshot;
    List<ModelUpdateRecord> resumed;
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(before))) {
      h.open();
      feed(h, units, 0, 601);
      snapshot = h.snapshot(1, 1);
      resumed = new ArrayList<>(h.extractOutputValues());
    }
    try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(after))) {
      r.initializeState(snapshot);
      r.open();
      feed(r, units, 601, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      resumed.addAll(r.extractOutputValues());
      TrainerOperator t = (TrainerOperator) r.getOperator();
      if (rows < 1_000) {
        assertThat(t.storeStatsForTests().evicted())
            .as("rows evicted after the resize")
            .isPositive();
      }
    }
    // the spec goes out with every version and describes the tier now configured; the rest is equal
    List<ModelSpec> specs = specs(resumed);
    assertThat(specs.get(0).getJson()).contains("\"hotCapacityRows\":1000");
    assertThat(specs.get(specs.size() - 1).getJson()).contains("\"hotCapacityRows\":" + rows);
    assertSamePublishes(withoutSpecs(uninterrupted), withoutSpecs(resumed));
  }

  private static List<ModelUpdateRecord> withoutSpecs(List<ModelUpdateRecord> out) {
    return out.stream().filter(r -> !key(r).equals(ModelUpdateKeys.SPEC)).toList();
  }

  /**
   * An upgrade from a release whose default cross was the sum and whose wide weights were summed: a
   * summed trainer's checkpoint, resumed by a trainer of the defaults (the field-weighted cross,
   * per-feature wide pooling), continues the model's versions, and from its first publish on the
   * spec describes the default model, in the format whose readers implement it, with the pair
   * weights published.
   */
  @Test
  void aSummedTrainersCheckpointResumesUnderTheDefaults() throws Exception {
    List<CompactUnit> units = units(1_200);
    // a trainer from before either default: its cross and its wide weights summed
    Configuration sum = new Configuration();
    sum.set(ModelOptions.FACTORISED_CROSS, "sum");
    sum.set(ModelOptions.WIDE_POOLING, "sum");
    List<ModelUpdateRecord> out;
    OperatorSubtaskState snapshot;
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(sum)))) {
      h.open();
      feed(h, units, 0, 601);
      snapshot = h.snapshot(1, 1);
      out = new ArrayList<>(h.extractOutputValues());
    }
    int before = out.size();
    try (var r = harness()) {
      r.initializeState(snapshot);
      r.open();
      feed(r, units, 601, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      out.addAll(r.extractOutputValues());
    }
    List<VersionMarker> m = markers(out);
    assertThat(m).extracting(VersionMarker::getVersion).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(m.get(m.size() - 1).getTrainedUnits()).isEqualTo(units.size());
    List<ModelSpec> specsBefore = specs(out.subList(0, before));
    List<ModelSpec> specsAfter = specs(out.subList(before, out.size()));
    assertThat(specsBefore).isNotEmpty();
    assertThat(specsBefore).allMatch(x -> x.getFormat().equals(ModelUpdateEncoder.SPEC_FORMAT));
    assertThat(specsAfter).isNotEmpty();
    assertThat(specsAfter).allMatch(x -> x.getFormat().equals(ModelUpdateEncoder.SPEC_FORMAT_5));
    assertThat(ModelConfigJson.fromJson(specsAfter.get(0).getJson())).isEqualTo(config().model());
    assertThat(out.subList(before, out.size()))
        .anyMatch(
            x -> key(x).equals(ModelUpdateKeys.DENSE_PREFIX + RequestOnlyModel.FIELD_PAIRS_BLOCK));
  }

  /**
   * A restore that failed (here a checkpoint of another embedding width) left its copy of the model
   * in java.io.tmpdir ({@code streamrec-restore-<random>}): one per attempt of a job restarting
   * into it (a walk found 424). Its files now go into the trainer's working directory under
   * store.dir, deleted with it when the start fails.
   */
  @Test
  void aRestoreThatFailsLeavesNoFilesBehind(@TempDir Path storeDir) throws Exception {
    java.util.Set<Path> before = restoreDirsInTmp();
    Configuration narrower = new Configuration();
    narrower.set(ModelOptions.EMBEDDING_DIM, 8);
    narrower.set(JobOptions.STORE_DIR, storeDir.toString());

    assertThat(openOverADefaultCheckpoint(narrower)).isInstanceOf(SuppressRestartsException.class);

    java.util.Set<Path> left = restoreDirsInTmp();
    left.removeAll(before);
    // java.io.tmpdir is shared: another process's restore, running now, is not this one's
    left.removeIf(TrainerOperatorTest::heldByAnotherProcess);
    assertThat(left).as("restores' files left in java.io.tmpdir").isEmpty();
    try (java.util.stream.Stream<Path> s = Files.list(storeDir)) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith("trainer-")))
          .as("the trainer's working directory")
          .isEmpty();
    }
  }

  /**
   * Whether {@code dir} is a restore's working directory whose lock another process holds: one in
   * use by a job or test running beside this one. A directory this JVM holds, or nothing holds, was
   * left behind.
   */
  private static boolean heldByAnotherProcess(Path dir) {
    Path lock = dir.resolve(io.streamrec.common.LockedDirectory.LOCK_FILE);
    try (java.nio.channels.FileChannel c =
        java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.channels.FileLock l = c.tryLock();
      if (l == null) {
        return true;
      }
      l.release();
      return false;
    } catch (java.nio.channels.OverlappingFileLockException thisJvms) {
      return false;
    } catch (java.io.IOException e) {
      return !Files.exists(dir); // gone meanwhile: another process's, ended
    }
  }

  /** The directories of restores under java.io.tmpdir, at two levels. */
  private static java.util.Set<Path> restoreDirsInTmp() throws java.io.IOException {
    try (java.util.stream.Stream<Path> s =
        Files.walk(Path.of(System.getProperty("java.io.tmpdir")), 2)) {
      return s.filter(Files::isDirectory)
          .filter(
              p ->
                  p.getFileName().toString().startsWith("restore-")
                      || (p.getFileName().toString().startsWith("streamrec-restore-")
                          && !p.equals(
                              io.streamrec.common.LockedDirectory.tempParent("streamrec-restore"))))
          .collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    } catch (java.io.UncheckedIOException e) {
      return restoreDirsInTmp(); // one went while the walk ran
    }
  }

  /**
   * What opening a trainer configured with {@code other} over a checkpoint of the default trainer
   * (after 300 units) throws; null when it opens.
   */
  private static Throwable openOverADefaultCheckpoint(Configuration other) throws Exception {
    OperatorSubtaskState snapshot = aDefaultCheckpoint();
    try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(other)))) {
      r.initializeState(snapshot);
      return org.assertj.core.api.Assertions.catchThrowable(r::open);
    }
  }

  /** A checkpoint of the default trainer after 300 units. */
  private static OperatorSubtaskState aDefaultCheckpoint() throws Exception {
    List<CompactUnit> units = units(300);
    try (var h = harness()) {
      h.open();
      feed(h, units, 0, units.size());
      return h.snapshot(1, 1);
    }
  }

  /**
   * A checkpoint of a trainer whose wide rows learnt by Adagrad, resumed by a job set to FTRL, is
   * refused before its store is restored, by the option's name (the store alone would name only the
   * rows' widths), and stops the job without a restart.
   */
  @Test
  void aCheckpointOfAdagradsWideRowsIsRefusedUnderFtrlByName() throws Exception {
    Configuration ftrl = new Configuration();
    ftrl.set(ModelOptions.WIDE_OPTIMIZER, "ftrl");
    assertThat(openOverADefaultCheckpoint(ftrl))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("model.wide-optimizer: adagrad; this job's is ftrl");
  }

  /**
   * The impression features in another order keep the tables and the parameter count: a checkpoint
   * restored under them failed at its first waiting unit, and the job restarted into it again and
   * again; a handoff trained each feature's weights on the other's values. Now the job stops
   * without a restart, naming the order each has.
   */
  @Test
  void aCheckpointUnderFeaturesInAnotherOrderStopsTheJobNamingBoth() throws Exception {
    Configuration swapped = new Configuration();
    List<String> imp =
        new ArrayList<>(
            config().model().features().categorical().stream()
                .filter(f -> f.side() == io.streamrec.model.features.Side.IMPRESSION)
                .map(f -> f.name())
                .toList());
    Collections.reverse(imp);
    swapped.set(ModelOptions.IMPRESSION_CATEGORICAL, imp);
    assertThat(openOverADefaultCheckpoint(swapped))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("its impression features [")
        .hasMessageContaining("this job's " + imp);
  }

  /**
   * A store.dir that is a file failed the trainer's start, and the job restarted into it again and
   * again. It stops without restarts, naming store.dir.
   */
  @Test
  void aStoreDirThatCannotBeADirectoryStopsTheJobWithoutARestart(@TempDir Path dir)
      throws Exception {
    Path file = Files.createFile(dir.resolve("afile"));
    Configuration c = new Configuration();
    c.set(JobOptions.STORE_DIR, file.toString());
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(c)))) {
      assertThat(org.assertj.core.api.Assertions.catchThrowable(h::initializeEmptyState))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .hasMessageContaining(
              "store.dir '" + file + "' cannot hold the trainer's working directory");
    }
    // a path under a file: "Not a directory" from the file system, restarted into 7 times in 40 s
    Configuration under = new Configuration();
    under.set(JobOptions.STORE_DIR, file.resolve("store").toString());
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(under)))) {
      assertThat(org.assertj.core.api.Assertions.catchThrowable(h::initializeEmptyState))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .hasMessageContaining(
              "store.dir '"
                  + file.resolve("store")
                  + "' cannot hold the trainer's working"
                  + " directory");
    }
  }

  /**
   * Towers of 1024;512;16 make a dense block of 2.3 MB, one record of the model-updates topic:
   * every publish failed with RecordTooLargeException, and the job restarted into it until stopped.
   * It stops before training, without restarts, saying what to change; a producer allowed that much
   * trains.
   */
  @Test
  void aDenseBlockLargerThanTheProducerTakesStopsTheJobWithoutARestart() throws Exception {
    Configuration c = new Configuration();
    c.set(io.streamrec.job.config.ModelOptions.REQUEST_TOWER, List.of(1024, 512, 16));
    c.set(io.streamrec.job.config.ModelOptions.IMPRESSION_TOWER, List.of(1024, 512, 16));
    assertThat(startFailure(c))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .hasMessageContaining("over the producer's max.request.size of 1,048,576 bytes")
        .hasMessageContaining("raise properties.max.request.size");
    Configuration allowed = new Configuration();
    allowed.set(io.streamrec.job.config.ModelOptions.REQUEST_TOWER, List.of(1024, 512, 16));
    allowed.set(io.streamrec.job.config.ModelOptions.IMPRESSION_TOWER, List.of(1024, 512, 16));
    allowed.setString("properties.max.request.size", "16777216");
    assertThat(startFailure(allowed)).isNull();
  }

  /**
   * trainer.backend: cuda on a machine without a usable device: the trainer's start failed with the
   * reason, and the job restarted into it until stopped. It stops without restarts.
   */
  @Test
  void aBackendThatCannotRunHereStopsTheJobWithoutARestart() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        io.streamrec.gpu.Backends.resolvedName(io.streamrec.gpu.BackendMode.AUTO).equals("cuda"),
        "this machine has a usable CUDA device");
    Configuration c = new Configuration();
    c.setString("trainer.backend", "cuda");
    assertThat(startFailure(c))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .isInstanceOf(io.streamrec.gpu.BackendUnavailableException.class)
        .hasMessageContaining("backend 'cuda' was requested but no CUDA device is usable");
  }

  /**
   * Only the trainer closed its backend: a restore refused before the trainer was built (here a
   * checkpoint of Adagrad's wide rows under FTRL) left the backend open, on CUDA its context and
   * device memory kept by the TaskManager after the task failed. It is closed, once.
   */
  @Test
  void aRefusedRestoreClosesTheBackendItOpened() throws Exception {
    OperatorSubtaskState snapshot = aDefaultCheckpoint();
    Configuration ftrl = new Configuration();
    ftrl.set(ModelOptions.WIDE_OPTIMIZER, "ftrl");
    AtomicInteger closes = new AtomicInteger();
    TrainerOperator op =
        new TrainerOperator(config(ftrl)).withBackends(mode -> countingCloses(closes, false));
    try (var r = new OneInputStreamOperatorTestHarness<>(op)) {
      r.initializeState(snapshot);
      assertThat(org.assertj.core.api.Assertions.catchThrowable(r::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .hasMessageContaining("model.wide-optimizer: adagrad; this job's is ftrl");
      assertThat(closes).as("closes of the backend").hasValue(1);
    }
    assertThat(closes).as("closes of the backend, the harness closed").hasValue(1);
  }

  /**
   * A backend out of memory as the store and the model took their buffers (as a GPU whose hot tier
   * does not fit) failed the trainer's start with the backend left open, and each restart in the
   * same TaskManager found less device memory. The backend is closed, once, and the failure is the
   * one thrown.
   */
  @Test
  void aBackendOutOfMemoryAsTheTrainerOpensIsClosed() throws Exception {
    AtomicInteger closes = new AtomicInteger();
    TrainerOperator op =
        new TrainerOperator(config()).withBackends(mode -> countingCloses(closes, true));
    try (var h = new OneInputStreamOperatorTestHarness<>(op)) {
      h.initializeEmptyState();
      assertThat(org.assertj.core.api.Assertions.catchThrowable(h::open))
          .hasMessageContaining("out of memory");
      assertThat(closes).as("closes of the backend").hasValue(1);
    }
    assertThat(closes).as("closes of the backend, the harness closed").hasValue(1);
  }

  /**
   * A CPU backend that counts its closes in {@code closes}; with {@code outOfMemory}, every buffer
   * it is asked for fails as a device out of memory does.
   */
  private static ComputeBackend countingCloses(AtomicInteger closes, boolean outOfMemory) {
    ComputeBackend cpu = new CpuBackend();
    return (ComputeBackend)
        Proxy.newProxyInstance(
            ComputeBackend.class.getClassLoader(),
            new Class<?>[] {ComputeBackend.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close")) {
                closes.incrementAndGet();
              }
              if (outOfMemory && method.getName().startsWith("alloc")) {
                throw new IllegalStateException("the backend is out of memory");
              }
              try {
                return method.invoke(cpu, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** What a trainer of {@code c} throws as it starts without state (null: nothing). */
  private static Throwable startFailure(Configuration c) throws Exception {
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(c)))) {
      return org.assertj.core.api.Assertions.catchThrowable(
          () -> {
            h.initializeEmptyState();
            h.open();
          });
    }
  }

  /**
   * A checkpoint of other tables (here another embedding width) stops the job without a restart,
   * saying why and the ways on: before, the store's refusal was a failure like any other, and the
   * job restarted into it again and again.
   */
  @Test
  void aCheckpointOfOtherTablesStopsTheJobWithoutARestartSayingWhy() throws Exception {
    Configuration narrower = new Configuration();
    narrower.set(ModelOptions.EMBEDDING_DIM, 8);
    assertThat(openOverADefaultCheckpoint(narrower))
        .isInstanceOf(SuppressRestartsException.class)
        .cause()
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("rows of 16 values, this model's 8 (the embedding dimension)")
        .hasMessageContaining("with the configuration the checkpoint was trained with")
        .hasMessageContaining("--replace");
  }

  /**
   * A checkpoint of a newer release's trainer state, restored by this one (a rollback), stops the
   * job saying so: its advice was to start with the configuration the checkpoint was trained with
   * or to start a new model with --replace, where the release is at fault.
   */
  @Test
  void aCheckpointOfANewerReleaseStopsTheJobNamingTheRelease() throws Exception {
    OperatorSubtaskState snapshot = aDefaultCheckpoint();
    // the trainer state's format, as a newer release would write it: its first int, followed by
    // the factorised cross's key, within the snapshot's bytes
    byte[] cross = config().model().factorisedCross().key().getBytes(StandardCharsets.UTF_8);
    int patched = 0;
    for (OperatorStateHandle handle : snapshot.getManagedOperatorState()) {
      byte[] data = ((ByteStreamStateHandle) handle.getDelegateStateHandle()).getData();
      for (int i = 0; i + 6 + cross.length <= data.length; i++) {
        ByteBuffer b = ByteBuffer.wrap(data);
        if (b.getInt(i) > 0
            && b.getInt(i) < 100
            && b.getShort(i + 4) == cross.length
            && Arrays.equals(Arrays.copyOfRange(data, i + 6, i + 6 + cross.length), cross)) {
          b.putInt(i, b.getInt(i) + 1);
          patched++;
        }
      }
    }
    assertThat(patched).as("the trainer state's format found in the snapshot").isEqualTo(1);
    try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config()))) {
      r.initializeState(snapshot);
      assertThat(org.assertj.core.api.Assertions.catchThrowable(r::open))
          .isInstanceOf(SuppressRestartsException.class)
          .cause()
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageContaining("written by a newer release of streamrec")
          .hasMessageContaining("start the job with that release to resume its model")
          .hasMessageNotContaining("--replace");
    }
  }

  /**
   * A restore goes on with its checkpoint's lineage; a trainer.model-id naming another one was
   * ignored without a word, and a user who set it to start a new model read nothing to say it did
   * not. The log says so, and the checkpoint's model goes on.
   */
  @Test
  void aRestoreUnderAnotherModelIdSaysTheCheckpointsModelGoesOn() throws Exception {
    OperatorSubtaskState snapshot = aDefaultCheckpoint();
    Configuration another = new Configuration();
    another.set(JobOptions.MODEL_ID, "7edcba9876543210");
    List<String> warned = new ArrayList<>();
    List<ModelUpdateRecord> out;
    try (var log =
            io.streamrec.job.LogLines.of(
                TrainerOperator.class, org.apache.logging.log4j.Level.WARN, warned);
        var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(another)))) {
      r.initializeState(snapshot);
      r.open();
      feed(r, units(400), 300, 400);
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      out = new ArrayList<>(r.extractOutputValues());
    }
    assertThat(lineage(out)).isEqualTo(Long.parseUnsignedLong("0123456789abcdef", 16));
    assertThat(warned)
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("trainer.model-id 7edcba9876543210 names a new model's lineage")
        .contains("the checkpoint's model 0123456789abcdef goes on");

    warned.clear();
    try (var log =
            io.streamrec.job.LogLines.of(
                TrainerOperator.class, org.apache.logging.log4j.Level.WARN, warned);
        var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config()))) {
      r.initializeState(aDefaultCheckpoint());
      r.open();
    }
    assertThat(warned).as("the checkpoint's own id").isEmpty();
  }

  /**
   * The trainer logged through the logger of Flink's AbstractStreamOperator, which the command's
   * log keeps at WARN: none of its INFO lines reached a user of run.
   */
  @Test
  void theTrainerLogsUnderItsOwnName() throws Exception {
    java.lang.reflect.Field log = TrainerOperator.class.getDeclaredField("LOG");
    log.setAccessible(true);
    assertThat(((org.slf4j.Logger) log.get(null)).getName())
        .isEqualTo(TrainerOperator.class.getName());
  }

  private static List<ModelSpec> specs(List<ModelUpdateRecord> out) {
    List<ModelSpec> specs = new ArrayList<>();
    for (ModelUpdateRecord r : out) {
      if (key(r).equals(ModelUpdateKeys.SPEC)) {
        specs.add(AvroCodec.decode(r.value, ModelSpec.class));
      }
    }
    return specs;
  }

  @Test
  void theSpecRecordDescribesTheModelTheRowsBelongTo() throws Exception {
    List<ModelUpdateRecord> out = run(units(50), 4);
    String json = AvroCodec.decode(out.get(0).value, ModelSpec.class).getJson();
    assertThat(ModelConfigJson.fromJson(json)).isEqualTo(config().model());
  }

  /**
   * What an earlier release's trainer checkpointed: its waiting units as Avro {@code RequestUnit}s
   * in the list state "pending-units" (and no trainer state yet, as before its first batch).
   */
  private static final class EarlierReleaseTrainer extends AbstractStreamOperator<ModelUpdateRecord>
      implements OneInputStreamOperator<RequestUnit, ModelUpdateRecord> {
    private transient ListState<RequestUnit> pending;
    private final List<RequestUnit> received = new ArrayList<>();

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
      super.initializeState(context);
      pending =
          context
              .getOperatorStateStore()
              .getListState(
                  new ListStateDescriptor<>(
                      TrainerOperator.LEGACY_PENDING_UNITS_STATE,
                      new AvroTypeInfo<>(RequestUnit.class)));
    }

    @Override
    public void processElement(StreamRecord<RequestUnit> element) {
      received.add(element.getValue());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
      super.snapshotState(context);
      pending.update(received);
    }
  }

  @Test
  void unitsWaitingInAnEarlierReleasesCheckpointAreEncodedAndTrained() throws Exception {
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(4));
    UnitEncoder enc = new UnitEncoder(new UnitLayout(config().model().features()));
    List<RequestUnit> old = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      GeneratedRequest r = g.next(START + 10L * i);
      old.add(RequestUnits.of(r.request(), r.impressions(), START + 10L * i + 500));
    }
    OperatorSubtaskState snapshot;
    try (var h = new OneInputStreamOperatorTestHarness<>(new EarlierReleaseTrainer())) {
      h.open();
      for (RequestUnit u : old) {
        h.processElement(new StreamRecord<>(u, u.getClosedAtMs()));
      }
      snapshot = h.snapshot(1, 1);
    }
    List<ModelUpdateRecord> restored;
    try (var h = harness()) {
      h.initializeState(snapshot);
      h.open();
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      restored = new ArrayList<>(h.extractOutputValues());
    }
    List<ModelUpdateRecord> direct;
    try (var h = harness()) {
      h.open();
      for (RequestUnit u : old) {
        h.processElement(new StreamRecord<>(enc.encode(u), u.getClosedAtMs()));
      }
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      direct = new ArrayList<>(h.extractOutputValues());
    }
    assertThat(markers(restored)).hasSize(1);
    assertThat(markers(restored).get(0).getTrainedUnits()).isEqualTo(30);
    assertSamePublishes(direct, restored);
  }

  /**
   * A checkpoint taken in the middle of a period, restored under another {@code
   * trainer.publish-interval}: the open period was taken in the new interval as it was counted in
   * the old, and the version closing it told event time 2250-01-03 (2 s to 10 s) or 1984-01-01 (2 s
   * to 500 ms).
   */
  @ParameterizedTest(name = "2 s to {0} ms")
  @ValueSource(longs = {10_000, 500})
  void aCheckpointOfAnOpenPeriodGoesOnInEventTimeUnderAnotherPublishInterval(long after)
      throws Exception {
    List<CompactUnit> units = units(1_200); // 5 ms apart: six seconds
    int cut = 500; // inside the second period of 2 s
    List<ModelUpdateRecord> out = new ArrayList<>();
    OperatorSubtaskState snapshot;
    Configuration before = new Configuration();
    before.set(JobOptions.PUBLISH_INTERVAL, Duration.ofMillis(2_000));
    try (var h = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(before)))) {
      h.open();
      feed(h, units, 0, cut);
      snapshot = h.snapshot(1, 1);
      out.addAll(h.extractOutputValues());
    }
    Configuration later = new Configuration();
    later.set(JobOptions.PUBLISH_INTERVAL, Duration.ofMillis(after));
    try (var r = new OneInputStreamOperatorTestHarness<>(new TrainerOperator(config(later)))) {
      r.initializeState(snapshot);
      r.open();
      feed(r, units, cut, units.size());
      r.processWatermark(new Watermark(Long.MAX_VALUE));
      out.addAll(r.extractOutputValues());
    }
    List<VersionMarker> m = markers(out);
    long lastClose = units.get(units.size() - 1).closedAtMs();
    assertThat(m).hasSizeGreaterThanOrEqualTo(2);
    for (int i = 1; i < m.size(); i++) {
      assertThat(m.get(i).getEventTimeMs())
          .as("event time of version %d", m.get(i).getVersion())
          .isGreaterThan(m.get(i - 1).getEventTimeMs())
          .isLessThanOrEqualTo(lastClose + Math.max(after, 2_000));
      assertThat(m.get(i).getVersion()).isEqualTo(m.get(i - 1).getVersion() + 1);
    }
  }
}
