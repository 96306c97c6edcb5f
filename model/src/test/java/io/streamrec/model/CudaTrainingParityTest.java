package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.embedding.TieredEmbeddingStore;
import io.streamrec.embedding.TieredStoreConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.CudaBackend;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on the GPU gives the CPU's model: the reference model, on the tiered store (hot rows in
 * device memory on CUDA), trained from the same start on the same minibatches by both backends.
 * Skips, visibly, where no CUDA device is usable.
 *
 * <p><b>Tolerance.</b> After every batch, each prediction (which reads every embedding row and
 * dense weight it depends on) agrees within {@value #PREDICTION_TOLERANCE} absolute, and the summed
 * loss within {@value #LOSS_TOLERANCE} relative; at the end the dense parameters agree within
 * {@value #PARAMETER_TOLERANCE} in relative L2 norm ({@code |w_cuda - w_cpu| / |w_cpu|}). The
 * embedding, pooling and optimizer kernels reproduce the CPU's floats exactly; the matrix products
 * and reductions add in another order (float32 rounding, ~1e-7 relative per step), and Adam can
 * turn a near-zero gradient's rounding into a full step for single weights, which is why the
 * parameters are compared by norm.
 */
class CudaTrainingParityTest {
  static final double PREDICTION_TOLERANCE = 2e-3;
  static final double LOSS_TOLERANCE = 1e-3;
  static final double PARAMETER_TOLERANCE = 1e-3;
  static final int BATCHES = 30;
  static final int UNITS_PER_BATCH = 128;

  @TempDir Path tmp;

  @Test
  void aTrainingRunOnCudaMatchesTheCpuRun() {
    assertCudaMatchesCpu(ModelConfig.defaults());
  }

  /**
   * The default model's cross is field-weighted ({@code fieldDots}); the summed cross ({@code
   * broadcastDot}) and a model without towers (the cross's fields pooled for it alone) too.
   */
  @Test
  void withTheSummedCrossATrainingRunOnCudaMatchesTheCpuRun() {
    assertCudaMatchesCpu(
        ModelConfig.defaults().withFactorisedCross(ModelConfig.FactorisedCross.SUM));
  }

  @Test
  void withFieldWeightedWideCrossesATrainingRunOnCudaMatchesTheCpuRun() {
    assertCudaMatchesCpu(
        ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED));
  }

  /** FTRL-Proximal on the wide rows and their crosses ({@code ftrlProximal}). */
  @Test
  void withFtrlWideRowsATrainingRunOnCudaMatchesTheCpuRun() {
    assertCudaMatchesCpu(
        ModelConfig.defaults()
            .withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)
            .withWideOptimizer(ModelConfig.WideOptimizer.FTRL));
  }

  /**
   * The default pools the wide weights per feature (bags with targets, several per unit and
   * impression, each cross a bag of its own); summed, a unit's and an impression's keys are one
   * bag.
   */
  @Test
  void withWideCrossesPooledPerFeatureAndSummedATrainingRunOnCudaMatchesTheCpuRun() {
    ModelConfig crosses =
        ModelConfig.defaults().withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
    assertCudaMatchesCpu(crosses);
    assertCudaMatchesCpu(crosses.withWidePooling(ModelConfig.WidePooling.SUM));
  }

  @Test
  void withoutTowersATrainingRunOnCudaMatchesTheCpuRun() {
    assertCudaMatchesCpu(ModelConfig.defaults().withTowers(ModelConfig.Towers.NONE));
  }

  private void assertCudaMatchesCpu(ModelConfig cfg) {
    String why = CudaBackend.unavailableReason();
    Assumptions.assumeTrue(why == null, () -> "no CUDA device: " + why);
    List<List<RequestUnit>> batches = batches();
    try (MiniBatchTrainer cpu = trainer(cfg, new CpuBackend(), tmp.resolve("cpu"));
        MiniBatchTrainer cuda = trainer(cfg, new CudaBackend(), tmp.resolve("cuda"))) {
      assertThat(cuda.parameters()).containsExactly(cpu.parameters());
      for (int b = 0; b < batches.size(); b++) {
        MiniBatchTrainer.Step a = cpu.trainRequestUnits(batches.get(b));
        MiniBatchTrainer.Step g = cuda.trainRequestUnits(batches.get(b));
        assertThat(g.impressions()).isEqualTo(a.impressions());
        assertThat(g.loss())
            .as("loss of batch %d", b)
            .isCloseTo(a.loss(), within(LOSS_TOLERANCE * Math.abs(a.loss())));
        float[] pa = cpu.lastPredictions(), pg = cuda.lastPredictions();
        assertThat(pg).hasSameSizeAs(pa);
        for (int i = 0; i < pa.length; i++) {
          assertThat((double) pg[i])
              .as("batch %d, prediction %d", b, i)
              .isCloseTo(pa[i], within(PREDICTION_TOLERANCE));
        }
      }
      float[] wa = cpu.parameters(), wg = cuda.parameters();
      double diff = 0, norm = 0;
      for (int i = 0; i < wa.length; i++) {
        diff += (double) (wg[i] - wa[i]) * (wg[i] - wa[i]);
        norm += (double) wa[i] * wa[i];
      }
      assertThat(Math.sqrt(diff / norm))
          .as("relative L2 distance of the dense parameters")
          .isLessThan(PARAMETER_TOLERANCE);
      assertThat(cuda.metrics().auc()).isCloseTo(cpu.metrics().auc(), within(1e-3));
    }
  }

  private static MiniBatchTrainer trainer(ModelConfig cfg, ComputeBackend backend, Path dir) {
    return new MiniBatchTrainer(
        cfg,
        TieredEmbeddingStore.create(TieredStoreConfig.of(dir), cfg.tableConfigs(), backend),
        backend,
        10_000);
  }

  private static List<List<RequestUnit>> batches() {
    TrafficGenerator gen =
        new TrafficGenerator(TrafficConfig.defaults().withSeed(5).withUsers(2_000).withItems(800));
    List<List<RequestUnit>> out = new ArrayList<>();
    long time = 1_767_225_600_000L;
    for (int b = 0; b < BATCHES; b++) {
      List<RequestUnit> units = new ArrayList<>();
      for (int u = 0; u < UNITS_PER_BATCH; u++) {
        GeneratedRequest g = gen.next(time += 10);
        units.add(RequestUnits.of(g.request(), g.impressions(), time + 5_000));
      }
      out.add(units);
    }
    return out;
  }
}
