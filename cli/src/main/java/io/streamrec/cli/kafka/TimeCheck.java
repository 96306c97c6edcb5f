package io.streamrec.cli.kafka;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Checks the times of the events a load sends for the commonest mistake: a time in seconds (or
 * another unit) where {@code timestampMs} wants milliseconds since the epoch. Such an event is an
 * event of January 1970 to the job: a backfill trains it there, before everything else (its rows
 * then expire at once), and a live job dead-letters it as late, neither with a word about the unit.
 * The load still sends every event; {@link #warnings} sums the odd ones up with the first place one
 * was seen. Passes everything on to {@code next}.
 */
public final class TimeCheck extends ForwardingListener {
  /**
   * 1973-03-03T09:46:40Z in milliseconds: an event time below it is almost surely seconds (as
   * seconds it is 5138).
   */
  static final long SECONDS_BELOW = 100_000_000_000L;

  /**
   * 5138-11-16T09:46:40Z in milliseconds: an event time above it is almost surely microseconds or
   * nanoseconds (as microseconds it is 1973).
   */
  static final long MICROS_ABOVE = 100_000_000_000_000L;

  /**
   * 3170 years after the epoch in microseconds (as nanoseconds it is 1973): an event time above it
   * is almost surely nanoseconds.
   */
  static final long NANOS_ABOVE = 100_000_000_000_000_000L;

  /**
   * The unit {@code timestampMs} was probably written in where it is not milliseconds ("seconds",
   * "microseconds", "nanoseconds"); null where it is plausibly milliseconds, or 0.
   */
  static String likelyUnit(long timestampMs) {
    if (timestampMs > 0 && timestampMs < SECONDS_BELOW) {
      return "seconds";
    }
    if (timestampMs > NANOS_ABOVE) {
      return "nanoseconds";
    }
    return timestampMs > MICROS_ABOVE ? "microseconds" : null;
  }

  private final long outOfOrdernessMs;
  private long events;
  private long inSeconds;
  private String first;
  private long inMicros;
  private String firstMicros;
  private final java.util.Map<Path, long[]> newestOfFile = new java.util.HashMap<>();
  private final java.util.Map<Path, Long> oldestOfFile = new java.util.HashMap<>();
  private long behind;
  private long mostBehindMs;
  private String firstBehind;

  /**
   * Checks the events passed to {@code next}; an event more than {@code outOfOrdernessMs} behind
   * the newest of its file before it counts as out of order.
   */
  public TimeCheck(JsonlProducer.Listener next, long outOfOrdernessMs) {
    this(next, outOfOrdernessMs, 0, System.currentTimeMillis());
  }

  /**
   * As above; an event more than {@code maxFutureMs} (0: no bound) ahead of {@code nowMs} counts as
   * in the future.
   */
  public TimeCheck(
      JsonlProducer.Listener next, long outOfOrdernessMs, long maxFutureMs, long nowMs) {
    super(next);
    this.outOfOrdernessMs = outOfOrdernessMs;
    this.maxFutureMs = maxFutureMs;
    this.nowMs = nowMs;
  }

  private final long maxFutureMs;
  private final long nowMs;
  private long notPositive;
  private String firstNotPositive;
  private long inFuture;
  private long furthestAheadMs;
  private String firstInFuture;

  @Override
  public void onEvent(long timestampMs, Path file, long lineNumber) {
    events++;
    if (timestampMs <= 0) {
      if (notPositive++ == 0) {
        firstNotPositive = file.getFileName() + ":" + lineNumber + " (" + timestampMs + ")";
      }
    } else if (ahead(timestampMs)) {
      if (inFuture++ == 0) {
        firstInFuture = file.getFileName() + ":" + lineNumber;
      }
      furthestAheadMs = Math.max(furthestAheadMs, timestampMs - nowMs);
    }
    if (timestampMs > 0 && timestampMs < SECONDS_BELOW) {
      if (inSeconds++ == 0) {
        first = file.getFileName() + ":" + lineNumber + " (" + timestampMs + ")";
      }
    } else if (timestampMs > MICROS_ABOVE) {
      if (inMicros++ == 0) {
        firstMicros = file.getFileName() + ":" + lineNumber + " (" + timestampMs + ")";
      }
    }
    if (timestampMs < SECONDS_BELOW || timestampMs > MICROS_ABOVE) {
      super.onEvent(timestampMs, file, lineNumber); // said above: not a time to order by
      return;
    }
    oldestOfFile.merge(file, timestampMs, Math::min);
    long[] newest = newestOfFile.computeIfAbsent(file, f -> new long[] {Long.MIN_VALUE});
    long back = newest[0] == Long.MIN_VALUE ? 0 : newest[0] - timestampMs;
    if (back > outOfOrdernessMs) {
      if (behind++ == 0) {
        firstBehind = file.getFileName() + ":" + lineNumber;
      }
      mostBehindMs = Math.max(mostBehindMs, back);
    }
    if (!ahead(timestampMs)) {
      // one event years ahead (said above) made every later one of its file count as out of order
      newest[0] = Math.max(newest[0], timestampMs);
    }
    super.onEvent(timestampMs, file, lineNumber);
  }

  /** Whether an event of this time is further ahead of now than the job takes. */
  private boolean ahead(long timestampMs) {
    return maxFutureMs > 0 && timestampMs <= MICROS_ABOVE && timestampMs - nowMs > maxFutureMs;
  }

  /** The oldest time (ms) among the events of {@code file} read so far; empty when none. */
  public java.util.OptionalLong oldest(Path file) {
    Long t = oldestOfFile.get(file);
    return t == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(t);
  }

  /** {@code ms} in the unit that reads best: 90 s, 45 min, 3.5 h, 12.0 days. */
  public static String span(long ms) {
    if (ms < 120_000) {
      return String.format(Locale.ROOT, "%,d s", ms / 1000);
    }
    if (ms < 7_200_000) {
      return String.format(Locale.ROOT, "%,d min", ms / 60_000);
    }
    if (ms < 172_800_000) {
      return String.format(Locale.ROOT, "%.1f h", ms / 3_600_000.0);
    }
    return String.format(Locale.ROOT, "%.1f days", ms / 86_400_000.0);
  }

  /** A line per kind of odd time the events have, none when all look right. */
  public List<String> warnings() {
    List<String> out = new java.util.ArrayList<>();
    if (inSeconds > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d events have a timestampMs before 1973 (below %d): seconds, not"
                  + " milliseconds since the epoch? The job takes them as events of 1970 (first at"
                  + " %s)",
              inSeconds,
              events,
              SECONDS_BELOW,
              first));
    }
    if (notPositive > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d events have a timestampMs of 0 or less: no time set? The job takes them"
                  + " as events of 1970, whose units close before everything else (first at %s)",
              notPositive,
              events,
              firstNotPositive));
    }
    if (inFuture > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d events are more than %s (source.max-future) ahead of this machine's"
                  + " clock, up to %s (first at %s): the job dead-letters them as implausible_time."
                  + " A clock running fast, or a time zone taken for UTC?",
              inFuture,
              events,
              span(maxFutureMs),
              span(furthestAheadMs),
              firstInFuture));
    }
    if (inMicros > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d events have a timestampMs after the year 5000 (above %d): microseconds"
                  + " or nanoseconds, not milliseconds since the epoch? (first at %s)",
              inMicros,
              events,
              MICROS_ABOVE,
              firstMicros));
    }
    if (behind > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d events are more than %,d ms (source.max-out-of-orderness) older than an"
                  + " event before them in their file, up to %s (first at %s): produce sends each"
                  + " file in its own order, and the job takes an event that far behind as late"
                  + " (a dead letter) once the events after it have moved event time on. Sort each"
                  + " file by timestampMs",
              behind,
              events,
              outOfOrdernessMs,
              span(mostBehindMs),
              firstBehind));
    }
    return out;
  }
}
