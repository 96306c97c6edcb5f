package io.streamrec.job.trainer;

import io.streamrec.embedding.EmbeddingStore;
import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.job.config.JobConfig;
import java.nio.file.Path;

/** Makes the trainer's embedding store: a fresh one, or one restored from a checkpoint's snapshot. */
final class TrainerStores {
  private TrainerStores() {}

  static EmbeddingStore create(JobConfig config, ComputeBackend backend) {
    return new InMemoryEmbeddingStore(config.model().tableConfigs());
  }

  static EmbeddingStore restore(JobConfig config, ComputeBackend backend, Path snapshot) {
    return InMemoryEmbeddingStore.restore(snapshot, config.model().tableConfigs());
  }
}
