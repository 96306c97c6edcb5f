package io.streamrec.job.source;

import io.streamrec.job.config.InputLimits;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Tells an event time a clock could have given from one it could not, before the time reaches a
 * watermark: one bad clock upstream must not move event time for everyone. A time is implausible
 * when it is
 *
 * <ul>
 *   <li>before the floor ({@code source.min-timestamp});
 *   <li>more than {@code source.max-future} ahead of the wall clock (Long.MAX_VALUE, year 2100);
 *   <li>more than {@code source.max-time-jump} ahead of the newest plausible time of its partition,
 *       unless the partition's next record confirms it: a time that jumps ahead is held as a
 *       candidate, and the next record of the partition within the same bound of the candidate
 *       shows the stream really moved on (after a quiet spell, say). The candidate itself has been
 *       refused by then, so a real gap costs its first record, counted like the rest.
 * </ul>
 *
 * One guard serves one source reader, which reads several partitions; it keeps a little state per
 * partition. That state is not checkpointed: after a restore a partition's first record sets its
 * reference again.
 */
public final class EventTimeGuard {
  private final long floorMs;
  private final long maxFutureMs;
  private final long maxJumpMs;
  private final LongSupplier wallClock;
  private final Map<Integer, Partition> partitions = new HashMap<>();

  private static final class Partition {
    /** The newest plausible time seen. */
    long newest = Long.MIN_VALUE;

    /** A time that jumped ahead, refused, waiting for the next record to confirm it. */
    long candidate = Long.MIN_VALUE;
  }

  /**
   * @param maxFutureMs how far ahead of the wall clock a time may be (0 or less: no bound)
   * @param maxJumpMs how far ahead of its partition's newest time (0 or less: no bound)
   */
  public EventTimeGuard(long floorMs, long maxFutureMs, long maxJumpMs, LongSupplier wallClock) {
    this.floorMs = floorMs;
    this.maxFutureMs = maxFutureMs;
    this.maxJumpMs = maxJumpMs;
    this.wallClock = wallClock;
  }

  /** A guard of {@code limits}' bounds on the wall clock. */
  public static EventTimeGuard of(InputLimits limits) {
    return new EventTimeGuard(
        limits.minTimestampMs(),
        limits.maxFutureMs(),
        limits.maxTimeJumpMs(),
        System::currentTimeMillis);
  }

  /** An event time as a reader takes it in: ISO-8601, then the epoch ms. */
  public static String time(long ms) {
    return java.time.Instant.ofEpochMilli(ms) + " (" + ms + ")";
  }

  /**
   * Checks the time of the next record of {@code partition}: null when it is plausible (and then
   * counts as seen), otherwise why not.
   */
  public String check(int partition, long timestampMs) {
    if (timestampMs < floorMs) {
      return "event time " + time(timestampMs) + " is before source.min-timestamp " + time(floorMs);
    }
    if (maxFutureMs > 0) {
      long now = wallClock.getAsLong();
      if (timestampMs > now && timestampMs - now > maxFutureMs) {
        return "event time "
            + time(timestampMs)
            + " is "
            + (timestampMs - now)
            + " ms ahead of the wall clock "
            + time(now)
            + "; source.max-future is "
            + maxFutureMs
            + " ms";
      }
    }
    Partition p = partitions.computeIfAbsent(partition, k -> new Partition());
    if (maxJumpMs > 0 && p.newest != Long.MIN_VALUE && timestampMs - p.newest > maxJumpMs) {
      boolean confirms =
          p.candidate != Long.MIN_VALUE && Math.abs(timestampMs - p.candidate) <= maxJumpMs;
      if (!confirms) {
        long ahead = timestampMs - p.newest;
        p.candidate = timestampMs;
        return "event time "
            + time(timestampMs)
            + " is "
            + ahead
            + " ms ahead of the newest time "
            + time(p.newest)
            + " of partition "
            + partition
            + "; source.max-time-jump is "
            + maxJumpMs
            + " ms (a record near this time next would confirm the jump; if that newest time is"
            + " the odd one, a stale record read first, source.min-timestamp keeps such records"
            + " out)";
      }
    }
    p.candidate = Long.MIN_VALUE;
    p.newest = Math.max(p.newest, timestampMs);
    return null;
  }
}
