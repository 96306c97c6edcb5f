package io.streamrec.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.SplitMix64;
import org.junit.jupiter.api.Test;

class AliasTableTest {
  @Test
  void samplesFollowTheWeights() {
    double[] weights = {1, 0, 2, 3, 4, 0.5};
    AliasTable table = new AliasTable(weights);
    SplitMix64 rng = new SplitMix64(42);
    int draws = 1_000_000;
    int[] count = new int[weights.length];
    for (int i = 0; i < draws; i++) {
      count[table.sample(rng)]++;
    }
    double total = 10.5;
    assertThat(count[1]).isZero();
    for (int i = 0; i < weights.length; i++) {
      assertThat((double) count[i] / draws)
          .as("share of %d", i)
          .isCloseTo(weights[i] / total, within(0.003));
    }
  }

  @Test
  void zipfMatchesItsClosedForm() {
    int n = 1_000;
    double s = 1.05;
    AliasTable table = AliasTable.zipf(n, s);
    double norm = 0;
    for (int k = 1; k <= n; k++) {
      norm += Math.pow(k, -s);
    }
    SplitMix64 rng = new SplitMix64(7);
    int draws = 2_000_000;
    int[] count = new int[n];
    for (int i = 0; i < draws; i++) {
      count[table.sample(rng)]++;
    }
    for (int rank : new int[] {0, 1, 9, 99}) {
      double expected = Math.pow(rank + 1, -s) / norm;
      assertThat((double) count[rank] / draws)
          .as("rank %d", rank)
          .isCloseTo(expected, within(0.05 * expected + 1e-4));
    }
  }

  @Test
  void rejectsBadWeights() {
    assertThatThrownBy(() -> new AliasTable(new double[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AliasTable(new double[] {0, 0})).hasMessageContaining("zero");
    assertThatThrownBy(() -> new AliasTable(new double[] {1, -1})).hasMessageContaining("-1");
    assertThatThrownBy(() -> new AliasTable(new double[] {1, Double.NaN}))
        .hasMessageContaining("NaN");
  }
}
