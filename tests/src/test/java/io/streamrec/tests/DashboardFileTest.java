package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard charts what a person running streamrec looks at, from metric names the code
 * declares. (SecuredKafkaITCase checks the names against what a running job and replica actually
 * export.)
 */
class DashboardFileTest {

  @Test
  void itHasAPanelForEachThingToWatch() {
    List<String> titles = DashboardFile.panels().stream().map(DashboardFile.Panel::title).toList();
    for (String needed :
        List.of(
            "AUC",
            "Log loss",
            "Calibration",
            "freshness",
            "Throughput",
            "Dead letters by reason",
            "Store tiers",
            "Score latency")) {
      assertThat(titles)
          .as("panel titles")
          .anyMatch(t -> t.toLowerCase().contains(needed.toLowerCase()));
    }
  }

  @Test
  void deadLettersAreChartedForEveryReason() {
    DashboardFile.Panel dead =
        DashboardFile.panels().stream()
            .filter(p -> p.title().equals("Dead letters by reason"))
            .findFirst()
            .orElseThrow();
    Set<String> patterns = new TreeSet<>();
    dead.exprs()
        .forEach(
            e -> {
              java.util.regex.Matcher m =
                  java.util.regex.Pattern.compile("__name__=~\"([^\"]+)\"").matcher(e);
              while (m.find()) {
                patterns.add(m.group(1));
              }
            });
    for (String reason : DeadLetterReasons.ALL) {
      String name = DashboardFile.FLINK_OPERATOR + JobMetrics.deadLetters(reason);
      assertThat(patterns).as("a query of the panel reads " + name).anyMatch(p -> name.matches(p));
    }
  }

  /**
   * The dead-letter queries matched every metric named dead_letters_*, the sink's totals of letters
   * written and unwritten among them: the rate showed twice the real one, and "by reason" had a
   * "written" reason.
   */
  @Test
  void noDeadLetterQueryReadsTheSinksTotals() {
    List<String> totals =
        List.of(
            DashboardFile.FLINK_OPERATOR + JobMetrics.DEAD_LETTERS_WRITTEN,
            DashboardFile.FLINK_OPERATOR + JobMetrics.DEAD_LETTERS_UNWRITTEN,
            "flink_taskmanager_job_task_operator_deserializer_"
                + JobMetrics.GROUP
                + "_"
                + JobMetrics.DEAD_LETTERS_UNWRITTEN);
    java.util.regex.Pattern names = java.util.regex.Pattern.compile("__name__=~\"([^\"]+)\"");
    List<String> patterns = new java.util.ArrayList<>();
    for (DashboardFile.Panel p : DashboardFile.panels()) {
      for (String e : p.exprs()) {
        java.util.regex.Matcher m = names.matcher(e);
        while (m.find()) {
          if (m.group(1).contains("dead_letters")) {
            patterns.add(m.group(1));
          }
        }
      }
    }
    assertThat(patterns).hasSizeGreaterThanOrEqualTo(2);
    for (String p : patterns) {
      for (String total : totals) {
        assertThat(total.matches(p)).as(p + " reads " + total).isFalse();
      }
    }
  }

  /**
   * A model of several labels showed the first label's figures alone: the quality panels chart each
   * label's, by the label.
   */
  @Test
  void theQualityPanelsChartEveryLabel() {
    for (String title : List.of("AUC", "Log loss", "Calibration")) {
      DashboardFile.Panel p =
          DashboardFile.panels().stream()
              .filter(x -> x.title().contains(title))
              .findFirst()
              .orElseThrow();
      assertThat(p.exprs()).as(p.title()).isNotEmpty();
      for (String e : p.exprs()) {
        assertThat(e)
            .as(p.title())
            .contains("by (" + JobMetrics.LABEL_KEY + ")")
            .contains(DashboardFile.FLINK_OPERATOR + JobMetrics.LABEL_KEY + "_");
      }
    }
  }

  @Test
  void everyJobMetricItReadsIsOneTheJobDeclares() {
    Set<String> declared = DashboardFile.declaredJobMetrics();
    assertThat(DashboardFile.metricPatterns()).isNotEmpty();
    assertThat(DashboardFile.unmatched(DashboardFile.metricPatterns(), declared))
        .as("name patterns no declared metric matches")
        .isEmpty();
    Set<String> flink =
        new TreeSet<>(
            DashboardFile.metricNames().stream().filter(n -> n.startsWith("flink_")).toList());
    assertThat(flink).isNotEmpty();
    assertThat(declared).as("metrics JobMetrics declares").containsAll(flink);
  }

  /**
   * A live job and a backfill on one cluster report the same metric names; every trainer panel took
   * the max or sum over both, charting the backfill's AUC and versions as the live model's. Each
   * query of the job's metrics now reads the job the dashboard's "job" variable picks.
   */
  @Test
  void everyQueryOfTheJobsMetricsReadsTheJobPicked() {
    JsonNode variables = DashboardFile.json().path("templating").path("list");
    boolean job = false;
    for (JsonNode v : variables) {
      job |=
          "job".equals(v.path("name").asText())
              && v.path("definition").asText().contains("job_name");
    }
    assertThat(job).as("a 'job' variable of the job_name label").isTrue();
    // one job at a time, the live one first: with "All" offered and no value kept, Grafana opened
    // on All, and every panel took the max over the live job and a backfill beside it
    for (JsonNode v : variables) {
      if ("job".equals(v.path("name").asText())) {
        assertThat(v.path("includeAll").asBoolean()).as("'All' offered").isFalse();
        assertThat(v.path("multi").asBoolean()).as("several jobs at once").isFalse();
        assertThat(v.path("current").path("value").asText()).isEqualTo("streamrec");
      }
    }
    int read = 0;
    for (DashboardFile.Panel p : DashboardFile.panels()) {
      for (String e : p.exprs()) {
        if (e.contains("flink_")) {
          read++;
          int selectors = e.split("flink_", -1).length - 1;
          int filtered = e.split("job_name=~\"\\$job\"", -1).length - 1;
          assertThat(filtered).as("%s: %s", p.title(), e).isEqualTo(selectors);
        }
      }
    }
    assertThat(read).isGreaterThan(20);
  }
}
