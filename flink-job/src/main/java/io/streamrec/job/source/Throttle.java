package io.streamrec.job.source;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Paces a stream to at most a given number of records per second: each record is due {@code 1/rate}
 * seconds after the one before it, and the caller waits until it is due. A stream that fell behind
 * (a slow consumer, a pause) may catch up with a burst of at most one second's records, no more.
 * Waits shorter than a millisecond are folded into later ones, so pacing costs one clock read per
 * record and one sleep per millisecond of pacing.
 */
public final class Throttle {
  private static final long MIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long MAX_BURST_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final double nanosPerRecord;
  private double due = Double.NaN;

  public Throttle(double recordsPerSecond) {
    if (!(recordsPerSecond > 0) || Double.isInfinite(recordsPerSecond)) {
      throw new IllegalArgumentException(
          "records per second must be positive and finite, got " + recordsPerSecond);
    }
    this.nanosPerRecord = 1e9 / recordsPerSecond;
  }

  /**
   * The throttle of one of a stream's {@code subtasks} parallel subtasks, its share of {@code
   * maxRecordsPerSecond} for them all; null for 0 (unlimited).
   */
  public static Throttle perSubtask(int maxRecordsPerSecond, int subtasks) {
    return maxRecordsPerSecond > 0 ? new Throttle((double) maxRecordsPerSecond / subtasks) : null;
  }

  /**
   * Nanoseconds the caller must wait, at time {@code nowNanos}, before passing its next record on.
   */
  long delayNanos(long nowNanos) {
    if (Double.isNaN(due) || due < nowNanos - MAX_BURST_NANOS) {
      due = nowNanos - (Double.isNaN(due) ? 0 : MAX_BURST_NANOS);
    }
    long wait = (long) (due - nowNanos);
    due += nanosPerRecord;
    return wait >= MIN_WAIT_NANOS ? wait : 0;
  }

  /** Waits as {@link #delayNanos} says. */
  public void acquire() {
    long wait = delayNanos(System.nanoTime());
    if (wait > 0) {
      LockSupport.parkNanos(wait);
    }
  }
}
