package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EventTimeGuardTest {
  private static final long NOW = 1_767_225_600_000L;
  private static final long HOUR = 3_600_000L;

  private static EventTimeGuard guard() {
    return new EventTimeGuard(0, HOUR, HOUR, () -> NOW);
  }

  @Test
  void theExtremesOfLongAndTimesBeforeTheFloorAreImplausible() {
    EventTimeGuard g = new EventTimeGuard(1_000, HOUR, HOUR, () -> NOW);
    assertThat(g.check(0, Long.MAX_VALUE)).contains("ahead of the wall clock");
    assertThat(g.check(0, Long.MIN_VALUE)).contains("before source.min-timestamp");
    assertThat(g.check(0, -1)).contains("before source.min-timestamp");
    assertThat(g.check(0, 999)).contains("before source.min-timestamp");
    assertThat(g.check(0, 1_000)).isNull();
  }

  @Test
  void aTimeFarAheadOfTheWallClockIsImplausibleANearOneIsNot() {
    EventTimeGuard g = guard();
    long year2100 = 4_102_444_800_000L;
    assertThat(g.check(0, year2100)).contains("source.max-future");
    assertThat(g.check(0, NOW + HOUR)).isNull();
    assertThat(g.check(1, NOW + HOUR + 1)).contains("source.max-future");
  }

  @Test
  void aLoneJumpAheadOfItsPartitionIsRefusedAndDoesNotMoveThePartition() {
    EventTimeGuard g = guard();
    long past = NOW - 30L * 24 * HOUR;
    assertThat(g.check(0, past)).isNull();
    assertThat(g.check(0, past + 10 * HOUR)).contains("source.max-time-jump");
    // the stream goes on where it was: nothing later is judged against the outlier
    assertThat(g.check(0, past + 1_000)).isNull();
    assertThat(g.check(0, past + 2_000)).isNull();
    // another partition has its own reference
    assertThat(g.check(1, past + 10 * HOUR)).isNull();
  }

  @Test
  void aJumpConfirmedByTheNextRecordIsAQuietSpellNotABadClock() {
    EventTimeGuard g = guard();
    long past = NOW - 30L * 24 * HOUR;
    assertThat(g.check(0, past)).isNull();
    assertThat(g.check(0, past + 10 * HOUR)).isNotNull();
    assertThat(g.check(0, past + 10 * HOUR + 5_000)).isNull();
    assertThat(g.check(0, past + 10 * HOUR + 6_000)).isNull();
    // and the old time is now merely out of order, which is the watermark's business
    assertThat(g.check(0, past + 1_000)).isNull();
  }

  /**
   * A stale record read first (2000-01-01 at a partition's head) made the next good record the
   * implausible one, its detail in epoch ms alone blaming it; the times now read as dates, and the
   * detail says what keeps such a record out.
   */
  @Test
  void aJumpSaysItsTimesAsDatesAndHowAStaleReferenceIsKeptOut() {
    EventTimeGuard g = guard();
    assertThat(g.check(0, 946_684_800_000L)).isNull();
    assertThat(g.check(0, NOW))
        .startsWith("event time 2026-01-01T00:00:00Z (1767225600000) is ")
        .contains("ahead of the newest time 2000-01-01T00:00:00Z (946684800000) of partition 0")
        .contains("a stale record read first, source.min-timestamp keeps such records out");
  }

  @Test
  void withoutBoundsOnlyTheFloorApplies() {
    EventTimeGuard g = new EventTimeGuard(0, 0, 0, () -> NOW);
    assertThat(g.check(0, 5)).isNull();
    assertThat(g.check(0, Long.MAX_VALUE)).isNull();
    assertThat(g.check(0, -5)).isNotNull();
  }
}
