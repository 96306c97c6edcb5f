package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.common.StreamrecException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BackendsTest {

  @ParameterizedTest
  @EnumSource(BackendMode.class)
  void theBackendCreatedIsTheOneResolvedAndComputes(BackendMode mode) {
    boolean device = CudaBackend.unavailableReason() == null;
    Assumptions.assumeTrue(
        mode != BackendMode.CUDA || device, "no CUDA device: " + CudaBackend.unavailableReason());
    try (ComputeBackend backend = Backends.create(mode)) {
      assertThat(backend.name())
          .isEqualTo(Backends.resolvedName(mode))
          .isEqualTo(mode == BackendMode.CPU || !device ? "cpu" : "cuda");
      Floats a = upload(backend, 2f, 3f), b = upload(backend, 5f, 7f), out = upload(backend, 1f);
      Ints index = backend.allocInts(1);
      backend.upload(new int[] {0}, 0, index, 0, 1);
      backend.broadcastDot(a, index, b, 1, 2, out);
      float[] result = new float[1];
      backend.download(out, 0, result, 0, 1);
      assertThat(result).containsExactly(1f + 2f * 5f + 3f * 7f);
    }
  }

  private static Floats upload(ComputeBackend backend, float... x) {
    Floats f = backend.allocFloats(x.length);
    backend.upload(x, 0, f, 0, x.length);
    return f;
  }

  @Test
  void cudaFailsFastWithTheReasonWhereNoDeviceIsUsable() {
    String why = CudaBackend.unavailableReason();
    Assumptions.assumeTrue(why != null, "a CUDA device is usable here");
    assertThatThrownBy(() -> Backends.create(BackendMode.CUDA))
        .isInstanceOf(BackendUnavailableException.class)
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("cuda")
        .hasMessageContaining(why);
    assertThatThrownBy(() -> Backends.resolvedName(BackendMode.CUDA))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining(why);
    assertThat(Backends.resolvedName(BackendMode.AUTO)).isEqualTo("cpu");
  }
}
