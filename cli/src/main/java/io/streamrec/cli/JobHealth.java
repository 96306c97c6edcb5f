package io.streamrec.cli;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.metrics.JobMetrics;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * What a progress line adds when the job is not simply at work: a job that is not running (a
 * failure being restarted), and a broker that does not answer. Without it an outage shows as a line
 * that stops moving, the same as a quiet stream.
 *
 * <p>The broker is asked (one describe-cluster with a short timeout, on the progress thread) only
 * once the job has read nothing new for {@link #QUIET_MS}: while records come in it is plainly
 * reachable.
 */
final class JobHealth implements AutoCloseable {
  /** How long the inputs must stand still before the broker is asked. */
  static final long QUIET_MS = 10_000;

  /** How long the broker may take to answer. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  /** Whether the broker answers; the message of why not otherwise. */
  interface Probe extends AutoCloseable {
    /** Null when it answered, otherwise why not, in a few words. */
    String ask();

    @Override
    void close();
  }

  private final Supplier<JobStatus> status;
  private final Probe probe;
  private final LongSupplier clock;
  private final Supplier<RecentFailure.Failure> failure;
  private long lastRead = -1;
  private long lastMoveMs;
  private long unreachableSinceMs = -1;

  JobHealth(Supplier<JobStatus> status, Probe probe, LongSupplier clock) {
    this(status, probe, clock, () -> null);
  }

  /** {@code failure}: the newest failure logged, which a job not running names. */
  JobHealth(
      Supplier<JobStatus> status,
      Probe probe,
      LongSupplier clock,
      Supplier<RecentFailure.Failure> failure) {
    this.status = status;
    this.probe = probe;
    this.clock = clock;
    this.failure = failure;
    this.lastMoveMs = clock.getAsLong();
  }

  /** How recent a failure must be for a running job's line to name it. */
  static final long JUST_FAILED_MS = 15_000;

  /** How recent a failure must be for a job not running to name it. */
  static final long FAILURE_NOTE_MS = 5 * 60_000;

  /** For a started job: asks its brokers with its client settings. */
  static JobHealth of(JobRunner.Started job) {
    return new JobHealth(
        () -> {
          try {
            return job.client().getJobStatus().get(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
          } catch (ExecutionException | TimeoutException | IllegalStateException e) {
            // IllegalStateException: the local cluster has shut down (the command is stopping)
            return null;
          }
        },
        new AdminProbe(job.config()),
        System::currentTimeMillis,
        RecentFailure::newest);
  }

  /** The note for a progress line from the job's metrics {@code m}; empty when all is well. */
  String note(Map<String, Double> m) {
    StringBuilder note = new StringBuilder();
    JobStatus s = status.get();
    long now = clock.getAsLong();
    RecentFailure.Failure f = failure.get();
    long read =
        Progress.count(m, JobMetrics.REQUESTS_IN)
            + Progress.count(m, JobMetrics.IMPRESSIONS_IN)
            + Progress.count(m, JobMetrics.UNITS_IN);
    if (s != null && s != JobStatus.RUNNING && !s.isGloballyTerminalState()) {
      note.append("job ").append(s);
      if (f != null && now - f.atMs() <= FAILURE_NOTE_MS) {
        note.append(" after ").append(f.cause());
      }
    } else if (s == JobStatus.RUNNING
        && f != null
        && (now - f.atMs() <= JUST_FAILED_MS
            || (read == lastRead && lastMoveMs <= f.atMs() && now - f.atMs() <= FAILURE_NOTE_MS))) {
      // a job failing at each start is RUNNING between its restarts: the line said nothing then;
      // nor, after 15 s, while the restarted job had read nothing since (its broker away)
      note.append(
          String.format(
              Locale.ROOT,
              "job restarted %d s ago after %s",
              Math.max(0, (now - f.atMs()) / 1000),
              f.cause()));
    }
    if (read != lastRead) {
      lastRead = read;
      lastMoveMs = now;
      unreachableSinceMs = -1;
    } else if (now - lastMoveMs >= QUIET_MS) {
      String why = probe.ask();
      if (why == null) {
        unreachableSinceMs = -1;
      } else {
        if (unreachableSinceMs < 0) {
          unreachableSinceMs = now;
        }
        if (note.length() > 0) {
          note.append(", ");
        }
        long seconds = (now - unreachableSinceMs) / 1000;
        // the first time it is found so, it has been for as long as the input was quiet at least
        note.append(
            seconds == 0
                ? String.format(
                    Locale.ROOT,
                    "broker unreachable (%s; no input for %d s); the job waits for it",
                    why,
                    (now - lastMoveMs) / 1000)
                : String.format(
                    Locale.ROOT,
                    "broker unreachable for %d s (%s); the job waits for it",
                    seconds,
                    why));
      }
    }
    return note.toString();
  }

  @Override
  public void close() {
    probe.close();
  }

  /** Asks the job's brokers for their cluster, with the job's client settings. */
  static final class AdminProbe implements Probe {
    private final JobConfig cfg;
    private Admin admin;

    AdminProbe(JobConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    public String ask() {
      try {
        if (admin == null) {
          Map<String, Object> s =
              KafkaPreflight.adminSettings(cfg.bootstrapServers(), cfg.kafkaProperties());
          s.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis());
          s.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis());
          admin = Admin.create(s);
        }
        admin
            .describeCluster(new DescribeClusterOptions().timeoutMs((int) PROBE_TIMEOUT.toMillis()))
            .clusterId()
            .get(PROBE_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        return null;
      } catch (InterruptedException e) {
        // the progress line is closing: nothing is known of the broker
        Thread.currentThread().interrupt();
        return null;
      } catch (ExecutionException e) {
        return e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException
            ? noAnswer()
            : String.valueOf(e.getCause().getMessage());
      } catch (TimeoutException e) {
        return noAnswer();
      }
    }

    private String noAnswer() {
      return "no answer from " + cfg.bootstrapServers() + " in " + PROBE_TIMEOUT.toSeconds() + " s";
    }

    @Override
    public void close() {
      if (admin != null) {
        admin.close(Duration.ofSeconds(1));
      }
    }
  }
}
