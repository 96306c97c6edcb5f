package io.streamrec.job.assembler;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.LogLines;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * An input whose every partition went idle after it had moved is waited for: the operator's event
 * time stays at that input's last watermark until it moves again or the wait runs out. Flink's own
 * operator (and this one with no wait) goes on with the other input at once, which made the silent
 * topic's later events late.
 */
class SilentInputWaitTest {
  private static final long WAIT_MS = 60_000;
  private static final long HOLD_MS = 2_000;

  /** Emits, for every element, the operator's event time when it came. */
  private static final class EventTimeProbe
      extends KeyedCoProcessFunction<String, String, String, Long> {
    @Override
    public void processElement1(String value, Context ctx, Collector<Long> out) {
      out.collect(ctx.timerService().currentWatermark());
    }

    @Override
    public void processElement2(String value, Context ctx, Collector<Long> out) {
      out.collect(ctx.timerService().currentWatermark());
    }
  }

  private static KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> harness(
      long waitMs) throws Exception {
    return harness(waitMs, HOLD_MS);
  }

  private static KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> harness(
      long waitMs, long holdMs) throws Exception {
    return harness(waitMs, holdMs, null);
  }

  /** A harness restored from {@code state} (null: a first start). */
  private static KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> harness(
      long waitMs, long holdMs, OperatorSubtaskState state) throws Exception {
    var h =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new SilentInputWait<>(new EventTimeProbe(), waitMs, holdMs, "requests", "impressions"),
            v -> v,
            v -> v,
            Types.STRING);
    h.setup();
    if (state != null) {
      h.initializeState(state);
    }
    h.open();
    h.setProcessingTime(0);
    return h;
  }

  private static List<Long> watermarks(
      KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> h) {
    List<Long> w = new ArrayList<>();
    for (Object o : h.getOutput()) {
      if (o instanceof Watermark mark) {
        w.add(mark.getTimestamp());
      }
    }
    return w;
  }

  private static long eventTime(
      KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> h) throws Exception {
    h.processElement1("probe", 0);
    return h.extractOutputValues().get(h.extractOutputValues().size() - 1);
  }

  /**
   * Both inputs move (the requests to 1,000, the impressions to 900), then the impressions' every
   * partition falls silent while the requests go on to 30,000.
   */
  private static void impressionsStallWhileRequestsGoOn(
      KeyedTwoInputStreamOperatorTestHarness<String, String, String, Long> h) throws Exception {
    h.processWatermark1(new Watermark(1_000));
    h.processWatermark2(new Watermark(900));
    h.processWatermarkStatus2(WatermarkStatus.IDLE);
    h.processWatermark1(new Watermark(30_000));
  }

  @Test
  void anInputThatFallsSilentAfterMovingHoldsEventTimeUntilItMovesAgain() throws Exception {
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.setProcessingTime(WAIT_MS - 1);
      assertThat(eventTime(h)).as("event time waits at the silent input's").isEqualTo(900);

      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(25_000));
      assertThat(eventTime(h)).as("held for its partitions still silent").isEqualTo(900);
      h.setProcessingTime(WAIT_MS + 1); // the old wait's timer finds the input moving
      assertThat(eventTime(h)).isEqualTo(900);
      h.setProcessingTime(WAIT_MS - 1 + HOLD_MS);
      assertThat(eventTime(h)).isEqualTo(25_000);
      h.processWatermark1(new Watermark(40_000));
      assertThat(eventTime(h)).isEqualTo(25_000);
      assertThat(watermarks(h)).containsExactly(900L, 25_000L);
    }
  }

  @Test
  void aWaitThatRunsOutLetsTheOtherInputMoveEventTime() throws Exception {
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.setProcessingTime(WAIT_MS);
      assertThat(eventTime(h)).as("the wait ran out").isEqualTo(30_000);
      h.processWatermark1(new Watermark(31_000));
      assertThat(eventTime(h)).isEqualTo(31_000);
    }
  }

  @Test
  void withoutAWaitAnIdleInputIsLeftOutAtOnce() throws Exception {
    try (var h = harness(0)) {
      impressionsStallWhileRequestsGoOn(h);
      assertThat(eventTime(h)).as("Flink's own behaviour").isEqualTo(30_000);
    }
  }

  /**
   * Just started or restored, a checkpoint that had read all of the impressions: they have not
   * moved and their partitions go idle. They are waited for briefly, not for the whole wait.
   */
  @Test
  void anInputThatHasNotMovedSinceTheStartIsWaitedForBriefly() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(1_000));
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.processWatermark1(new Watermark(30_000));
      h.setProcessingTime(SilentInputWait.UNMOVED_WAIT_MS - 1);
      assertThat(eventTime(h)).as("held").isEqualTo(Long.MIN_VALUE);
      h.setProcessingTime(SilentInputWait.UNMOVED_WAIT_MS);
      assertThat(eventTime(h)).as("let go after the brief wait").isEqualTo(30_000);
    }
  }

  /**
   * A job restarted during a broker outage: both inputs have moved nothing and gone idle. When the
   * broker is back the requests' source reads first; the impressions' backlog, read a moment later,
   * was late once the requests alone had carried event time past it (a walk: 1,279 impressions).
   */
  @Test
  void afterARestartInAnOutageTheInputThatReadsSecondStillJoins() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermarkStatus1(WatermarkStatus.IDLE);
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.setProcessingTime(10 * WAIT_MS); // the outage goes on: no timer may run out meanwhile
      h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
      h.processWatermark1(new Watermark(250_000));
      h.setProcessingTime(10 * WAIT_MS + SilentInputWait.UNMOVED_WAIT_MS / 2);
      assertThat(eventTime(h)).as("waiting for the impressions").isEqualTo(Long.MIN_VALUE);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(5_000)); // their backlog, from before the outage
      assertThat(eventTime(h)).as("held for its partitions still silent").isEqualTo(Long.MIN_VALUE);
      h.setProcessingTime(10 * WAIT_MS + SilentInputWait.UNMOVED_WAIT_MS / 2 + HOLD_MS);
      assertThat(eventTime(h)).isEqualTo(5_000);
      h.setProcessingTime(10 * WAIT_MS + SilentInputWait.UNMOVED_WAIT_MS + 1);
      h.processWatermark2(new Watermark(240_000));
      assertThat(eventTime(h)).as("the wait's timer finds them moving").isEqualTo(240_000);
    }
  }

  @Test
  void bothInputsSilentHoldEventTimeWhereItWas() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(5_000));
      h.processWatermark2(new Watermark(4_000));
      h.processWatermarkStatus1(WatermarkStatus.IDLE);
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.setProcessingTime(WAIT_MS / 2);
      // after an outage the requests come back first, with the backlog
      h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
      h.processWatermark1(new Watermark(90_000));
      assertThat(eventTime(h)).as("waiting for the impressions").isEqualTo(4_000);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(60_000));
      assertThat(eventTime(h)).as("both held for their partitions still silent").isEqualTo(4_000);
      h.setProcessingTime(WAIT_MS / 2 + HOLD_MS);
      assertThat(eventTime(h)).isEqualTo(60_000);
    }
  }

  /**
   * A silent topic's backlog comes back partition by partition: its source leaves the partitions
   * still idle out of its watermark, so the first partition back alone carries the topic's
   * watermark to the end of the backlog. Let through at once, it closed the units the other
   * partitions' events were still to join, and those events were late (a walk: 521 of a stalled
   * producer's 12,000 impressions). Held for the sources' idle timeout, they still join.
   */
  @Test
  void anInputThatMovesAgainIsHeldForItsPartitionsStillSilentToComeBack() throws Exception {
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.setProcessingTime(5_000);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE); // its first partition is back
      h.processWatermark2(new Watermark(28_000));
      h.setProcessingTime(5_000 + HOLD_MS / 2);
      h.processElement2("impression of the second partition", 1_500);
      assertThat(h.extractOutputValues())
          .as("the event time the second partition's first event came at")
          .containsExactly(900L);
      h.processWatermark2(new Watermark(29_000));
      h.setProcessingTime(5_000 + HOLD_MS - 1);
      assertThat(eventTime(h)).isEqualTo(900);
      h.setProcessingTime(5_000 + HOLD_MS);
      assertThat(eventTime(h)).as("the newest watermark held").isEqualTo(29_000);
      h.processWatermark2(new Watermark(31_000));
      assertThat(eventTime(h)).as("no longer held").isEqualTo(30_000);
    }
  }

  /**
   * The end of a held input (a backfill's, a drain's) is let through at once: the operator's timers
   * stop at the end of its inputs, and a held end would never have closed the last units.
   */
  @Test
  void theEndOfAHeldInputEndsTheHold() throws Exception {
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(28_000));
      assertThat(eventTime(h)).isEqualTo(900);
      h.processWatermark2(Watermark.MAX_WATERMARK);
      assertThat(eventTime(h)).isEqualTo(30_000);
      h.processWatermark1(Watermark.MAX_WATERMARK);
      assertThat(watermarks(h)).endsWith(Long.MAX_VALUE);
    }
  }

  /**
   * A job restarted during the impressions' stall: its checkpoint says the impressions had moved,
   * so they are waited for the whole wait, as before the restart. It said nothing, and the restored
   * job waited the 10 s of an input that never moved: a walk's 75 s stall with a restart in it left
   * 2,663 impressions late.
   */
  @Test
  void anInputThatHadMovedBeforeARestoreIsWaitedForTheWholeWait() throws Exception {
    OperatorSubtaskState state;
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      state = h.snapshot(1, 1);
    }
    try (var h = harness(WAIT_MS, HOLD_MS, state)) {
      h.processWatermark1(new Watermark(35_000)); // the requests read on from the checkpoint
      h.processWatermarkStatus2(WatermarkStatus.IDLE); // the impressions still stalled
      h.setProcessingTime(SilentInputWait.UNMOVED_WAIT_MS + 1);
      assertThat(eventTime(h))
          .as("held at the impressions' watermark of before the restore, past the 10 s")
          .isEqualTo(900);
      h.setProcessingTime(WAIT_MS);
      assertThat(eventTime(h)).as("the whole wait ran out").isEqualTo(35_000);
    }
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(35_000));
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.setProcessingTime(SilentInputWait.UNMOVED_WAIT_MS);
      assertThat(eventTime(h)).as("a first start: the impressions never moved").isEqualTo(35_000);
    }
  }

  /**
   * A job restored from a checkpoint that had read every request: the requests' source has nothing
   * to read, so no watermark, and goes idle. Held at none, event time stood still for the whole
   * wait while the impressions went on; it stands at the requests' watermark of before the restore,
   * as it would have without the restart, and the impressions move it there.
   */
  @Test
  void anInputThatHadReadEverythingBeforeARestoreHoldsEventTimeWhereItWas() throws Exception {
    OperatorSubtaskState state;
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(30_000)); // every request read
      h.processWatermark2(new Watermark(10_000)); // the impressions behind
      state = h.snapshot(1, 1);
    }
    try (var h = harness(WAIT_MS, HOLD_MS, state)) {
      h.processWatermark2(new Watermark(20_000));
      h.processWatermarkStatus1(WatermarkStatus.IDLE); // nothing more to read
      assertThat(eventTime(h)).isEqualTo(20_000);
      h.processWatermark2(new Watermark(40_000));
      assertThat(eventTime(h)).as("at the requests' watermark of before").isEqualTo(30_000);
    }
  }

  /**
   * A broker outage longer than the wait: both inputs silent, nothing moves event time, and neither
   * is let go. Both were, and the requests, read a moment before the impressions when the broker
   * came back, carried event time past the impressions' backlog (a walk: 1,659 dead letters of a 45
   * s outage under a 20 s wait). The impressions are waited for from when the requests move.
   */
  @Test
  void bothInputsSilentLongerThanTheWaitAreNeitherLetGo() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(5_000));
      h.processWatermark2(new Watermark(4_000));
      h.processWatermarkStatus1(WatermarkStatus.IDLE);
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.setProcessingTime(3 * WAIT_MS); // the outage goes on past the wait
      h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
      h.processWatermark1(new Watermark(90_000));
      h.setProcessingTime(3 * WAIT_MS + HOLD_MS);
      assertThat(eventTime(h)).as("waiting for the impressions").isEqualTo(4_000);
      h.setProcessingTime(4 * WAIT_MS - 1);
      assertThat(eventTime(h)).isEqualTo(4_000);
      h.setProcessingTime(4 * WAIT_MS);
      assertThat(eventTime(h))
          .as("the impressions' wait, from when the requests moved, ran out")
          .isEqualTo(90_000);
      assertThat(watermarks(h)).containsExactly(4_000L, 90_000L);
    }
  }

  /**
   * A topic whose traffic has gaps a little longer than the idle timeout falls silent and moves
   * again every few seconds: each time logged two lines at INFO (four with both topics), 68 in 2.5
   * minutes of a walk. Its first silence is logged at INFO, the others for ten minutes at DEBUG.
   */
  @Test
  void aTopicThatFallsSilentEveryFewSecondsIsLoggedAtInfoOnceInTenMinutes() throws Exception {
    List<String> lines = new ArrayList<>();
    try (var log = LogLines.of(SilentInputWait.class, Level.INFO, lines);
        var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(1_000));
      h.processWatermark2(new Watermark(900));
      for (int i = 0; i < 20; i++) {
        h.setProcessingTime(i * 6_000L);
        h.processWatermarkStatus2(WatermarkStatus.IDLE);
        h.setProcessingTime(i * 6_000L + 4_000);
        h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      }
      assertThat(lines)
          .as("two minutes of gaps")
          .containsExactly(
              "every partition of the impressions is silent: event time waits for it up to 1 min",
              "the impressions moves again: its event time is held for 2 s, for its partitions"
                  + " still silent to come back");
      h.setProcessingTime(SilentInputWait.SAY_EVERY_MS);
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      assertThat(lines).as("ten minutes after the first").hasSize(3);
    }
  }

  /**
   * A topic silent at the start, before it first moved, used up its ten minutes of INFO lines: the
   * silence of a walk's broker outage 40 s after the start was logged at DEBUG only.
   */
  @Test
  void aSilenceBeforeATopicFirstMovedLeavesItsInfoLinesForItsLaterSilences() throws Exception {
    List<String> lines = new ArrayList<>();
    try (var log = LogLines.of(SilentInputWait.class, Level.INFO, lines);
        var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(1_000));
      h.processWatermarkStatus2(WatermarkStatus.IDLE); // the impressions' source reads later
      h.setProcessingTime(2_000);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(900));
      h.setProcessingTime(40_000);
      h.processWatermarkStatus2(WatermarkStatus.IDLE); // an outage
      assertThat(lines)
          .containsExactly(
              "every partition of the impressions is silent: event time waits for it up to 10 s",
              "the impressions moves: its event time is held for 2 s, for its partitions still"
                  + " silent to come back",
              "every partition of the impressions is silent: event time waits for it up to 1 min");
    }
  }

  /**
   * The impressions let go after their wait, then the requests fall silent too (a broker outage):
   * nothing moves event time, so the requests are not let go either, and when the impressions come
   * back first they are waited for from then; let go too, the impressions alone carried event time
   * past the requests' backlog.
   */
  @Test
  void anInputIsNotLetGoWhileTheOtherLetGoIsSilentToo() throws Exception {
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.setProcessingTime(WAIT_MS);
      assertThat(eventTime(h)).as("the impressions let go").isEqualTo(30_000);
      h.processWatermarkStatus1(WatermarkStatus.IDLE); // then the broker goes
      h.setProcessingTime(3 * WAIT_MS);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE); // the impressions read first
      h.processWatermark2(new Watermark(200_000));
      assertThat(eventTime(h)).as("waiting for the requests").isEqualTo(30_000);
      h.setProcessingTime(4 * WAIT_MS);
      assertThat(eventTime(h)).as("their wait ran out").isEqualTo(200_000);
    }
  }

  /**
   * A drain of a job whose inputs are both silent: their sources, idle, drop the end-of-time
   * watermark, and the inputs' ends alone tell the operator. Event time stayed where it was and the
   * units still open never closed (a walk's demo: 8 of 10 units closed in one run of two).
   */
  @Test
  void theEndsOfSilentInputsTakeEventTimeToTheEnd() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(5_000));
      h.processWatermark2(new Watermark(4_000));
      h.processWatermarkStatus1(WatermarkStatus.IDLE);
      h.processWatermarkStatus2(WatermarkStatus.IDLE);
      h.endInput1();
      h.endInput2();
      assertThat(watermarks(h)).containsExactly(4_000L, Long.MAX_VALUE);
    }
    try (var h = harness(WAIT_MS)) {
      impressionsStallWhileRequestsGoOn(h);
      h.setProcessingTime(WAIT_MS); // the impressions let go: Flink's operator told they are idle
      h.processWatermarkStatus1(WatermarkStatus.IDLE);
      h.endInput2();
      h.endInput1();
      assertThat(watermarks(h)).containsExactly(900L, 30_000L, Long.MAX_VALUE);
    }
  }

  /**
   * A broker outage a second shorter than the wait: a wait counts only while the other input moves,
   * so the impressions' wait, set aside when the requests fell silent too, goes on with what it had
   * left when the requests come back. It ran on through the outage and let the impressions go a
   * second after the requests came back.
   */
  @Test
  void aWaitCountsOnlyWhileTheOtherInputMoves() throws Exception {
    try (var h = harness(WAIT_MS)) {
      h.processWatermark1(new Watermark(5_000));
      h.processWatermark2(new Watermark(4_000));
      h.processWatermarkStatus2(WatermarkStatus.IDLE); // the impressions' partitions idle first
      h.setProcessingTime(1_000);
      h.processWatermarkStatus1(WatermarkStatus.IDLE); // the requests' a second later
      h.setProcessingTime(WAIT_MS - 1_000); // the broker back: the requests read first
      h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
      h.processWatermark1(new Watermark(90_000));
      h.setProcessingTime(WAIT_MS - 1_000 + HOLD_MS + 5_000);
      assertThat(eventTime(h)).as("still waiting for the impressions").isEqualTo(4_000);
      h.setProcessingTime(2 * WAIT_MS - 2_000 - 1);
      assertThat(eventTime(h)).isEqualTo(4_000);
      h.setProcessingTime(2 * WAIT_MS - 2_000);
      assertThat(eventTime(h)).as("the 59 s the wait had left ran out").isEqualTo(90_000);
    }
  }

  @Test
  void withoutAHoldAnInputThatMovesAgainMovesEventTimeAtOnce() throws Exception {
    try (var h = harness(WAIT_MS, 0)) {
      impressionsStallWhileRequestsGoOn(h);
      h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
      h.processWatermark2(new Watermark(28_000));
      assertThat(eventTime(h)).isEqualTo(28_000);
    }
  }

  /**
   * Every subtask of the assembler reads every source subtask of both topics, so each sees the same
   * silence: each counted it, and a job of assembler.parallelism 2 reported two waits (and two
   * given up) for one silent topic. The figures count silences, once.
   */
  @Test
  void aSilenceIsCountedOnceWhateverTheParallelism() throws Exception {
    long waits = 0, givenUp = 0;
    for (int subtask = 0; subtask < 2; subtask++) {
      var wait =
          new SilentInputWait<>(new EventTimeProbe(), WAIT_MS, HOLD_MS, "requests", "impressions");
      try (var h =
          new KeyedTwoInputStreamOperatorTestHarness<>(
              wait, (String v) -> v, (String v) -> v, Types.STRING, 128, 2, subtask)) {
        h.setup();
        h.open();
        h.setProcessingTime(0);
        impressionsStallWhileRequestsGoOn(h);
        h.setProcessingTime(WAIT_MS);
        waits += count(wait, "waits");
        givenUp += count(wait, "waitsGivenUp");
      }
    }
    assertThat(waits).as("silent_input_waits over the subtasks").isEqualTo(1);
    assertThat(givenUp).as("silent_input_waits_given_up over the subtasks").isEqualTo(1);
  }

  /** The count of the operator's counter in its field {@code name}. */
  private static long count(SilentInputWait<?, ?, ?, ?> op, String name) throws Exception {
    java.lang.reflect.Field f = SilentInputWait.class.getDeclaredField(name);
    f.setAccessible(true);
    return ((org.apache.flink.metrics.Counter) f.get(op)).getCount();
  }
}
