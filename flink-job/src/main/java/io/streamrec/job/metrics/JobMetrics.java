package io.streamrec.job.metrics;

import io.streamrec.schemas.DeadLetterReasons;
import org.apache.flink.metrics.MetricGroup;

/**
 * Names of the job's Flink metrics. All live in one group, {@value #GROUP}, under the operator that
 * counts them; the names are stable, since dashboards and the demo's report read them.
 *
 * <p>Every record that enters ends in one place, and the counters add up: impressions in =
 * impressions trained + impressions skipped + duplicate impressions + impressions dead-lettered (+
 * those still waiting in an open unit or batch while the job runs). A unit too large for the
 * request-units log is trained and also a {@code too_large} dead letter ({@link
 * #DEAD_LETTER_UNITS}), counted beyond that sum.
 */
public final class JobMetrics {
  public static final String GROUP = "streamrec";

  // sources
  public static final String REQUESTS_IN = "requests_in";
  public static final String IMPRESSIONS_IN = "impressions_in";

  // assembler
  public static final String UNITS = "units";
  public static final String IMPRESSIONS_JOINED = "impressions_joined";
  public static final String DUPLICATE_IMPRESSIONS = "duplicate_impressions";
  public static final String DUPLICATE_REQUESTS = "duplicate_requests";
  public static final String REQUESTS_WITHOUT_IMPRESSIONS = "requests_without_impressions";

  /**
   * Impressions a backfill that hands on read past its cut whose request is not one of its own near
   * the cut: the job after it reads them again and counts each (trained, or a dead letter).
   */
  public static final String IMPRESSIONS_HANDED_ON = "impressions_handed_on";

  /**
   * A job started from a handoff: the requests of the backfill before it, read again for their
   * impressions (trained there, not here), and those impressions the backfill had read and counted.
   */
  public static final String REQUESTS_BEFORE_HANDOFF = "requests_before_handoff";

  public static final String IMPRESSIONS_BEFORE_HANDOFF = "impressions_before_handoff";

  /** Impressions sent to the dead-letter topic, whatever the reason. */
  public static final String DEAD_LETTER_IMPRESSIONS = "dead_letter_impressions";

  /** Requests sent to the dead-letter topic, whatever the reason. */
  public static final String DEAD_LETTER_REQUESTS = "dead_letter_requests";

  /**
   * Times an input topic fell silent, every partition, while the other went on, and event time
   * waited for it ({@code assembler.silent-input-wait}).
   */
  public static final String SILENT_INPUT_WAITS = "silent_input_waits";

  /** Of those, the waits that ran out: event time went on without the silent topic. */
  public static final String SILENT_INPUT_WAITS_GIVEN_UP = "silent_input_waits_given_up";

  /** Records read from the request-units topic (a backfill with source.kind=units). */
  public static final String UNITS_IN = "units_in";

  /** Dead letters written to their topic, and those the broker refused (logged, not retried). */
  public static final String DEAD_LETTERS_WRITTEN = "dead_letters_written";

  public static final String DEAD_LETTERS_UNWRITTEN = "dead_letters_unwritten";

  /** Request-units records sent to the dead-letter topic, whatever the reason. */
  public static final String DEAD_LETTER_UNITS = "dead_letter_units";

  // trainer
  public static final String UNITS_TRAINED = "units_trained";
  public static final String IMPRESSIONS_TRAINED = "impressions_trained";
  public static final String BATCHES_TRAINED = "batches_trained";
  public static final String BATCHES_SKIPPED = "batches_skipped";
  public static final String IMPRESSIONS_SKIPPED = "impressions_skipped";

  /**
   * Units that reached the trainer after the watermark had passed their close: trained, but in a
   * later batch than their close time puts them in (a request-units log out of close order by more
   * than {@code source.units.max-out-of-orderness}). Always 0 on the events' path.
   */
  public static final String LATE_UNITS = "late_units";

  /** Progressive AUC over the trainer's sliding window ({@code trainer.metrics-window}). */
  public static final String PROGRESSIVE_AUC = "progressive_auc";

  /** Progressive AUC over every impression trained on since the model started. */
  public static final String PROGRESSIVE_AUC_LIFETIME = "progressive_auc_lifetime";

  public static final String PROGRESSIVE_LOGLOSS = "progressive_logloss";
  public static final String CALIBRATION = "calibration";
  public static final String DELTAS_PUBLISHED = "deltas_published";
  public static final String MODEL_VERSION = "model_version";

  /** Times the trainer started from a checkpoint (or savepoint) rather than from scratch. */
  public static final String TRAINER_RESTORES = "trainer_restores";

