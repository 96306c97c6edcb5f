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
        .contains("Progressive AUC by label")
        .contains("Progressive log loss (label: purchase)")
        .contains("Calibration: mean prediction / observed rate (label: purchase)")
        .doesNotContain("the first label");
  }

  /**
   * A model of several labels reported the first label's figures alone: each label has its own
   * under {@code by_label}, in the model's order, a figure not yet known being null.
   */
  @Test
  void reportsEveryLabelsOwnFigures() {
    Map<String, Double> m = new HashMap<>();
    m.put(JobMetrics.PROGRESSIVE_AUC, 0.71);
    m.put(JobMetrics.ofLabel("purchase", JobMetrics.PROGRESSIVE_AUC), 0.71);
    m.put(JobMetrics.ofLabel("purchase", JobMetrics.CALIBRATION), 1.02);
    m.put(JobMetrics.ofLabel("click", JobMetrics.PROGRESSIVE_AUC), 0.74);
    m.put(JobMetrics.ofLabel("click", JobMetrics.PROGRESSIVE_AUC_LIFETIME), 0.73);
    m.put(JobMetrics.ofLabel("click", JobMetrics.PROGRESSIVE_LOGLOSS), 0.41);
    m.put(JobMetrics.ofLabel("like", JobMetrics.PROGRESSIVE_AUC), Double.NaN);
    ObjectNode r = Report.of(m, 1.0, List.of("purchase", "click", "like"));
    com.fasterxml.jackson.databind.JsonNode by = r.get("by_label");
    assertThat(by.fieldNames()).toIterable().containsExactly("purchase", "click", "like");
    assertThat(by.get("purchase").get("progressive_auc").asDouble()).isEqualTo(0.71);
    assertThat(by.get("purchase").get("calibration").asDouble()).isEqualTo(1.02);
    assertThat(by.get("click").get("progressive_auc").asDouble()).isEqualTo(0.74);
    assertThat(by.get("click").get("progressive_auc_lifetime").asDouble()).isEqualTo(0.73);
    assertThat(by.get("click").get("progressive_logloss").asDouble()).isEqualTo(0.41);
    assertThat(by.get("click").get("calibration").isNull()).isTrue();
    assertThat(by.get("like").get("progressive_auc").isNull()).isTrue();
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
