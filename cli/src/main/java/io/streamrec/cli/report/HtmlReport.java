package io.streamrec.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's report as one self-contained HTML page: the figures of the JSON report in a table, and
 * plots over the run from its timeline — progressive AUC (and the oracle's, where the demo knows
 * it), log loss, calibration, freshness, impressions per second, dead letters by reason and the
 * store's hit rate. Everything is inline (SVG drawn here, CSS in the page, the JSON it came from in
 * a data block): the page loads nothing and runs no script, so it opens offline, from a mail or an
 * artifact store.
 */
public final class HtmlReport {
  /** Series colours: distinct at a glance, and on a screenshot. */
  static final String BLUE = "#1f77b4";

  static final String RED = "#d62728";
  static final String GREEN = "#2ca02c";
  static final String ORANGE = "#ff7f0e";
  static final String PURPLE = "#9467bd";
  static final String BROWN = "#8c564b";
  static final String PINK = "#e377c2";
  private static final String[] PALETTE = {RED, ORANGE, PURPLE, BROWN, PINK, GREEN, BLUE};

  /** The timeline's keys for what the demo adds to the job's metrics. */
  public static final String ORACLE_AUC = "oracle_auc";

  public static final String REPLICA_FRESHNESS_P50_MS = "replica_freshness_p50_ms";
  public static final String REPLICA_FRESHNESS_P99_MS = "replica_freshness_p99_ms";

  /** The ids of the charts, in page order. */
  static final List<String> CHARTS =
      List.of(
          "chart-auc",
          "chart-logloss",
          "chart-calibration",
          "chart-freshness",
          "chart-throughput",
          "chart-dead-letters",
          "chart-store");

  private HtmlReport() {}

