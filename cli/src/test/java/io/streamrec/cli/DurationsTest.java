package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code demo --duration 10} sent 10 ms of traffic (a bare number is milliseconds to Flink's
 * parser) and failed with a checkpoint's stack trace.
 */
class DurationsTest {
  @Test
  void aNumberWithoutAUnitIsRefusedAndOneWithAUnitRead() {
    Durations d = new Durations();
    assertThatThrownBy(() -> d.convert("10"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("'10' has no unit (it would be 10 ms): write it, e.g. 10s, 10min or 10ms");
    assertThat(d.convert("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.convert("2 min")).isEqualTo(Duration.ofMinutes(2));
    assertThat(d.convert("0")).isEqualTo(Duration.ZERO);
  }
}
