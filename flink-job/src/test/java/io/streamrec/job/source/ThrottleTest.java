package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ThrottleTest {
  private static final long MS = 1_000_000L;

  @Test
  void recordsArrivingAllAtOnceAreSpreadAtTheRate() {
    Throttle t = new Throttle(1_000); // one record per millisecond
    long now = 5_000 * MS;
    long waited = 0;
    for (int i = 0; i < 2_000; i++) {
      long d = t.delayNanos(now);
      waited += d;
      now += d; // the caller slept that long
    }
    // 2,000 records at 1,000/s take two seconds, less the last record's slot and sub-millisecond
    // rounding
    assertThat(now - 5_000 * MS).isBetween(1_998 * MS, 2_000 * MS);
    assertThat(waited).isEqualTo(now - 5_000 * MS);
  }

  @Test
  void aSlowStreamIsNotDelayed() {
    Throttle t = new Throttle(1_000);
    long now = 0;
    for (int i = 0; i < 100; i++) {
      assertThat(t.delayNanos(now)).isZero();
      now += 2 * MS;
    }
  }

  @Test
  void afterAPauseTheBurstIsAtMostOneSecondOfRecords() {
    Throttle t = new Throttle(100);
    assertThat(t.delayNanos(0)).isZero();
    long now = 60_000 * MS; // a minute of silence
    int free = 0;
    while (t.delayNanos(now) == 0) {
      free++;
    }
    assertThat(free).isBetween(100, 101);
  }

  @Test
  void aRateMustBePositive() {
    assertThatThrownBy(() -> new Throttle(0)).hasMessageContaining("positive");
    assertThatThrownBy(() -> new Throttle(Double.NaN)).hasMessageContaining("positive");
  }
}