  /**
   * Writes the page of {@code report} (a JSON report with its {@code timeline}) to {@code file}.
   */
  public static void write(Path file, ObjectNode report) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, render(report), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new StreamrecException(
          "cannot write the HTML report to " + file + ": " + e.getMessage(), e);
    }
  }

  /** The page. */
  public static String render(JsonNode report) {
    JsonNode timeline = report.path("timeline");
    Series s = new Series(timeline);
    String command = report.path("command").asText("run");
    List<SvgChart> charts = new ArrayList<>();
    // the progressive figures follow the model's first label: named where the report names it
    String label =
        report.hasNonNull("progressive_label")
            ? " (label: " + report.get("progressive_label").asText() + ")"
            : " (the first label)";

    List<String> labels = new ArrayList<>();
    report.path("labels").forEach(l -> labels.add(l.asText()));
    SvgChart auc;
    if (labels.size() > 1) {
      // a line for each label's own AUC, the first's being the job's figure
      auc =
          new SvgChart("chart-auc", "Progressive AUC by label", "AUC")
              .line(labels.get(0), BLUE, s.t, s.get(JobMetrics.PROGRESSIVE_AUC));
      for (int l = 1; l < labels.size(); l++) {
        String key = JobMetrics.ofLabel(labels.get(l), JobMetrics.PROGRESSIVE_AUC);
        if (s.has(key)) {
          auc.line(labels.get(l), PALETTE[l % PALETTE.length], s.t, s.get(key));
        }
      }
    } else {
      auc =
          new SvgChart("chart-auc", "Progressive AUC" + label, "AUC")
              .line("model", BLUE, s.t, s.get(JobMetrics.PROGRESSIVE_AUC));
    }
    if (s.has(ORACLE_AUC)) {
      auc.dashed("oracle (true click probabilities)", GREEN, s.t, s.get(ORACLE_AUC));
    }
    charts.add(auc);
    charts.add(
        new SvgChart("chart-logloss", "Progressive log loss" + label, "log loss")
            .line("model", RED, s.t, s.get(JobMetrics.PROGRESSIVE_LOGLOSS)));
    charts.add(
        new SvgChart(
                "chart-calibration",
                "Calibration: mean prediction / observed rate" + label,
                "ratio")
            .line("model", PURPLE, s.t, s.get(JobMetrics.CALIBRATION))
            .reference(1.0, "calibrated"));
    SvgChart fresh =
        new SvgChart("chart-freshness", "Freshness of the published model", "seconds")
            .line(
                "trainer: now − newest version's event time",
                ORANGE,
                s.t,
                s.scaled(JobMetrics.MODEL_FRESHNESS_MS, 1e-3));
    if (s.has(REPLICA_FRESHNESS_P50_MS)) {
      fresh
          .line(
              "replica p50 (event time to applied)",
              BLUE,
              s.t,
              s.scaled(REPLICA_FRESHNESS_P50_MS, 1e-3))
          .dashed("replica p99", BLUE, s.t, s.scaled(REPLICA_FRESHNESS_P99_MS, 1e-3));
    }
    charts.add(fresh.yAtLeast(0.0, null));
    charts.add(
        new SvgChart("chart-throughput", "Impressions per second", "impressions / s")
            .line("trained", BLUE, s.t, s.rate(JobMetrics.IMPRESSIONS_TRAINED))
            .dashed("read from Kafka", GREEN, s.t, s.rate(JobMetrics.IMPRESSIONS_IN))
            .yAtLeast(0.0, null));
    SvgChart dead =
        new SvgChart("chart-dead-letters", "Dead letters by reason (cumulative)", "records");
    int c = 0;
    for (String reason : DeadLetterReasons.ALL) {
      dead.line(reason, PALETTE[c++ % PALETTE.length], s.t, s.get(JobMetrics.deadLetters(reason)));
    }
    charts.add(dead.yAtLeast(0.0, null));
    charts.add(
        new SvgChart("chart-store", "Embedding store: hot-tier hit rate, last minute", "percent")
            .line("hit rate", GREEN, s.t, s.scaled(JobMetrics.STORE_HIT_RATE_1M, 100))
            .yAtLeast(null, 100.0));

    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>streamrec ")
        .append(Html.escape(command))
        .append(" report</title>\n<style>\n")
        .append(
            "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;"
                + "color:#222222;background:#fafafa}\n"
                + "h1{font-size:22px;margin:0 0 4px}\n.sub{color:#666666;margin:0 0 16px}\n"
                + "table.figures{border-collapse:collapse;margin:0 0 20px;background:#ffffff}\n"
                + "table.figures td,table.figures th{border:1px solid #dddddd;padding:4px 10px;"
                + "text-align:left;font-size:13px}\n"
                + "table.figures td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
                + ".charts{display:flex;flex-wrap:wrap;gap:16px}\n"
                + "svg.chart{border:1px solid #dddddd;background:#ffffff}\n"
                + "svg text{font-family:inherit}\nsvg .title{font-size:14px;font-weight:600}\n"
                + "svg .legend,svg .axis-label,svg .reference{font-size:11px;fill:#444444}\n"
                + "svg .empty{font-size:13px;fill:#999999}\n"
                + "footer{margin-top:20px;color:#888888;font-size:12px}\n")
        .append("</style>\n</head>\n<body>\n")
        .append("<h1>streamrec ")
        .append(Html.escape(command))
        .append("</h1>\n<p class=\"sub\">")
        .append(Html.escape(subtitle(report, timeline.size())))
        .append("</p>\n");
    figures(b, report);
    b.append("<div class=\"charts\">\n");
    for (SvgChart chart : charts) {
      b.append(chart.render());
    }
    b.append("</div>\n<footer>Generated ")
        .append(Instant.now())
        .append(
            " by streamrec from its JSON report, kept below in the page. The page loads nothing and runs"
                + " no script.</footer>\n")
        .append("<script type=\"application/json\" id=\"report-data\">")
        // markup characters only occur inside JSON strings, where \\u escapes stand for them
        .append(
            report
                .toString()
                .replace("&", "\\u0026")
                .replace("<", "\\u003c")
                .replace(">", "\\u003e"))
        .append("</script>\n</body>\n</html>\n");
    return b.toString();
  }

  private static String subtitle(JsonNode r, int samples) {
    StringBuilder b = new StringBuilder();
    if (r.hasNonNull("backend")) {
      b.append("backend ").append(r.get("backend").asText()).append(" · ");
    }
    double seconds = r.path("duration_s").asDouble(r.path("training_seconds").asDouble(Double.NaN));
    if (Double.isFinite(seconds)) {
      b.append(String.format(Locale.ROOT, "%.1f s", seconds)).append(" · ");
    }
    return b.append(samples).append(" samples over the run").toString();
  }

  /** The run's headline figures. */
  private static void figures(StringBuilder b, JsonNode r) {
    b.append("<table class=\"figures\">\n");
    if (r.path("impressions").asLong() == 0 && r.path("units_read").asLong() > 0) {
      // a job of the request-units log reads units, not events
      row(b, "units read (request-units log)", r.path("units_read"), "%,.0f");
    } else {
      row(b, "impressions read", r.path("impressions"), "%,.0f");
    }
    row(b, "impressions trained", r.path("impressions_trained"), "%,.0f");
    row(b, "progressive AUC (end)", r.path("progressive_auc"), "%.4f");
    row(b, "oracle AUC", r.path("oracle_auc"), "%.4f");
    row(b, "progressive log loss (end)", r.path("progressive_logloss"), "%.4f");
    row(b, "calibration (end)", r.path("calibration"), "%.3f");
    row(b, "model versions published", r.path("model_version"), "%,.0f");
    row(b, "deltas published", r.path("deltas_published"), "%,.0f");
    row(b, "impressions trained per second", r.path("impressions_per_second"), "%,.0f");
    if (r.path("dead_letters").isObject()) {
      long dead = 0;
      for (JsonNode n : r.path("dead_letters")) {
        dead += n.asLong();
      }
      row(b, "dead letters", LongNode.valueOf(dead), "%,.0f");
    }
    row(b, "replica: held-out AUC", r.path("replica").path("held_out_auc"), "%.4f");
    row(b, "replica: freshness p50 (ms)", r.path("freshness_p50_ms"), "%,.0f");
    row(b, "replica: freshness p99 (ms)", r.path("freshness_p99_ms"), "%,.0f");
    b.append("</table>\n");
  }

  private static void row(StringBuilder b, String name, JsonNode v, String format) {
    if (!v.isNumber()) {
      return;
    }
    b.append("<tr><th>")
        .append(Html.escape(name))
        .append("</th><td class=\"num\">")
        .append(Html.escape(String.format(Locale.ROOT, format, v.asDouble())))
        .append("</td></tr>\n");
  }

  /** The timeline's columns as arrays over its samples; a missing value is NaN. */
  private static final class Series {
    final JsonNode timeline;
    final double[] t;

    Series(JsonNode timeline) {
      this.timeline = timeline;
      this.t = new double[timeline.size()];
      for (int i = 0; i < t.length; i++) {
        t[i] = number(timeline.get(i).get("t_s"));
      }
    }

    boolean has(String key) {
      for (JsonNode s : timeline) {
        if (Double.isFinite(number(s.get(key)))) {
          return true;
        }
      }
      return false;
    }

    double[] get(String key) {
      double[] v = new double[t.length];
      for (int i = 0; i < v.length; i++) {
        v[i] = number(timeline.get(i).get(key));
      }
      return v;
    }

    double[] scaled(String key, double factor) {
      double[] v = get(key);
      for (int i = 0; i < v.length; i++) {
        v[i] *= factor;
      }
      return v;
    }

    /** The per-second rate of a running count between a sample and the one before. */
    double[] rate(String key) {
      double[] count = get(key);
      double[] v = new double[t.length];
      java.util.Arrays.fill(v, Double.NaN);
      for (int i = 1; i < v.length; i++) {
        double dt = t[i] - t[i - 1];
        v[i] = dt > 0 ? Math.max(0, (count[i] - count[i - 1]) / dt) : Double.NaN;
      }
      return v;
    }

    private static double number(JsonNode n) {
      return n == null || !n.isNumber() ? Double.NaN : n.asDouble();
    }
  }
}
