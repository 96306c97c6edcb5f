package io.streamrec.model.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.Auc;
import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BaselinesTest {
  private static final FeatureSpec SPEC =
      new FeatureSpec(
          List.of(
              CategoricalFeature.of("user", Side.REQUEST),
              CategoricalFeature.of("item", Side.IMPRESSION)),
          List.of(),
          List.of("click"));

  private static RequestUnit unit(String id, String user, String item, float click) {
    return RequestUnit.newBuilder()
        .setRequestId(id)
        .setTimestampMs(0L)
        .setClosedAtMs(0L)
        .setFeatures(Map.of("user", List.of(user)))
        .setDense(Map.of())
        .setImpressions(
            List.of(
                Impression.newBuilder()
                    .setImpressionId(id + "-0")
                    .setTimestampMs(0L)
                    .setFeatures(Map.of("item", List.of(item)))
                    .setDense(Map.of())
                    .setLabels(Map.of("click", click))
                    .build()))
        .build();
  }

  /**
   * Users u0..u9 and items i0..i9; a click when user and item have the same parity. The item alone
   * says nothing, nor the user: only the interaction does (no linear model separates it).
   */
  private static List<RequestUnit> parityStream(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<RequestUnit> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      int u = rnd.nextInt(10), i = rnd.nextInt(10);
      out.add(unit("r" + k, "u" + u, "i" + i, (u % 2) == (i % 2) ? 1f : 0f));
    }
    return out;
  }

  /** A click exactly for the even items: separable by the item's weights alone. */
  private static List<RequestUnit> itemStream(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<RequestUnit> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      int u = rnd.nextInt(10), i = rnd.nextInt(10);
      out.add(unit("r" + k, "u" + u, "i" + i, i % 2 == 0 ? 1f : 0f));
    }
    return out;
  }

  /** Trains on {@code stream} in batches of 4 units; the AUC of the last 1,000 scored. */
  private static double lastAuc(HashedLearner m, List<RequestUnit> stream) {
    List<Double> p = new ArrayList<>();
    List<Float> y = new ArrayList<>();
    for (int i = 0; i < stream.size(); i += 4) {
      List<RequestUnit> batch = stream.subList(i, Math.min(stream.size(), i + 4));
      float[] s = m.score(batch);
      for (int j = 0; j < s.length; j++) {
        p.add((double) s[j]);
        y.add(batch.get(j).getImpressions().get(0).getLabels().get("click"));
      }
      m.learn(batch);
    }
    int from = p.size() - 1_000;
    double[] pd = p.subList(from, p.size()).stream().mapToDouble(Double::doubleValue).toArray();
    float[] yf = new float[pd.length];
    for (int i = 0; i < yf.length; i++) {
      yf[i] = y.get(from + i);
    }
    return Auc.exact(pd, yf);
  }

  private static HashedLogisticRegression adagrad() {
    return new HashedLogisticRegression(SPEC, List.of(), 16, 0.1f, 100);
  }

  private static FtrlLogisticRegression ftrl() {
    return new FtrlLogisticRegression(SPEC, List.of(), 16, 0.1f, 1f, 0.1f, 0.1f, 100);
  }

  private static FactorizationMachine fm() {
    return new FactorizationMachine(SPEC, List.of(), 16, 4, 0.05f, 0.05f, 0f, 3, 100);
  }

  @Test
  void everyBaselineLearnsASeparableStream() {
    assertThat(lastAuc(adagrad(), itemStream(6_000, 1))).isGreaterThan(0.99);
    assertThat(lastAuc(ftrl(), itemStream(6_000, 1))).isGreaterThan(0.99);
    assertThat(lastAuc(fm(), itemStream(6_000, 1))).isGreaterThan(0.99);
  }

  @Test
  void onlyTheFactorizationMachineLearnsAnInteractionNobodyNamed() {
    assertThat(lastAuc(fm(), parityStream(20_000, 2))).isGreaterThan(0.95);
    assertThat(lastAuc(adagrad(), parityStream(20_000, 2))).isBetween(0.4, 0.6);
    assertThat(lastAuc(ftrl(), parityStream(20_000, 2))).isBetween(0.4, 0.6);
  }

  @Test
  void ftrlStepMatchesTheClosedFormByHand() {
    // α = 0.1, β = 1, λ1 = 0.1, λ2 = 1. Step 1 (y = 1, every weight 0, p = 0.5): g = −0.5 on the
    // bias, the user and the item; σ = (√0.25 − 0)/0.1 = 5; z = −0.5 − 5·0 = −0.5; n = 0.25;
    // w = −(−0.5 + 0.1) / ((1 + 0.5)/0.1 + 1) = 0.4 / 16 = 0.025.
    FtrlLogisticRegression m =
        new FtrlLogisticRegression(SPEC, List.of(), 16, 0.1f, 1f, 0.1f, 1f, 100);
    List<RequestUnit> one = List.of(unit("a", "u1", "i1", 1f));
    assertThat(m.score(one)[0]).isEqualTo(0.5f);
    m.learn(one);
    for (long id :
        new long[] {HashedRows.BIAS_ID, FeatureIds.of("user", "u1"), FeatureIds.of("item", "i1")}) {
      assertThat(m.weight(id)).isCloseTo(0.025f, within(1e-7f));
    }
    // an id never seen keeps weight 0
    assertThat(m.weight(FeatureIds.of("item", "i2"))).isZero();
    // Step 2 (y = 0): p = σ(3 · 0.025) = 0.518741; z = −0.5 + 0.518741 − σ·0.025 = −0.036379,
    // within λ1 = 0.1 of 0: L1 sets the weight to exactly 0
    List<RequestUnit> two = List.of(unit("b", "u1", "i1", 0f));
    assertThat(m.score(two)[0]).isCloseTo(0.518741f, within(1e-6f));
    m.learn(two);
    assertThat(m.weight(FeatureIds.of("item", "i1"))).isZero();

    // Without L1, step 1: w = 0.5 / 16 = 0.03125; step 2: p = σ(0.09375) = 0.523420,
    // σ = (√(0.25 + p²) − 0.5)/0.1, z = −0.5 + p − σ·0.03125 = −0.0465349, n = 0.25 + p² =
    // 0.523969,
    // w = 0.0465349 / ((1 + √0.523969)/0.1 + 1) = 0.00255146
    FtrlLogisticRegression noL1 =
        new FtrlLogisticRegression(SPEC, List.of(), 16, 0.1f, 1f, 0f, 1f, 100);
    noL1.score(one);
    noL1.learn(one);
    assertThat(noL1.weight(FeatureIds.of("user", "u1"))).isCloseTo(0.03125f, within(1e-7f));
    assertThat(noL1.score(two)[0]).isCloseTo(0.523420f, within(1e-6f));
    noL1.learn(two);
    assertThat(noL1.weight(FeatureIds.of("user", "u1"))).isCloseTo(0.00255146f, within(1e-7f));
  }

  @Test
  void trainScoresTheBatchBeforeLearningFromIt() {
    HashedLogisticRegression m = adagrad();
    List<RequestUnit> batch = List.of(unit("a", "u1", "i1", 1f), unit("b", "u1", "i1", 1f));
    m.train(batch);
    // both impressions scored at the initial weights: p = 0.5 each
    assertThat(m.metrics().logLoss()).isCloseTo(Math.log(2), within(1e-6));
    assertThat(m.score(batch)[0]).isGreaterThan(0.5f);
  }
}
