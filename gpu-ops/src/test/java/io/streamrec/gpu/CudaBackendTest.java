package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The contract suite on the GPU, with {@link ComputeBackendContractTest}'s tolerances. Skips,
 * visibly ("no CUDA device: ..."), where no device is usable.
 */
class CudaBackendTest extends ComputeBackendContractTest {

  @Override
  protected ComputeBackend createBackend() {
    String why = CudaBackend.unavailableReason();
    Assumptions.assumeTrue(why == null, () -> "no CUDA device: " + why);
    return new CudaBackend();
  }

  @Test
  void isNamedCuda() {
    assertThat(backend.name()).isEqualTo("cuda");
    assertThat(((CudaBackend) backend).deviceName()).isNotBlank();
  }

  @Test
  void refusesBuffersOfAnotherBackend() {
    Floats host = CpuBackend.wrap(new float[4]);
    assertThatThrownBy(() -> backend.relu(host, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a buffer of this cuda backend");
  }

  @Test
  void refusesSlotsOutsideTheSlabInsteadOfFaulting() {
    Floats slab = backend.allocFloats(4 * 3);
    Ints slots = backend.allocInts(2);
    backend.upload(new int[] {1, 4}, 0, slots, 0, 2);
    assertThatThrownBy(() -> backend.gatherRows(slab, 3, slots, 2, backend.allocFloats(6)))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("gatherRows slots[1] = 4");
  }

  @Test
  void largeTransfersGoThroughTheStagingBuffersInPieces() {
    int n = 5_000_000; // 20 MB: more than one staging buffer
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i * 0.5f - 7f;
    }
    Floats f = backend.allocFloats(n);
    backend.upload(x, 0, f, 0, n);
    float[] back = new float[n];
    backend.download(f, 0, back, 0, n);
    assertThat(back).containsExactly(x);
  }
}
