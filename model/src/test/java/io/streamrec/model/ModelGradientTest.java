package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backward pass against finite differences, on a model the size of a real CTR model's input: 26
 * request and 26 impression features, each in its own embedding table, with the deep part on. Every
 * table's row gradients, the wide rows' and a sample of the dense weights' must match the central
 * difference of the summed log loss.
 */
class ModelGradientTest {
  private static final int TABLES_PER_SIDE = 26;
  private static final int DIM = 4;

  /** Central-difference step: large enough for float32 losses, small enough that few ReLUs flip. */
  private static final float STEP = 2e-3f;

  /** Relative tolerance, and an absolute floor for gradients near zero. */
  private static final double REL_TOL = 0.03;

  private static final double ABS_TOL = 3e-4;

  private final ComputeBackend backend = new CpuBackend();

  @Test
  void fiftyTwoTablesWithTheDeepPartMatchFiniteDifferences() {
    ModelConfig config = config();
    Fixture fx = fixture(config);
    checkAgainstFiniteDifferences(config, fx.model, fx, fx.model.parameterCount());
  }

  /** The model of {@code config} on a batch of 6 units, with random rows and weights. */
  private Fixture fixture(ModelConfig config) {
    RequestOnlyModel model = new RequestOnlyModel(config, backend);
    UnitBatch batch = new UnitBatch(config);
    batch.encodeRequestUnits(units(6, 11));
    return new Fixture(config, model, batch, 23);
  }

  /**
   * With label weights ({@code model.label-weights}) each label's gradient is scaled by its weight:
   * every gradient is linear in the weights, {@code g(w) = Σ w[l]·g[l]}, to float rounding (each
   * label's own {@code g[l]} taken apart from the gradients of two other weightings), and matches
   * finite differences of the weighted loss that {@link RequestOnlyModel#loss} returns. (The finite
   * differences are of a draw of rows and weights whose ReLUs have no kink within the step: one
   * there shows as a mismatch, weighted or not.)
   */
  @Test
  void withLabelWeightsEveryGradientIsOfTheWeightedLoss() {
    ModelConfig base = config();
    ModelConfig twoLabels =
        base.withFeatures(
            new FeatureSpec(
                base.features().categorical(), base.features().dense(), List.of("click", "good")));
    List<RequestUnit> units = units(6, 11);
    SplittableRandom rnd = new SplittableRandom(3);
    for (RequestUnit u : units) {
      for (Impression im : u.getImpressions()) {
        im.setLabels(
            Map.of("click", im.getLabels().get("click"), "good", rnd.nextInt(2) == 0 ? 1f : 0f));
      }
    }
    int seed = 67;
    ModelConfig weighted = twoLabels.withLabelWeights(Map.of("click", 2f, "good", 0.25f));
    float[] plain = analyticGradients(twoLabels, units, seed);
    float[] half = analyticGradients(twoLabels.withLabelWeights(Map.of("good", 0.5f)), units, seed);
    float[] actual = analyticGradients(weighted, units, seed);
    int differ = 0;
    for (int k = 0; k < plain.length; k++) {
      // plain = c + g, half = c + g/2
      double good = 2.0 * (plain[k] - half[k]);
      double click = plain[k] - good;
      double expected = 2 * click + 0.25 * good;
      assertThat((double) actual[k])
          .as("gradient %d", k)
          .isCloseTo(
              expected, org.assertj.core.data.Offset.offset(1e-5 + 1e-4 * Math.abs(expected)));
      differ += Math.abs(actual[k] - plain[k]) > 1e-4 ? 1 : 0;
    }
    assertThat(differ).as("gradients the weights changed").isGreaterThan(plain.length / 4);

    RequestOnlyModel model = new RequestOnlyModel(weighted, backend);
    UnitBatch batch = new UnitBatch(weighted);
    batch.encodeRequestUnits(units);
    checkAgainstFiniteDifferences(
        weighted, model, new Fixture(weighted, model, batch, seed), model.parameterCount());
  }

