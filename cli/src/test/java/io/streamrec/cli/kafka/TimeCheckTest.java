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
            });

    check.onEvent(1_767_225_600_000L, FILE, 1);
    check.onEvent(0, FILE, 2); // the epoch itself: a test's clock, not a unit mistake
    check.onEvent(TimeCheck.SECONDS_BELOW, FILE, 3);

    assertThat(check.warnings()).isEmpty();
    assertThat(seen).containsExactly("1@1767225600000", "2@0", "3@100000000000");
  }

  @Test
  void timesThatLookLikeSecondsAreSummedUpWithTheFirstPlace() {
    TimeCheck check = new TimeCheck(JsonlProducer.loggingListener());

    check.onEvent(1_767_225_600_000L, FILE, 1);
    check.onEvent(1_767_225_656L, FILE, 4);
    check.onEvent(1_767_225_657L, Path.of("impressions.jsonl"), 9);

    assertThat(check.warnings())
        .containsExactly(
            "2 of 3 events have a timestampMs before 1973 (below 100000000000): seconds, not"
                + " milliseconds since the epoch? The job takes them as events of 1970 (first at"
                + " requests.jsonl:4 (1767225656))");
  }
}
