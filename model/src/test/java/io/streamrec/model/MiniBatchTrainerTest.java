package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.Auc;
import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MiniBatchTrainerTest {
  private static final int BATCH_UNITS = 64;

  private static MiniBatchTrainer trainer(ModelConfig cfg) {
    return new MiniBatchTrainer(
        cfg, new InMemoryEmbeddingStore(cfg.tableConfigs()), new CpuBackend(), 20_000);
  }

  @Test
  void learnsTheCountryCategoryCross() {
    ModelConfig cfg = ModelConfig.defaults();
    TestUnits data = new TestUnits(1);
    try (MiniBatchTrainer t = trainer(cfg)) {
      double firstAuc = Double.NaN;
      for (int b = 0; b < 400; b++) {
        t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
        if (b == 5) {
          firstAuc = t.metrics().auc();
        }
      }
      // the planted rule is learnable far above chance; the oracle AUC of this data is about 0.75
      List<RequestUnit> heldOut = data.batch(2000, 1_000_000L);
      MapParameters published = new MapParameters();
      t.publish(published);
      float[] p = new ModelScorer(cfg).score(heldOut, published);
      double[] scores = new double[p.length];
      double[] oracle = new double[p.length];
      float[] labels = new float[p.length];
      int i = 0;
      for (RequestUnit u : heldOut) {
        int country = List.of(TestUnits.COUNTRIES).indexOf(u.getFeatures().get("country").get(0));
        for (Impression im : u.getImpressions()) {
          int item = Integer.parseInt(im.getFeatures().get("item_id").get(0).substring(1));
          scores[i] = p[i];
          oracle[i] = TestUnits.truth(country, item);
          labels[i] = im.getLabels().get("click");
          i++;
        }
      }
      double auc = Auc.exact(scores, labels);
      double oracleAuc = Auc.exact(oracle, labels);
      assertThat(auc).isGreaterThan(oracleAuc - 0.03);
      assertThat(t.metrics().auc()).isGreaterThan(firstAuc + 0.05);
      assertThat(t.unitsTrained()).isEqualTo(400L * BATCH_UNITS);
    }
  }

  @Test
  void theSavedStateCarriesTheLifetimeAucAndAnEarlierFormatStillRestores() {
    ModelConfig cfg = ModelConfig.defaults();
    TestUnits data = new TestUnits(5);
    try (MiniBatchTrainer t = trainer(cfg)) {
      // more impressions than the 20,000 of the window, so lifetime and window differ
      for (int b = 0; b < 120; b++) {
        t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
      }
      assertThat(t.impressionsTrained()).isGreaterThan(20_000);
      assertThat(t.metrics().lifetimeAuc()).isNotEqualTo(t.metrics().auc());
      byte[] state = t.saveState();
      try (MiniBatchTrainer restored = trainer(cfg)) {
        restored.restoreState(state);
        assertThat(restored.metrics().lifetimeAuc()).isEqualTo(t.metrics().lifetimeAuc());
        assertThat(restored.metrics().lifetimeCalibration())
            .isEqualTo(t.metrics().lifetimeCalibration());
        assertThat(restored.metrics().auc()).isEqualTo(t.metrics().auc());
      }
      // format 3 did not name the wide rows' optimizer (they learnt by Adagrad): it restores as it
      // was
      try (MiniBatchTrainer old = trainer(cfg)) {
        old.restoreState(inOlderFormat(state, 3));
        assertThat(old.parameters()).containsExactly(t.parameters());
        assertThat(old.metrics().lifetimeAuc()).isEqualTo(t.metrics().lifetimeAuc());
      }
      // format 2 did not name the factorised cross: it restores as it was
      try (MiniBatchTrainer old = trainer(cfg)) {
        old.restoreState(inOlderFormat(state, 2));
        assertThat(old.parameters()).containsExactly(t.parameters());
        assertThat(old.metrics().lifetimeAuc()).isEqualTo(t.metrics().lifetimeAuc());
      }
      // format 1 had no lifetime bins after the metrics either: its lifetime AUC restarts from the
      // window
      try (MiniBatchTrainer old = trainer(cfg)) {
        old.restoreState(inOlderFormat(state, 1));
        assertThat(old.metrics().lifetimeAuc()).isEqualTo(t.metrics().auc());
        assertThat(old.metrics().count()).isEqualTo(t.metrics().count());
      }
    }
  }

  /**
   * Two impression features swapped, or the labels reordered, keep the parameter count and the
   * tables: a checkpoint or handoff restored under them trained each feature's weights on the
   * other's values and served the first label's head as the second label. The state names its
   * layout and is refused under another, naming what differs; a state from before it did restores
   * as before.
   */
  @Test
  void aStateIsRefusedUnderFeaturesOrLabelsInAnotherOrder() {
    ModelConfig base = withGoodLabel(ModelConfig.defaults());
    List<io.streamrec.model.features.CategoricalFeature> cat =
        new ArrayList<>(base.features().categorical());
    int a = -1, b = -1;
    for (int i = 0; i < cat.size(); i++) {
      if (cat.get(i).side() == io.streamrec.model.features.Side.IMPRESSION) {
        if (a < 0) {
          a = i;
        } else if (b < 0) {
          b = i;
        }
      }
    }
    java.util.Collections.swap(cat, a, b);
    ModelConfig swapped =
        base.withFeatures(
            new io.streamrec.model.features.FeatureSpec(
                cat, base.features().dense(), base.features().labels()));
    ModelConfig relabelled =
        base.withFeatures(
            new io.streamrec.model.features.FeatureSpec(
                base.features().categorical(), base.features().dense(), List.of("good", "click")));
    byte[] state;
    byte[] format6;
    try (MiniBatchTrainer t = trainer(base)) {
      t.trainRequestUnits(new TestUnits(3).batch(BATCH_UNITS, 0));
      state = t.saveState();
      format6 = withoutOtherLabelsMetrics(state, t.metrics(1));
    }
    try (MiniBatchTrainer t = trainer(swapped)) {
      assertThatThrownBy(() -> t.restoreState(state))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("its impression features [")
          .hasMessageContaining("this job's [")
          .hasMessageNotContaining("its labels");
      assertThatThrownBy(() -> MiniBatchTrainer.checkWideOptimizer(swapped, state))
          .hasMessageContaining("another order");
      // a state from before the layout was saved does not say
      t.restoreState(inOlderFormat(format6, 5));
    }
    try (MiniBatchTrainer t = trainer(relabelled)) {
      assertThatThrownBy(() -> t.restoreState(state))
          .hasMessageContaining("its labels [click, good], this job's [good, click]");
    }
    try (MiniBatchTrainer t = trainer(base)) {
      t.restoreState(state);
    }
  }

  /**
   * A state was checked against the towers only by its parameter count: towers of other layer sizes
   * holding as many parameters (request [7, 16] and impression [65, 16] hold the default's)
   * restored it silently, the weights across other layers' boundaries, a scrambled model trained
   * and published on. Refused, naming both shapes; a state from before the shapes were saved
   * (format 7) is still checked by its count alone.
   */
  @Test
  void aStateIsRefusedUnderTowersOfOtherSizesOfTheSameParameterCount() {
    ModelConfig base = ModelConfig.defaults();
    int count = new RequestOnlyModel(base, new CpuBackend()).parameterCount();
    ModelConfig other = null;
    for (int r = 1; other == null && r <= 128; r++) {
      for (int i = 1; other == null && i <= 128; i++) {
        ModelConfig c =
            base.withTowers(
                new ModelConfig.Towers(List.of(r, 16), List.of(i, 16), base.towers().head()));
        if (!c.towers().equals(base.towers())
            && new RequestOnlyModel(c, new CpuBackend()).parameterCount() == count) {
          other = c;
        }
      }
    }
    assertThat(other).as("towers of other sizes with the default's parameter count").isNotNull();
    byte[] state;
    try (MiniBatchTrainer t = trainer(base)) {
      t.trainRequestUnits(new TestUnits(3).batch(BATCH_UNITS, 0));
      state = t.saveState();
    }
    try (MiniBatchTrainer t = trainer(other)) {
      assertThatThrownBy(() -> t.restoreState(state))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("trainer state is of a model with other towers: its request [")
          .hasMessageContaining("model.towers.*");
      // a format-7 state says nothing of its towers
      t.restoreState(inOlderFormat(state, 7));
    }
    try (MiniBatchTrainer t = trainer(base)) {
      t.restoreState(state);
    }
  }

  /**
   * A state of a newer release's format (a rollback) is refused as such: it said "format 7; this
   * build reads 6", and the job's advice was to start with the checkpoint's configuration or a new
   * model, where the release is at fault.
   */
  @Test
  void aStateOfANewerFormatIsRefusedAsANewerReleases() {
    ModelConfig base = ModelConfig.defaults();
    byte[] state;
    try (MiniBatchTrainer t = trainer(base)) {
      t.trainRequestUnits(new TestUnits(3).batch(BATCH_UNITS, 0));
      state = t.saveState();
    }
    byte[] newer = state.clone();
    int format = java.nio.ByteBuffer.wrap(newer).getInt();
    java.nio.ByteBuffer.wrap(newer).putInt(format + 1);
    try (MiniBatchTrainer t = trainer(base)) {
      assertThatThrownBy(() -> MiniBatchTrainer.checkWideOptimizer(base, newer))
          .isInstanceOf(NewerStateFormatException.class)
          .hasMessage(
              "trainer state has format "
                  + (format + 1)
                  + ", written by a newer release of streamrec; this release reads formats 1 to "
                  + format);
      assertThatThrownBy(() -> t.restoreState(newer)).isInstanceOf(NewerStateFormatException.class);
      byte[] unknown = state.clone();
      java.nio.ByteBuffer.wrap(unknown).putInt(0);
      assertThatThrownBy(() -> t.restoreState(unknown))
          .isInstanceOf(IllegalArgumentException.class)
          .isNotInstanceOf(NewerStateFormatException.class);
    }
  }

  /**
   * The state names the model's wide pooling; a state from before it did (format 4 or older) is of
   * a model that summed its wide weights. Either restores into the other with its parameters as
   * they were (the trainer logs the change), and the model trains on.
   */
  @Test
  void aStateNamesItsWidePoolingAndRestoresIntoTheOther() {
    ModelConfig summed = ModelConfig.defaults().withWidePooling(ModelConfig.WidePooling.SUM);
    ModelConfig perFeature = ModelConfig.defaults();
    TestUnits data = new TestUnits(9);
    try (MiniBatchTrainer s = trainer(summed);
        MiniBatchTrainer p = trainer(perFeature)) {
      for (int b = 0; b < 10; b++) {
        List<RequestUnit> batch = data.batch(BATCH_UNITS, b * 1000L);
        s.trainRequestUnits(batch);
        p.trainRequestUnits(batch);
      }
      byte[] sumState = s.saveState(), perFeatureState = p.saveState();
      assertThat(MiniBatchTrainer.savedWidePooling(sumState))
          .isEqualTo(ModelConfig.WidePooling.SUM);
      assertThat(MiniBatchTrainer.savedWidePooling(perFeatureState))
          .isEqualTo(ModelConfig.WidePooling.PER_FEATURE);
      assertThat(MiniBatchTrainer.savedWidePooling(inOlderFormat(perFeatureState, 4)))
          .as("a state from before the option")
          .isEqualTo(ModelConfig.WidePooling.SUM);
      for (byte[] state : List.of(sumState, inOlderFormat(sumState, 4))) {
        try (MiniBatchTrainer upgraded = trainer(perFeature)) {
          upgraded.restoreState(state);
          assertThat(upgraded.parameters()).containsExactly(s.parameters());
          upgraded.trainRequestUnits(data.batch(BATCH_UNITS, 20_000L));
          assertThat(upgraded.impressionsTrained()).isGreaterThan(s.impressionsTrained());
        }
      }
      try (MiniBatchTrainer back = trainer(summed)) {
        back.restoreState(perFeatureState);
        assertThat(back.parameters()).containsExactly(p.parameters());
      }
    }
  }

  @Test
  void sameBatchesGiveTheSameModelBitForBit() {
    ModelConfig cfg = ModelConfig.defaults();
    List<Map<String, float[]>> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      TestUnits data = new TestUnits(7);
      try (MiniBatchTrainer t = trainer(cfg)) {
        MapParameters out = new MapParameters();
        for (int b = 0; b < 50; b++) {
          t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
          if (b % 10 == 9) {
            t.publish(out);
          }
        }
        Map<String, float[]> all = new HashMap<>(out.rows);
        all.put("dense", out.dense.get(RequestOnlyModel.LINEAR_BLOCK));
        runs.add(all);
      }
    }
    assertThat(runs.get(0)).hasSameSizeAs(runs.get(1)).isNotEmpty();
    runs.get(0).forEach((k, v) -> assertThat(runs.get(1).get(k)).as(k).containsExactly(v));
  }

  @Test
  void scorerOnThePublishedModelMatchesTheTrainerExactly() {
    assertTheReplicaScoresAsTheTrainer(ModelConfig.defaults());
  }

  /**
   * Trains 30 batches of {@code cfg}, each first scored by a scorer on everything published so far:
   * the trainer scores before it learns, so with every change published the replica agrees bit for
   * bit. Returns what was published.
   */
  static MapParameters assertTheReplicaScoresAsTheTrainer(ModelConfig cfg) {
    TestUnits data = new TestUnits(3);
    MapParameters replica = new MapParameters();
    ModelScorer scorer = new ModelScorer(cfg);
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 30; b++) {
        List<RequestUnit> batch = data.batch(BATCH_UNITS, b * 1000L);
        float[] expected = scorer.score(batch, replica);
        t.trainRequestUnits(batch);
        assertThat(t.lastPredictions()).as("batch %d", b).containsExactly(expected);
        t.publish(replica);
      }
    }
    return replica;
  }

  private static ModelConfig normalized() {
    return ModelConfig.defaults().withDenseNormalization(ModelConfig.DenseNormalization.RUNNING);
  }

  @Test
  void withRunningNormalizationTheReplicaScoresAsTheTrainerBitForBit() {
    MapParameters replica = assertTheReplicaScoresAsTheTrainer(normalized());
    // the statistics travel as a dense block, and they moved off their start (mean 0, var 1)
    float[] stats = replica.dense.get(RequestOnlyModel.NORMALIZATION_BLOCK);
    assertThat(stats).hasSize(2 + 2 * 2);
    assertThat(stats[0]).isEqualTo(30f * BATCH_UNITS);
    assertThat(stats[2]).as("mean of squashed hour").isGreaterThan(1f);
    assertThat(stats[3]).as("mean of squashed position").isGreaterThan(0.1f);
  }

  @Test
  void runningStatisticsAreTheMeanAndVarianceOfEveryTrainedValueWithinTheHorizon() {
    ModelConfig cfg = normalized();
    TestUnits data = new TestUnits(8);
    List<Float> hours = new ArrayList<>(), positions = new ArrayList<>();
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 12; b++) {
        List<RequestUnit> batch = data.batch(BATCH_UNITS, b * 1000L);
        t.trainRequestUnits(batch);
        for (RequestUnit u : batch) {
          hours.add(io.streamrec.model.units.UnitEncoder.squash(u.getDense().get("hour")));
          for (Impression im : u.getImpressions()) {
            positions.add(
                io.streamrec.model.units.UnitEncoder.squash(im.getDense().get("position")));
          }
        }
      }
      int[] block = t.model().normalizationBlock();
      float[] p = t.parameters();
      float[] stats = java.util.Arrays.copyOfRange(p, block[0], block[0] + block[1]);
      assertThat(stats[0]).isEqualTo((float) hours.size());
      assertThat(stats[1]).isEqualTo((float) positions.size());
      double[] hour = meanVar(hours), position = meanVar(positions);
      assertThat(position[1]).isGreaterThan(0.01);
      assertThat((double) stats[2])
          .isCloseTo(hour[0], org.assertj.core.api.Assertions.within(1e-4));
      assertThat((double) stats[3])
          .isCloseTo(position[0], org.assertj.core.api.Assertions.within(1e-4));
      assertThat((double) stats[4])
          .isCloseTo(hour[1], org.assertj.core.api.Assertions.within(1e-4));
      assertThat((double) stats[5])
          .isCloseTo(position[1], org.assertj.core.api.Assertions.within(1e-4));
    }
  }

  private static double[] meanVar(List<Float> xs) {
    double mean = xs.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
    double var = xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / xs.size();
    return new double[] {mean, var};
  }

  @Test
  void withRunningNormalizationARestoreContinuesBitForBit(@TempDir java.nio.file.Path dir) {
    assertARestoreContinuesBitForBit(normalized(), dir, true);
  }

  /**
   * With wide crosses, small batches scaled to the dense rate and accumulators from 0.1, the pair
   * rows and the optimiser state restore with the rest: training continues bit for bit.
   */
  @Test
  void withWideCrossesARestoreContinuesBitForBit(@TempDir java.nio.file.Path dir) {
    ModelConfig cfg =
        ModelConfig.defaults()
            .withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)
            .withDenseRateImpressions(1000);
    assertARestoreContinuesBitForBit(cfg, dir, false);
  }

  private static ModelConfig ftrl() {
    return ModelConfig.defaults()
        .withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)
        .withWideOptimizer(ModelConfig.WideOptimizer.FTRL);
  }

  /**
   * With FTRL-Proximal for the wide rows, each row's {@code z} and {@code n} restore with the store
   * and the trainer's state: training continues bit for bit.
   */
  @Test
  void withFtrlWideRowsARestoreContinuesBitForBit(@TempDir java.nio.file.Path dir) {
    assertARestoreContinuesBitForBit(ftrl(), dir, false);
  }

  /**
   * FTRL's L1 keeps a wide weight at exactly 0 until its summed evidence passes it: after the same
   * batches, many of the published wide rows (ids and crosses seen a few times) are 0, where under
   * Adagrad every row that learnt has moved; and the model still learns (its progressive AUC as
   * Adagrad's within 0.02).
   */
  @Test
  void ftrlWideRowsStayAtZeroUntilTheirEvidencePassesL1() {
    double[] zeroShare = new double[2];
    double[] auc = new double[2];
    ModelConfig[] cfgs = {
      ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED), ftrl()
    };
    for (int k = 0; k < 2; k++) {
      TestUnits data = new TestUnits(11);
      try (MiniBatchTrainer t = trainer(cfgs[k])) {
        MapParameters out = new MapParameters();
        for (int b = 0; b < 60; b++) {
          t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
        }
        t.publish(out);
        long wide = 0, zero = 0;
        for (Map.Entry<String, float[]> e : out.rows.entrySet()) {
          if (e.getKey().startsWith(ModelConfig.WIDE_TABLE + "/")) {
            wide++;
            zero += e.getValue()[0] == 0f ? 1 : 0;
          }
        }
        assertThat(wide).as("published wide rows").isGreaterThan(1000);
        zeroShare[k] = (double) zero / wide;
        auc[k] = t.metrics().lifetimeAuc();
      }
    }
    assertThat(zeroShare[0]).as("share of wide rows at 0 under Adagrad").isLessThan(0.01);
    assertThat(zeroShare[1]).as("share of wide rows at 0 under FTRL").isGreaterThan(0.2);
    assertThat(auc[1]).as("FTRL's lifetime AUC").isGreaterThan(auc[0] - 0.02);
  }

  /**
   * A wide row's optimizer state is one Adagrad accumulator or FTRL's {@code z} and {@code n}: a
   * checkpoint resumes only under the optimizer it was trained with, and a trainer of the other is
   * refused by name, for states of this format and of the formats before the option (Adagrad's).
   */
  @Test
  void aStateOfOneWideOptimizerIsRefusedByTheOtherByName() {
    TestUnits data = new TestUnits(3);
    byte[] adagrad, ftrl;
    try (MiniBatchTrainer a = trainer(ModelConfig.defaults());
        MiniBatchTrainer f =
            trainer(ModelConfig.defaults().withWideOptimizer(ModelConfig.WideOptimizer.FTRL))) {
      List<RequestUnit> batch = data.batch(BATCH_UNITS, 0L);
      a.trainRequestUnits(batch);
      f.trainRequestUnits(batch);
      adagrad = a.saveState();
      ftrl = f.saveState();
    }
    try (MiniBatchTrainer f =
        trainer(ModelConfig.defaults().withWideOptimizer(ModelConfig.WideOptimizer.FTRL))) {
      for (byte[] state : List.of(adagrad, inOlderFormat(adagrad, 3), inOlderFormat(adagrad, 2))) {
        assertThatThrownBy(() -> f.restoreState(state))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("model.wide-optimizer: adagrad; this job's is ftrl");
      }
      f.restoreState(ftrl);
    }
    try (MiniBatchTrainer a = trainer(ModelConfig.defaults())) {
      assertThatThrownBy(() -> a.restoreState(ftrl))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model.wide-optimizer: ftrl; this job's is adagrad");
    }
  }

  private static ModelConfig fieldWeighted() {
    return ModelConfig.defaults().withFactorisedCross(ModelConfig.FactorisedCross.FIELD_WEIGHTED);
  }

  /**
   * With the field-weighted cross the pair weights are a dense block like the towers: published,
   * applied by the scorer (bit for bit with the trainer), learnt away from their start of 1, and
   * restored with the rest.
   */
  @Test
  void withTheFieldWeightedCrossTheReplicaScoresAsTheTrainerAndARestoreContinuesBitForBit(
      @TempDir java.nio.file.Path dir) {
    MapParameters replica = assertTheReplicaScoresAsTheTrainer(fieldWeighted());
    float[] pairs = replica.dense.get(RequestOnlyModel.FIELD_PAIRS_BLOCK);
    assertThat(pairs).hasSize(3 * 2); // user_id, country, recent_items × item_id, item_cat
    double moved = 0;
    for (float w : pairs) {
      moved = Math.max(moved, Math.abs(w - 1f));
    }
    assertThat(moved).as("learnt away from 1").isGreaterThan(1e-3);
    assertARestoreContinuesBitForBit(fieldWeighted(), dir, false);
  }

  /**
   * {@code state} (format 5) as a format-{@code format} writer wrote it: format 4 without the wide
   * pooling after the wide rows' optimizer, format 3 without either after the factorised cross,
   * formats 2 and 1 without any (the metrics' layout of format 1 is the reader's concern).
   */
  private static byte[] inOlderFormat(byte[] state, int format) {
    if (java.nio.ByteBuffer.wrap(state).getInt() == 8) {
      // format 8 added the towers' shapes after the features' layout, and the labels' values at
      // the end (then their byte count)
      int labels = java.nio.ByteBuffer.wrap(state, state.length - 4, 4).getInt();
      state = java.util.Arrays.copyOf(state, state.length - 4 - labels);
      int at = 4;
      for (int k = 0; k < 4; k++) {
        at += utfBytes(state, at);
      }
      int towers = utfBytes(state, at);
      byte[] out = new byte[state.length - towers];
      System.arraycopy(state, 0, out, 0, at);
      System.arraycopy(state, at + towers, out, at, out.length - at);
      java.nio.ByteBuffer.wrap(out).putInt(7);
      state = out;
    }
    if (format == 7) {
      return state;
    }
    if (java.nio.ByteBuffer.wrap(state).getInt() == 7) {
      // format 7 added the other labels' metrics at the end: for a model of one label, their
      // count, 0 (see withoutOtherLabelsMetrics for more labels)
      assertThat(java.nio.ByteBuffer.wrap(state, state.length - 4, 4).getInt())
          .as("the count of other labels' metrics at the end")
          .isZero();
      state = java.util.Arrays.copyOf(state, state.length - 4);
      java.nio.ByteBuffer.wrap(state).putInt(6);
    }
    if (format == 6) {
      return state;
    }
    int cross = utfBytes(state, 4), optimizer = utfBytes(state, 4 + cross);
    int pooling = utfBytes(state, 4 + cross + optimizer);
    int layout = utfBytes(state, 4 + cross + optimizer + pooling);
    int kept =
        format == 5
            ? cross + optimizer + pooling
            : format == 4 ? cross + optimizer : format == 3 ? cross : 0;
    int dropped = cross + optimizer + pooling + layout - kept;
    byte[] out = new byte[state.length - dropped];
    java.nio.ByteBuffer.wrap(out).putInt(format);
    System.arraycopy(state, 4, out, 4, kept);
    System.arraycopy(state, 4 + kept + dropped, out, 4 + kept, out.length - 4 - kept);
    return out;
  }

  /** Bytes of the {@code writeUTF} string at {@code at}: its length, then its bytes. */
  private static int utfBytes(byte[] state, int at) {
    return 2 + (((state[at] & 0xff) << 8) | (state[at + 1] & 0xff));
  }

  /**
   * The field-weighted cross became the default: a summed model's checkpoint, of this format or of
   * one from before it named the cross, restores into the field-weighted model with every pair
   * weighing 1, which is the same model, so it scores the next batch as the summed one does (to
   * float rounding: the sum adds in another order) and learns the weights from there. The other
   * way, a field-weighted state into a summed model, is refused by name.
   */
  @ParameterizedTest(name = "state format {0}")
  @ValueSource(ints = {6, 5, 4, 3, 2})
  void aSummedModelsStateRestoresIntoTheFieldWeightedDefaultScoringAsItDid(
      int format, @TempDir java.nio.file.Path dir) {
    ModelConfig summed =
        ModelConfig.defaults().withFactorisedCross(ModelConfig.FactorisedCross.SUM);
    ModelConfig weighted = ModelConfig.defaults();
    byte[] weightedState =
        assertAStateRestoresWithABlockInsertedAtOne(
            summed, weighted, RequestOnlyModel.FIELD_PAIRS_BLOCK, format, dir);
    // a field-weighted state does not fit a summed model: refused by name
    try (MiniBatchTrainer back = trainer(summed)) {
      assertThatThrownBy(() -> back.restoreState(weightedState))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model.factorised-cross: field-weighted");
    }
  }

  /**
   * Unweighted wide crosses, or none, are field-weighted crosses with every pair weighing 1: such a
   * state restores into a model with field-weighted crosses, which scores as the first did and
   * learns its pair weights from there. The other way is refused by the parameter count.
   */
  @ParameterizedTest(name = "from wide crosses {0}")
  @ValueSource(strings = {"request-impression", "none"})
  void anUnweightedCrossesStateRestoresIntoFieldWeightedCrossesScoringAsItDid(
      String crosses, @TempDir java.nio.file.Path dir) {
    ModelConfig from = ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.of(crosses));
    ModelConfig to = ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED);
    byte[] weightedState =
        assertAStateRestoresWithABlockInsertedAtOne(
            from, to, RequestOnlyModel.WIDE_CROSS_PAIRS_BLOCK, 4, dir);
    try (MiniBatchTrainer back = trainer(from)) {
      assertThatThrownBy(() -> back.restoreState(weightedState))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("dense parameters");
    }
  }

  /**
   * Trains a model of {@code from}, restores its state (in {@code format}) into a model of {@code
   * to} on a copy of its store, and checks that the parameters are placed around {@code block},
   * which starts at 1; that the next batch's predictions are the first model's within float
   * rounding (the sums add in another order); and that the block's weights learn from 1. Returns
   * the restored trainer's own state.
   */
  private static byte[] assertAStateRestoresWithABlockInsertedAtOne(
      ModelConfig from, ModelConfig to, String block, int format, java.nio.file.Path dir) {
    TestUnits data = new TestUnits(9);
    try (MiniBatchTrainer t = trainer(from)) {
      for (int b = 0; b < 20; b++) {
        t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
      }
      byte[] state = inOlderFormat(t.saveState(), format);
      try (MiniBatchTrainer restored = onTheStoreOf(t, to, dir)) {
        restored.restoreState(state);
        int[] pairs = restored.model().blocks().get(block);
        float[] p = restored.parameters(), q = t.parameters();
        assertThat(p).hasSize(q.length + pairs[1]);
        for (int i = 0; i < p.length; i++) {
          boolean pair = i >= pairs[0] && i < pairs[0] + pairs[1];
          assertThat(p[i])
              .as("parameter %d", i)
              .isEqualTo(pair ? 1f : q[i < pairs[0] ? i : i - pairs[1]]);
        }
        assertThat(restored.impressionsTrained()).isEqualTo(t.impressionsTrained());
        List<RequestUnit> next = data.batch(BATCH_UNITS, 20_000L);
        t.trainRequestUnits(next);
        restored.trainRequestUnits(next);
        float[] a = t.lastPredictions(), b = restored.lastPredictions();
        assertThat(b).hasSameSizeAs(a);
        for (int i = 0; i < a.length; i++) {
          assertThat(b[i]).as("impression %d", i).isCloseTo(a[i], within(1e-5f));
        }
        for (int k = 21; k < 30; k++) {
          restored.trainRequestUnits(data.batch(BATCH_UNITS, k * 1000L));
        }
        float[] after = restored.parameters();
        double moved = 0;
        for (int i = pairs[0]; i < pairs[0] + pairs[1]; i++) {
          moved = Math.max(moved, Math.abs(after[i] - 1f));
        }
        assertThat(moved).as("the pair weights learn from 1").isGreaterThan(1e-4);
        return restored.saveState();
      }
    }
  }

  /**
   * A trainer of {@code cfg} on a snapshot of {@code t}'s store, its own state still to restore.
   */
  private static MiniBatchTrainer onTheStoreOf(
      MiniBatchTrainer t, ModelConfig cfg, java.nio.file.Path dir) {
    java.nio.file.Path snap = dir.resolve("store");
    t.store().snapshot(snap);
    return new MiniBatchTrainer(
        cfg, InMemoryEmbeddingStore.restore(snap, cfg.tableConfigs()), new CpuBackend(), 20_000);
  }

  private static void assertARestoreContinuesBitForBit(
      ModelConfig cfg, java.nio.file.Path dir, boolean normalized) {
    TestUnits data = new TestUnits(9);
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 20; b++) {
        t.trainRequestUnits(data.batch(BATCH_UNITS, b * 1000L));
      }
      byte[] state = t.saveState();
      try (MiniBatchTrainer restored = onTheStoreOf(t, cfg, dir)) {
        restored.restoreState(state);
        float[] before = restored.parameters();
        if (normalized) {
          int[] block = restored.model().normalizationBlock();
          assertThat(before[block[0] + 2]).as("restored hour mean").isGreaterThan(1f);
        }
        assertThat(before).containsExactly(t.parameters());
        for (int b = 20; b < 40; b++) {
          List<RequestUnit> batch = data.batch(BATCH_UNITS, b * 1000L);
          t.trainRequestUnits(batch);
          restored.trainRequestUnits(batch);
          assertThat(restored.lastPredictions())
              .as("batch %d", b)
              .containsExactly(t.lastPredictions());
        }
        assertThat(restored.parameters()).containsExactly(t.parameters());
      }
    }
  }

  @Test
  void scorerOnThePublishedModelMatchesTheTrainerExactlyForEveryLabel() {
    ModelConfig cfg = withGoodLabel(ModelConfig.defaults());
    TestUnits data = new TestUnits(4);
    MapParameters replica = new MapParameters();
    ModelScorer scorer = new ModelScorer(cfg);
    boolean headsDiffer = false;
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 30; b++) {
        List<RequestUnit> batch = labelGood(data.batch(BATCH_UNITS, b * 1000L));
        LabelScores all = scorer.scoreAllLabels(batch, replica);
        float[] single = scorer.score(batch, replica);
        t.trainRequestUnits(batch);
        assertThat(all.labels()).containsExactly("click", "good");
        assertThat(all.impressions()).isEqualTo(t.lastPredictions().length);
        for (int l = 0; l < 2; l++) {
          assertThat(all.ofLabel(l))
              .as("batch %d label %d", b, l)
              .containsExactly(t.lastPredictions(l));
        }
        assertThat(all.ofLabel("good")).containsExactly(t.lastPredictions(1));
        assertThat(single).containsExactly(t.lastPredictions(0));
        headsDiffer |= !java.util.Arrays.equals(t.lastPredictions(0), t.lastPredictions(1));
        t.publish(replica);
      }
    }
    // otherwise a scorer answering the first head for every label would pass
    assertThat(headsDiffer).as("the two heads predict differently").isTrue();
  }

  /**
   * {@code trainer.metrics-window} only sizes the progressive metrics' window: a checkpoint taken
   * under one restores under another (the alerts' guide lengthens it for a rare label), with the
   * same model and lifetime figures, where it was refused and the model had to start over.
   */
  @Test
  void aCheckpointRestoresUnderAnotherMetricsWindow() {
    ModelConfig cfg = withGoodLabel(ModelConfig.defaults());
    TestUnits data = new TestUnits(8);
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 60; b++) {
        t.trainRequestUnits(labelGood(data.batch(BATCH_UNITS, b * 1000L)));
      }
      byte[] state = t.saveState();
      for (int window : new int[] {5_000, 80_000}) {
        try (MiniBatchTrainer restored =
            new MiniBatchTrainer(
                cfg, new InMemoryEmbeddingStore(cfg.tableConfigs()), new CpuBackend(), window)) {
          restored.restoreState(state);
          assertThat(restored.parameters()).containsExactly(t.parameters());
          for (int l = 0; l < 2; l++) {
            assertThat(restored.metrics(l).window()).isEqualTo(window);
            assertThat(restored.metrics(l).count()).isEqualTo(t.metrics(l).count());
            assertThat(restored.metrics(l).lifetimeAuc()).isEqualTo(t.metrics(l).lifetimeAuc());
            assertThat(restored.metrics(l).lifetimeLogLoss())
                .isEqualTo(t.metrics(l).lifetimeLogLoss());
            assertThat(restored.metrics(l).auc()).isNotNaN();
          }
        }
      }
    }
  }

  /**
   * Every label has its progressive metrics, not the first alone: with a second label the model
   * learns far better than clicks, the second's figures are its own, and a checkpoint carries them.
   * A state from before they were saved restores the first label's and starts the others afresh.
   */
  @Test
  void everyLabelHasItsOwnProgressiveMetricsWhichTheStateCarries() {
    ModelConfig cfg = withGoodLabel(ModelConfig.defaults());
    TestUnits data = new TestUnits(6);
    List<Float> good = new ArrayList<>();
    List<Float> pGood = new ArrayList<>();
    try (MiniBatchTrainer t = trainer(cfg)) {
      for (int b = 0; b < 150; b++) {
        List<RequestUnit> batch = labelGood(data.batch(BATCH_UNITS, b * 1000L));
        t.trainRequestUnits(batch);
        for (RequestUnit u : batch) {
          for (Impression im : u.getImpressions()) {
            good.add(im.getLabels().get("good"));
          }
        }
        for (float p : t.lastPredictions(1)) {
          pGood.add(p);
        }
      }
      io.streamrec.model.metrics.ProgressiveMetrics click = t.metrics(0), second = t.metrics(1);
      assertThat(click).isSameAs(t.metrics());
      assertThat(second.count()).isEqualTo(click.count()).isEqualTo(t.impressionsTrained());
      // the label's own figures: every prediction of its head against its labels (to a bin)
      double exact = Auc.exact(toDoubles(pGood), toFloats(good));
      assertThat(second.lifetimeAuc()).isCloseTo(exact, org.assertj.core.data.Offset.offset(0.002));
      assertThat(second.lifetimeAuc()).isGreaterThan(click.lifetimeAuc() + 0.1);
      double rate = good.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
      double meanPred = pGood.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
      assertThat(second.lifetimeCalibration())
          .isCloseTo(meanPred / rate, org.assertj.core.data.Offset.offset(1e-6));

      byte[] state = t.saveState();
      try (MiniBatchTrainer restored = trainer(cfg)) {
        restored.restoreState(state);
        for (int l = 0; l < 2; l++) {
          assertThat(restored.metrics(l).lifetimeAuc()).isEqualTo(t.metrics(l).lifetimeAuc());
          assertThat(restored.metrics(l).auc()).isEqualTo(t.metrics(l).auc());
          assertThat(restored.metrics(l).logLoss()).isEqualTo(t.metrics(l).logLoss());
          assertThat(restored.metrics(l).count()).isEqualTo(t.metrics(l).count());
        }
      }
      // format 6 ended after the first label's metrics
      byte[] format6 = withoutOtherLabelsMetrics(state, t.metrics(1));
      try (MiniBatchTrainer old = trainer(cfg)) {
        old.restoreState(format6);
        assertThat(old.parameters()).containsExactly(t.parameters());
        assertThat(old.metrics(0).lifetimeAuc()).isEqualTo(t.metrics(0).lifetimeAuc());
        assertThat(old.metrics(1).count()).isZero();
        assertThat(old.metrics(1).lifetimeAuc()).isNaN();
      }
    }
  }

  /**
   * {@code state} as format 6 wrote it: without the towers' shapes and the metrics of the labels
   * after the first.
   */
  private static byte[] withoutOtherLabelsMetrics(
      byte[] state, io.streamrec.model.metrics.ProgressiveMetrics second) {
    state = inOlderFormat(state, 7);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
      second.writeTo(out);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    int tail = 4 + bytes.size();
    assertThat(java.nio.ByteBuffer.wrap(state, state.length - tail, 4).getInt()).isEqualTo(1);
    byte[] out = java.util.Arrays.copyOf(state, state.length - tail);
    java.nio.ByteBuffer.wrap(out).putInt(6);
    return out;
  }

  /** {@code base} with a second label, "good" (see {@link #labelGood}). */
  private static ModelConfig withGoodLabel(ModelConfig base) {
    return base.withFeatures(
        new io.streamrec.model.features.FeatureSpec(
            base.features().categorical(), base.features().dense(), List.of("click", "good")));
  }

  /** Labels "good" on {@code units}: the item is one of the good ones (every 10th). */
  private static List<RequestUnit> labelGood(List<RequestUnit> units) {
    for (RequestUnit u : units) {
      for (Impression im : u.getImpressions()) {
        int item = Integer.parseInt(im.getFeatures().get("item_id").get(0).substring(1));
        im.setLabels(
            Map.of("click", im.getLabels().get("click"), "good", item % 10 == 0 ? 1f : 0f));
      }
    }
    return units;
  }

  @Test
  void eachLabelHasItsOwnHead() {
    // a second label, "good": the item is one of the good ones (every 10th), whatever the country
    ModelConfig base = ModelConfig.defaults();
    ModelConfig cfg =
        base.withFeatures(
            new io.streamrec.model.features.FeatureSpec(
                base.features().categorical(), base.features().dense(), List.of("click", "good")));
    TestUnits data = new TestUnits(9);
    try (MiniBatchTrainer t = trainer(cfg)) {
      List<Float> click = new ArrayList<>(), good = new ArrayList<>();
      List<Float> pClick = new ArrayList<>(), pGood = new ArrayList<>();
      for (int b = 0; b < 300; b++) {
        List<RequestUnit> units = data.batch(BATCH_UNITS, b * 1000L);
        for (RequestUnit u : units) {
          for (Impression im : u.getImpressions()) {
            int item = Integer.parseInt(im.getFeatures().get("item_id").get(0).substring(1));
            im.setLabels(
                Map.of("click", im.getLabels().get("click"), "good", item % 10 == 0 ? 1f : 0f));
          }
        }
        t.trainRequestUnits(units);
        if (b >= 200) {
          for (RequestUnit u : units) {
            for (Impression im : u.getImpressions()) {
              click.add(im.getLabels().get("click"));
              good.add(im.getLabels().get("good"));
            }
          }
          for (float p : t.lastPredictions(0)) {
            pClick.add(p);
          }
          for (float p : t.lastPredictions(1)) {
            pGood.add(p);
          }
        }
      }
      double goodByGoodHead = Auc.exact(toDoubles(pGood), toFloats(good));
      double goodByClickHead = Auc.exact(toDoubles(pClick), toFloats(good));
      double clickByClickHead = Auc.exact(toDoubles(pClick), toFloats(click));
      System.out.printf(
          "AUC: 'good' by its head %.3f, by the click head %.3f; 'click' by its head %.3f%n",
          goodByGoodHead, goodByClickHead, clickByClickHead);
      assertThat(goodByGoodHead).isGreaterThan(0.95).isGreaterThan(goodByClickHead + 0.1);
      assertThat(clickByClickHead).isGreaterThan(0.7);
      assertThat(t.lastPredictions(0)).isNotEqualTo(t.lastPredictions(1));
    }
  }

  private static double[] toDoubles(List<Float> x) {
    return x.stream().mapToDouble(Float::doubleValue).toArray();
  }

  private static float[] toFloats(List<Float> x) {
    float[] out = new float[x.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = x.get(i);
    }
    return out;
  }

  @Test
  void aBatchWithANonFiniteLossIsSkippedWhole() {
    ModelConfig cfg = ModelConfig.defaults();
    TestUnits data = new TestUnits(5);
    try (MiniBatchTrainer t = trainer(cfg)) {
      t.trainRequestUnits(data.batch(BATCH_UNITS, 0));
      MapParameters before = new MapParameters();
      t.publish(before);
      List<RequestUnit> bad = data.batch(BATCH_UNITS, 1000);
      RequestUnit u = bad.get(0);
      Impression im = u.getImpressions().get(0);
      im.setLabels(Map.of("click", Float.NaN));
      MiniBatchTrainer.Step step = t.trainRequestUnits(bad);
      assertThat(step.skipped()).isTrue();
      assertThat(t.batchesSkipped()).isEqualTo(1);
      assertThat(t.impressionsSkipped()).isEqualTo(step.impressions());
      MapParameters after = new MapParameters();
      t.publish(after);
      assertThat(after.dense.get(RequestOnlyModel.LINEAR_BLOCK))
          .containsExactly(before.dense.get(RequestOnlyModel.LINEAR_BLOCK));
      assertRowsAdmittedAsMade(cfg, t, before, after);
    }
  }

  /** The same on the tiered store (RocksDB cold tier), the one a job trains on. */
  @Test
  void aBatchSkippedOnTheTieredStorePublishesTheRowsItAdmitted(@TempDir java.nio.file.Path dir) {
    ModelConfig cfg = ModelConfig.defaults();
    TestUnits data = new TestUnits(5);
    CpuBackend backend = new CpuBackend();
    try (MiniBatchTrainer t =
        new MiniBatchTrainer(
            cfg,
            io.streamrec.embedding.TieredEmbeddingStore.create(
                io.streamrec.embedding.TieredStoreConfig.of(dir), cfg.tableConfigs(), backend),
            backend,
            20_000)) {
      t.trainRequestUnits(data.batch(BATCH_UNITS, 0));
      MapParameters before = new MapParameters();
      t.publish(before);
      List<RequestUnit> bad = data.batch(BATCH_UNITS, 1000);
      bad.get(0).getImpressions().get(0).setLabels(Map.of("click", Float.NaN));
      assertThat(t.trainRequestUnits(bad).skipped()).isTrue();
      MapParameters after = new MapParameters();
      t.publish(after);
      assertRowsAdmittedAsMade(cfg, t, before, after);
    }
  }

  /**
   * A skipped batch changes no row, but the rows it admitted are rows of the model, counted in the
   * version marker's: they are published as they were made (the batch's other rows go again as they
   * were). They were not, and a replica reading the topic never held as many rows as the marker
   * said (never complete, on a backfill's topic for good).
   */
  private static void assertRowsAdmittedAsMade(
      ModelConfig cfg, MiniBatchTrainer t, MapParameters before, MapParameters after) {
    java.util.Map<String, float[]> topic = new HashMap<>(before.rows);
    topic.putAll(after.rows);
    assertThat((long) topic.size())
        .as("rows a reader of every version holds against the rows the marker counts")
        .isEqualTo(t.store().stats().rows());
    assertThat(topic.size()).isGreaterThan(before.rows.size());
    java.util.Map<String, io.streamrec.embedding.TableConfig> tables = new HashMap<>();
    cfg.tableConfigs().forEach(c -> tables.put(c.name(), c));
    after.rows.forEach(
        (key, values) -> {
          float[] was = before.rows.get(key);
          if (was != null) {
            assertThat(values).as("%s, trained before", key).containsExactly(was);
            return;
          }
          int cut = key.lastIndexOf('/');
          io.streamrec.embedding.TableConfig table = tables.get(key.substring(0, cut));
          float[] made = new float[table.rowWidth()];
          io.streamrec.embedding.RowInitializer.init(
              table, Long.parseLong(key.substring(cut + 1)), made, 0);
          assertThat(values).as(key).containsExactly(java.util.Arrays.copyOf(made, values.length));
        });
  }
}
