package io.streamrec.cli;

import io.streamrec.cli.kafka.TimeCheck;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Prints a progress line every few seconds while a job runs, from the job's metrics and whatever
 * extra the command adds (oracle AUC, replica version).
 */
final class Progress implements AutoCloseable {
  private final Thread thread;
  private final JobHealth health;
  private volatile boolean running = true;

  /**
   * The progress line of {@code job}, every {@code intervalMs}, with what {@link JobHealth} adds (a
   * broker that does not answer, a job that is restarting); closing it closes both.
   */
  static Progress of(JobRunner.Started job, long intervalMs) {
    JobHealth health = JobHealth.of(job);
    return new Progress(
        System.out,
        intervalMs,
        job.startedAtMs(),
        job::metrics,
        health::note,
        health,
        job.config().model().features().labels());
  }

  Progress(
      PrintStream out,
      long intervalMs,
      long startMs,
      Supplier<Map<String, Double>> metrics,
      Function<Map<String, Double>, String> extra) {
    this(out, intervalMs, startMs, metrics, extra, null, null);
  }

  private Progress(
      PrintStream out,
      long intervalMs,
      long startMs,
      Supplier<Map<String, Double>> metrics,
      Function<Map<String, Double>, String> extra,
      JobHealth health,
      List<String> labels) {
    this.health = health;
    thread =
        new Thread(
            () -> {
              long due = System.currentTimeMillis();
              while (running) {
                due = nextDue(due, intervalMs, System.currentTimeMillis());
                try {
                  Thread.sleep(Math.max(0, due - System.currentTimeMillis()));
                } catch (InterruptedException e) {
                  return;
                }
                if (running) {
                  // one read of the metrics per line, for the line and what extra makes of them
                  Map<String, Double> m = metrics.get();
                  out.println(
                      line(
                          System.currentTimeMillis() - startMs,
                          System.currentTimeMillis(),
                          m,
                          extra.apply(m),
                          labels));
                }
              }
            },
            "progress");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * When the line after one due at {@code dueMs} is due: an interval later, so that a line that
   * takes a while (the probe of a broker that does not answer waits 3 s) does not push the next
   * ones back, as a sleep of the interval after each line did (lines every 8 s at 5 s); where
   * {@code nowMs} is already past that, an interval from now, without a burst to catch up.
   */
  static long nextDue(long dueMs, long intervalMs, long nowMs) {
    long next = dueMs + intervalMs;
    return next > nowMs ? next : nowMs + intervalMs;
  }

  static String line(long elapsedMs, Map<String, Double> m, String extra) {
    return line(elapsedMs, System.currentTimeMillis(), m, extra);
  }

  /**
   * How far behind the wall clock the trainer's event time may be before the line says where it is:
   * a live job's units close a few seconds before now; a backfill's, or a job's catching up on a
   * backlog, hours or days.
   */
  static final long SHOW_EVENT_TIME_BEHIND_MS = 60_000;

  static String line(long elapsedMs, long nowMs, Map<String, Double> m, String extra) {
    return line(elapsedMs, nowMs, m, extra, null);
  }

  /**
   * As {@link #line(long, long, Map, String)}; {@code labels}, the model's, order the labels' AUCs
   * (null: by name).
   */
  static String line(
      long elapsedMs, long nowMs, Map<String, Double> m, String extra, List<String> labels) {
    return String.format(
        Locale.ROOT,
        "[%5.1fs] %s%s | trained %,d imp | AUC %s%s | logloss %s | deltas %,d (v%d) | dead %,d"
            + " | store hit %s, rows %,d hot / %,d cold, admitted %,d, evicted %,d, expired %,d%s%s",
        elapsedMs / 1000.0,
        m.containsKey(JobMetrics.UNITS_IN)
            // a job that trains from the request-units log reads units, not events
            ? String.format(Locale.ROOT, "in %,d units (log)", count(m, JobMetrics.UNITS_IN))
            : String.format(
                Locale.ROOT,
                "in %,d req / %,d imp | units %,d",
                count(m, JobMetrics.REQUESTS_IN),
                count(m, JobMetrics.IMPRESSIONS_IN),
                count(m, JobMetrics.UNITS)),
        handoff(m),
        count(m, JobMetrics.IMPRESSIONS_TRAINED),
        fmt(m.get(JobMetrics.PROGRESSIVE_AUC)),
        byLabel(m, labels),
        fmt(m.get(JobMetrics.PROGRESSIVE_LOGLOSS)),
        count(m, JobMetrics.DELTAS_PUBLISHED),
        count(m, JobMetrics.MODEL_VERSION),
        deadLetters(m),
        // the last minute's, as the AUC beside it is a recent window's (the running rate no
        // longer moves after days of training); none while the minute had no lookups
        percent(m.get(JobMetrics.STORE_HIT_RATE_1M)),
        count(m, JobMetrics.STORE_ROWS_HOT),
        count(m, JobMetrics.STORE_ROWS_COLD),
        count(m, JobMetrics.STORE_ADMITTED),
        count(m, JobMetrics.STORE_EVICTED),
        count(m, JobMetrics.STORE_EXPIRED),
        eventTime(nowMs, m.get(JobMetrics.TRAINED_UNTIL_MS)),
        extra == null || extra.isEmpty() ? "" : " | " + extra);
  }

  /**
   * " (click 0.7312, like 0.8420, purchase 0.8301)": each label's progressive AUC, where the model
   * has several (the figure before it is the first label's), in the order of {@code labels} (the
   * model's; null: by name); empty for a model of one label.
   */
  static String byLabel(Map<String, Double> m, List<String> labels) {
    List<String> each = new ArrayList<>();
    if (labels != null) {
      for (String label : labels) {
        String name = JobMetrics.ofLabel(label, JobMetrics.PROGRESSIVE_AUC);
        if (m.containsKey(name)) {
          each.add(label + " " + fmt(m.get(name)));
        }
      }
    } else {
      m.forEach(
          (name, value) -> {
            String label = JobMetrics.labelOf(name, JobMetrics.PROGRESSIVE_AUC);
            if (label != null) {
              each.add(label + " " + fmt(value));
            }
          });
    }
    return each.size() < 2 ? "" : " (" + String.join(", ", each) + ")";
  }

  /**
   * " | at the handoff: 1,200 req / 2,594 imp the backfill's, 2,321 imp handed on" where the job
   * read again what the backfill before it had (requests it trained, their impressions it counted),
   * or read past its cut impressions the job after it trains; empty otherwise. Without it, a job's
   * own line could not show that what it read adds up.
   */
  static String handoff(Map<String, Double> m) {
    long requests = count(m, JobMetrics.REQUESTS_BEFORE_HANDOFF);
    long impressions = count(m, JobMetrics.IMPRESSIONS_BEFORE_HANDOFF);
    long handedOn = count(m, JobMetrics.IMPRESSIONS_HANDED_ON);
    List<String> parts = new ArrayList<>();
    if (requests + impressions > 0) {
      parts.add(
          String.format(Locale.ROOT, "%,d req / %,d imp the backfill's", requests, impressions));
    }
    if (handedOn > 0) {
      parts.add(String.format(Locale.ROOT, "%,d imp handed on", handedOn));
    }
    return parts.isEmpty() ? "" : " | at the handoff: " + String.join(", ", parts);
  }

  /**
   * " | trained to 2026-11-02T10:15:03Z (3.0 h behind)" where the trainer's event time is more than
   * {@link #SHOW_EVENT_TIME_BEHIND_MS} behind {@code nowMs}; empty otherwise.
   */
  static String eventTime(long nowMs, Double trainedUntilMs) {
    if (trainedUntilMs == null || trainedUntilMs.isNaN()) {
      return "";
    }
    long t = trainedUntilMs.longValue();
    long behind = nowMs - t;
    if (behind <= SHOW_EVENT_TIME_BEHIND_MS) {
      return "";
    }
    return " | trained to "
        + Instant.ofEpochMilli(t).truncatedTo(ChronoUnit.SECONDS)
        + " ("
        + TimeCheck.span(behind)
        + " behind)";
  }

  static long count(Map<String, Double> m, String name) {
    Double v = m.get(name);
    return v == null ? 0 : Math.round(v);
  }

  static long deadLetters(Map<String, Double> m) {
    long n = 0;
    for (String r : DeadLetterReasons.ALL) {
      n += count(m, JobMetrics.deadLetters(r));
    }
    return n;
  }

  static String percent(Double v) {
    return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  static String fmt(Double v) {
    return v == null || v.isNaN() ? "  -  " : String.format(Locale.ROOT, "%.4f", v);
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    if (health != null) {
      health.close();
    }
  }
}
