package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackendModeTest {

  @ParameterizedTest
  @CsvSource({
    "auto,AUTO",
    "AUTO,AUTO",
    "Cpu,CPU",
    "cpu,CPU",
    "CUDA,CUDA",
    "cUdA,CUDA",
    "' cpu ',CPU"
  })
  void parsesEveryModeInAnyCase(String text, BackendMode mode) {
    assertThat(BackendMode.parse(text)).isEqualTo(mode);
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"gpu", "", "  ", "cpu,cuda", "autox"})
  void aBadValueNamesTheChoicesAndTheValue(String text) {
    assertThatThrownBy(() -> BackendMode.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContainingAll("auto", "cpu", "cuda", text == null ? "null" : "'" + text + "'");
  }
}
