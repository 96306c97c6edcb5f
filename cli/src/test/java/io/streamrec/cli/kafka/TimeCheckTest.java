package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * produce says when event times look like seconds: the job took a request timed 1767225656 (2026 in
 * seconds) as an event of 21 January 1970, trained it before everything else in a backfill, and
 * dead-lettered it as late in a live job, while produce said nothing.
 */
class TimeCheckTest {
  private static final Path FILE = Path.of("data", "requests.jsonl");

  @Test
  void timesInMillisecondsAreNotRemarkedAndEverythingIsPassedOn() {
    List<String> seen = new ArrayList<>();
    TimeCheck check =
        new TimeCheck(
            new JsonlProducer.Listener() {
              @Override
              public void onBadLine(JsonlProducer.BadLine badLine) {}

              @Override
              public void onProgress(JsonlProducer.Progress progress) {}

              @Override
              public void onEvent(long timestampMs, Path file, long lineNumber) {
                seen.add(lineNumber + "@" + timestampMs);
              }
            },
            500);

    check.onEvent(1_767_225_600_000L, FILE, 1);
    check.onEvent(1_767_225_600_001L, FILE, 2);
    check.onEvent(TimeCheck.SECONDS_BELOW, Path.of("1973.jsonl"), 3); // a file of its own order

    assertThat(check.warnings()).isEmpty();
    assertThat(seen).containsExactly("1@1767225600000", "2@1767225600001", "3@100000000000");
  }

  @Test
  void timesThatLookLikeSecondsAreSummedUpWithTheFirstPlace() {
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener(), 500);

    check.onEvent(1_767_225_600_000L, FILE, 1);
    check.onEvent(1_767_225_656L, FILE, 4);
    check.onEvent(1_767_225_657L, Path.of("impressions.jsonl"), 9);

    assertThat(check.warnings())
        .containsExactly(
            "2 of 3 events have a timestampMs before 1973 (below 100000000000): seconds, not"
                + " milliseconds since the epoch? The job takes them as events of 1970 (first at"
                + " requests.jsonl:4 (1767225656))");
  }

  /** A µs time only got Kafka's "Timestamp ... out of range" from the broker, later. */
  @Test
  void timesThatLookLikeMicrosecondsAreSaidSo() {
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener(), 500);
    check.onEvent(1_767_225_600_000_000L, FILE, 2);
    assertThat(check.warnings())
        .singleElement()
        .asString()
        .startsWith("1 of 1 events have a timestampMs after the year 5000")
        .contains("microseconds or nanoseconds")
        .endsWith("(first at requests.jsonl:2 (1767225600000000))");
  }

  /**
   * produce sends each file in its own order, merged with the other by time; a file not sorted by
   * time sent events behind the ones before them, which the job dead-lettered as late (318 of 2,000
   * impressions of a shuffled file) with no word from produce.
   */
  @Test
  void eventsFarBehindAnEarlierOneOfTheirFileAreSummedUp() {
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener(), 500);
    long t = 1_767_225_600_000L;
    check.onEvent(t, FILE, 1);
    check.onEvent(t + 10_000, FILE, 2);
    check.onEvent(t + 9_600, FILE, 3); // within the out-of-orderness the job allows
    check.onEvent(t + 5_000, Path.of("impressions.jsonl"), 1); // another file's own order
    check.onEvent(t + 1_000, FILE, 4);
    check.onEvent(t - 3_600_000, FILE, 5);
    assertThat(check.warnings())
        .containsExactly(
            "2 of 6 events are more than 500 ms (source.max-out-of-orderness) older than an event"
                + " before them in their file, up to 60 min (first at requests.jsonl:4): produce"
                + " sends each file in its own order, and the job takes an event that far behind"
                + " as late (a dead letter) once the events after it have moved event time on."
                + " Sort each file by timestampMs");
  }

  /**
   * Events 30 min ahead of the clock were sent in silence and all dead-lettered as
   * implausible_time; a time of 0 (none set) made units of 1970.
   */
  @Test
  void timesInTheFutureAndTimesOfZeroAreSaidSo() {
    long now = 1_767_225_600_000L;
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener(), 500, 300_000, now);
    check.onEvent(now + 60_000, FILE, 1); // within source.max-future
    check.onEvent(now + 1_800_000, FILE, 2);
    check.onEvent(now + 1_900_000, FILE, 3);
    check.onEvent(0, FILE, 4);
    assertThat(check.warnings())
        .contains(
            "1 of 4 events have a timestampMs of 0 or less: no time set? The job takes them as"
                + " events of 1970, whose units close before everything else (first at"
                + " requests.jsonl:4 (0))",
            "2 of 4 events are more than 5 min (source.max-future) ahead of this machine's clock,"
                + " up to 31 min (first at requests.jsonl:2): the job dead-letters them as"
                + " implausible_time. A clock running fast, or a time zone taken for UTC?");
  }

  /**
   * One event years ahead in a sorted file made every later event of the file count as "up to 1461
   * days" out of order, and the warning asked to sort a sorted file. An event further ahead than
   * the job takes is said as such only.
   */
  @Test
  void anEventFarAheadDoesNotMakeTheOnesAfterItOutOfOrder() {
    long now = 1_767_225_600_000L;
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener(), 500, 300_000, now);
    check.onEvent(now - 3_000, FILE, 1);
    check.onEvent(now + 4L * 365 * 86_400_000, FILE, 2);
    check.onEvent(now - 2_000, FILE, 3);
    check.onEvent(now - 1_000, FILE, 4);
    assertThat(check.warnings())
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .startsWith("1 of 4 events are more than 5 min (source.max-future) ahead");
  }
}
