package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.schemas.StreamrecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BackendsTest {

  @ParameterizedTest
  @EnumSource(names = {"CPU", "AUTO"})
  void cpuAndAutoRunOnTheCpu(BackendMode mode) {
    try (ComputeBackend backend = Backends.create(mode)) {
      assertThat(backend.name()).isEqualTo("cpu");
      float[] out = {1f};
      backend.broadcastDot(CpuBackend.wrap(new float[] {2f, 3f}), CpuBackend.wrap(new int[] {0}),
          CpuBackend.wrap(new float[] {5f, 7f}), 1, 2, CpuBackend.wrap(out));
      assertThat(out).containsExactly(1f + 2f * 5f + 3f * 7f);
    }
  }

  @Test
  void cudaFailsFastWhenThereIsNoCudaBackend() {
    assertThatThrownBy(() -> Backends.create(BackendMode.CUDA))
        .isInstanceOf(BackendUnavailableException.class)
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("cuda");
  }
}
