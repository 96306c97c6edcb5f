package io.streamrec.model.bench;

import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.model.MiniBatchTrainer;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.baseline.OnlineLearner;
import io.streamrec.schemas.RequestUnit;
import java.util.List;

/**
 * The reference model (the job's {@link MiniBatchTrainer} on the CPU backend and an in-memory
 * store) as an {@link OnlineLearner}. The trainer scores a batch in its forward pass and learns
 * from it in the same call, after those predictions are taken (its own progressive validation, the
 * figures the job reports): so {@link #score} trains and returns the predictions made before the
 * update, and {@link #learn} only checks it is handed the batch just scored.
 */
final class TrainerLearner implements OnlineLearner, AutoCloseable {
  private final String name;
  private final MiniBatchTrainer trainer;
  private List<RequestUnit> scored;

  TrainerLearner(String name, ModelConfig config) {
    this.name = name;
    this.trainer =
        new MiniBatchTrainer(
            config,
            new InMemoryEmbeddingStore(config.tableConfigs()),
            new CpuBackend(),
            MiniBatchTrainer.DEFAULT_METRICS_WINDOW);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public float[] score(List<RequestUnit> units) {
    trainer.trainRequestUnits(units);
    scored = units;
    return trainer.lastPredictions();
  }

  @Override
  public void learn(List<RequestUnit> units) {
    if (units != scored) {
      throw new IllegalStateException("the trainer learns the batch it scores; score it first");
    }
    scored = null;
  }

  @Override
  public void close() {
    trainer.close();
  }
}
