package io.streamrec.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FreshnessSamplesTest {
  /**
   * A replica that tailed a backfill's versions (event time 339 days back) reported a p99 freshness
   * of 339 days for hours, until 4,096 live versions had pushed those samples out of the ring.
   * Percentiles look at the last ten minutes of samples.
   */
  @Test
  void percentilesForgetSamplesOlderThanTheWindow() {
    FreshnessSamples f = new FreshnessSamples(4096);
    long t0 = 1_000_000_000L;
    long backfilled = 29_314_720_828L;
    for (int i = 0; i < 77; i++) {
      f.add(backfilled, t0 + i * 100L);
    }
    for (int i = 0; i < 20; i++) {
      f.add(800 + i, t0 + 60_000 + i * 5_000L);
    }
    assertThat(f.percentile(0.99, t0 + 200_000)).isEqualTo(backfilled);
    long later = t0 + FreshnessSamples.WINDOW_MS + 10_000;
    assertThat(f.percentile(0.99, later)).isEqualTo(819);
    assertThat(f.percentile(0.5, later)).isEqualTo(809);
    assertThat(f.percentile(0.5, later + FreshnessSamples.WINDOW_MS)).isNaN();
    assertThat(f.count()).isEqualTo(97);
    assertThat(f.sum()).isEqualTo(77 * backfilled + 20 * 800 + 190);
  }
}
