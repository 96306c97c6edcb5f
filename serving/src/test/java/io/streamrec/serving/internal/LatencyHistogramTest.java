package io.streamrec.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
  /** The histogram's lines as name{labels} to value. */
  private static Map<String, Double> lines(LatencyHistogram h) {
    StringBuilder b = new StringBuilder();
    h.appendTo(b, "x_seconds", "help");
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : b.toString().split("\n")) {
      if (!line.startsWith("#")) {
        int sp = line.lastIndexOf(' ');
        out.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
      }
    }
    return out;
  }

  @Test
  void countsAreCumulativePerBoundWithSumAndCount() {
    LatencyHistogram h = new LatencyHistogram();
    h.record(300_000); // 0.3 ms
    h.record(2_000_000); // 2 ms
    h.record(2_500_000); // 2.5 ms: on a bound, counted in it
    h.record(20_000_000_000L); // 20 s: +Inf only
    Map<String, Double> m = lines(h);
    assertThat(m)
        .containsEntry("x_seconds_bucket{le=\"0.0005\"}", 1.0)
        .containsEntry("x_seconds_bucket{le=\"0.001\"}", 1.0)
        .containsEntry("x_seconds_bucket{le=\"0.0025\"}", 3.0)
        .containsEntry("x_seconds_bucket{le=\"10\"}", 3.0)
        .containsEntry("x_seconds_bucket{le=\"+Inf\"}", 4.0)
        .containsEntry("x_seconds_count", 4.0);
    assertThat(m.get("x_seconds_sum"))
        .isCloseTo(20.0048, org.assertj.core.data.Offset.offset(1e-9));
    double previous = 0;
    for (Map.Entry<String, Double> e : m.entrySet()) {
      if (e.getKey().contains("_bucket")) {
        assertThat(e.getValue()).as(e.getKey()).isGreaterThanOrEqualTo(previous);
        previous = e.getValue();
      }
    }
  }

  @Test
  void anEmptyHistogramHasItsBucketsAtZero() {
    Map<String, Double> m = lines(new LatencyHistogram());
    assertThat(m).hasSize(LatencyHistogram.BOUNDS_SECONDS.length + 3);
    assertThat(m.values()).containsOnly(0.0);
  }
}
