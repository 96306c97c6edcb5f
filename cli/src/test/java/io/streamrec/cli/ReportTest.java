package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.job.metrics.JobMetrics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {
  private static final List<String> CLICK = List.of("click");

  /**
   * A model of {@code [purchase, click, like]} reported its first label's figures as {@code
   * progressive_auc} with nothing naming the label, and the page said "the first label".
   */
  @Test
  void namesTheLabelItsProgressiveFiguresFollowAndTheModelsLabels() {
    ObjectNode r = Report.of(new HashMap<>(), 1.0, List.of("purchase", "click", "like"));
    assertThat(r.get("progressive_label").asText()).isEqualTo("purchase");
    assertThat(r.get("labels").toString()).isEqualTo("[\"purchase\",\"click\",\"like\"]");
    assertThat(io.streamrec.cli.report.HtmlReport.render(r))
        .contains("Progressive AUC (label: purchase)")
        .contains("Calibration: mean prediction / observed rate (label: purchase)")
        .doesNotContain("the first label");
  }

  @Test
  void reportsTheLifetimeAucNextToTheWindowedOne() {
    Map<String, Double> m = new HashMap<>();
    m.put(JobMetrics.PROGRESSIVE_AUC, 0.71);
    m.put(JobMetrics.PROGRESSIVE_AUC_LIFETIME, 0.68);
    ObjectNode r = Report.of(m, 1.0, CLICK);
    assertThat(r.get("progressive_auc").asDouble()).isEqualTo(0.71);
    assertThat(r.get("progressive_auc_lifetime").asDouble()).isEqualTo(0.68);

    m.put(JobMetrics.PROGRESSIVE_AUC_LIFETIME, Double.NaN);
    assertThat(Report.of(m, 1.0, CLICK).get("progressive_auc_lifetime").isNull()).isTrue();
  }

  @Test
  void reportsTheWaitsForASilentInputTopic() {
    Map<String, Double> m = new HashMap<>();
    m.put(JobMetrics.SILENT_INPUT_WAITS, 3.0);
    m.put(JobMetrics.SILENT_INPUT_WAITS_GIVEN_UP, 1.0);
    ObjectNode r = Report.of(m, 1.0, CLICK);
    assertThat(r.get("silent_input_waits").asLong()).isEqualTo(3);
    assertThat(r.get("silent_input_waits_given_up").asLong()).isEqualTo(1);
  }
}
