package io.streamrec.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;

/** Reports as the demo writes them, with a timeline whose values are known. */
final class ReportSamples {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private ReportSamples() {}

  /** AUC of sample i. */
  static double auc(int i) {
    return 0.5 + 0.01 * i;
  }

  /** {@code n} samples a second apart: AUC rising, log loss falling, counts growing. */
  static ObjectNode demo(int n) {
    ObjectNode r = MAPPER.createObjectNode();
    r.put("command", "demo");
    r.put("backend", "cpu");
    r.put("duration_s", (double) n);
    r.put("impressions", 4_000L * n);
    r.put("impressions_trained", 3_900L * n);
    r.put("progressive_auc", auc(n - 1));
    r.put("progressive_logloss", 0.2);
    r.put("oracle_auc", 0.82);
    r.put("model_version", n / 2);
    ObjectNode dead = r.putObject("dead_letters");
    DeadLetterReasons.ALL.forEach(reason -> dead.put(reason, 3));
    ArrayNode t = r.putArray("timeline");
    for (int i = 0; i < n; i++) {
      ObjectNode s = t.addObject();
      s.put("t_s", i + 1.0);
      s.put(JobMetrics.PROGRESSIVE_AUC, auc(i));
      s.put(JobMetrics.PROGRESSIVE_LOGLOSS, 0.7 - 0.01 * i);
      s.put(JobMetrics.CALIBRATION, 1.2 - 0.01 * i);
      s.put(JobMetrics.IMPRESSIONS_TRAINED, 3_900L * (i + 1));
      s.put(JobMetrics.IMPRESSIONS_IN, 4_000L * (i + 1));
      s.put(JobMetrics.MODEL_FRESHNESS_MS, 500 + 100 * (i % 5));
      s.put(JobMetrics.STORE_HIT_RATE_1M, 0.5 + 0.01 * i);
      s.put(JobMetrics.deadLetters(DeadLetterReasons.LATE), i);
      s.put(JobMetrics.deadLetters(DeadLetterReasons.MALFORMED), i / 2);
      s.put(HtmlReport.ORACLE_AUC, 0.82);
      s.put(HtmlReport.REPLICA_FRESHNESS_P50_MS, 700);
      s.put(HtmlReport.REPLICA_FRESHNESS_P99_MS, 950);
    }
    return r;
  }
}
