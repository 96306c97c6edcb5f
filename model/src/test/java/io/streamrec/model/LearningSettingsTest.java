package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code model.wide-crosses}, {@code model.adagrad-initial-accumulator}, {@code
 * model.dense-rate-impressions} and {@code model.init-seed}.
 */
class LearningSettingsTest {
  private static final ModelConfig CROSSES =
      ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION);

  /** As {@link #CROSSES}, the wide weights summed: a unit's and an impression's keys one bag. */
  private static final ModelConfig SUMMED_CROSSES =
      CROSSES.withWidePooling(ModelConfig.WidePooling.SUM);

  private static MiniBatchTrainer trainer(ModelConfig cfg) {
    return new MiniBatchTrainer(
        cfg, new InMemoryEmbeddingStore(cfg.tableConfigs()), new CpuBackend(), 20_000);
  }

  private static Impression impression(String id, Map<String, List<String>> features) {
    return Impression.newBuilder()
        .setImpressionId(id)
        .setTimestampMs(1)
        .setFeatures(features)
        .setDense(Map.of("position", 0f))
        .setLabels(Map.of("click", 1f))
        .build();
  }

  private static RequestUnit unit(List<String> recent, List<Impression> imps) {
    return RequestUnit.newBuilder()
        .setRequestId("r1")
        .setTimestampMs(1)
        .setClosedAtMs(2)
        .setFeatures(
            Map.of("user_id", List.of("u1"), "country", List.of("DE"), "recent_items", recent))
        .setDense(Map.of("hour", 3f))
        .setImpressions(imps)
        .build();
  }

  /** A unit with {@code recent} as its history and one impression of item i1, category c1. */
  private static RequestUnit oneImpression(List<String> recent) {
    return unit(
        recent,
        List.of(impression("a", Map.of("item_id", List.of("i1"), "item_cat", List.of("c1")))));
  }

  @Test
  void eachImpressionGetsThePairsOfSingleValuedRequestAndImpressionIds() {
    RequestUnit u =
        unit(
            List.of("i7", "i9"),
            List.of(
                impression("a", Map.of("item_id", List.of("i1"), "item_cat", List.of("c1"))),
                impression("b", Map.of("item_id", List.of("i2"), "item_cat", List.of()))));
    UnitBatch batch = new UnitBatch(SUMMED_CROSSES);
    batch.encodeRequestUnits(List.of(u));
    // request keys in the spec's order: user, country, then recent_items' two values (no crosses)
    long user = batch.wideKeys[batch.wideReqOffsets[0]];
    long country = batch.wideKeys[batch.wideReqOffsets[0] + 1];
    assertThat(batch.wideReqOffsets[1] - batch.wideReqOffsets[0]).isEqualTo(4);
    int a = batch.wideImpOffsets[0];
    long item1 = batch.wideKeys[a], cat1 = batch.wideKeys[a + 1];
    assertThat(java.util.Arrays.copyOfRange(batch.wideKeys, a + 2, batch.wideImpOffsets[1]))
        .containsExactly(
            ModelConfig.crossKey(user, item1),
            ModelConfig.crossKey(user, cat1),
            ModelConfig.crossKey(country, item1),
            ModelConfig.crossKey(country, cat1));
    int b = batch.wideImpOffsets[1];
    long item2 = batch.wideKeys[b];
    // the empty category takes no part
    assertThat(java.util.Arrays.copyOfRange(batch.wideKeys, b + 1, batch.wideImpOffsets[2]))
        .containsExactly(ModelConfig.crossKey(user, item2), ModelConfig.crossKey(country, item2));

    CompactUnit compact =
        new UnitEncoder(new io.streamrec.model.units.UnitLayout(CROSSES.features())).encode(u);
    assertThat(UnitBatch.rows(CROSSES, compact)).isEqualTo(compact.ids().length + 6L);
    assertThat(UnitBatch.rows(ModelConfig.defaults(), compact)).isEqualTo(compact.ids().length);
    // a pair's key depends on which id is the request's
    assertThat(ModelConfig.crossKey(user, item1)).isNotEqualTo(ModelConfig.crossKey(item1, user));
  }

  @Test
  void aSingleValuedHistoryIsCrossedToo() {
    UnitBatch batch = new UnitBatch(SUMMED_CROSSES);
    batch.encodeRequestUnits(List.of(oneImpression(List.of("i7"))));
    // user, country and the one recent item, each with item and category
    assertThat(batch.wideImpOffsets[1] - batch.wideImpOffsets[0]).isEqualTo(2 + 3 * 2);
  }

  @Test
  void withoutCrossesTheWideKeysAreTheIdsAlone() {
    UnitBatch batch =
        new UnitBatch(ModelConfig.defaults().withWidePooling(ModelConfig.WidePooling.SUM));
    batch.encodeRequestUnits(List.of(oneImpression(List.of("i7"))));
    assertThat(batch.wideImpOffsets[1] - batch.wideImpOffsets[0]).isEqualTo(2);
  }

  @Test
  void theReplicaScoresAsTheTrainerBitForBitWithCrosses() {
    MapParameters replica = MiniBatchTrainerTest.assertTheReplicaScoresAsTheTrainer(CROSSES);
    // pairs have rows of their own: more wide rows than ids of the five features
    long wide = replica.rows.keySet().stream().filter(k -> k.startsWith("wide/")).count();
    assertThat(wide).isGreaterThan(200 + 4 + 100 + 4);
  }

  /**
   * Clicks follow a random country × category table of rank far above the embedding width: the
   * factorised cross can only approximate it, a weight per pair learns it exactly.
   */
  @Test
  void crossesLearnAnInteractionOfHigherRankThanTheEmbeddings() {
    ModelConfig narrow =
        new ModelConfig(
                ModelConfig.defaults().features(), 2, 1 << 16, 1, 0L, 0.05f, 0.1f, 0.05f, 0.005f)
            .withTowers(ModelConfig.Towers.NONE);
    double without = progressiveAuc(narrow);
    double with =
        progressiveAuc(narrow.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION));
    assertThat(with)
        .as("AUC with crosses %s, without %s", with, without)
        .isGreaterThan(without + 0.03);
  }

  private static double progressiveAuc(ModelConfig cfg) {
    int countries = 24, cats = 24;
    SplittableRandom world = new SplittableRandom(11);
    double[] affinity = new double[countries * cats];
    for (int k = 0; k < affinity.length; k++) {
      affinity[k] = world.nextDouble(-2, 2);
    }
    SplittableRandom rnd = new SplittableRandom(12);
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 250; b++) {
        List<RequestUnit> batch = new ArrayList<>();
        for (int u = 0; u < 32; u++) {
          int c = rnd.nextInt(countries);
          List<Impression> imps = new ArrayList<>();
          for (int p = 0; p < 4; p++) {
            int item = rnd.nextInt(400), cat = item % cats;
            double prob = 1 / (1 + Math.exp(2 - affinity[c * cats + cat]));
            imps.add(
                Impression.newBuilder()
                    .setImpressionId("x" + b + "-" + u + "-" + p)
                    .setTimestampMs(b)
                    .setFeatures(
                        Map.of("item_id", List.of("i" + item), "item_cat", List.of("c" + cat)))
                    .setDense(Map.of("position", (float) p))
                    .setLabels(Map.of("click", rnd.nextDouble() < prob ? 1f : 0f))
                    .build());
          }
          batch.add(
              RequestUnit.newBuilder()
                  .setRequestId("r" + b + "-" + u)
                  .setTimestampMs(b)
                  .setClosedAtMs(b)
                  .setFeatures(
                      Map.of(
                          "user_id",
                          List.of("u" + rnd.nextInt(1000)),
                          "country",
                          List.of("k" + c),
                          "recent_items",
                          List.of()))
                  .setDense(Map.of("hour", 1f))
                  .setImpressions(imps)
                  .build());
        }
        t.trainRequestUnits(batch);
      }
      return t.metrics().lifetimeAuc();
    }
  }

  @Test
  void aNewRowsFirstStepIsDampedByTheInitialAccumulator() {
    for (float acc : new float[] {0.1f, 1e-6f, 2f}) {
      ModelConfig cfg =
          new ModelConfig(
                  ModelConfig.defaults().features(), 4, 1 << 10, 1, 0L, 0f, 0.1f, 0.05f, 0.005f)
              .withAdagradInitialAccumulator(acc);
      try (MiniBatchTrainer t = trainer(cfg)) {
        t.trainRequestUnits(List.of(oneImpression(List.of())));
        // every weight and embedding starts at 0: the prediction is 1/2 and each wide row's
        // gradient is p - y = -1/2, so its step is lr · 0.5 / sqrt(acc + 0.25)
        assertThat(t.lastPredictions()).containsExactly(0.5f);
        MapParameters out = new MapParameters();
        t.publish(out);
        List<float[]> wide =
            out.rows.entrySet().stream()
                .filter(e -> e.getKey().startsWith("wide/"))
                .map(Map.Entry::getValue)
                .toList();
        assertThat(wide).hasSize(4);
        double expected = 0.05 * 0.5 / Math.sqrt(acc + 0.25);
        for (float[] w : wide) {
          assertThat((double) w[0]).as("acc %s", acc).isCloseTo(expected, within(1e-6));
        }
      }
    }
  }

  /**
   * Per-feature wide pooling: a history of four items is one term of the logit, the mean of their
   * wide weights, so each item's weight gets a quarter of the gradient of a single-valued id's;
   * summed, each gets all of it.
   */
  @Test
  void perFeatureWidePoolingGivesEachOfAMeanPooledHistorysItemsItsShareOfTheGradient() {
    ModelConfig zero =
        new ModelConfig(
            ModelConfig.defaults().features(), 4, 1 << 10, 1, 0L, 0f, 0.1f, 0.05f, 0.005f);
    // a row's first step from accumulator 0.1 is lr · |g| / sqrt(0.1 + g²), for g = -1/2 or -1/8
    double single = Math.round(0.05 * 0.5 / Math.sqrt(0.1 + 0.25) * 1e6) / 1e6;
    double quarter = Math.round(0.05 * 0.125 / Math.sqrt(0.1 + 0.125 * 0.125) * 1e6) / 1e6;
    assertThat(firstWideSteps(zero.withWidePooling(ModelConfig.WidePooling.SUM)))
        .containsExactly(single, single, single, single, single, single, single, single);
    assertThat(firstWideSteps(zero.withWidePooling(ModelConfig.WidePooling.PER_FEATURE)))
        .containsExactly(quarter, quarter, quarter, quarter, single, single, single, single);
  }

  /**
   * The wide weights, ascending and rounded to 1e-6, after one batch of one clicked impression
   * (user, country, four history items, item, category) from all-zero weights.
   */
  private static List<Double> firstWideSteps(ModelConfig cfg) {
    try (MiniBatchTrainer t = trainer(cfg)) {
      t.trainRequestUnits(List.of(oneImpression(List.of("i7", "i8", "i9", "i10"))));
      assertThat(t.lastPredictions()).containsExactly(0.5f);
      MapParameters out = new MapParameters();
      t.publish(out);
      return out.rows.entrySet().stream()
          .filter(e -> e.getKey().startsWith("wide/"))
          .map(e -> Math.round(e.getValue()[0] * 1e6) / 1e6)
          .sorted()
          .toList();
    }
  }

  @Test
  void aBatchBelowTheRateImpressionsStepsAdamAtTheScaledRate() {
    ModelConfig base =
        ModelConfig.defaults()
            .withTowers(ModelConfig.Towers.defaults())
            .withDenseRateImpressions(64);
    assertThat(base.denseLr(64)).isEqualTo(base.denseLr());
    assertThat(base.denseLr(1000)).isEqualTo(base.denseLr());
    assertThat(base.denseLr(16)).isEqualTo(base.denseLr() / 2);
    assertThat(base.withDenseRateImpressions(0).denseLr(1)).isEqualTo(base.denseLr());
    // 16 impressions against 64: the same step as the full rate halved, bit for bit
    ModelConfig halved = base.withDenseLr(base.denseLr() / 2).withDenseRateImpressions(0);
    float[] scaled = denseAfterOneBatch(base);
    assertThat(denseAfterOneBatch(halved)).containsExactly(scaled);
    assertThat(denseAfterOneBatch(base.withDenseRateImpressions(0))).isNotEqualTo(scaled);
  }

  /** The head block after one batch of 4 units of 4 impressions each. */
  private static float[] denseAfterOneBatch(ModelConfig cfg) {
    List<RequestUnit> units = new ArrayList<>();
    for (int u = 0; u < 4; u++) {
      List<Impression> imps = new ArrayList<>();
      for (int p = 0; p < 4; p++) {
        imps.add(
            impression(
                "i" + u + p,
                Map.of("item_id", List.of("i" + (u * 4 + p)), "item_cat", List.of("c" + p))));
      }
      units.add(unit(List.of("i3"), imps));
    }
    try (MiniBatchTrainer t = trainer(cfg)) {
      t.trainRequestUnits(units);
      MapParameters out = new MapParameters();
      t.publish(out);
      return out.dense.get(RequestOnlyModel.HEAD_BLOCK);
    }
  }

  @Test
  void badSettingsNameTheirKey() {
    assertThatThrownBy(() -> ModelConfig.defaults().withDenseRateImpressions(-1))
        .hasMessageContaining("model.dense-rate-impressions");
    assertThatThrownBy(() -> ModelConfig.defaults().withAdagradInitialAccumulator(0f))
        .hasMessageContaining("model.adagrad-initial-accumulator");
    assertThatThrownBy(() -> ModelConfig.WideCrosses.of("all"))
        .hasMessageContaining("model.wide-crosses");
    assertThat(ModelConfig.WideCrosses.of("Request-Impression"))
        .isEqualTo(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
  }

  /**
   * {@code model.init-seed} draws the towers' initial weights anew, from the same distribution, and
   * nothing else: the linear weights, the field pairs' weights and the head's zero last layer start
   * as they do under seed 0, and a seed gives the same draw and the same training every time.
   */
  @Test
  void anInitSeedDrawsOtherTowerWeightsAndNothingElse() {
    ModelConfig base = ModelConfig.defaults();
    RequestOnlyModel zero = new RequestOnlyModel(base, new CpuBackend());
    RequestOnlyModel seeded = new RequestOnlyModel(base.withInitSeed(42), new CpuBackend());
    float[] p0 = zero.initialParameters();
    float[] p42 = seeded.initialParameters();
    assertThat(new RequestOnlyModel(base.withInitSeed(42), new CpuBackend()).initialParameters())
        .containsExactly(p42);
    assertThat(seeded.blocks().keySet()).isEqualTo(zero.blocks().keySet());
    for (var e : zero.blocks().entrySet()) {
      int[] b = e.getValue();
      float[] a = java.util.Arrays.copyOfRange(p0, b[0], b[0] + b[1]);
      float[] c = java.util.Arrays.copyOfRange(p42, b[0], b[0] + b[1]);
      boolean tower =
          e.getKey().equals(RequestOnlyModel.REQUEST_TOWER_BLOCK)
              || e.getKey().equals(RequestOnlyModel.IMPRESSION_TOWER_BLOCK)
              || e.getKey().equals(RequestOnlyModel.HEAD_BLOCK);
      if (!tower) {
        assertThat(c).as(e.getKey()).containsExactly(a);
        continue;
      }
      int differ = 0, zeros0 = 0, zeros42 = 0;
      float max0 = 0, max42 = 0;
      for (int i = 0; i < a.length; i++) {
        differ += a[i] != c[i] ? 1 : 0;
        zeros0 += a[i] == 0 ? 1 : 0;
        zeros42 += c[i] == 0 ? 1 : 0;
        max0 = Math.max(max0, Math.abs(a[i]));
        max42 = Math.max(max42, Math.abs(c[i]));
      }
      // the same layers, Glorot-uniform alike (the largest of many draws is near the bound), the
      // same zeros (biases and the head's last layer), other values
      assertThat(zeros42).as(e.getKey()).isEqualTo(zeros0);
      assertThat(differ).as(e.getKey()).isEqualTo(a.length - zeros0).isPositive();
      assertThat(max42).as(e.getKey()).isCloseTo(max0, within(0.1f * max0));
    }
    // trained on the same batches: the same predictions under the same seed, others under another
    List<RequestUnit> units = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < 64; i++) {
      List<Impression> imps = new ArrayList<>();
      for (int j = 0; j < 3; j++) {
        imps.add(
            impression(
                "i" + i + "-" + j,
                Map.of(
                    "item_id",
                    List.of("i" + r.nextInt(30)),
                    "item_cat",
                    List.of("c" + r.nextInt(5)))));
      }
      units.add(unit(List.of("i" + r.nextInt(30)), imps));
    }
    try (MiniBatchTrainer a = trainer(base.withInitSeed(42));
        MiniBatchTrainer b = trainer(base.withInitSeed(42));
        MiniBatchTrainer c = trainer(base)) {
      for (int k = 0; k < 4; k++) {
        List<RequestUnit> batch = units.subList(16 * k, 16 * k + 16);
        a.trainRequestUnits(batch);
        b.trainRequestUnits(batch);
        c.trainRequestUnits(batch);
      }
      assertThat(b.lastPredictions()).containsExactly(a.lastPredictions());
      assertThat(a.lastPredictions()).isNotEqualTo(c.lastPredictions());
    }
  }
}
