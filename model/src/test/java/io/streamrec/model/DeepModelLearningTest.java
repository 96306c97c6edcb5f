package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.Auc;
import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.model.baseline.HashedLogisticRegression;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The deep model learns what a linear model cannot: on generated traffic with latent user×item
 * affinities and a country×category cross, its progressive AUC beats a hashed logistic regression
 * on the same stream by a clear margin; and its deep part carries real signal — taking the towers
 * and head away (back to their initial values) costs held-out AUC.
 */
class DeepModelLearningTest {
  private static final long T0 = 1_767_225_600_000L;

  @Test
  void beatsLogisticRegressionAndItsDeepPartCarriesSignal() {
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(11).withUsers(4_000).withItems(1_500));
    ModelConfig cfg = ModelConfig.defaults();
    int batches = 500, unitsPerBatch = 128;
    HashedLogisticRegression lr =
        new HashedLogisticRegression(cfg.features(), List.of(), 22, 0.05f, 50_000);
    MapParameters published = new MapParameters();
    long time = T0;
    try (MiniBatchTrainer deep =
        new MiniBatchTrainer(
            cfg, new InMemoryEmbeddingStore(cfg.tableConfigs()), new CpuBackend(), 50_000)) {
      for (int b = 0; b < batches; b++) {
        List<RequestUnit> units = new ArrayList<>();
        for (int u = 0; u < unitsPerBatch; u++) {
          GeneratedRequest g = gen.next(time += 10);
          units.add(RequestUnits.of(g.request(), g.impressions(), time + 5_000));
        }
        deep.trainRequestUnits(units);
        lr.train(units);
      }
      deep.publish(published);
      double deepAuc = deep.metrics().auc(), lrAuc = lr.metrics().auc();
      System.out.printf(
          "progressive AUC over the last 50k impressions: deep %.4f, logistic regression %.4f%n",
          deepAuc, lrAuc);
      assertThat(deepAuc).isGreaterThan(lrAuc + 0.02);
    }

    // held-out traffic from the same world, scored with and without the deep part
    List<RequestUnit> heldOut = new ArrayList<>();
    List<Float> labels = new ArrayList<>();
    for (int u = 0; u < 5_000; u++) {
      GeneratedRequest g = gen.next(time += 10);
      heldOut.add(RequestUnits.of(g.request(), g.impressions(), time + 5_000));
      for (int i = 0; i < g.size(); i++) {
        labels.add(g.click(i));
      }
    }
    float[] y = new float[labels.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.get(i);
    }
    ModelScorer scorer = new ModelScorer(cfg);
    double full = auc(scorer.score(heldOut, published), y);
    RequestOnlyModel m = new RequestOnlyModel(cfg, new CpuBackend());
    float[] init = m.initialParameters();
    int[] head = m.blocks().get(RequestOnlyModel.HEAD_BLOCK);
    published.dense.put(
        RequestOnlyModel.HEAD_BLOCK, Arrays.copyOfRange(init, head[0], head[0] + head[1]));
    published.dense.put(
        RequestOnlyModel.REQUEST_TOWER_BLOCK,
        new float[m.blocks().get(RequestOnlyModel.REQUEST_TOWER_BLOCK)[1]]);
    double withoutDeep = auc(scorer.score(heldOut, published), y);
    System.out.printf("held-out AUC %.4f with the deep part, %.4f without it%n", full, withoutDeep);
    // 0.0099 apart with the default model (0.0113 with the wide weights summed); without the
    // towers' signal the two would score alike
    assertThat(full).isGreaterThan(withoutDeep + 0.005);
  }

  private static double auc(float[] p, float[] y) {
    double[] d = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      d[i] = p[i];
    }
    return Auc.exact(d, y);
  }
}