  /** Seconds the trainer thread spent training and publishing (its busy time). */
  public static final String TRAINER_BUSY_SECONDS = "trainer_busy_seconds";

  /**
   * Seconds from the start of the trainer's first batch to the end of its latest batch or publish:
   * impressions trained over this is the rate the whole job trained at while it trained.
   */
  public static final String TRAINER_ACTIVE_SECONDS = "trainer_active_seconds";

  /**
   * CPU seconds the trainer thread used while busy: below {@link #TRAINER_BUSY_SECONDS} when the
   * thread waits for a core (other stages, the JIT, another process on the machine).
   */
  public static final String TRAINER_CPU_SECONDS = "trainer_cpu_seconds";

  // the trainer's embedding store (gauges of its running totals)
  /** Share of lookups answered by the hot tier. */
  public static final String STORE_HIT_RATE = "store_hit_rate";

  public static final String STORE_ROWS_HOT = "store_rows_hot";

  /** Rows only in the cold tier. */
  public static final String STORE_ROWS_COLD = "store_rows_cold";

  /** Share of lookups answered by the hot tier over the last minute ({@link TrainerGauges}). */
  public static final String STORE_HIT_RATE_1M = "store_hit_rate_1m";

  /**
   * Seconds the trainer thread spent per minibatch over the last minute, publishing included
   * ({@link TrainerGauges}).
   */
  public static final String TRAINER_BATCH_SECONDS_1M = "trainer_batch_seconds_1m";

  /**
   * Wall clock minus the event time of the newest version published, ms ({@link
   * PublishedVersions}).
   */
  public static final String MODEL_FRESHNESS_MS = "model_freshness_ms";

  /**
   * The event time the newest unit trained on closed at, ms since the epoch (NaN before the first
   * of this run): how far through its input's time the trainer is, which is what a backfill or a
   * job catching up on a backlog wants to know.
   */
  public static final String TRAINED_UNTIL_MS = "trained_until_ms";

  /**
   * Transactions of the request-units log aborted before their commit (by the broker, or fenced):
   * their units are missing from the log.
   */
  public static final String LOST_TRANSACTIONS = "request_units_lost_transactions";

  public static final String STORE_ADMITTED = "store_admitted";
  public static final String STORE_EVICTED = "store_evicted";
  public static final String STORE_EXPIRED = "store_expired";

  /**
   * The figures each of the model's labels has of its own, in a subgroup of the job's group keyed
   * {@value #LABEL_KEY} by the label ({@link #labelGroup}): Flink's Prometheus reporter exports
   * them as {@code ..._streamrec_label_progressive_auc{label="click"}}. The job's figures without a
   * label are the first label's.
   */
  public static final java.util.List<String> PER_LABEL =
      java.util.List.of(
          PROGRESSIVE_AUC, PROGRESSIVE_AUC_LIFETIME, PROGRESSIVE_LOGLOSS, CALIBRATION);

  /** The key of a label's subgroup, and the name of the Prometheus label that carries it. */
  public static final String LABEL_KEY = "label";

  private JobMetrics() {}

  /** The subgroup of one label's figures ({@link #PER_LABEL}) under the job's group. */
  public static MetricGroup labelGroup(MetricGroup jobGroup, String label) {
    return jobGroup.addGroup(LABEL_KEY, label);
  }

  /**
   * A label's name as Flink's Prometheus reporter writes it in the {@value #LABEL_KEY} label of its
   * figures: every character other than a letter, a digit, {@code _} or {@code :} becomes {@code _}
   * ({@code add.to.cart} is {@code add_to_cart}).
   */
  public static String asPrometheusLabelValue(String label) {
    return label.replaceAll("[^a-zA-Z0-9:_]", "_");
  }

  /**
   * The name of a label's figure in the metrics of the process that runs the job, as the command
   * line's progress lines and reports read them.
   */
  public static String ofLabel(String label, String metric) {
    return LABEL_KEY + "." + label + "." + metric;
  }

  /** The label whose figure {@code metric} {@code name} is ({@link #ofLabel}), or null. */
  public static String labelOf(String name, String metric) {
    String prefix = LABEL_KEY + ".", suffix = "." + metric;
    return name.startsWith(prefix)
            && name.endsWith(suffix)
            && name.length() > prefix.length() + suffix.length()
        ? name.substring(prefix.length(), name.length() - suffix.length())
        : null;
  }

  /** Counter name for dead letters of one {@link DeadLetterReasons reason}. */
  public static String deadLetters(String reason) {
    return "dead_letters_" + reason;
  }

  /** The job's metric group under an operator's group. */
  public static MetricGroup group(MetricGroup operatorGroup) {
    return operatorGroup.addGroup(GROUP);
  }
}