  /**
   * Every gradient of {@code config}'s model on {@code units}, with the rows and weights of draw
   * {@code seed}: the dense parameters' (of the summed loss), then each table's rows', then the
   * wide rows'.
   */
  private float[] analyticGradients(ModelConfig config, List<RequestUnit> units, long seed) {
    RequestOnlyModel model = new RequestOnlyModel(config, backend);
    UnitBatch batch = new UnitBatch(config);
    batch.encodeRequestUnits(units);
    Fixture fx = new Fixture(config, model, batch, seed);
    try (RequestOnlyModel.Workspace ws = model.newWorkspace()) {
      List<Float> out = new ArrayList<>();
      for (float x : fx.denseGradient(ws)) {
        out.add(x);
      }
      RequestOnlyModel.Gradients g = fx.gradients(ws);
      int nt = config.features().tables().size();
      for (int t = 0; t < nt; t++) {
        for (float x : download(model.rowGradients(g, t), fx.distinct[t] * DIM)) {
          out.add(x);
        }
      }
      for (float x : download(model.wideGradients(g), fx.distinct[nt])) {
        out.add(x);
      }
      float[] a = new float[out.size()];
      for (int k = 0; k < a.length; k++) {
        a[k] = out.get(k);
      }
      return a;
    }
  }

