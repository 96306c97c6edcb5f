package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.gpu.internal.cuda.Kernel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The build's PTX, checked without a device: every kernel the CUDA backend launches is an {@code
 * .entry} of the module it is loaded from (a renamed kernel fails here, not on the GPU), and no
 * module defines a kernel the backend does not know.
 */
class CudaKernelsTest {
  private static final Pattern ENTRY =
      Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

  /**
   * A build on a machine without nvcc has no PTX at all (it says so); one with some modules missing
   * is broken.
   */
  static void assumeBuiltWithNvcc() {
    boolean any =
        Stream.of(Kernel.values())
            .anyMatch(k -> CudaKernelsTest.class.getResource(k.resource()) != null);
    Assumptions.assumeTrue(any, "this build has no PTX: nvcc was not found when gpu-ops was built");
  }

  @ParameterizedTest
  @EnumSource(Kernel.class)
  void everyLaunchedKernelIsAnEntryOfItsPtx(Kernel k) throws IOException {
    assumeBuiltWithNvcc();
    String ptx = read(k.resource());
    assertThat(ptx)
        .as("%s (built from src/main/cuda/%s.cu)", k.resource(), k.module())
        .contains(".version")
        .contains(".target");
    assertThat(entries(ptx)).as("entries of %s", k.resource()).contains(k.entry());
  }

  @Test
  void everyEntryOfThePtxIsLaunched() throws IOException {
    assumeBuiltWithNvcc();
    for (String module :
        Stream.of(Kernel.values()).map(Kernel::module).collect(Collectors.toSet())) {
      String resource = Kernel.PTX_DIR + module + ".ptx";
      var known =
          Stream.of(Kernel.values())
              .filter(k -> k.module().equals(module))
              .map(Kernel::entry)
              .toList();
      assertThat(entries(read(resource)))
          .as("entries of %s", resource)
          .containsExactlyInAnyOrderElementsOf(known);
    }
  }

  private static java.util.List<String> entries(String ptx) {
    Matcher m = ENTRY.matcher(ptx);
    java.util.List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static String read(String resource) throws IOException {
    try (InputStream in = CudaKernelsTest.class.getResourceAsStream(resource)) {
      assertThat(in)
          .as("%s on the class path (gpu-ops builds it with nvcc in generate-resources)", resource)
          .isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }
}
