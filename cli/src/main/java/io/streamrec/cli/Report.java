package io.streamrec.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.common.StreamrecException;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The JSON a command writes with {@code --report FILE}: what the job did, in figures. */
final class Report {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Report() {}

  /**
   * The figures every job command reports, from the job's metrics; {@code labels} the model's,
   * whose first the progressive figures follow (named, so that a model of {@code [purchase, click]}
   * is not read as click's), and each of which has its own under {@code by_label}.
   */
  static ObjectNode of(Map<String, Double> m, double trainingSeconds, List<String> labels) {
    ObjectNode o = MAPPER.createObjectNode();
    labels.forEach(o.putArray("labels")::add);
    o.put("progressive_label", labels.get(0));
    long trained = Progress.count(m, JobMetrics.IMPRESSIONS_TRAINED);
    o.put("requests", Progress.count(m, JobMetrics.REQUESTS_IN));
    o.put("impressions", Progress.count(m, JobMetrics.IMPRESSIONS_IN));
    o.put("units", Progress.count(m, JobMetrics.UNITS));
    // a job that trains from the request-units log reads units, not events
    o.put("units_read", Progress.count(m, JobMetrics.UNITS_IN));
    o.put("impressions_joined", Progress.count(m, JobMetrics.IMPRESSIONS_JOINED));
    o.put("units_trained", Progress.count(m, JobMetrics.UNITS_TRAINED));
    o.put("impressions_trained", trained);
    o.put("duplicate_impressions", Progress.count(m, JobMetrics.DUPLICATE_IMPRESSIONS));
    o.put("duplicate_requests", Progress.count(m, JobMetrics.DUPLICATE_REQUESTS));
    o.put(
        "requests_without_impressions", Progress.count(m, JobMetrics.REQUESTS_WITHOUT_IMPRESSIONS));
    // a backfill that hands on, and the job after it, count the impressions near the cut once
    o.put("impressions_handed_on", Progress.count(m, JobMetrics.IMPRESSIONS_HANDED_ON));
    o.put("requests_before_handoff", Progress.count(m, JobMetrics.REQUESTS_BEFORE_HANDOFF));
    o.put("impressions_before_handoff", Progress.count(m, JobMetrics.IMPRESSIONS_BEFORE_HANDOFF));
    o.put("batches_skipped", Progress.count(m, JobMetrics.BATCHES_SKIPPED));
    o.put("impressions_skipped", Progress.count(m, JobMetrics.IMPRESSIONS_SKIPPED));
    o.put("late_units", Progress.count(m, JobMetrics.LATE_UNITS));
    putNumber(o, "progressive_auc", m.get(JobMetrics.PROGRESSIVE_AUC));
    putNumber(o, "progressive_auc_lifetime", m.get(JobMetrics.PROGRESSIVE_AUC_LIFETIME));
    putNumber(o, "progressive_logloss", m.get(JobMetrics.PROGRESSIVE_LOGLOSS));
    putNumber(o, "calibration", m.get(JobMetrics.CALIBRATION));
    // every label's own figures, the first's being those above
    ObjectNode byLabel = o.putObject("by_label");
    for (String label : labels) {
      ObjectNode l = byLabel.putObject(label);
      for (String figure : JobMetrics.PER_LABEL) {
        putNumber(l, figure, m.get(JobMetrics.ofLabel(label, figure)));
      }
    }
    o.put("deltas_published", Progress.count(m, JobMetrics.DELTAS_PUBLISHED));
    o.put("model_version", Progress.count(m, JobMetrics.MODEL_VERSION));
    ObjectNode dl = o.putObject("dead_letters");
    for (String r : DeadLetterReasons.ALL) {
      dl.put(r, Progress.count(m, JobMetrics.deadLetters(r)));
    }
    o.put("dead_letter_requests", Progress.count(m, JobMetrics.DEAD_LETTER_REQUESTS));
    o.put("dead_letter_impressions", Progress.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS));
    o.put("silent_input_waits", Progress.count(m, JobMetrics.SILENT_INPUT_WAITS));
    o.put("silent_input_waits_given_up", Progress.count(m, JobMetrics.SILENT_INPUT_WAITS_GIVEN_UP));
    ObjectNode store = o.putObject("store");
    putNumber(store, "hit_rate", m.get(JobMetrics.STORE_HIT_RATE));
    store.put("rows_hot", Progress.count(m, JobMetrics.STORE_ROWS_HOT));
    store.put("rows_cold", Progress.count(m, JobMetrics.STORE_ROWS_COLD));
    store.put("admitted", Progress.count(m, JobMetrics.STORE_ADMITTED));
    store.put("evicted", Progress.count(m, JobMetrics.STORE_EVICTED));
    store.put("expired", Progress.count(m, JobMetrics.STORE_EXPIRED));
    o.put("training_seconds", trainingSeconds);
    o.put("impressions_per_second", trainingSeconds > 0 ? trained / trainingSeconds : 0.0);
    return o;
  }

  static void putNumber(ObjectNode o, String field, Double v) {
    if (v == null || v.isNaN() || v.isInfinite()) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }

  static void write(Path file, ObjectNode report) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      MAPPER.writeValue(file.toFile(), report);
    } catch (IOException e) {
      throw new StreamrecException("cannot write the report to " + file + ": " + e.getMessage(), e);
    }
  }

  static String toJson(ObjectNode report) {
    return report.toPrettyString();
  }
}
