package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SplitMix64Test {
  @Test
  void randomStreamsAreReproducibleAndBounded() {
    SplitMix64 a = SplitMix64.stream(5, 1);
    SplitMix64 b = SplitMix64.stream(5, 1);
    SplitMix64 c = SplitMix64.stream(5, 2);
    long same = 0;
    for (int i = 0; i < 1_000; i++) {
      long x = a.nextLong();
      assertThat(b.nextLong()).isEqualTo(x);
      same += c.nextLong() == x ? 1 : 0;
    }
    assertThat(same).isZero();
    double sum = 0;
    double sumSq = 0;
    for (int i = 0; i < 200_000; i++) {
      assertThat(a.nextInt(7)).isBetween(0, 6);
      assertThat(a.nextLongInclusive(3)).isBetween(0L, 3L);
      double g = a.nextGaussian();
      sum += g;
      sumSq += g * g;
    }
    assertThat(sum / 200_000).isCloseTo(0.0, within(0.01));
    assertThat(sumSq / 200_000).isCloseTo(1.0, within(0.02));
  }
}
