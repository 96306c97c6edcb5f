package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CpuBackendTest extends ComputeBackendContractTest {

  @Override
  protected ComputeBackend createBackend() {
    return new CpuBackend();
  }

  @Test
  void isNamedCpu() {
    assertThat(backend.name()).isEqualTo("cpu");
  }

  @Test
  void sigmoidIsSymmetricAndSaturatesWithoutOverflow() {
    for (float z : new float[] {0.5f, 3f, 20f, 100f, 1e4f, Float.MAX_VALUE}) {
      assertThat(CpuBackend.sigmoid(z) + CpuBackend.sigmoid(-z))
          .as("z=%s", z)
          .isCloseTo(1f, within(1e-6f));
      assertThat(CpuBackend.sigmoid(-z)).isBetween(0f, 0.5f);
    }
    assertThat(CpuBackend.sigmoid(0f)).isEqualTo(0.5f);
  }
}
