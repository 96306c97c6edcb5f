package io.streamrec.job.assembler;

import io.streamrec.job.metrics.JobMetrics;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.TimeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assembler's operator: Flink's keyed two-input process operator, except that an input whose
 * every partition has gone idle is waited for, up to {@code waitMs}, before the other input alone
 * moves event time on.
 *
 * <p>Flink leaves an idle input out of the operator's watermark at once. A partition without
 * traffic must not stop the job, so each source marks a partition idle after {@code
 * source.idle-timeout}. But when a whole topic falls silent while the other's traffic goes on (its
 * producer stalls, or after a broker outage one source reconnects a moment before the other and
 * reads the backlog first), its partitions go idle too, the other topic alone carries event time
 * past the units still waiting for the silent one's events, and those events, when they come, are
 * {@code late} or {@code orphan} dead letters: a minute's stall of the impressions' producer cost
 * that minute's impressions. Here such an input keeps holding the watermark at its own last one for
 * up to {@code waitMs} (processing time), so its events of that time still join; after that it is
 * let go as before, so a topic that stays silent cannot stop the job either.
 *
 * <p>An input that has never carried a watermark (a job's first start; each input's newest
 * watermark is in the checkpoint, as Flink's are not) and goes idle is waited for only {@link
 * #UNMOVED_WAIT_MS} from the other input's first watermark: sources that reconnect to a broker
 * together read within a second or two of each other. An input that had moved before a restore is
 * waited for as long as before it: a job restarted during a producer's stall had let the stalled
 * topic go after those 10 s, and its backlog was {@code late} (a walk: 2,663 impressions of a 75 s
 * stall). A wait counts only while the other input moves: while both are silent (a broker outage)
 * nothing moves event time, a running wait is set aside with what it has left, and it goes on when
 * the other input moves; both waits ran out during an outage longer than them, and the topic that
 * read second after it was {@code late} (a walk: 1,659 records of a 45 s outage under a 20 s wait).
 * The end of an input (a drain's, a backfill's) takes it to the end of event time, as its source's
 * end-of-time watermark would, which a source idle at a drain drops.
 *
 * <p>An input waited for that moves again is still held at its last watermark for {@code
 * resumeHoldMs} (the sources' idle timeout) before its new watermarks are let through. A source
 * leaves its partitions that are still idle out of its watermark, and when a silent topic's backlog
 * comes the consumer hands over one partition's records before the next's: the first partition back
 * alone carried the topic's watermark past the others' events, which were then {@code late} (a
 * walk: 521 of a stalled producer's 12,000 impressions, where the source's periodic watermark fell
 * between two partitions). Held that long, every partition has had the time after which a source
 * would call it idle to come back. The wait and the hold change when units close, never which
 * events they hold once they do; their one state is each input's newest watermark.
 */
final class SilentInputWait<K, IN1, IN2, OUT> extends KeyedCoProcessOperator<K, IN1, IN2, OUT>
    implements BoundedMultiInput {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SilentInputWait.class);

  /**
   * How long an input that has not moved since the start is waited for once the other has: sources
   * that reconnect to a broker together start reading within a second or two of each other.
   */
  static final long UNMOVED_WAIT_MS = 10_000;

  /** {@link #waitingSince} of a wait whose timer starts only when the other input moves. */
  private static final long UNTIL_THE_OTHER_MOVES = Long.MIN_VALUE;

  /** The operator state of each input's newest watermark. */
  static final String WATERMARKS_STATE = "silent-input-wait-watermarks";

  private final long waitMs;
  private final long resumeHoldMs;
  private final String[] inputNames;

  /**
   * Per input, its newest watermark since the job's first start (checkpointed); MIN: none, the
   * input has not moved.
   */
  private transient long[] newest;

  /** Per input, whether a watermark has come since this start or restore. */
  private transient boolean[] markedSinceStart;

  private transient ListState<long[]> watermarksState;

  /**
   * How often a topic's silences are logged at INFO, at most; the others of that time at DEBUG (a
   * topic whose traffic has gaps a little longer than the idle timeout fell silent and moved again
   * every few seconds, four lines each time). {@code silent_input_waits} counts them all.
   */
  static final long SAY_EVERY_MS = 600_000;

  /** Per input, the processing time its last silence logged at INFO began. */
  private transient long[] saidAt;

  /** Per input, whether its silence now is logged at INFO. */
  private transient boolean[] loud;

  /** Per input, the processing time until which its watermarks are held; 0: not held. */
  private transient long[] heldUntil;

  /** Per input, its newest watermark held back, or null. */
  private transient Watermark[] held;

  private transient boolean[] waiting;

  /** Per input, how long its running wait was started for. */
  private transient long[] waitLength;

  /** Per input, how long its wait has still to run when it is set aside; 0: none set aside. */
  private transient long[] waitLeft;

  /**
   * Per input, whether it was let go (Flink's operator told it is idle: after its wait, or at once
   * without one) and has not moved since.
   */
  private transient boolean[] letGo;

  private transient long[] waitingSince;
  private transient Counter waits;
  private transient Counter waitsGivenUp;

  /**
   * Whether this subtask counts the silences: every subtask reads every source subtask of both
   * inputs, so each sees the same ones, and the first alone counts them (counted by each, a job's
   * figures were the silences times assembler.parallelism).
   */
  private transient boolean countsSilences;

  /**
   * @param waitMs how long an input gone idle is waited for; 0: not at all (Flink's own behaviour)
   * @param resumeHoldMs how long the watermarks of an input waited for that moves again are held
   *     back (0: not at all), for its partitions still silent to come back
   * @param firstInput what the first input carries, for the log (e.g. "requests")
   * @param secondInput the same of the second
   */
  SilentInputWait(
      KeyedCoProcessFunction<K, IN1, IN2, OUT> function,
      long waitMs,
      long resumeHoldMs,
      String firstInput,
      String secondInput) {
    super(function);
    if (waitMs < 0 || resumeHoldMs < 0) {
      throw new IllegalArgumentException(
          "waitMs and resumeHoldMs must be >= 0, got " + waitMs + " and " + resumeHoldMs);
    }
    this.waitMs = waitMs;
    this.resumeHoldMs = resumeHoldMs;
    this.inputNames = new String[] {firstInput, secondInput};
  }

  /**
   * Each input's newest watermark, from the checkpoint: each subtask's entry holds both, and every
   * subtask reads the least of them (after a change of parallelism, the one no subtask had passed).
   */
  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    watermarksState =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>(
                    WATERMARKS_STATE, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
    newest = new long[] {Long.MAX_VALUE, Long.MAX_VALUE};
    boolean any = false;
    for (long[] marks : watermarksState.get()) {
      any = true;
      for (int input = 0; input < 2; input++) {
        newest[input] = Math.min(newest[input], marks[input]);
      }
    }
    if (!any) {
      Arrays.fill(newest, Long.MIN_VALUE);
    }
    markedSinceStart = new boolean[2];
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    watermarksState.update(List.of(newest.clone()));
  }

  /**
   * An input that goes idle without a watermark since a restore takes up the one it had reached
   * before it, as if it had never stopped: watermarks are not part of a checkpoint, and held at
   * none, a topic whose checkpoint had read all it held stopped event time for the whole wait,
   * where without the restart it held event time at its last watermark, which the other topic
   * passes.
   */
  private void resumeWatermark(int input) throws Exception {
    if (markedSinceStart[input] || newest[input] == Long.MIN_VALUE) {
      return;
    }
    markedSinceStart[input] = true;
    forward(input, new Watermark(newest[input]));
  }

  /** Whether {@code input} has carried a watermark since the job's first start. */
  private boolean moved(int input) {
    return newest[input] > Long.MIN_VALUE;
  }

  @Override
  public void open() throws Exception {
    super.open();
    waiting = new boolean[2];
    letGo = new boolean[2];
    waitLeft = new long[2];
    waitLength = new long[2];
    waitingSince = new long[2];
    heldUntil = new long[2];
    held = new Watermark[2];
    saidAt = new long[] {Long.MIN_VALUE / 2, Long.MIN_VALUE / 2};
    loud = new boolean[] {true, true};
    countsSilences = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0;
    waits = JobMetrics.group(getMetricGroup()).counter(JobMetrics.SILENT_INPUT_WAITS);
    waitsGivenUp =
        JobMetrics.group(getMetricGroup()).counter(JobMetrics.SILENT_INPUT_WAITS_GIVEN_UP);
  }

  @Override
  public void processWatermark1(Watermark mark) throws Exception {
    onWatermark(0, mark);
  }

  @Override
  public void processWatermark2(Watermark mark) throws Exception {
    onWatermark(1, mark);
  }

  private void onWatermark(int input, Watermark mark) throws Exception {
    markedSinceStart[input] = true;
    boolean first = !moved(input) && mark.getTimestamp() > Long.MIN_VALUE;
    newest[input] = Math.max(newest[input], mark.getTimestamp());
    if (first) {
      otherMoves(input);
    }
    if (!hold(input, mark)) {
      forward(input, mark);
    }
  }

  /** Flink's operator takes {@code mark} as {@code input}'s watermark. */
  private void forward(int input, Watermark mark) throws Exception {
    if (input == 0) {
      super.processWatermark1(mark);
    } else {
      super.processWatermark2(mark);
    }
  }

  /**
   * Keeps {@code mark} back while {@code input} is held; whether it did. The end of the input (a
   * backfill's, a drain's) ends the hold: no partition of it is still to come, and a watermark held
   * past the input's end would never close its last units.
   */
  private boolean hold(int input, Watermark mark) {
    if (heldUntil[input] == 0) {
      return false;
    }
    if (mark.getTimestamp() == Long.MAX_VALUE) {
      heldUntil[input] = 0;
      held[input] = null;
      return false;
    }
    held[input] = mark;
    return true;
  }

  /** Holds the watermarks of {@code input}, which moves again, for {@link #resumeHoldMs}. */
  private void holdAfterResuming(int input) {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    long until = now + resumeHoldMs;
    heldUntil[input] = until;
    say(
        input,
        "the {} moves{}: its event time is held for {}, for its partitions still silent to come"
            + " back",
        inputNames[input],
        moved(input) ? " again" : "",
        TimeUtils.formatWithHighestUnit(Duration.ofMillis(resumeHoldMs)));
    getProcessingTimeService().registerTimer(until, t -> release(input, until));
  }

  private void release(int input, long until) throws Exception {
    if (heldUntil[input] != until) {
      return; // a later hold of its own
    }
    heldUntil[input] = 0;
    Watermark mark = held[input];
    held[input] = null;
    if (mark != null) {
      forward(input, mark);
    }
  }

  /** {@code input} moves: a wait for the other input that waited for that starts now. */
  private void otherMoves(int input) {
    int other = 1 - input;
    if (waiting[other] && waitingSince[other] == UNTIL_THE_OTHER_MOVES) {
      long left = waitLeft[other];
      waitLeft[other] = 0;
      startWait(other, left > 0 ? left : waitFor(other));
    }
  }

  /** Whether {@code input} is silent: waited for, or let go and not moving since. */
  private boolean silent(int input) {
    return waiting[input] || letGo[input];
  }

  /** How long {@code input}, silent while the other moves, is waited for. */
  private long waitFor(int input) {
    return moved(input) ? waitMs : Math.min(waitMs, UNMOVED_WAIT_MS);
  }

  /** Waits for {@code input} from now, for {@code ms}, then lets it go. */
  private void startWait(int input, long ms) {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    waitingSince[input] = now;
    waitLength[input] = ms;
    if (!moved(input)) {
      // a topic silent before it ever moved (a start, sources reaching the broker a moment apart):
      // said, and its ten minutes of INFO lines kept for the silences of a topic that moved
      loud[input] = true;
    } else if (now - saidAt[input] >= SAY_EVERY_MS) {
      saidAt[input] = now;
      loud[input] = true;
    } else {
      loud[input] = false;
    }
    say(
        input,
        "every partition of the {} is silent: event time waits for it up to {}",
        inputNames[input],
        TimeUtils.formatWithHighestUnit(Duration.ofMillis(ms)));
    getProcessingTimeService().registerTimer(now + ms, t -> giveUp(input, now));
  }

  @Override
  protected void processWatermarkStatus(WatermarkStatus status, int input) throws Exception {
    if (status.isIdle()) {
      if (waitMs > 0 && !waiting[input]) {
        resumeWatermark(input);
        waiting[input] = true;
        if (countsSilences) {
          waits.inc();
        }
        int other = 1 - input;
        if (silent(other)) {
          // nothing moves event time now: a wait counts only while the other input moves, so the
          // other's, if it runs, is set aside with what it has left, and this one's starts when
          // the other moves (a broker outage: whichever topic reads second after it is waited for)
          if (waiting[other] && waitingSince[other] != UNTIL_THE_OTHER_MOVES) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            waitLeft[other] = Math.max(1, waitingSince[other] + waitLength[other] - now);
            waitingSince[other] = UNTIL_THE_OTHER_MOVES;
          }
          waitingSince[input] = UNTIL_THE_OTHER_MOVES;
        } else if (moved(input) || moved(other)) {
          startWait(input, waitFor(input));
        } else {
          waitingSince[input] = UNTIL_THE_OTHER_MOVES;
        }
        return;
      }
      if (waiting[input]) {
        return; // already waited for; what Flink was told stays as it was
      }
    } else if (waiting[input]) {
      // downstream of this operator the input never went idle: nothing to undo
      waiting[input] = false;
      waitLeft[input] = 0;
      if (resumeHoldMs > 0) {
        holdAfterResuming(input);
      } else {
        say(input, "the {} moves again", inputNames[input]);
      }
      otherMoves(input);
      return;
    } else if (waitMs > 0) {
      LOG.info(
          "the {} moves again, after event time went on without it: what it sends from before"
              + " then arrives late",
          inputNames[input]);
      letGo[input] = false;
      super.processWatermarkStatus(status, input);
      otherMoves(input);
      return;
    }
    letGo[input] = status.isIdle();
    super.processWatermarkStatus(status, input);
  }

  /**
   * An input's end (a drain's, a backfill's) takes it to the end of event time. A source that is
   * idle when a drain ends it drops the end-of-time watermark it emits (an idle output sends no
   * watermark), so a drain of a job whose inputs were silent left the units still open unclosed and
   * the closed ones untrained (a walk's demo: 8 of 10 units closed, 7 trained, in one run of two).
   */
  @Override
  public void endInput(int inputId) throws Exception {
    int input = inputId - 1;
    waiting[input] = false;
    if (letGo[input]) {
      letGo[input] = false;
      super.processWatermarkStatus(WatermarkStatus.ACTIVE, input);
    }
    onWatermark(input, Watermark.MAX_WATERMARK);
  }

  /**
   * Logs a line of {@code input}'s silence: at INFO if that silence is logged so ({@link #loud}).
   */
  private void say(int input, String format, Object... args) {
    if (loud[input]) {
      LOG.info(format, args);
    } else {
      LOG.debug(format, args);
    }
  }

  private void giveUp(int input, long since) throws Exception {
    if (!waiting[input] || waitingSince[input] != since) {
      return; // it moved again in between (and maybe fell silent again: a later wait of its own)
    }
    if (silent(1 - input)) {
      // the other input is silent too: nothing moves event time, and let go now, this input's
      // backlog would be late if the other came back first; waited for again once it does
      waitingSince[input] = UNTIL_THE_OTHER_MOVES;
      say(
          input,
          "the {} is still silent, and so is the {}: event time waits for them",
          inputNames[input],
          inputNames[1 - input]);
      return;
    }
    waiting[input] = false;
    letGo[input] = true;
    if (countsSilences) {
      waitsGivenUp.inc();
    }
    LOG.warn(
        "the {} has been silent for {} while the {} moved: event time goes on without it, and"
            + " what it sends later arrives late (assembler.silent-input-wait)",
        inputNames[input],
        TimeUtils.formatWithHighestUnit(Duration.ofMillis(waitFor(input))),
        inputNames[1 - input]);
    super.processWatermarkStatus(WatermarkStatus.IDLE, input);
  }
}
