package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AucTest {
  @Test
  void aucCountsTiesOneHalf() {
    assertThat(Auc.exact(new double[] {0.1, 0.4, 0.35, 0.8}, new float[] {0, 0, 1, 1}))
        .isEqualTo(0.75);
    assertThat(Auc.exact(new double[] {0.5, 0.5, 0.5, 0.5}, new float[] {1, 0, 1, 0}))
        .isEqualTo(0.5);
    assertThat(Auc.exact(new double[] {0.2, 0.5, 0.5, 0.9}, new float[] {0, 1, 0, 1}))
        .isEqualTo(0.875);
  }

  @Test
  void aucOfOneClassIsUndefined() {
    assertThat(Auc.exact(new double[] {0.1, 0.9}, new float[] {1, 1})).isNaN();
    assertThat(Auc.exact(new double[] {0.1, 0.9}, new float[] {0, 0})).isNaN();
    assertThat(Auc.exact(new double[0], new float[0])).isNaN();
  }

  @Test
  void aucOfScoresThatAreNotNumbersIsUndefinedRatherThanARankOfTheirPositions() {
    // a model that scores NaN has no ranking; the sort would put NaN above every number
    assertThat(
            Auc.exact(
                new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN},
                new float[] {0, 0, 1, 1}))
        .isNaN();
    assertThat(Auc.exact(new double[] {0.1, Double.NaN, 0.3, 0.2}, new float[] {0, 1, 1, 0}))
        .isNaN();
  }
}
