package io.streamrec.job.assembler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.streamrec.common.FeatureIds;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.ModelOptions;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.EventPart;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class RequestUnitAssemblerTest {
  private static final long WINDOW = 1_000;
  private static final int MAX_IMPRESSIONS = 5;
  private static final RequestUnitAssembler.AssemblerConfig CONFIG =
      new RequestUnitAssembler.AssemblerConfig(WINDOW, MAX_IMPRESSIONS, "requests", "impressions");

  /**
   * The default features: the request's user_id is its first bag, an impression's item_id its
   * first.
   */
  private static final FeatureSpec SPEC = ModelConfig.defaults().features();

  private static final UnitLayout LAYOUT = new UnitLayout(SPEC);

  /** Parts of the test's events, as the decode stage makes them (their bytes kept). */
  private static final UnitEncoder ENCODER = new UnitEncoder(LAYOUT);

  /** Impression ids by the item id each test impression carries ("i-" + its id), hashed. */
  private static final Map<Long, String> IMPRESSION_BY_ITEM = new HashMap<>();

  private static KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit>
      harness() throws Exception {
    return harness(null);
  }

  /** An assembler restored from {@code snapshot} (none: a fresh one), open. */
  private static KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit>
      harness(OperatorSubtaskState snapshot) throws Exception {
    return harness(CONFIG, snapshot);
  }

  /** An assembler of {@code config}, restored from {@code snapshot} (none: fresh), open. */
  private static KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit>
      harness(RequestUnitAssembler.AssemblerConfig config, OperatorSubtaskState snapshot)
          throws Exception {
    return harness(config, ModelConfig.defaults(), snapshot);
  }

  /** An assembler of {@code config} and {@code model}, restored from {@code snapshot}, open. */
  private static KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit>
      harness(
          RequestUnitAssembler.AssemblerConfig config,
          ModelConfig model,
          OperatorSubtaskState snapshot)
          throws Exception {
    var h =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new KeyedCoProcessOperator<>(new RequestUnitAssembler(config, model)),
            EventPart::requestId,
            EventPart::requestId,
            Types.STRING);
    h.setup();
    if (snapshot != null) {
      h.initializeState(snapshot);
    }
    h.open();
    return h;
  }

  private static RequestEvent request(String id, long ts) {
    return RequestEvent.newBuilder()
        .setRequestId(id)
        .setTimestampMs(ts)
        .setFeatures(Map.of("user_id", List.of("u-" + id)))
        .setDense(Map.of("hour", 3f))
        .build();
  }

  private static ImpressionEvent impression(String rid, String iid, long ts) {
    IMPRESSION_BY_ITEM.put(FeatureIds.of("item_id", "i-" + iid), iid);
    return ImpressionEvent.newBuilder()
        .setRequestId(rid)
        .setImpressionId(iid)
        .setTimestampMs(ts)
        .setFeatures(Map.of("item_id", List.of("i-" + iid)))
        .setDense(Map.of())
        .setLabels(Map.of("click", 1f))
        .build();
  }

  private static void send(
      KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit> h,
      RequestEvent r)
      throws Exception {
    h.processElement1(
        new StreamRecord<>(ENCODER.requestPart(r, AvroCodec.encode(r)), r.getTimestampMs()));
  }

  private static void send(
      KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit> h,
      ImpressionEvent e)
      throws Exception {
    h.processElement2(
        new StreamRecord<>(ENCODER.impressionPart(e, AvroCodec.encode(e)), e.getTimestampMs()));
  }

  private static List<DeadLetter> deadLetters(
      KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit> h) {
    List<DeadLetter> out = new ArrayList<>();
    var q = h.getSideOutput(RequestUnitAssembler.DEAD_LETTERS);
    if (q != null) {
      q.forEach(r -> out.add(r.getValue()));
    }
    return out;
  }

  /** The unit's impressions, by the ids of the test impressions their item ids belong to. */
  private static List<String> ids(CompactUnit u) {
    List<String> out = new ArrayList<>();
    int first = LAYOUT.requestFeatures();
    for (int k = 0; k < u.impressions(); k++) {
      int bag = first + k * LAYOUT.impressionFeatures();
      out.add(IMPRESSION_BY_ITEM.get(u.ids()[u.bagStart(bag)]));
    }
    return out;
  }

  /** The ids of the unit's user_id bag (the request's first). */
  private static List<Long> userIds(CompactUnit u) {
    List<Long> out = new ArrayList<>();
    for (int k = u.bagStart(0); k < u.bagEnd(0); k++) {
      out.add(u.ids()[k]);
    }
    return out;
  }

  @Test
  void joinsImpressionsInsideTheWindowInTimeOrderWhenTheWatermarkReachesTheClose()
      throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 10_000));
      send(h, impression("r1", "b", 10_500));
      send(h, impression("r1", "a", 10_200));
      send(h, impression("r1", "c", 10_200));
      h.processBothWatermarks(new Watermark(10_999));
      assertThat(h.extractOutputValues()).isEmpty();

      h.processBothWatermarks(new Watermark(11_000));
      List<CompactUnit> units = h.extractOutputValues();
      assertThat(units).hasSize(1);
      CompactUnit u = units.get(0);
      assertThat(ids(u)).containsExactly("a", "c", "b");
      assertThat(u.requestId()).isEqualTo("r1");
      assertThat(u.timestampMs()).isEqualTo(10_000);
      assertThat(u.closedAtMs()).isEqualTo(11_000);
      assertThat(userIds(u)).containsExactly(FeatureIds.of("user_id", "u-r1"));
      assertThat(u.requestDense()).containsExactly(UnitEncoder.squash(3f));
      @SuppressWarnings("unchecked")
      StreamRecord<CompactUnit> rec =
          (StreamRecord<CompactUnit>)
              h.getOutput().stream()
                  .filter(o -> o instanceof StreamRecord)
                  .findFirst()
                  .orElseThrow();
      assertThat(rec.getTimestamp()).isEqualTo(11_000);
      assertThat(deadLetters(h)).isEmpty();
    }
  }

  @Test
  void dropsRepeatedImpressionIdsAndKeepsTheFirstCopy() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      send(h, impression("r1", "x", 100));
      send(h, impression("r1", "x", 100)); // a repeat: counted, not a dead letter
      ImpressionEvent other = impression("r1", "x", 300);
      other.setLabels(Map.of("click", 0f));
      send(h, other); // the same id, other content: a conflicting duplicate
      send(h, impression("r1", "y", 200));
      h.processBothWatermarks(new Watermark(WINDOW));
      CompactUnit u = h.extractOutputValues().get(0);
      assertThat(ids(u)).containsExactly("x", "y");
      assertThat(u.labels()[0]).as("the first copy's label").isEqualTo(1f);
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl)
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.CONFLICTING_DUPLICATE);
      assertThat(dl.get(0).getDetail()).contains("differs");
    }
  }

  @Test
  void anImpressionTimedPastTheWindowOrArrivingAfterTheCloseIsLate() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      send(h, impression("r1", "past", WINDOW)); // at the close: outside the window
      send(h, impression("r1", "ok", WINDOW - 1));
      h.processBothWatermarks(new Watermark(WINDOW));
      send(h, impression("r1", "after", 900)); // in time, but its unit has closed
      assertThat(ids(h.extractOutputValues().get(0))).containsExactly("ok");
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl)
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.LATE, DeadLetterReasons.LATE);
      assertThat(dl)
          .allSatisfy(
              d -> {
                assertThat(d.getKey()).isEqualTo("r1");
                assertThat(d.getSourceTopic()).isEqualTo("impressions");
                assertThat(d.getDetail()).isNotBlank();
              });
      assertThat(
              AvroCodec.decode(dl.get(0).getPayload().array(), ImpressionEvent.class)
                  .getImpressionId())
          .isEqualTo("past");
      assertThat(
              AvroCodec.decode(dl.get(1).getPayload().array(), ImpressionEvent.class)
                  .getImpressionId())
          .isEqualTo("after");
    }
  }

  @Test
  void impressionsThatArriveBeforeTheirRequestJoinIt() throws Exception {
    try (var h = harness()) {
      send(h, impression("r1", "a", 5_100));
      send(h, impression("r1", "late", 6_000));
      send(h, request("r1", 5_000));
      h.processBothWatermarks(new Watermark(6_000));
      assertThat(ids(h.extractOutputValues().get(0))).containsExactly("a");
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.LATE);
    }
  }

  @Test
  void anImpressionWhoseRequestFirstImpressionTimeEqualsTheRequestTimeStillJoins()
      throws Exception {
    // the orphan timer of the waiting impression and the unit's close timer fall on the same time
    try (var h = harness()) {
      send(h, impression("r1", "a", 5_000));
      send(h, request("r1", 5_000));
      h.processBothWatermarks(new Watermark(6_000));
      assertThat(h.extractOutputValues()).hasSize(1);
      assertThat(deadLetters(h)).isEmpty();
    }
  }

  @Test
  void impressionsWhoseRequestNeverComesAreOrphans() throws Exception {
    try (var h = harness()) {
      send(h, impression("ghost", "a", 2_000));
      send(h, impression("ghost", "b", 2_500));
      send(h, impression("ghost", "a", 2_000));
      h.processBothWatermarks(new Watermark(2_999));
      assertThat(deadLetters(h)).isEmpty();
      h.processBothWatermarks(new Watermark(3_000)); // a's window closed, b's runs to 3500
      assertThat(deadLetters(h)).extracting(DeadLetter::getReason).hasSize(1);
      h.processBothWatermarks(new Watermark(3_500));
      assertThat(h.extractOutputValues()).isEmpty();
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsOnly(DeadLetterReasons.ORPHAN)
          .hasSize(2);
      assertThat(h.numKeyedStateEntries()).isZero();
    }
  }

  /**
   * One producer's clock an hour fast moved event time on, and every event on time was late for an
   * hour, its dead letter saying only "at or before the watermark 1796534849257".
   */
  @Test
  void aLateEventsDeadLetterSaysHowFarTheWatermarkRunsAheadOfTheClock() throws Exception {
    long now = System.currentTimeMillis();
    try (var h = harness()) {
      h.processBothWatermarks(new Watermark(now + 3_600_000));
      send(h, request("r1", now));
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl).extracting(DeadLetter::getReason).containsExactly(DeadLetterReasons.LATE);
      assertThat(dl.get(0).getDetail())
          .contains("ahead of this machine's clock: events timed by a clock running fast")
          .containsPattern("(59|60) min ahead");
    }
  }

  /**
   * An impression that comes once the watermark has passed its own time + join window: its request
   * came and closed without it, long before. It was held as waiting for its request, then called an
   * orphan ("no request arrived within the join window") at the next watermark; it is late.
   */
  @Test
  void anImpressionWhoseWindowClosedBeforeItCameIsLateNotAnOrphan() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      h.processBothWatermarks(new Watermark(5_000)); // r1 closed without impressions
      send(h, impression("r1", "straggler", 500)); // after r1's marker too (closed + window)
      h.processBothWatermarks(new Watermark(20_000));

      assertThat(h.extractOutputValues()).isEmpty();
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl).extracting(DeadLetter::getReason).containsExactly(DeadLetterReasons.LATE);
      assertThat(dl.get(0).getDetail())
          .contains("join window closed at 1970-01-01T00:00:01.500Z (1500)")
          .contains("the watermark 1970-01-01T00:00:05Z (5000)");
      assertThat(h.numKeyedStateEntries()).isZero();
    }
  }

  @Test
  void aRequestWhoseWindowHasClosedIsLateAndTakesItsWaitingImpressionsWithIt() throws Exception {
    try (var h = harness()) {
      send(h, impression("r1", "a", 500));
      h.processBothWatermarks(new Watermark(1_000));
      // the orphan timer (1,500) has not fired yet; the request's window (0..1,000) has closed
      send(h, request("r1", 0));
      send(h, impression("r1", "b", 700));
      h.processBothWatermarks(new Watermark(10_000));
      assertThat(h.extractOutputValues()).isEmpty();
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl)
          .extracting(DeadLetter::getReason)
          .containsOnly(DeadLetterReasons.LATE)
          .hasSize(3);
      assertThat(dl)
          .extracting(DeadLetter::getSourceTopic)
          .containsExactly("requests", "impressions", "impressions");
      assertThat(h.numKeyedStateEntries()).isZero();
    }
  }

  @Test
  void aSecondRequestWithTheSameIdIsDropped() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      send(h, impression("r1", "a", 10));
      RequestEvent other = request("r1", 50);
      other.setFeatures(Map.of("user_id", List.of("someone-else")));
      send(h, other);
      h.processBothWatermarks(new Watermark(WINDOW));
      send(h, request("r1", 0)); // a repeat of the open one
      send(h, request("r1", 1_200)); // the closed marker still stands
      h.processBothWatermarks(new Watermark(5 * WINDOW));
      List<CompactUnit> units = h.extractOutputValues();
      assertThat(units).hasSize(1);
      assertThat(userIds(units.get(0))).containsExactly(FeatureIds.of("user_id", "u-r1"));
      // the one whose content differed while the unit was open is a dead letter; the others count
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason, DeadLetter::getSourceTopic)
          .containsExactly(tuple(DeadLetterReasons.CONFLICTING_DUPLICATE, "requests"));
    }
  }

  @Test
  void impressionsBeyondTheLimitAreTooLargeAsTheyArrive() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      for (int i = 9; i >= 0; i--) {
        send(h, impression("r1", "i" + i, 100 + i));
      }
      // the state holds no more than the bound, whatever keeps coming
      assertThat(h.numKeyedStateEntries()).isLessThanOrEqualTo(MAX_IMPRESSIONS + 4);
      h.processBothWatermarks(new Watermark(WINDOW));
      assertThat(ids(h.extractOutputValues().get(0))).containsExactly("i5", "i6", "i7", "i8", "i9");
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsOnly(DeadLetterReasons.TOO_LARGE)
          .hasSize(5);
    }
  }

  @Test
  void thousandsOfLargeImpressionsForOneRequestKeepTheStateWithinItsBytes() throws Exception {
    var config =
        new RequestUnitAssembler.AssemblerConfig(
            WINDOW, 100_000, "requests", "impressions", 1 << 16, 200_000, 1_000, SegmentCut.NONE);
    try (var h = harness(config, null)) {
      send(h, request("r1", 0));
      Map<String, Float> dense = new HashMap<>();
      for (int d = 0; d < 200; d++) {
        dense.put("pad" + d, (float) d);
      }
      int n = 3_000;
      for (int i = 0; i < n; i++) {
        ImpressionEvent e = impression("r1", "i" + i, 100);
        e.setDense(dense);
        send(h, e);
      }
      h.processBothWatermarks(new Watermark(WINDOW));
      int kept = h.extractOutputValues().get(0).impressions();
      List<DeadLetter> dl = deadLetters(h);
      assertThat(kept + dl.size()).isEqualTo(n);
      assertThat(kept).isBetween(10, 200);
      assertThat(dl).extracting(DeadLetter::getReason).containsOnly(DeadLetterReasons.TOO_LARGE);
      assertThat(dl.get(0).getDetail()).contains("assembler.max-unit-bytes");
      assertThat(dl)
          .allSatisfy(d -> assertThat(d.getPayload().remaining()).isLessThanOrEqualTo(1_000));
    }
  }

  /**
   * A unit takes no more rows of a table than the table keeps hot, each table by its own capacity:
   * with item_id kept at 3 rows, the fourth impression (a fourth item) is too large, named by its
   * table, while the unit's ids in all (a user, an hour, four items) are more than 3.
   */
  @Test
  void aUnitTakesNoMoreRowsOfATableThanItKeepsHot() throws Exception {
    org.apache.flink.configuration.Configuration c =
        new org.apache.flink.configuration.Configuration();
    c.set(ModelOptions.TABLE_HOT_CAPACITY, Map.of("item_id", "3"));
    c.set(ModelOptions.SHARED_VOCABULARY, Map.of());
    try (var h = harness(CONFIG, JobConfig.model(c), null)) {
      send(h, request("r1", 0));
      for (String id : List.of("a", "b", "c", "d")) {
        send(h, impression("r1", id, 10));
      }
      RequestEvent many = request("r2", 0);
      many.setFeatures(Map.of("user_id", List.of("u"), "recent_items", List.of("x", "y", "z")));
      send(h, many); // recent_items has a table of its own here: 3 rows fit
      send(h, impression("r2", "e", 10));
      h.processBothWatermarks(new Watermark(WINDOW));
      List<CompactUnit> units = h.extractOutputValues();
      assertThat(units).extracting(CompactUnit::impressions).containsExactlyInAnyOrder(3, 1);
      List<DeadLetter> dl = deadLetters(h);
      assertThat(dl).extracting(DeadLetter::getReason).containsExactly(DeadLetterReasons.TOO_LARGE);
      assertThat(dl.get(0).getDetail())
          .endsWith(
              "and its tables' hot capacities; one more would take 4 rows of table 'item_id',"
                  + " which keeps 3 hot (model.table.hot-capacity-rows, model.hot-capacity-rows)");
    }
  }

  /**
   * Impressions that came after their request was dead-lettered were called late ("its unit had
   * already closed"), a unit that never existed: a user would tune the join window for them.
   */
  @Test
  void impressionsAfterTheirRequestWasDeadLetteredShareItsReason() throws Exception {
    RequestEvent big = request("r1", 0);
    big.setFeatures(Map.of("user_id", List.of("u1", "u2", "u3", "u4")));
    var config =
        new RequestUnitAssembler.AssemblerConfig(
            WINDOW, 100, "requests", "impressions", 3, 1 << 20, 1_000, SegmentCut.NONE);
    try (var h = harness(config, null)) {
      send(h, big); // more ids than a unit may hold
      send(h, impression("r1", "a", 10));
      h.processBothWatermarks(new Watermark(5 * WINDOW));
      send(h, request("r3", 0)); // late: its window closed long ago
      send(h, impression("r3", "b", 10));
      assertThat(h.extractOutputValues()).isEmpty();
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason, DeadLetter::getSourceTopic, DeadLetter::getDetail)
          .containsExactly(
              tuple(DeadLetterReasons.TOO_LARGE, "requests", deadLetters(h).get(0).getDetail()),
              tuple(
                  DeadLetterReasons.TOO_LARGE,
                  "impressions",
                  "its request 'r1' is a dead letter (too_large)"),
              tuple(DeadLetterReasons.LATE, "requests", deadLetters(h).get(2).getDetail()),
              tuple(
                  DeadLetterReasons.LATE,
                  "impressions",
                  "its request 'r3' is a dead letter (late)"));
    }
  }

  @Test
  void aRequestArrivingLastIsCountedInTheBoundsAtTheClose() throws Exception {
    int requestIds = ENCODER.requestPart(request("r1", 0), null).ids().length;
    int impressionIds = ENCODER.impressionPart(impression("r1", "a", 10), null).ids().length;
    var config =
        new RequestUnitAssembler.AssemblerConfig(
            WINDOW,
            100,
            "requests",
            "impressions",
            requestIds + 2 * impressionIds,
            1 << 20,
            1_000,
            SegmentCut.NONE);
    try (var h = harness(config, null)) {
      for (String id : List.of("c", "a", "b")) {
        send(h, impression("r1", id, 10));
      }
      send(h, request("r1", 0));
      h.processBothWatermarks(new Watermark(WINDOW));
      assertThat(ids(h.extractOutputValues().get(0))).containsExactly("a", "b");
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.TOO_LARGE);
    }
  }

  @Test
  void aRequestWithoutImpressionsEmitsNothingAndLeavesNoState() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      h.processBothWatermarks(new Watermark(10 * WINDOW));
      assertThat(h.extractOutputValues()).isEmpty();
      assertThat(deadLetters(h)).isEmpty();
      assertThat(h.numKeyedStateEntries()).isZero();
    }
  }

  @Test
  void allStateIsGoneOnceTheClosedMarkerExpires() throws Exception {
    try (var h = harness()) {
      send(h, request("r1", 0));
      send(h, impression("r1", "a", 10));
      h.processBothWatermarks(new Watermark(WINDOW));
      assertThat(h.numKeyedStateEntries()).isPositive();
      h.processBothWatermarks(new Watermark(2 * WINDOW));
      assertThat(h.numKeyedStateEntries()).isZero();
    }
  }

  /**
   * Flink keeps no watermark: a job restored from a checkpoint started from none, and a request and
   * impression it had dead-lettered as late before the restart were trained after it (the trainer's
   * versions going back in event time). The watermark the checkpoint had reached now stands after
   * the restore, until the sources' own passes it.
   */
  @Test
  void whatWasLateBeforeARestoreIsLateAfterIt() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.processBothWatermarks(new Watermark(100_000));
      send(h, request("r0", 10_000));
      assertThat(deadLetters(h)).extracting(DeadLetter::getReason).containsExactly("late");
      snapshot = h.snapshot(1L, 1L);
    }
    try (var h = harness(snapshot)) {
      // the same kind of event after the restore, before any watermark
      send(h, request("r1", 10_000));
      send(h, impression("r1", "a", 10_010));
      send(h, impression("r9", "b", 10_020)); // its request never comes
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsExactly("late", "late", "late");
      // a request after the checkpoint's watermark joins as before
      send(h, request("r2", 100_500));
      send(h, impression("r2", "c", 100_510));
      h.processBothWatermarks(new Watermark(200_000));
      assertThat(h.extractOutputValues()).extracting(CompactUnit::requestId).containsExactly("r2");
    }
  }

  @Test
  void aUnitOpenAtASnapshotComesOutWholeAndOnceAfterARestore() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      send(h, request("r1", 0));
      send(h, impression("r1", "a", 10));
      send(h, impression("r2", "waiting", 20)); // its request comes after the restore
      h.processBothWatermarks(new Watermark(500));
      snapshot = h.snapshot(1L, 1L);
      send(h, impression("r1", "not-in-the-snapshot", 30));
    }
    try (var h = harness(snapshot)) {
      send(h, impression("r1", "b", 40));
      send(h, impression("r1", "a", 10)); // replayed from the source: still a duplicate
      send(h, request("r2", 15));
      h.processBothWatermarks(new Watermark(2_000));
      Map<String, List<String>> units = new TreeMap<>();
      h.extractOutputValues().forEach(u -> units.put(u.requestId(), ids(u)));
      assertThat(units)
          .containsExactly(Map.entry("r1", List.of("a", "b")), Map.entry("r2", List.of("waiting")));
      assertThat(deadLetters(h)).isEmpty();
    }
  }

  /**
   * Random arrivals of many requests, their impressions (some duplicated, some timed past the
   * window, some arriving before the request), orphans and watermarks: every impression ends in
   * exactly one place, and each unit holds exactly the impressions it should.
   */
  @Test
  void everyImpressionEndsInExactlyOnePlace() throws Exception {
    SplittableRandom rnd = new SplittableRandom(2024);
    for (int round = 0; round < 5; round++) {
      try (var h = harness()) {
        List<Object> events = new ArrayList<>();
        Map<String, Set<String>> expected = new HashMap<>();
        Set<String> tooLate = new HashSet<>();
        Set<String> orphans = new HashSet<>();
        int duplicates = 0;
        int sent = 0;
        for (int r = 0; r < 300; r++) {
          String rid = "r" + r;
          long ts = 1_000L * r / 3;
          boolean orphan = rnd.nextInt(10) == 0;
          if (!orphan) {
            events.add(request(rid, ts));
          }
          int n = rnd.nextInt(MAX_IMPRESSIONS + 1);
          for (int k = 0; k < n; k++) {
            String iid = rid + "-" + k;
            boolean late = rnd.nextInt(8) == 0;
            long its = late ? ts + WINDOW + rnd.nextInt(300) : ts + rnd.nextInt((int) WINDOW);
            events.add(impression(rid, iid, its));
            sent++;
            if (rnd.nextInt(6) == 0) {
              events.add(impression(rid, iid, its));
              sent++;
              duplicates++;
            }
            if (orphan) {
              orphans.add(iid);
            } else if (late) {
              tooLate.add(iid);
            } else {
              expected.computeIfAbsent(rid, x -> new HashSet<>()).add(iid);
            }
          }
        }
        // arrival order: each event moves at most 30 places, far less than the watermark's lag
        // behind
        // the newest time, so no request arrives after its window closed
        double[] key = new double[events.size()];
        Integer[] order = new Integer[events.size()];
        for (int i = 0; i < key.length; i++) {
          key[i] = i + rnd.nextDouble() * 30;
          order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(key[a], key[b]));
        List<Object> shuffled = new ArrayList<>();
        for (int i : order) {
          shuffled.add(events.get(i));
        }
        events = shuffled;
        long maxTs = 0;
        for (Object e : events) {
          if (e instanceof RequestEvent r) {
            send(h, r);
            maxTs = Math.max(maxTs, r.getTimestampMs());
          } else {
            ImpressionEvent im = (ImpressionEvent) e;
            send(h, im);
            maxTs = Math.max(maxTs, im.getTimestampMs());
          }
          if (rnd.nextInt(15) == 0) {
            h.processBothWatermarks(new Watermark(maxTs - 5 * WINDOW));
          }
        }
        h.processBothWatermarks(new Watermark(Long.MAX_VALUE));

        Map<String, Set<String>> got = new HashMap<>();
        int joined = 0;
        for (CompactUnit u : h.extractOutputValues()) {
          assertThat(got).doesNotContainKey(u.requestId());
          got.put(u.requestId(), new HashSet<>(ids(u)));
          joined += u.impressions();
        }
        Map<String, Integer> deadCopies = new HashMap<>();
        Set<String> deadLate = new HashSet<>();
        Set<String> deadOrphan = new HashSet<>();
        for (DeadLetter d : deadLetters(h)) {
          String id =
              AvroCodec.decode(d.getPayload().array(), ImpressionEvent.class).getImpressionId();
          (d.getReason().equals(DeadLetterReasons.LATE) ? deadLate : deadOrphan).add(id);
          deadCopies.merge(id, 1, Integer::sum);
        }
        assertThat(got).isEqualTo(expected);
        assertThat(deadLate).isEqualTo(tooLate);
        assertThat(deadOrphan).isEqualTo(orphans);
        // a joined impression is never also a dead letter; a waiting (orphan) one is deduplicated;
        // a late one is dead-lettered once per copy that met its request or its closed unit
        expected
            .values()
            .forEach(ids -> ids.forEach(id -> assertThat(deadCopies).doesNotContainKey(id)));
        orphans.forEach(id -> assertThat(deadCopies.get(id)).as(id).isEqualTo(1));
        assertThat(joined + deadLetters(h).size()).isBetween(sent - duplicates, sent);
        assertThat(h.numKeyedStateEntries()).isZero();
      }
    }
  }

  /** An event read from its topic's {@code partition} at {@code offset}. */
  private record AtOffset(Object event, int partition, long offset, long timeMs) {
    boolean isRequest() {
      return event instanceof RequestEvent;
    }

    EventPart part() {
      if (event instanceof RequestEvent r) {
        return ENCODER.requestPart(r, AvroCodec.encode(r)).readAt(partition, offset);
      }
      ImpressionEvent e = (ImpressionEvent) event;
      return ENCODER.impressionPart(e, AvroCodec.encode(e)).readAt(partition, offset);
    }
  }

  /**
   * The events of {@code sent}, in the order sent, at their offsets: each topic's partitions
   * numbered in that order, a request in partition {@code partitions(event)}.
   */
  private static List<AtOffset> atOffsets(
      List<Object> sent, java.util.function.ToIntFunction<Object> partition) {
    Map<String, Long> next = new HashMap<>();
    List<AtOffset> out = new ArrayList<>();
    for (Object e : sent) {
      int p = partition.applyAsInt(e);
      long t =
          e instanceof RequestEvent r ? r.getTimestampMs() : ((ImpressionEvent) e).getTimestampMs();
      String key = (e instanceof RequestEvent ? "r" : "i") + p;
      long offset = next.merge(key, 1L, Long::sum) - 1;
      out.add(new AtOffset(e, p, offset, t));
    }
    return out;
  }

  /**
   * What a run of the assembler gave: each unit's impressions, the dead letters' reasons by event
   * (a second copy's by its id, partition and offset), and every dead letter's event id, partition
   * and offset.
   */
  private record Run(
      Map<String, List<String>> units,
      Map<String, String> dead,
      Set<String> at,
      Map<String, Long> counts) {
    long count(String counter) {
      return counts.get(counter);
    }
  }

  /** The impressions' counters of the assembler {@code h} runs. */
  private static Map<String, Long> impressionCounts(
      KeyedTwoInputStreamOperatorTestHarness<String, EventPart, EventPart, CompactUnit> h)
      throws ReflectiveOperationException {
    Object assembler = ((KeyedCoProcessOperator<?, ?, ?, ?>) h.getOperator()).getUserFunction();
    Map<String, Long> out = new HashMap<>();
    for (String f :
        List.of(
            "joined",
            "duplicateImpressions",
            "deadImpressions",
            "handedOn",
            "impressionsBeforeHandoff")) {
      java.lang.reflect.Field field = RequestUnitAssembler.class.getDeclaredField(f);
      field.setAccessible(true);
      out.put(f, ((org.apache.flink.metrics.Counter) field.get(assembler)).getCount());
    }
    return out;
  }

  /** A job's range of one topic: per partition, from (inclusive) and to (exclusive) offsets. */
  private record Range(Map<Integer, Long> from, Map<Integer, Long> to) {
    static final Range ALL = new Range(Map.of(), Map.of());

    boolean holds(AtOffset a) {
      return a.offset() >= from.getOrDefault(a.partition(), 0L)
          && a.offset() < to.getOrDefault(a.partition(), Long.MAX_VALUE);
    }
  }

  /**
   * Runs an assembler of {@code cut} over the events of {@code sent} in the ranges given, in the
   * order sent, the watermark {@code disorder} behind the newest event, then to the end.
   */
  private static Run run(
      SegmentCut cut, List<AtOffset> sent, Range requests, Range impressions, long disorder)
      throws Exception {
    Map<String, List<String>> units = new TreeMap<>();
    Map<String, String> dead = new TreeMap<>();
    Set<String> at = new HashSet<>();
    try (var h = harness(CONFIG.withCut(cut), null)) {
      long newest = Long.MIN_VALUE;
      for (AtOffset a : sent) {
        if (!(a.isRequest() ? requests : impressions).holds(a)) {
          continue;
        }
        EventPart p = a.part();
        if (a.isRequest()) {
          h.processElement1(new StreamRecord<>(p, a.timeMs()));
        } else {
          h.processElement2(new StreamRecord<>(p, a.timeMs()));
        }
        newest = Math.max(newest, a.timeMs());
        h.processBothWatermarks(new Watermark(newest - disorder));
      }
      h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
      for (CompactUnit u : h.extractOutputValues()) {
        assertThat(units).doesNotContainKey(u.requestId());
        units.put(u.requestId(), ids(u));
      }
      for (DeadLetter d : deadLetters(h)) {
        String id =
            d.getSourceTopic().equals("requests")
                ? "request " + d.getKey()
                : AvroCodec.decode(d.getPayload().array(), ImpressionEvent.class).getImpressionId();
        String copy = id + "@" + d.getSourcePartition() + "/" + d.getSourceOffset();
        assertThat(at.add(copy)).as("one dead letter per event: %s", copy).isTrue();
        dead.put(dead.containsKey(id) ? copy : id, d.getReason());
      }
      assertThat(h.numKeyedStateEntries()).isZero();
      Map<String, Long> counts = impressionCounts(h);
      long read = sent.stream().filter(a -> !a.isRequest() && impressions.holds(a)).count();
      assertThat(
              counts.get("joined")
                  + counts.get("duplicateImpressions")
                  + counts.get("deadImpressions")
                  + counts.get("handedOn")
                  + counts.get("impressionsBeforeHandoff"))
          .as("every impression read ends in one place")
          .isEqualTo(read);
      return new Run(units, dead, at, counts);
    }
  }

  /** The two jobs either side of a cut, and one job over everything. */
  private record Segments(Run whole, Run before, Run after) {}

  /**
   * A backfill of {@code sent} until {@code cut} that hands on, reading the impressions on for a
   * join window and {@code disorder}, and the job after it, as {@code StreamrecJob} resolves their
   * offsets; and one job over everything.
   */
  private static Segments segments(List<AtOffset> sent, long cut, long disorder) throws Exception {
    long margin = WINDOW + disorder;
    Map<Integer, Long> requestsAtCut = firstAt(sent, true, cut);
    Map<Integer, Long> requestsHandedOn = firstAt(sent, true, cut - 2 * margin);
    Map<Integer, Long> impressionsHandedOn = firstAt(sent, false, cut - margin);
    Map<Integer, Long> impressionsStop = firstAt(sent, false, cut + margin);
    Run whole = run(SegmentCut.NONE, sent, Range.ALL, Range.ALL, disorder);
    Run before =
        run(
            new SegmentCut(requestsHandedOn, impressionsHandedOn, Map.of(), Map.of()),
            sent,
            new Range(Map.of(), requestsAtCut),
            new Range(Map.of(), impressionsStop),
            disorder);
    Run after =
        run(
            new SegmentCut(Map.of(), Map.of(), requestsAtCut, impressionsStop),
            sent,
            new Range(requestsHandedOn, Map.of()),
            new Range(impressionsHandedOn, Map.of()),
            disorder);
    // no unit is trained twice, no event dead-lettered by both
    after.units().keySet().forEach(r -> assertThat(before.units()).doesNotContainKey(r));
    after.at().forEach(copy -> assertThat(before.at()).doesNotContain(copy));
    return new Segments(whole, before, after);
  }

  private static <V> Map<String, V> both(Map<String, V> a, Map<String, V> b) {
    Map<String, V> out = new TreeMap<>(a);
    out.putAll(b);
    return out;
  }

  /**
   * A backfill that hands on at a cut and the job after it: together they make the units one run
   * over everything makes, each whole, and each dead letter once. Before, the backfill stopped the
   * impressions at the cut: its last requests' units closed without their later impressions, which
   * the next job dead-lettered as orphans.
   */
  @Test
  void aBackfillHandingOnAtACutAndTheJobAfterItMakeTheUnitsOneRunMakes() throws Exception {
    long disorder = 200;
    List<Object> sent = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      long t = 10_000 + i * 100L;
      sent.add(request("r" + i, t));
      for (long d : new long[] {50, 450, 950}) {
        sent.add(impression("r" + i, "r" + i + "+" + d, t + d));
      }
    }
    long cut = 13_000; // request r30 is the first at the cut
    // an orphan past the cut; a late impression of a request near it, beyond where the backfill
    // reads; and one of a request far before the cut, read by both jobs, an orphan (its request
    // is forgotten a join window after its unit closed)
    sent.add(impression("nobody", "orphan", cut + 300));
    sent.add(impression("r25", "late-r25", cut + 1_500));
    sent.add(impression("r5", "stray-r5", cut + 100));
    sent.sort(java.util.Comparator.comparingLong(RequestUnitAssemblerTest::timeOf));
    Segments s = segments(atOffsets(sent, e -> 0), cut, disorder);

    assertThat(s.whole().units()).hasSize(60).allSatisfy((r, ids) -> assertThat(ids).hasSize(3));
    assertThat(both(s.before().units(), s.after().units())).isEqualTo(s.whole().units());
    assertThat(s.before().units()).containsKeys("r29").doesNotContainKey("r30");
    assertThat(s.whole().dead())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "orphan", DeadLetterReasons.ORPHAN,
                "late-r25", DeadLetterReasons.LATE,
                "stray-r5", DeadLetterReasons.ORPHAN));
    assertThat(both(s.before().dead(), s.after().dead())).isEqualTo(s.whole().dead());
  }

  /**
   * The same over random traffic in two partitions of each topic, sent out of order within the
   * disorder allowed, with orphans, late impressions, late arrivals and copies sent twice: every
   * impression is trained at most once and ends in a unit or a dead letter of one of the two jobs,
   * in exactly one place where none is sent twice; where nothing arrives late, the units are the
   * ones a single run makes.
   */
  @Test
  void everyImpressionEndsInOnePlaceAcrossACutInRandomTraffic() throws Exception {
    long disorder = 200;
    for (int seed = 0; seed < 24; seed++) {
      SplittableRandom rnd = new SplittableRandom(seed);
      boolean stragglers = seed % 2 == 1;
      List<Object> events = new ArrayList<>();
      Map<Object, Long> sentAt = new java.util.IdentityHashMap<>(); // a copy equals its first
      Set<String> impressionIds = new HashSet<>();
      for (int i = 0; i < 150; i++) {
        long t = 10_000 + i * 40L + rnd.nextLong(40);
        RequestEvent r = request("s" + seed + "r" + i, t);
        events.add(r);
        sentAt.put(r, t + rnd.nextLong(disorder));
        if (stragglers && rnd.nextInt(15) == 0) {
          RequestEvent copy = RequestEvent.newBuilder(r).build(); // sent twice
          events.add(copy);
          sentAt.put(copy, sentAt.get(r) + rnd.nextLong(3 * WINDOW));
        }
        int n = rnd.nextInt(9); // up to 8: beyond the unit's bound of 5 at times
        for (int k = 0; k < n; k++) {
          long delay =
              stragglers && rnd.nextInt(12) == 0
                  ? WINDOW + rnd.nextLong(WINDOW)
                  : rnd.nextLong(WINDOW);
          String rid = stragglers && rnd.nextInt(15) == 0 ? "nobody-" + i : r.getRequestId();
          ImpressionEvent e = impression(rid, r.getRequestId() + "-" + k, t + delay);
          events.add(e);
          impressionIds.add(e.getImpressionId());
          long arrives = t + delay + rnd.nextLong(disorder);
          if (stragglers && rnd.nextInt(20) == 0) {
            arrives += 3 * WINDOW; // long after its time
          }
          sentAt.put(e, arrives);
          if (stragglers && rnd.nextInt(15) == 0) {
            ImpressionEvent copy = ImpressionEvent.newBuilder(e).build(); // sent twice
            events.add(copy);
            sentAt.put(copy, arrives + rnd.nextLong(2 * WINDOW));
          }
        }
      }
      events.sort(java.util.Comparator.comparingLong(sentAt::get));
      List<AtOffset> sent =
          atOffsets(
              events,
              e ->
                  e instanceof RequestEvent r
                      ? Math.floorMod(r.getRequestId().hashCode(), 2)
                      : Math.floorMod(((ImpressionEvent) e).getImpressionId().hashCode(), 2));
      long cut = 10_000 + 60 * 40L + rnd.nextLong(40 * 40L);
      Segments s = segments(sent, cut, disorder);

      List<String> trained = new ArrayList<>();
      List<String> ended = new ArrayList<>();
      for (Run run : List.of(s.before(), s.after())) {
        run.units().values().forEach(trained::addAll);
        run.at().stream()
            .filter(id -> !id.startsWith("request "))
            .map(id -> id.replaceFirst("@.*", ""))
            .forEach(ended::add);
      }
      ended.addAll(trained);
      assertThat(trained).as("seed %d", seed).doesNotHaveDuplicates();
      // what the backfill hands on the next job counts; what it counts, the next job does not
      long sentImpressions = sent.stream().filter(a -> !a.isRequest()).count();
      long counted = 0;
      for (Run run : List.of(s.before(), s.after())) {
        counted +=
            run.count("joined") + run.count("duplicateImpressions") + run.count("deadImpressions");
      }
      assertThat(counted)
          .as("seed %d: each impression sent counted once", seed)
          .isEqualTo(sentImpressions);
      if (!stragglers) {
        assertThat(ended).as("seed %d", seed).doesNotHaveDuplicates();
      }
      assertThat(new HashSet<>(ended)).as("seed %d", seed).isEqualTo(impressionIds);
      if (!stragglers) {
        assertThat(both(s.before().units(), s.after().units()))
            .as("seed %d", seed)
            .isEqualTo(s.whole().units());
        assertThat(both(s.before().dead(), s.after().dead()))
            .as("seed %d", seed)
            .isEqualTo(s.whole().dead());
      }
    }
  }

  /**
   * A job started from a handoff and restored from its checkpoint tells the earlier job's requests
   * apart by the handoff it started from, kept in the checkpoint: before, it took them from the
   * file at the handoff's path when restored, which a later backfill may have replaced, and trained
   * again what the earlier job had trained.
   */
  @Test
  void aRestoreKeepsTheHandoffOffsetsTheJobStartedWith() throws Exception {
    SegmentCut started = new SegmentCut(Map.of(), Map.of(), Map.of(0, 10L), Map.of(0, 20L));
    OperatorSubtaskState snapshot;
    try (var h = harness(CONFIG.withCut(started), null)) {
      h.processBothWatermarks(new Watermark(5_000));
      snapshot = h.snapshot(1, 1);
    }
    // the file at the path is another handoff now: its offsets say nothing of this job's start
    try (var h = harness(CONFIG.withCut(SegmentCut.NONE), snapshot)) {
      RequestEvent r = request("r1", 10_000);
      ImpressionEvent e = impression("r1", "a", 10_100);
      h.processElement1(
          new StreamRecord<>(ENCODER.requestPart(r, AvroCodec.encode(r)).readAt(0, 4), 10_000));
      h.processElement2(
          new StreamRecord<>(ENCODER.impressionPart(e, AvroCodec.encode(e)).readAt(0, 15), 10_100));
      h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
      assertThat(h.extractOutputValues()).as("the earlier job's request trains nothing").isEmpty();
      assertThat(deadLetters(h)).isEmpty();
      assertThat(impressionCounts(h).get("impressionsBeforeHandoff")).isEqualTo(1);
    }
  }

  private static long timeOf(Object e) {
    return e instanceof RequestEvent r
        ? r.getTimestampMs()
        : ((ImpressionEvent) e).getTimestampMs();
  }

  /**
   * Per partition of the requests' topic ({@code requests}) or the impressions', the offset of the
   * first event at or after {@code timeMs}, or its end: what Kafka answers for a time.
   */
  private static Map<Integer, Long> firstAt(List<AtOffset> sent, boolean requests, long timeMs) {
    Map<Integer, Long> out = new HashMap<>();
    for (AtOffset a : sent) {
      if (a.isRequest() != requests) {
        continue;
      }
      long end = Math.max(out.getOrDefault(a.partition(), 0L), a.offset() + 1);
      out.put(a.partition(), end);
    }
    for (AtOffset a : sent) {
      if (a.isRequest() == requests && a.timeMs() >= timeMs) {
        out.merge(a.partition(), a.offset(), Math::min);
      }
    }
    return out;
  }

  /** What an earlier release's assembler kept: the events as Avro records, and its close timer. */
  private static final class EarlierReleaseAssembler
      extends KeyedCoProcessFunction<String, RequestEvent, ImpressionEvent, CompactUnit> {
    private transient ValueState<RequestEvent> request;
    private transient MapState<String, ImpressionEvent> impressions;

    @Override
    public void open(OpenContext openContext) {
      request =
          getRuntimeContext()
              .getState(
                  new ValueStateDescriptor<>(
                      RequestUnitAssembler.LEGACY_REQUEST_STATE,
                      new AvroTypeInfo<>(RequestEvent.class)));
      impressions =
          getRuntimeContext()
              .getMapState(
                  new MapStateDescriptor<>(
                      RequestUnitAssembler.LEGACY_IMPRESSIONS_STATE,
                      Types.STRING,
                      new AvroTypeInfo<>(ImpressionEvent.class)));
    }

    @Override
    public void processElement1(RequestEvent r, Context ctx, Collector<CompactUnit> out)
        throws Exception {
      request.update(r);
      ctx.timerService().registerEventTimeTimer(r.getTimestampMs() + WINDOW);
    }

    @Override
    public void processElement2(ImpressionEvent e, Context ctx, Collector<CompactUnit> out)
        throws Exception {
      impressions.put(e.getImpressionId(), e);
    }
  }

  @Test
  void aUnitOpenInAnEarlierReleasesCheckpointClosesAfterTheRestore() throws Exception {
    OperatorSubtaskState snapshot;
    try (var old =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new KeyedCoProcessOperator<>(new EarlierReleaseAssembler()),
            RequestEvent::getRequestId,
            ImpressionEvent::getRequestId,
            Types.STRING)) {
      old.open();
      RequestEvent r = request("r1", 10_000);
      old.processElement1(new StreamRecord<>(r, r.getTimestampMs()));
      for (ImpressionEvent e :
          List.of(impression("r1", "b", 10_500), impression("r1", "a", 10_200))) {
        old.processElement2(new StreamRecord<>(e, e.getTimestampMs()));
      }
      old.processBothWatermarks(new Watermark(10_300));
      snapshot = old.snapshot(1, 1);
    }
    try (var h = harness(snapshot)) {
      send(h, impression("r1", "c", 10_400));
      h.processBothWatermarks(new Watermark(11_000));
      List<CompactUnit> units = h.extractOutputValues();
      assertThat(units).hasSize(1);
      assertThat(ids(units.get(0))).containsExactly("a", "c", "b");
      assertThat(userIds(units.get(0))).containsExactly(FeatureIds.of("user_id", "u-r1"));
      assertThat(deadLetters(h)).isEmpty();
    }
  }

  /**
   * Impressions of one request waiting for it were all orphaned at the first one's window end: a
   * later one, whose own window was still open and whose request then came in time, was an orphan
   * too, and its unit closed without it.
   */
  @Test
  void eachWaitingImpressionIsAnOrphanOnlyOnceItsOwnWindowHasClosed() throws Exception {
    try (var h = harness()) {
      send(h, impression("a", "e1", 0)); // waits: its window closes at 1000
      h.processBothWatermarks(new Watermark(500));
      send(h, impression("a", "e2", 2_500)); // its own window runs to 3500
      h.processBothWatermarks(new Watermark(1_000)); // e1's window closed
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.ORPHAN);
      send(h, request("a", 2_000)); // in time for e2: its unit closes at 3000
      h.processBothWatermarks(new Watermark(3_000));
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .as("only e1 is an orphan")
          .containsExactly(DeadLetterReasons.ORPHAN);
      assertThat(h.extractOutputValues()).hasSize(1);
      assertThat(h.extractOutputValues().get(0).impressions()).isEqualTo(1);
    }
  }

  /** Waiting impressions whose request never comes are each an orphan at their window's end. */
  @Test
  void waitingImpressionsWithoutTheirRequestAreOrphansEachAtItsWindowsEnd() throws Exception {
    try (var h = harness()) {
      send(h, impression("a", "e1", 0));
      send(h, impression("a", "e2", 600));
      h.processBothWatermarks(new Watermark(1_000));
      assertThat(deadLetters(h)).hasSize(1);
      h.processBothWatermarks(new Watermark(1_600));
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReasons.ORPHAN, DeadLetterReasons.ORPHAN);
      assertThat(h.extractOutputValues()).isEmpty();
    }
  }

  /**
   * A live job started from a backfill's handoff keeps the handoff's offsets for its whole life,
   * and its waiting impressions were all orphaned at the first one's window end there, long after
   * the events the two jobs both read: a later one whose request then came in time was an orphan
   * too.
   */
  @Test
  void aJobStartedFromAHandoffOrphansEachWaitingImpressionOnlyOnceItsOwnWindowHasClosed()
      throws Exception {
    SegmentCut started = new SegmentCut(Map.of(), Map.of(), Map.of(0, 10L), Map.of(0, 20L));
    try (var h = harness(CONFIG.withCut(started), null)) {
      ImpressionEvent e1 = impression("a", "e1", 0); // waits: its window closes at 1000
      h.processElement2(
          new StreamRecord<>(ENCODER.impressionPart(e1, AvroCodec.encode(e1)).readAt(0, 30), 0));
      h.processBothWatermarks(new Watermark(500));
      ImpressionEvent e2 = impression("a", "e2", 2_500); // its own window runs to 3500
      h.processElement2(
          new StreamRecord<>(
              ENCODER.impressionPart(e2, AvroCodec.encode(e2)).readAt(0, 31), 2_500));
      h.processBothWatermarks(new Watermark(1_000)); // e1's window closed
      RequestEvent r = request("a", 2_000); // in time for e2: its unit closes at 3000
      h.processElement1(
          new StreamRecord<>(ENCODER.requestPart(r, AvroCodec.encode(r)).readAt(0, 40), 2_000));
      h.processBothWatermarks(new Watermark(3_000));
      assertThat(deadLetters(h))
          .extracting(DeadLetter::getReason)
          .as("only e1 is an orphan")
          .containsExactly(DeadLetterReasons.ORPHAN);
      assertThat(h.extractOutputValues()).hasSize(1);
      assertThat(h.extractOutputValues().get(0).impressions()).isEqualTo(1);
    }
  }
}
