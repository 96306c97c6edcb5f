package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.metrics.JobMetrics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A job that trains from the request-units log reads units, not events: its progress line said "in
 * 0 req / 0 imp | units 0" next to 144,229 impressions trained, and its report 0 of everything
 * read.
 */
class ProgressTest {
  @Test
  void aJobOfTheUnitsLogSaysTheUnitsItRead() {
    Map<String, Double> units =
        Map.of(JobMetrics.UNITS_IN, 35_000.0, JobMetrics.IMPRESSIONS_TRAINED, 144_229.0);
    assertThat(Progress.line(12_000, units, null))
        .startsWith("[ 12.0s] in 35,000 units (log) | trained 144,229 imp | AUC");
    assertThat(Report.of(units, 1.0, java.util.List.of("click")).get("units_read").asLong())
        .isEqualTo(35_000);

    Map<String, Double> events =
        Map.of(JobMetrics.REQUESTS_IN, 3.0, JobMetrics.IMPRESSIONS_IN, 4.0, JobMetrics.UNITS, 2.0);
    assertThat(Progress.line(1_000, events, null))
        .startsWith("[  1.0s] in 3 req / 4 imp | units 2 | trained 0 imp");
  }

  /**
   * A job from a handoff reads again what the backfill before it read, and a backfill that hands on
   * reads impressions past its cut: its line said only what it read and trained, and what it left
   * to the other job could be seen only through a metrics reporter.
   */
  @Test
  void aJobAtAHandoffSaysWhatItReadThatTheOtherJobCounts() {
    Map<String, Double> after =
        Map.of(
            JobMetrics.REQUESTS_IN, 34_196.0,
            JobMetrics.IMPRESSIONS_IN, 131_295.0,
            JobMetrics.UNITS, 26_995.0,
            JobMetrics.REQUESTS_BEFORE_HANDOFF, 4_800.0,
            JobMetrics.IMPRESSIONS_BEFORE_HANDOFF, 10_705.0);
    assertThat(Progress.line(1_000, after, null))
        .startsWith(
            "[  1.0s] in 34,196 req / 131,295 imp | units 26,995 | at the handoff: 4,800 req /"
                + " 10,705 imp the backfill's | trained 0 imp");
    Map<String, Double> before =
        Map.of(JobMetrics.IMPRESSIONS_IN, 9_552.0, JobMetrics.IMPRESSIONS_HANDED_ON, 2_375.0);
    assertThat(Progress.line(1_000, before, null))
        .contains("| units 0 | at the handoff: 2,375 imp handed on | trained");
  }

  /**
   * A backfill of a month printed counts only: nothing said how far into the month it was, so a
   * user could not tell how long it had left.
   */
  @Test
  void aTrainerFarBehindTheWallClockSaysWhereItIsInEventTime() {
    long now = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    Map<String, Double> behind =
        Map.of(JobMetrics.TRAINED_UNTIL_MS, (double) (now - 3 * 3_600_000L - 1_234));
    assertThat(Progress.line(1_000, now, behind, "done"))
        .endsWith(" | trained to 2025-12-31T20:59:58Z (3.0 h behind) | done");

    // a live job's units close seconds before now: nothing added; nor before the first unit
    Map<String, Double> live = Map.of(JobMetrics.TRAINED_UNTIL_MS, (double) (now - 5_000));
    assertThat(Progress.line(1_000, now, live, null)).doesNotContain("trained to");
    assertThat(Progress.line(1_000, now, Map.of(JobMetrics.TRAINED_UNTIL_MS, Double.NaN), null))
        .doesNotContain("trained to");
  }

  /**
   * The line's hit rate was the store's running rate: after 40 minutes of a soak it sat at 84.3% to
   * 84.5% while the last minute's was 85.3%, and after days it no longer moves. It is the last
   * minute's, as the AUC beside it is a recent window's; none while the minute had no lookups.
   */
  /** A model of several labels shows each label's AUC beside the first's; one label, nothing. */
  @Test
  void aModelOfSeveralLabelsShowsEachLabelsAuc() {
    Map<String, Double> one =
        Map.of(
            JobMetrics.PROGRESSIVE_AUC,
            0.7312,
            JobMetrics.ofLabel("click", JobMetrics.PROGRESSIVE_AUC),
            0.7312);
    assertThat(Progress.line(1_000, one, null)).contains("| AUC 0.7312 | logloss");
    Map<String, Double> three = new java.util.TreeMap<>(one);
    three.put(JobMetrics.ofLabel("like", JobMetrics.PROGRESSIVE_AUC), 0.842);
    three.put(JobMetrics.ofLabel("purchase", JobMetrics.PROGRESSIVE_AUC), Double.NaN);
    three.put(JobMetrics.ofLabel("like", JobMetrics.PROGRESSIVE_LOGLOSS), 0.3);
    assertThat(Progress.line(1_000, three, null))
        .contains("| AUC 0.7312 (click 0.7312, like 0.8420, purchase   -  ) | logloss");
    // in the model's order where it is known: a model of [purchase, like, click] listed click last
    assertThat(Progress.line(1_000, 2_000, three, null, List.of("purchase", "like", "click")))
        .contains("| AUC 0.7312 (purchase   -  , like 0.8420, click 0.7312) | logloss");
  }

  @Test
  void theStoreHitRateIsTheLastMinutes() {
    Map<String, Double> both =
        Map.of(JobMetrics.STORE_HIT_RATE, 0.843, JobMetrics.STORE_HIT_RATE_1M, 0.853);
    assertThat(Progress.line(1_000, both, null)).contains("store hit 85.3%,");
    Map<String, Double> idle =
        Map.of(JobMetrics.STORE_HIT_RATE, 0.843, JobMetrics.STORE_HIT_RATE_1M, Double.NaN);
    assertThat(Progress.line(1_000, idle, null))
        .as("a minute without lookups: not the running rate, which reads as now")
        .contains("store hit -,");
  }

  /**
   * Lines come every interval: the thread slept the interval after each line, so a line that took 3
   * s (the probe of a broker that does not answer) made them every 8 s at 5 s.
   */
  @Test
  void aSlowLineDoesNotPushTheNextOnesBack() {
    // a line due at 10 s took 3 s: the next is due at 15 s, not 18 s
    assertThat(Progress.nextDue(10_000, 5_000, 13_000)).isEqualTo(15_000);
    // one that took longer than the interval: an interval from now, no burst of lines to catch up
    assertThat(Progress.nextDue(10_000, 5_000, 16_000)).isEqualTo(21_000);
  }
}
