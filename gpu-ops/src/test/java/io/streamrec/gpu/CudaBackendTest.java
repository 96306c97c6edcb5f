package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

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

  /**
   * Memory the driver may keep for itself between allocations; a backend that left its buffers,
   * staging, modules or loss partials behind leaves far more (256 MiB here) per round.
   */
  private static final long DRIVER_SLACK_BYTES = 16L << 20;

  @Test
  void backendsOpenedAfterOthersClosedWorkAndClosingGivesBackTheirDeviceMemory() {
    // this test's backend stays open, holding the device's primary context: memory a closed
    // backend did not free would stay allocated in it and show here
    CudaBackend holder = (CudaBackend) backend;
    long freeBefore = holder.freeDeviceBytes();
    for (int round = 0; round < 3; round++) {
      try (CudaBackend b = new CudaBackend()) {
        b.allocFloats(64 << 20); // 256 MiB, never closed: the backend's close frees it
        int n = 5000;
        float[] logits = new float[n], labels = new float[n];
        for (int i = 0; i < n; i++) {
          logits[i] = (i % 7 - 3) * 0.5f;
          labels[i] = i % 3 == 0 ? 1f : 0f;
        }
        Floats l = b.allocFloats(n), y = b.allocFloats(n), p = b.allocFloats(n);
        Floats g = b.allocFloats(n);
        b.upload(logits, 0, l, 0, n);
        b.upload(labels, 0, y, 0, n);
        double loss = b.sigmoidBce(l, y, n, 1f, p, g); // the loss partials buffer
        double expected = 0;
        for (int i = 0; i < n; i++) {
          double z = logits[i];
          expected += Math.max(z, 0) - z * labels[i] + Math.log1p(Math.exp(-Math.abs(z)));
        }
        assertThat(loss).as("round %d", round).isCloseTo(expected, within(1e-5 * expected));
        assertThat(b.clipNorm(g, n, Float.MAX_VALUE)).isPositive();
      }
    }
    assertThat(holder.freeDeviceBytes())
        .as("free device memory after three backends opened, used and closed")
        .isGreaterThanOrEqualTo(freeBefore - DRIVER_SLACK_BYTES);
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
