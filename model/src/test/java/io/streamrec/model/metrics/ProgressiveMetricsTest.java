package io.streamrec.model.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.Auc;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProgressiveMetricsTest {
  /** Binning into 2^14 logit bins moves the AUC by far less than this. */
  private static final double AUC_TOLERANCE = 1e-3;

  @Test
  void windowedAucAndLogLossMatchTheExactFiguresOverTheLastWindow() {
    int window = 5_000, n = 23_456;
    ProgressiveMetrics m = new ProgressiveMetrics(window);
    SplittableRandom rnd = new SplittableRandom(11);
    float[] p = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      // drift: the signal gets stronger, so the last window differs from the whole stream
      double strength = 4.0 * i / n;
      double z = rnd.nextGaussian();
      y[i] = rnd.nextDouble() < 1 / (1 + Math.exp(-(z * strength - 2))) ? 1f : 0f;
      p[i] = (float) (1 / (1 + Math.exp(-(z * 1.3 - 2 + rnd.nextGaussian() * 0.5))));
      m.add(p[i], y[i]);
    }
    m.refresh();
    double[] last = new double[window];
    float[] lastY = new float[window];
    double loss = 0, predSum = 0, pos = 0;
    for (int k = 0; k < window; k++) {
      int i = n - window + k;
      last[k] = p[i];
      lastY[k] = y[i];
      loss += -(y[i] * Math.log(p[i]) + (1 - y[i]) * Math.log(1 - p[i]));
      predSum += p[i];
      pos += y[i];
    }
    assertThat(m.auc()).isCloseTo(Auc.exact(last, lastY), within(AUC_TOLERANCE));
    assertThat(m.logLoss()).isCloseTo(loss / window, within(1e-6));
    assertThat(m.calibration()).isCloseTo(predSum / pos, within(1e-6));
    assertThat(m.count()).isEqualTo(n);
  }

  @Test
  void incrementalAucEqualsTheBinnedAucRecomputedAfterEveryImpressionAndAcrossARestore()
      throws Exception {
    int window = 300, n = 3_000;
    ProgressiveMetrics m = new ProgressiveMetrics(window);
    SplittableRandom rnd = new SplittableRandom(5);
    double[] bins = new double[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      // few distinct predictions, so many pairs share a bin
      float p = (float) (0.05 + 0.1 * rnd.nextInt(9));
      y[i] = rnd.nextDouble() < p ? 1f : 0f;
      bins[i] = ProgressiveMetrics.bin(p);
      m.add(p, y[i]);
      if (i == n / 2) {
        m = restored(m, window);
      }
      m.refresh();
      int from = Math.max(0, i + 1 - window);
      double expected =
          Auc.exact(
              java.util.Arrays.copyOfRange(bins, from, i + 1),
              java.util.Arrays.copyOfRange(y, from, i + 1));
      if (Double.isNaN(expected)) {
        assertThat(m.auc()).as("impression %d", i).isNaN();
      } else {
        assertThat(m.auc()).as("impression %d", i).isCloseTo(expected, within(1e-12));
      }
    }
  }

  @Test
  void lifetimeAucCoversEveryImpressionScoredAndSurvivesARestore() throws Exception {
    int window = 2_000, n = 20_000;
    ProgressiveMetrics m = new ProgressiveMetrics(window);
    SplittableRandom rnd = new SplittableRandom(17);
    double[] p = new double[n];
    float[] y = new float[n];
    double predSum = 0, pos = 0;
    for (int i = 0; i < n; i++) {
      // the signal fades: the whole stream ranks better than its last window
      double strength = 3.0 * (1 - (double) i / n);
      double z = rnd.nextGaussian();
      y[i] = rnd.nextDouble() < 1 / (1 + Math.exp(-(z * strength - 1))) ? 1f : 0f;
      p[i] = (float) (1 / (1 + Math.exp(-(z - 1 + rnd.nextGaussian() * 0.3))));
      predSum += (float) p[i];
      pos += y[i];
      m.add((float) p[i], y[i]);
      if (i == n / 2) {
        m = restored(m, window);
      }
    }
    m.refresh();
    double exact = Auc.exact(p, y);
    assertThat(m.lifetimeAuc()).isCloseTo(exact, within(AUC_TOLERANCE));
    assertThat(m.lifetimeCalibration()).isCloseTo(predSum / pos, within(1e-6));
    double lastWindow =
        Auc.exact(
            java.util.Arrays.copyOfRange(p, n - window, n),
            java.util.Arrays.copyOfRange(y, n - window, n));
    assertThat(m.auc()).isCloseTo(lastWindow, within(AUC_TOLERANCE));
    assertThat(exact - lastWindow).as("the stream drifts").isGreaterThan(0.05);
  }

  @Test
  void aStateWithoutLifetimeBinsRestartsTheLifetimeAucFromTheWindow() throws Exception {
    ProgressiveMetrics m = new ProgressiveMetrics(3);
    float[][] seen = {{0.9f, 0}, {0.1f, 1}, {0.8f, 1}, {0.3f, 0}, {0.6f, 1}};
    for (float[] e : seen) {
      m.add(e[0], e[1]);
    }
    m.refresh();
    // all five: positives 0.1, 0.8, 0.6 against negatives 0.9, 0.3: 0 + 1 + 1 of 6 pairs ordered
    assertThat(m.lifetimeAuc()).isCloseTo(2 / 6.0, within(1e-12));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    m.writeTo(new java.io.DataOutputStream(bytes));
    ProgressiveMetrics old = new ProgressiveMetrics(3);
    old.readFrom(
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())), false);
    // the window holds 0.8 (1), 0.3 (0), 0.6 (1): both positives above the negative
    assertThat(old.lifetimeAuc()).isEqualTo(1.0);
    assertThat(old.count()).isEqualTo(5);
    ProgressiveMetrics restored = new ProgressiveMetrics(3);
    restored.readFrom(
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
    assertThat(restored.lifetimeAuc()).isEqualTo(m.lifetimeAuc());
  }

  /**
   * {@code trainer.metrics-window} is a monitoring setting, and the alerts' guide says to lengthen
   * it for a rare label: a checkpoint taken under one window restores under another. The new window
   * holds the latest impressions of the old one (all of them when it is longer), the lifetime
   * figures carry over whole, and the metrics go on as if they had always had the new window once
   * it has filled.
   */
  @Test
  void aStateOfAnotherWindowRestoresItsLatestImpressionsAndItsLifetimeFigures() throws Exception {
    int n = 5_000;
    SplittableRandom rnd = new SplittableRandom(23);
    float[] p = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      double z = rnd.nextGaussian();
      y[i] = rnd.nextDouble() < 1 / (1 + Math.exp(-(z - 1))) ? (float) rnd.nextDouble(0.6, 1) : 0f;
      p[i] = (float) (1 / (1 + Math.exp(-(z - 1 + rnd.nextGaussian() * 0.5))));
    }
    int cut = 3_000;
    for (int[] windows : new int[][] {{1_000, 400}, {1_000, 2_500}, {1_000, 10_000}, {700, 700}}) {
      int before = windows[0], after = windows[1];
      ProgressiveMetrics m = new ProgressiveMetrics(before);
      for (int i = 0; i < cut; i++) {
        m.add(p[i], y[i]);
      }
      m.refresh();
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
        m.writeTo(out);
        m.writeLabelsTo(out);
      }
      ProgressiveMetrics r = new ProgressiveMetrics(after);
      try (java.io.DataInputStream in =
          new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
        r.readFrom(in);
        r.readLabelsFrom(in);
      }
      assertThat(r.window()).isEqualTo(after);
      assertThat(r.count()).isEqualTo(cut);
      assertThat(r.lifetimeAuc()).isEqualTo(m.lifetimeAuc());
      assertThat(r.lifetimeLogLoss()).isEqualTo(m.lifetimeLogLoss());
      assertThat(r.lifetimeCalibration()).isEqualTo(m.lifetimeCalibration());
      // the restored window: the latest of the impressions the old one held
      ProgressiveMetrics expected = new ProgressiveMetrics(after);
      for (int i = cut - Math.min(before, after); i < cut; i++) {
        expected.add(p[i], y[i]);
      }
      expected.refresh();
      String as = before + " -> " + after;
      assertThat(r.auc()).as(as).isCloseTo(expected.auc(), within(1e-12));
      assertThat(r.logLoss()).as(as).isCloseTo(expected.logLoss(), within(1e-9));
      assertThat(r.calibration()).as(as).isCloseTo(expected.calibration(), within(1e-9));
      // and it slides on as a window of the new length
      ProgressiveMetrics fresh = new ProgressiveMetrics(after);
      for (int i = 0; i < n; i++) {
        fresh.add(p[i], y[i]);
      }
      fresh.refresh();
      for (int i = cut; i < n; i++) {
        r.add(p[i], y[i]);
      }
      r.refresh();
      if (Math.min(before, after) + n - cut >= after) {
        assertThat(r.auc()).as(as).isCloseTo(fresh.auc(), within(1e-12));
        assertThat(r.logLoss()).as(as).isCloseTo(fresh.logLoss(), within(1e-9));
        assertThat(r.calibration()).as(as).isCloseTo(fresh.calibration(), within(1e-9));
      }
      assertThat(r.count()).isEqualTo(n);
      assertThat(r.lifetimeAuc()).isEqualTo(fresh.lifetimeAuc());
    }
  }

  @Test
  void aucIsUndefinedUntilBothClassesAreSeenAndHalfForTies() {
    ProgressiveMetrics m = new ProgressiveMetrics(10);
    m.add(0.3f, 1f);
    m.refresh();
    assertThat(m.auc()).isNaN();
    m.add(0.3f, 0f);
    m.refresh();
    assertThat(m.auc()).isEqualTo(0.5);
    m.add(0.1f, 0f);
    m.refresh();
    assertThat(m.auc()).isEqualTo(0.75);
  }

  @Test
  void exactAucCountsTiesAsHalf() {
    assertThat(Auc.exact(new double[] {0.1, 0.4, 0.35, 0.8}, new float[] {0, 0, 1, 1}))
        .isEqualTo(0.75);
    assertThat(Auc.exact(new double[] {0.5, 0.5}, new float[] {0, 1})).isEqualTo(0.5);
    assertThat(Auc.exact(new double[] {0.5, 0.6}, new float[] {1, 1})).isNaN();
  }

  /**
   * {@code m} written out and read back into fresh metrics of {@code window}, as a restore does.
   */
  private static ProgressiveMetrics restored(ProgressiveMetrics m, int window) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    m.writeTo(new java.io.DataOutputStream(bytes));
    ProgressiveMetrics r = new ProgressiveMetrics(window);
    r.readFrom(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
    return r;
  }

  /**
   * Labels between 0 and 1 (a watch ratio) are accepted by the job, but the calibration divided the
   * predictions by the count of labels above 0.5: a model predicting each label exactly read 0.8
   * here, and NaN for labels all below 0.5. It is the mean prediction over the mean label, and a
   * restore (with the labels' values written beside the rest) goes on with the same figures.
   */
  @Test
  void theCalibrationOfLabelsBetween0And1IsTheMeanPredictionOverTheMeanLabel() throws Exception {
    ProgressiveMetrics m = new ProgressiveMetrics(4);
    m.add(0.6f, 0.6f);
    m.add(0.2f, 0.2f);
    m.refresh();
    assertThat(m.calibration()).isCloseTo(1.0, within(1e-6));
    assertThat(m.lifetimeCalibration()).isCloseTo(1.0, within(1e-6));
    // labels all below 0.5: still a calibration
    ProgressiveMetrics low = new ProgressiveMetrics(4);
    low.add(0.1f, 0.2f);
    low.add(0.3f, 0.2f);
    low.refresh();
    assertThat(low.calibration()).isCloseTo(1.0, within(1e-6));
    // the window forgets its oldest label; the lifetime keeps every one
    for (float y : new float[] {0.4f, 0.4f, 0.4f}) {
      m.add(0.2f, y);
    }
    m.refresh();
    assertThat(m.calibration()).isCloseTo((0.2 + 0.2 * 3) / (0.2 + 0.4 * 3), within(1e-6));
    assertThat(m.lifetimeCalibration())
        .isCloseTo((0.6 + 0.2 + 0.2 * 3) / (0.6 + 0.2 + 0.4 * 3), within(1e-6));

    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
      m.writeTo(out);
      m.writeLabelsTo(out);
    }
    ProgressiveMetrics restored = new ProgressiveMetrics(4);
    try (java.io.DataInputStream in =
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      restored.readFrom(in);
      restored.readLabelsFrom(in);
    }
    assertThat(restored.calibration()).isEqualTo(m.calibration());
    assertThat(restored.lifetimeCalibration()).isEqualTo(m.lifetimeCalibration());
    for (ProgressiveMetrics k : new ProgressiveMetrics[] {m, restored}) {
      k.add(0.5f, 0.25f);
      k.refresh();
    }
    assertThat(restored.calibration()).isEqualTo(m.calibration());
    assertThat(restored.lifetimeCalibration()).isEqualTo(m.lifetimeCalibration());
  }

  /**
   * A NaN prediction (a batch the trainer then skips) entered the window's and the lifetime's sums,
   * which stayed NaN after it left the window: the log loss and calibration were NaN for good.
   */
  @Test
  void aPredictionThatIsNotANumberIsNotCounted() {
    ProgressiveMetrics m = new ProgressiveMetrics(4);
    m.add(Float.NaN, 1f);
    for (int i = 0; i < 8; i++) {
      m.add(i % 2 == 0 ? 0.3f : 0.7f, i % 2);
    }
    m.refresh();
    assertThat(m.count()).isEqualTo(8);
    assertThat(m.logLoss()).isFinite();
    assertThat(m.calibration()).isFinite();
    assertThat(m.lifetimeLogLoss()).isFinite();
    assertThat(m.lifetimeCalibration()).isFinite();
    assertThat(m.lifetimeAuc()).isEqualTo(1.0);
  }
}
