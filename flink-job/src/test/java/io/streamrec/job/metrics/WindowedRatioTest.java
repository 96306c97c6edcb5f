package io.streamrec.job.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WindowedRatioTest {
  private final AtomicLong nanos = new AtomicLong();
  private double hits;
  private double lookups;

  private WindowedRatio ratio() {
    return new WindowedRatio(
        Duration.ofSeconds(60), () -> new WindowedRatio.Totals(hits, lookups), nanos::get);
  }

  private void advance(int seconds, double newHits, double newLookups) {
    nanos.addAndGet(Duration.ofSeconds(seconds).toNanos());
    hits += newHits;
    lookups += newLookups;
  }

  @Test
  void theRatioCoversTheLastWindowNotTheWholeRun() {
    hits = 1_000_000;
    lookups = 1_000_000; // a long run at 100% before the gauge's window
    WindowedRatio r = ratio();
    assertThat(r.getValue()).isNaN(); // nothing counted yet
    for (int s = 0; s < 120; s += 10) {
      advance(10, 5, 10); // 50% from now on
      r.getValue();
    }
    assertThat(r.getValue()).isEqualTo(0.5);
    // the cumulative rate barely moved
    assertThat(hits / lookups).isGreaterThan(0.99);
  }

  @Test
  void aChangeShowsWithinAWindowAndOldSamplesLeave() {
    WindowedRatio r = ratio();
    for (int s = 0; s < 60; s += 5) {
      advance(5, 1, 1);
      r.getValue();
    }
    assertThat(r.getValue()).isEqualTo(1.0);
    for (int s = 0; s < 30; s += 5) {
      advance(5, 0, 1);
      r.getValue();
    }
    // the last 60 s: 30 s at 100%, 30 s at 0%
    assertThat(r.getValue()).isCloseTo(0.5, offset(0.1));
    for (int s = 0; s < 60; s += 5) {
      advance(5, 0, 1);
      r.getValue();
    }
    assertThat(r.getValue()).isEqualTo(0.0);
    advance(120, 0, 0);
    assertThat(r.getValue()).as("nothing counted in the window").isNaN();
  }
}
