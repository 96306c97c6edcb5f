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

  private long events;
  private long inSeconds;
  private String first;

  public TimeCheck(JsonlProducer.Listener next) {
    super(next);
  }

  @Override
  public void onEvent(long timestampMs, Path file, long lineNumber) {
    events++;
    if (timestampMs > 0 && timestampMs < SECONDS_BELOW) {
      if (inSeconds++ == 0) {
        first = file.getFileName() + ":" + lineNumber + " (" + timestampMs + ")";
      }
    }
    super.onEvent(timestampMs, file, lineNumber);
  }

  /** One line when some events' times look like seconds, none otherwise. */
  public List<String> warnings() {
    if (inSeconds == 0) {
      return List.of();
    }
    return List.of(
        String.format(
            Locale.ROOT,
            "%,d of %,d events have a timestampMs before 1973 (below %d): seconds, not milliseconds"
                + " since the epoch? The job takes them as events of 1970 (first at %s)",
            inSeconds,
            events,
            SECONDS_BELOW,
            first));
  }
}
