package io.streamrec.job.trainer;

import io.streamrec.embedding.EmbeddingStore;
import io.streamrec.embedding.TieredEmbeddingStore;
import io.streamrec.embedding.TieredStoreConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.job.config.JobConfig;
import java.nio.file.Path;

/**
 * Makes the trainer's embedding store, a {@link TieredEmbeddingStore} working in {@code workDir}: a
 * fresh one, or one restored from a checkpoint's snapshot (the working directory is rebuilt from
 * the snapshot, whatever it held).
 */
final class TrainerStores {
  private TrainerStores() {}

  static EmbeddingStore create(Path workDir, JobConfig config, ComputeBackend backend) {
    return TieredEmbeddingStore.create(
        TieredStoreConfig.of(workDir), config.model().tableConfigs(), backend);
  }

  static EmbeddingStore restore(
      Path workDir, JobConfig config, ComputeBackend backend, Path snapshot) {
    return TieredEmbeddingStore.open(
        TieredStoreConfig.of(workDir), snapshot, config.model().tableConfigs(), backend);
  }
}
