package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.metrics.JobMetrics;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;

/**
 * The progress line of {@code run} and {@code backfill} says when the broker does not answer or the
 * job is not running; before, a broker outage showed as a line that stopped moving, like a quiet
 * stream.
 */
class JobHealthTest {
  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final AtomicReference<JobStatus> status = new AtomicReference<>(JobStatus.RUNNING);
  private final Deque<String> answers = new ArrayDeque<>();
  private int asked;
  private final AtomicReference<RecentFailure.Failure> failure = new AtomicReference<>();

  private final JobHealth health =
      new JobHealth(
          status::get,
          new JobHealth.Probe() {
            @Override
            public String ask() {
              asked++;
              return answers.isEmpty() ? null : answers.poll();
            }

            @Override
            public void close() {}
          },
          clock::get,
          failure::get);

  private static Map<String, Double> read(long requests, long impressions) {
    return Map.of(
        JobMetrics.REQUESTS_IN, (double) requests, JobMetrics.IMPRESSIONS_IN, (double) impressions);
  }

  @Test
  void whileRecordsComeInTheBrokerIsNotAskedAndNothingIsAdded() {
    for (int i = 1; i <= 10; i++) {
      clock.addAndGet(5_000);
      assertThat(health.note(read(i * 10, i * 40))).isEmpty();
    }
    assertThat(asked).isZero();
  }

  @Test
  void inputsStandingStillWithABrokerThatDoesNotAnswerAreSaidWithHowLong() {
    assertThat(health.note(read(10, 40))).isEmpty();
    clock.addAndGet(5_000);
    assertThat(health.note(read(10, 40))).as("quiet for less than 10 s").isEmpty();
    assertThat(asked).isZero();

    answers.add("no answer from localhost:9092 in 3 s");
    clock.addAndGet(5_000);
    assertThat(health.note(read(10, 40)))
        .isEqualTo(
            "broker unreachable (no answer from localhost:9092 in 3 s; no input for 10 s); the job"
                + " waits for it");
    answers.add("no answer from localhost:9092 in 3 s");
    clock.addAndGet(15_000);
    assertThat(health.note(read(10, 40))).startsWith("broker unreachable for 15 s (");

    clock.addAndGet(5_000);
    assertThat(health.note(read(10, 40))).as("it answers again").isEmpty();
    assertThat(asked).isEqualTo(3);
  }

  @Test
  void aQuietStreamOnAReachableBrokerAddsNothing() {
    health.note(read(5, 5));
    for (int i = 0; i < 5; i++) {
      clock.addAndGet(20_000);
      assertThat(health.note(read(5, 5))).isEmpty();
    }
    assertThat(asked).isEqualTo(5);
  }

  @Test
  void aJobThatIsNotRunningIsSaid() {
    status.set(JobStatus.RESTARTING);
    assertThat(health.note(read(1, 1))).isEqualTo("job RESTARTING");
    status.set(JobStatus.FINISHED);
    assertThat(health.note(read(2, 2))).as("a finished backfill says so itself").isEmpty();
    status.set(JobStatus.RESTARTING);
    answers.add("no answer from b:9092 in 3 s");
    clock.addAndGet(10_000);
    assertThat(health.note(read(2, 2)))
        .isEqualTo(
            "job RESTARTING, broker unreachable (no answer from b:9092 in 3 s; no input for 10 s);"
                + " the job waits for it");
  }

  /**
   * A job restarting for ever on a full disk said "job RESTARTING" and no more: the cause was in a
   * page of trace above. The line names the newest failure's root cause, while it is recent.
   */
  @Test
  void aJobBeingRestartedNamesTheNewestFailuresRootCause() {
    status.set(JobStatus.RESTARTING);
    assertThat(health.note(read(10, 40))).isEqualTo("job RESTARTING");
    java.io.IOException full = new java.io.IOException("No space left on device");
    String cause =
        RecentFailure.rootCause(
            new RuntimeException(
                "checkpoint failed",
                new IllegalStateException("cannot write /data/store/cp-2", full)));
    assertThat(cause).isEqualTo("IOException: No space left on device");
    assertThat(
            RecentFailure.rootCause(
                new RuntimeException(
                    "restore",
                    new java.io.IOException(
                        "No space left on device, writing /data/store/x.sst (fetched from"
                            + " /ckpt/shared/ab)",
                        full))))
        .as("a wrapper that names the file")
        .isEqualTo(
            "IOException: No space left on device, writing /data/store/x.sst (fetched from"
                + " /ckpt/shared/ab)");
    assertThat(
            RecentFailure.rootCause(
                new RuntimeException(
                    "open",
                    new IllegalStateException(
                        "Kafka at kafka:9092 did not answer within 30 s (read the cluster id)",
                        new java.util.concurrent.TimeoutException()))))
        .as("a bare time-out under what timed out: the line said 'after TimeoutException'")
        .isEqualTo(
            "IllegalStateException: Kafka at kafka:9092 did not answer within 30 s (read the"
                + " cluster id)");
    failure.set(new RecentFailure.Failure(clock.get() - 1_000, cause));
    assertThat(health.note(read(20, 80)))
        .isEqualTo("job RESTARTING after IOException: No space left on device");

    clock.addAndGet(JobHealth.FAILURE_NOTE_MS + 1_000);
    assertThat(health.note(read(30, 120))).as("long ago").isEqualTo("job RESTARTING");
    // running between the restarts of a job that fails at each start: the line said nothing
    status.set(JobStatus.RUNNING);
    failure.set(new RecentFailure.Failure(clock.get() - 3_000, cause));
    assertThat(health.note(read(40, 160)))
        .isEqualTo("job restarted 3 s ago after IOException: No space left on device");
    clock.addAndGet(JobHealth.JUST_FAILED_MS);
    assertThat(health.note(read(50, 200))).as("running well since").isEmpty();

    // restarted while its broker is away: it reads nothing, and fails again a minute later; the
    // line said the failure for 15 s only, then nothing of it
    clock.addAndGet(5_000);
    failure.set(new RecentFailure.Failure(clock.get() - 1_000, cause));
    assertThat(health.note(read(50, 200)))
        .isEqualTo("job restarted 1 s ago after IOException: No space left on device");
    clock.addAndGet(JobHealth.JUST_FAILED_MS + 25_000);
    assertThat(health.note(read(50, 200)))
        .as("nothing read since the restart")
        .startsWith("job restarted 41 s ago after IOException: No space left on device");
    clock.addAndGet(2_000);
    assertThat(health.note(read(60, 240))).as("reading again").isEmpty();
  }
}