  /**
   * With wide crosses every impression also sums a weight per (request id, impression id) pair: 26
   * × 26 pair rows per impression here, which the wide rows' check samples with the ids' own.
   */
  @Test
  void withWideCrossesThePairRowsMatchFiniteDifferences() {
    // the wide weights summed, so that an impression's keys and crosses are one bag
    ModelConfig config =
        config()
            .withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)
            .withWidePooling(ModelConfig.WidePooling.SUM);
    Fixture fx = fixture(config);
    assertThat(fx.batch.wideImpOffsets[1] - fx.batch.wideImpOffsets[0])
        .isEqualTo(TABLES_PER_SIDE + TABLES_PER_SIDE * TABLES_PER_SIDE);
    // 702 wide rows of ±0.5 per impression would saturate every prediction, and float32 losses
    // would then lose the dense weights' small gradients: keep the wide sum near the others' scale
    fx.scaleWide(1f / TABLES_PER_SIDE);
    checkAgainstFiniteDifferences(config, fx.model, fx, fx.model.parameterCount());
  }

  /**
   * With field-weighted wide crosses each impression's 26 × 26 pair rows are weighed by their
   * pair's weight: the pair rows' gradients flow through the weights, and the weights' gradients
   * (each checked, with a wider step) match finite differences. The weights are drawn away from 1,
   * so a backward that ignored them, or a forward that summed the crosses unweighted, would not
   * match.
   */
  @Test
  void withFieldWeightedWideCrossesThePairWeightsAndRowsMatchFiniteDifferences() {
    ModelConfig config =
        config()
            .withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)
            .withWidePooling(ModelConfig.WidePooling.SUM);
    Fixture fx = fixture(config);
    RequestOnlyModel model = fx.model;
    assertThat(fx.batch.wideImpOffsets[1] - fx.batch.wideImpOffsets[0])
        .as("an impression's own wide keys; its crosses are bags of their own")
        .isEqualTo(TABLES_PER_SIDE);
    assertThat(fx.batch.crossOffsets[TABLES_PER_SIDE * TABLES_PER_SIDE])
        .as("one cross per pair of the first impression")
        .isEqualTo(fx.batch.crossOffsets[0] + TABLES_PER_SIDE * TABLES_PER_SIDE);
    int[] pairs = model.blocks().get(RequestOnlyModel.WIDE_CROSS_PAIRS_BLOCK);
    assertThat(pairs[1]).isEqualTo(TABLES_PER_SIDE * TABLES_PER_SIDE);
    assertThat(model.initialParameters()[pairs[0]]).isEqualTo(1f);
    // crosses of ±0.5 / 8 keep 676 weighted rows from saturating the predictions, and leave each
    // pair's weight a gradient that a float32 loss resolves
    fx.scaleWide(1f / 8);
    // the logit is linear in a pair's weight, and a wider step outgrows the float32 rounding of
    // hundreds of logits that a pair's small share of each would otherwise drown in
    checkPairWeights(config, fx, pairs, 4, 1, 10 * STEP);
  }

  /**
   * Draws the pair weights of block {@code pairs} away from 1 (magnitudes 0.5 to 1.5, alternating
   * signs), then checks the model's gradients as usual and every {@code stride}-th pair weight's
   * against a central difference of step {@code step}.
   */
  private void checkPairWeights(
      ModelConfig config, Fixture fx, int[] pairs, int seed, int stride, float step) {
    RequestOnlyModel model = fx.model;
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int k = 0; k < pairs[1]; k++) {
      fx.set(pairs[0] + k, (float) (0.5 + rnd.nextDouble()) * (k % 2 == 0 ? 1 : -1));
    }
    checkAgainstFiniteDifferences(config, model, fx, model.parameterCount());
    try (RequestOnlyModel.Workspace ws = model.newWorkspace()) {
      float[] dense = fx.denseGradient(ws);
      List<String> mismatches = new ArrayList<>();
      for (int k = 0; k < pairs[1]; k += stride) {
        double numeric = fx.numericParam(ws, pairs[0] + k, step);
        if (!close(dense[pairs[0] + k], numeric)) {
          mismatches.add("pair " + k + ": backward " + dense[pairs[0] + k] + ", fd " + numeric);
        }
      }
      assertThat(mismatches).isEmpty();
      assertThat(dense[pairs[0]]).isNotZero();
    }
  }

  /**
   * With the field-weighted cross each of the 26 × 26 request×impression feature pairs has a weight
   * of its own: the rows' gradients now flow through each pair's weight, and the weights' gradients
   * (every ninth checked, besides the usual sample) match finite differences. The weights are drawn
   * away from their start of 1, so a backward that ignored them would not match.
   */
  @ParameterizedTest(name = "towers={0}")
  @ValueSource(booleans = {true, false})
  void withTheFieldWeightedCrossThePairWeightsAndRowsMatchFiniteDifferences(boolean towers) {
    // with towers the cross reads the towers' inputs; without, fields pooled for it alone
    ModelConfig config =
        config()
            .withFactorisedCross(ModelConfig.FactorisedCross.FIELD_WEIGHTED)
            .withTowers(towers ? config().towers() : ModelConfig.Towers.NONE);
    Fixture fx = fixture(config);
    RequestOnlyModel model = fx.model;
    int[] pairs = model.blocks().get(RequestOnlyModel.FIELD_PAIRS_BLOCK);
    assertThat(pairs[1]).isEqualTo(TABLES_PER_SIDE * TABLES_PER_SIDE);
    assertThat(model.initialParameters()[pairs[0]]).isEqualTo(1f);
    checkPairWeights(config, fx, pairs, 3, 9, STEP);
  }

  /**
   * With per-feature wide pooling a mean-pooled feature with several values (a history, an item's
   * tags) adds the mean of its values' wide weights, in a bag of its own mean-pooled into its unit
   * or impression, and a sum-pooled one (a request's segments) each of its values' with the
   * single-valued ids and the crosses: every wide row (the crosses' too), embedding row and sampled
   * dense weight matches finite differences, on units whose features have 0 to 4 values.
   */
  /**
   * A spec of single-valued ids, a mean-pooled history sharing the items' vocabulary, sum-pooled
   * segments and a dense value on each side, for {@code labels}.
   */
  private static FeatureSpec multiValuedSpec(String... labels) {
    return new FeatureSpec(
        List.of(
            CategoricalFeature.of("user", Side.REQUEST),
            new CategoricalFeature("hist", Side.REQUEST, "item", "item", Pooling.MEAN),
            new CategoricalFeature("segs", Side.REQUEST, "segs", "segs", Pooling.SUM),
            CategoricalFeature.of("item", Side.IMPRESSION),
            CategoricalFeature.of("tags", Side.IMPRESSION)),
        List.of(
            new DenseFeature("hour", Side.REQUEST), new DenseFeature("position", Side.IMPRESSION)),
        List.of(labels));
  }

  @Test
  void withPerFeatureWidePoolingEveryWideRowMatchesFiniteDifferences() {
    FeatureSpec spec = multiValuedSpec("click");
    ModelConfig config =
        config()
            .withFeatures(spec)
            .withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)
            .withWidePooling(ModelConfig.WidePooling.PER_FEATURE);
    RequestOnlyModel model = new RequestOnlyModel(config, backend);
    UnitBatch batch = new UnitBatch(config);
    SplittableRandom rnd = new SplittableRandom(31);
    List<RequestUnit> units = new ArrayList<>();
    int meanReq = 0, meanImp = 0, summedReq = 0, summedImp = 0;
    for (int u = 0; u < 8; u++) {
      List<String> hist = values("h", u % 5, rnd), segs = values("s", (u + 2) % 4, rnd);
      // single-valued request features: the user, and the history and segments with one value
      int singleReq = 1 + (hist.size() == 1 ? 1 : 0) + (segs.size() == 1 ? 1 : 0);
      List<Impression> imps = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        List<String> tags = values("t", (u + i) % 4, rnd);
        imps.add(
            Impression.newBuilder()
                .setImpressionId("u" + u + "-" + i)
                .setTimestampMs(1_000L)
                .setFeatures(Map.of("item", List.of("h" + rnd.nextInt(6)), "tags", tags))
                .setDense(Map.of("position", (float) i))
                .setLabels(Map.of("click", rnd.nextInt(3) == 0 ? 1f : 0f))
                .build());
        // summed: the item, the tag when it is one, a cross per pair of single-valued features
        int singleImp = 1 + (tags.size() == 1 ? 1 : 0);
        summedImp += singleImp + singleReq * singleImp;
        meanImp += tags.size() > 1 ? 1 : 0;
      }
      // summed: the user, the history when it is one item, every segment
      summedReq += 1 + (hist.size() == 1 ? 1 : 0) + segs.size();
      meanReq += hist.size() > 1 ? 1 : 0;
      units.add(
          RequestUnit.newBuilder()
              .setRequestId("u" + u)
              .setTimestampMs(1_000L)
              .setClosedAtMs(2_000L)
              .setFeatures(
                  Map.of("user", List.of("u" + rnd.nextInt(3)), "hist", hist, "segs", segs))
              .setDense(Map.of("hour", 0.5f))
              .setImpressions(imps)
              .build());
    }
    batch.encodeRequestUnits(units);
    assertThat(batch.wideReqOffsets[8] - batch.wideReqOffsets[0]).isEqualTo(summedReq);
    assertThat(batch.wideImpOffsets[24] - batch.wideImpOffsets[0]).isEqualTo(summedImp);
    assertThat(batch.wideReqMean.count).isEqualTo(meanReq).isPositive();
    assertThat(batch.wideImpMean.count).isEqualTo(meanImp).isPositive();
    // a seed whose random towers keep every pre-activation clear of ReLU's kink at this step
    Fixture fx = new Fixture(config, model, batch, 1);
    checkAgainstFiniteDifferences(config, model, fx, model.parameterCount(), 1);
  }

  /**
   * Every dense parameter of every layer (the linear block's bias and dense weights, each tower
   * layer's weights and biases, every head layer's, the pair weights), every embedding row and
   * every wide row, not a sample: on a small model with mean- and sum-pooled multi-valued features
   * (some bags empty, one unit without impressions) and two labels, under both factorised crosses
   * and with the request tower run once per unit or once per impression.
   */
  @ParameterizedTest(name = "cross={0}, requestOnly={1}")
  @org.junit.jupiter.params.provider.CsvSource({
    "SUM, true",
    "SUM, false",
    "FIELD_WEIGHTED, true",
    "FIELD_WEIGHTED, false"
  })
  void everyParameterOfEveryLayerMatchesFiniteDifferences(
      ModelConfig.FactorisedCross cross, boolean requestOnly) {
    FeatureSpec spec = multiValuedSpec("click", "good");
    ModelConfig config =
        config()
            .withFeatures(spec)
            .withTowers(new ModelConfig.Towers(List.of(5, 3), List.of(5, 3), List.of(4)))
            .withFactorisedCross(cross)
            .withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
    SplittableRandom rnd = new SplittableRandom(17);
    List<RequestUnit> units = new ArrayList<>();
    for (int u = 0; u < 5; u++) {
      List<Impression> imps = new ArrayList<>();
      for (int i = 0; i < (u == 2 ? 0 : 1 + rnd.nextInt(4)); i++) {
        imps.add(
            Impression.newBuilder()
                .setImpressionId("u" + u + "-" + i)
                .setTimestampMs(1_000L)
                .setFeatures(
                    Map.of(
                        "item",
                        List.of("h" + rnd.nextInt(6)),
                        "tags",
                        values("t", (u + i) % 4, rnd)))
                .setDense(Map.of("position", (float) i))
                .setLabels(
                    Map.of("click", rnd.nextInt(3) == 0 ? 1f : 0f, "good", rnd.nextInt(2) * 1f))
                .build());
      }
      units.add(
          RequestUnit.newBuilder()
              .setRequestId("u" + u)
              .setTimestampMs(1_000L)
              .setClosedAtMs(2_000L)
              .setFeatures(
                  Map.of(
                      "user",
                      List.of("u" + rnd.nextInt(3)),
                      "hist",
                      values("h", u % 5, rnd),
                      "segs",
                      values("s", (u + 2) % 4, rnd)))
              .setDense(Map.of("hour", (float) rnd.nextInt(24)))
              .setImpressions(imps)
              .build());
    }
    RequestOnlyModel model = new RequestOnlyModel(config, backend);
    model.setRequestOnly(requestOnly);
    UnitBatch batch = new UnitBatch(config);
    batch.encodeRequestUnits(units);
    Fixture fx = new Fixture(config, model, batch, 5);
    try (RequestOnlyModel.Workspace ws = model.newWorkspace()) {
      RequestOnlyModel.Gradients g = fx.gradients(ws);
      int nt = config.features().tables().size();
      float[][] rowGrads = new float[nt + 1][];
      for (int t = 0; t <= nt; t++) {
        rowGrads[t] =
            download(
                t < nt ? model.rowGradients(g, t) : model.wideGradients(g),
                fx.distinct[t] * (t < nt ? DIM : 1));
      }
      float[] dense = fx.denseGradient(ws);
      List<String> mismatches = new ArrayList<>();
      for (Map.Entry<String, int[]> block : model.blocks().entrySet()) {
        int[] b = block.getValue();
        for (int k = 0; k < b[1]; k++) {
          double numeric = fx.numericParam(ws, b[0] + k);
          if (!close(dense[b[0] + k], numeric)) {
            mismatches.add(block.getKey() + "[" + k + "]: " + dense[b[0] + k] + " vs " + numeric);
          }
        }
      }
      for (int t = 0; t <= nt; t++) {
        int dim = t < nt ? DIM : 1;
        float[] analytic = rowGrads[t];
        for (int r = 0; r < fx.distinct[t]; r++) {
          for (int d = 0; d < dim; d++) {
            double numeric = fx.numericRow(ws, t, r, d);
            if (!close(analytic[r * dim + d], numeric)) {
              mismatches.add(
                  "table " + t + " row " + r + ": " + analytic[r * dim + d] + " vs " + numeric);
            }
          }
        }
      }
      assertThat(mismatches).isEmpty();
    }
  }

  /** {@code n} values {@code prefix0..5}, drawn. */
  private static List<String> values(String prefix, int n, SplittableRandom rnd) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      out.add(prefix + rnd.nextInt(6));
    }
    return out;
  }

  /**
   * With running normalisation the dense inputs reach the towers and the linear part standardised
   * by the statistics in the parameter vector: every learnt weight still matches finite
   * differences, the statistics get a zero gradient (Adam never moves them), and the loss does
   * depend on them (they are applied).
   */
  @Test
  void withRunningNormalizationTheWeightsMatchFiniteDifferencesAndTheStatisticsGetNoGradient() {
    ModelConfig config = config().withDenseNormalization(ModelConfig.DenseNormalization.RUNNING);
    Fixture fx = fixture(config);
    RequestOnlyModel model = fx.model;
    int[] block = model.normalizationBlock();
    assertThat(block).containsExactly(model.parameterCount() - 6, 6);
    // [n_req, n_imp, mean hour, mean position, var hour, var position]: hour/24 squashes into
    // [0, 0.7), positions 0..4 into [0, 1.7)
    float[] stats = {100f, 400f, 0.4f, 0.9f, 0.04f, 0.3f};
    for (int k = 0; k < stats.length; k++) {
      fx.set(block[0] + k, stats[k]);
    }
    checkAgainstFiniteDifferences(config, model, fx, block[0]);
    try (RequestOnlyModel.Workspace ws = model.newWorkspace()) {
      float[] dense = fx.denseGradient(ws);
      for (int k = 0; k < block[1]; k++) {
        assertThat(dense[block[0] + k]).as("gradient of statistic %d", k).isZero();
      }
      for (int k = 2; k < 6; k++) {
        assertThat(Math.abs(fx.numericParam(ws, block[0] + k)))
            .as("the loss depends on statistic %d", k)
            .isGreaterThan(1e-3);
      }
    }
  }

  /**
   * Every table's row gradients, a sample of the wide rows' and 80 of the dense parameters below
   * {@code trainable} against central differences.
   */
  private void checkAgainstFiniteDifferences(
      ModelConfig config, RequestOnlyModel model, Fixture fx, int trainable) {
    assertThat(config.features().tables()).hasSize(2 * TABLES_PER_SIDE);
    checkAgainstFiniteDifferences(config, model, fx, trainable, 7);
  }

  /** As above, checking every {@code wideStride}-th wide row. */
  private void checkAgainstFiniteDifferences(
      ModelConfig config, RequestOnlyModel model, Fixture fx, int trainable, int wideStride) {
    try (RequestOnlyModel.Workspace ws = model.newWorkspace()) {
      RequestOnlyModel.Gradients g = fx.gradients(ws);
      assertThat(g.finite()).isTrue();
      int nt = config.features().tables().size();
      float[][] rowGrads = new float[nt][];
      for (int t = 0; t < nt; t++) {
        rowGrads[t] = download(model.rowGradients(g, t), fx.distinct[t] * DIM);
      }
      float[] wide = download(model.wideGradients(g), fx.distinct[nt]);
      List<String> mismatches = new ArrayList<>();
      int checked = 0;
      for (int t = 0; t < nt; t++) {
        float[] analytic = rowGrads[t];
        for (int r = 0; r < fx.distinct[t]; r++) {
          for (int d = 0; d < DIM; d++) {
            double numeric = fx.numericRow(ws, t, r, d);
            checked++;
            if (!close(analytic[r * DIM + d], numeric)) {
              mismatches.add(
                  config.features().tables().get(t)
                      + " row "
                      + r
                      + " ["
                      + d
                      + "]: backward "
                      + analytic[r * DIM + d]
                      + ", finite difference "
                      + numeric);
            }
          }
        }
      }
      for (int r = 0; r < fx.distinct[nt]; r += wideStride) {
        double numeric = fx.numericRow(ws, nt, r, 0);
        checked++;
        if (!close(wide[r], numeric)) {
          mismatches.add(
              "wide row " + r + ": backward " + wide[r] + ", finite difference " + numeric);
        }
      }
      float[] dense = fx.denseGradient(ws);
      SplittableRandom pick = new SplittableRandom(5);
      for (int k = 0; k < 80; k++) {
        int p = pick.nextInt(trainable);
        double numeric = fx.numericParam(ws, p);
        checked++;
        if (!close(dense[p], numeric)) {
          mismatches.add(
              "dense parameter " + p + ": backward " + dense[p] + ", finite difference " + numeric);
        }
      }
      assertThat(checked).isGreaterThan(nt * DIM);
      assertThat(mismatches).as("of %d gradients checked", checked).isEmpty();
    }
  }

  @Test
  void stalePassesAndForeignWorkspacesAreRefused() {
    ModelConfig config = config();
    RequestOnlyModel model = new RequestOnlyModel(config, backend);
    RequestOnlyModel other = new RequestOnlyModel(config, backend);
    UnitBatch batch = new UnitBatch(config);
    batch.encodeRequestUnits(units(2, 3));
    Fixture fx = new Fixture(config, model, batch, 1);
    try (RequestOnlyModel.Workspace ws = model.newWorkspace();
        RequestOnlyModel.Workspace foreign = other.newWorkspace();
        Floats grad = backend.allocFloats(model.parameterCount())) {
      RequestOnlyModel.Forward first = model.forward(batch, fx.rows, fx.wide, fx.params, ws);
      assertThatThrownBy(() -> model.backward(first, grad))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("loss");
      model.loss(first);
      RequestOnlyModel.Gradients g = model.backward(first, grad);
      model.applySparse(g, fx.tableNames, 1e-6f);
      assertThatThrownBy(() -> model.applySparse(g, fx.tableNames, 1e-6f))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("applied already");
      model.forward(batch, fx.rows, fx.wide, fx.params, ws);
      assertThatThrownBy(() -> model.loss(first))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("later forward pass");
      assertThatThrownBy(() -> model.forward(batch, fx.rows, fx.wide, fx.params, foreign))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("another model");
    }
  }

  private static boolean close(double analytic, double numeric) {
    return Math.abs(analytic - numeric)
        <= REL_TOL * Math.max(Math.abs(analytic), Math.abs(numeric)) + ABS_TOL;
  }

  private float[] download(Floats f, int n) {
    float[] out = new float[n];
    backend.download(f, 0, out, 0, n);
    return out;
  }

  private static ModelConfig config() {
    List<CategoricalFeature> cat = new ArrayList<>();
    for (int k = 0; k < TABLES_PER_SIDE; k++) {
      cat.add(CategoricalFeature.of("r" + k, Side.REQUEST));
      cat.add(CategoricalFeature.of("i" + k, Side.IMPRESSION));
    }
    FeatureSpec spec =
        new FeatureSpec(
            cat,
            List.of(
                new DenseFeature("hour", Side.REQUEST),
                new DenseFeature("position", Side.IMPRESSION)),
            List.of("click"));
    return new ModelConfig(
        spec,
        DIM,
        1 << 12,
        1,
        0L,
        0.05f,
        0.1f,
        0.05f,
        0.005f,
        new ModelConfig.Towers(List.of(8, 4), List.of(8, 4), List.of(6)),
        Map.of(),
        0f);
  }

  /** Units whose features take a few values each, so rows repeat within the batch. */
  private static List<RequestUnit> units(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<RequestUnit> out = new ArrayList<>();
    for (int u = 0; u < n; u++) {
      Map<String, List<String>> req = new HashMap<>();
      for (int k = 0; k < TABLES_PER_SIDE; k++) {
        req.put("r" + k, List.of("v" + rnd.nextInt(3)));
      }
      List<Impression> imps = new ArrayList<>();
      int ni = 2 + rnd.nextInt(3);
      for (int i = 0; i < ni; i++) {
        Map<String, List<String>> f = new HashMap<>();
        for (int k = 0; k < TABLES_PER_SIDE; k++) {
          f.put("i" + k, List.of("v" + rnd.nextInt(4)));
        }
        imps.add(
            Impression.newBuilder()
                .setImpressionId("u" + u + "-" + i)
                .setTimestampMs(1_000L + u)
                .setFeatures(f)
                .setDense(Map.of("position", (float) i))
                .setLabels(Map.of("click", rnd.nextInt(3) == 0 ? 1f : 0f))
                .build());
      }
      out.add(
          RequestUnit.newBuilder()
              .setRequestId("u" + u)
              .setTimestampMs(1_000L + u)
              .setClosedAtMs(2_000L + u)
              .setFeatures(req)
              .setDense(Map.of("hour", (float) rnd.nextInt(24) / 24f))
              .setImpressions(imps)
              .build());
    }
    return out;
  }

  /** One batch's rows in host-built slabs (one row per distinct key), and random dense weights. */
  private final class Fixture {
    final RequestOnlyModel model;
    final UnitBatch batch;
    final TableRows[] rows;
    final TableRows wide;
    final float[][] slabs;
    final int[] width;
    final int[] distinct;
    final String[] tableNames;
    final float[] hostParams;
    final Floats params;

    Fixture(ModelConfig config, RequestOnlyModel model, UnitBatch batch, long seed) {
      this.model = model;
      this.batch = batch;
      SplittableRandom rnd = new SplittableRandom(seed);
      List<TableConfig> tables = config.tableConfigs();
      int nt = tables.size() - 1;
      this.tableNames = config.features().tables().toArray(new String[0]);
      this.rows = new TableRows[nt];
      this.slabs = new float[nt + 1][];
      this.width = new int[nt + 1];
      this.distinct = new int[nt + 1];
      for (int t = 0; t < nt; t++) {
        rows[t] = rowsOf(t, tables.get(t), batch.tableKeys[t], batch.tableKeyCount[t], rnd);
      }
      wide = rowsOf(nt, tables.get(nt), batch.wideKeys, batch.wideCount, rnd);
      hostParams = model.initialParameters();
      for (int p = 0; p < hostParams.length; p++) {
        hostParams[p] += (float) (0.8 * (rnd.nextDouble() - 0.5));
      }
      params = backend.allocFloats(hostParams.length);
      backend.upload(hostParams, 0, params, 0, hostParams.length);
    }

    private TableRows rowsOf(
        int t, TableConfig table, long[] keys, int count, SplittableRandom rnd) {
      Map<Long, Integer> index = new HashMap<>();
      int[] slots = new int[count];
      for (int k = 0; k < count; k++) {
        slots[k] = index.computeIfAbsent(keys[k], x -> index.size());
      }
      int n = index.size();
      int w = table.rowWidth();
      float[] slab = new float[Math.max(1, n) * w];
      for (int r = 0; r < n; r++) {
        for (int d = 0; d < table.dim(); d++) {
          slab[r * w + d] = (float) (rnd.nextDouble() - 0.5);
        }
      }
      int[] identity = new int[n];
      for (int r = 0; r < n; r++) {
        identity[r] = r;
      }
      slabs[t] = slab;
      width[t] = w;
      distinct[t] = n;
      return new TableRows(upload(slab), w, upload(slots), upload(slots), upload(identity), n);
    }

    private Floats upload(float[] a) {
      Floats f = backend.allocFloats(a.length);
      backend.upload(a, 0, f, 0, a.length);
      return f;
    }

    private io.streamrec.gpu.Ints upload(int[] a) {
      io.streamrec.gpu.Ints i = backend.allocInts(Math.max(1, a.length));
      backend.upload(a, 0, i, 0, a.length);
      return i;
    }

    RequestOnlyModel.Gradients gradients(RequestOnlyModel.Workspace ws) {
      RequestOnlyModel.Forward fw = model.forward(batch, rows, wide, params, ws);
      model.loss(fw);
      try (Floats grad = backend.allocFloats(model.parameterCount())) {
        return model.backward(fw, grad);
      }
    }

    /** The dense gradient of the summed loss (backward gives the mean). */
    float[] denseGradient(RequestOnlyModel.Workspace ws) {
      RequestOnlyModel.Forward fw = model.forward(batch, rows, wide, params, ws);
      model.loss(fw);
      try (Floats grad = backend.allocFloats(model.parameterCount())) {
        model.backward(fw, grad);
        float[] g = download(grad, model.parameterCount());
        for (int p = 0; p < g.length; p++) {
          g[p] *= batch.impressions();
        }
        return g;
      }
    }

    double loss(RequestOnlyModel.Workspace ws) {
      return model.loss(model.forward(batch, rows, wide, params, ws));
    }

    double numericRow(RequestOnlyModel.Workspace ws, int t, int r, int d) {
      Floats slab = t < rows.length ? rows[t].slab() : wide.slab();
      int at = r * width[t] + d;
      return centralDifference(ws, slab, at, slabs[t][at]);
    }

    /** Scales every wide row by {@code f} (host copy and backend buffer). */
    void scaleWide(float f) {
      float[] w = slabs[rows.length];
      for (int k = 0; k < w.length; k++) {
        w[k] *= f;
      }
      backend.upload(w, 0, wide.slab(), 0, w.length);
    }

    void set(int p, float value) {
      hostParams[p] = value;
      backend.upload(hostParams, p, params, p, 1);
    }

    double numericParam(RequestOnlyModel.Workspace ws, int p) {
      return numericParam(ws, p, STEP);
    }

    double numericParam(RequestOnlyModel.Workspace ws, int p, float step) {
      return centralDifference(ws, params, p, hostParams[p], step);
    }

    private double centralDifference(
        RequestOnlyModel.Workspace ws, Floats buffer, int at, float x) {
      return centralDifference(ws, buffer, at, x, STEP);
    }

    private double centralDifference(
        RequestOnlyModel.Workspace ws, Floats buffer, int at, float x, float step) {
      float hi = x + step, lo = x - step;
      backend.upload(new float[] {hi}, 0, buffer, at, 1);
      double up = loss(ws);
      backend.upload(new float[] {lo}, 0, buffer, at, 1);
      double down = loss(ws);
      backend.upload(new float[] {x}, 0, buffer, at, 1);
      return (up - down) / ((double) hi - lo);
    }
  }
}
