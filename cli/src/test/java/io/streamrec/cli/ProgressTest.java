package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.metrics.JobMetrics;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A job that trains from the request-units log reads units, not events: its progress line said "in
 * 0 req / 0 imp | units 0" next to 144,229 impressions trained, and its report 0 of everything
 * read.
 */
class ProgressTest {
  @Test
  void aJobOfTheUnitsLogSaysTheUnitsItRead() {
    Map<String, Double> units =
        Map.of(JobMetrics.UNITS_IN, 35_000.0, JobMetrics.IMPRESSIONS_TRAINED, 144_229.0);
    assertThat(Progress.line(12_000, units, null))
        .startsWith("[ 12.0s] in 35,000 units (log) | trained 144,229 imp | AUC");
    assertThat(Report.of(units, 1.0).get("units_read").asLong()).isEqualTo(35_000);

    Map<String, Double> events =
        Map.of(JobMetrics.REQUESTS_IN, 3.0, JobMetrics.IMPRESSIONS_IN, 4.0, JobMetrics.UNITS, 2.0);
    assertThat(Progress.line(1_000, events, null))
        .startsWith("[  1.0s] in 3 req / 4 imp | units 2 | trained 0 imp");
  }
}
