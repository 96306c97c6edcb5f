package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;

class JobRunnerTest {
  /**
   * {@code -D state.backend.type=rocksdb} on a local run failed inside the JobMaster with a
   * ClassNotFoundException trace: the local Flink has the heap backend only.
   */
  @Test
  void aStateBackendTheLocalFlinkCannotLoadIsRefusedInOneLine() {
    Configuration rocks = new Configuration();
    rocks.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    assertThatThrownBy(() -> JobRunner.checkStateBackend(rocks))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("state.backend.type 'rocksdb' is not available")
        .hasMessageContaining("'hashmap'");
    Configuration custom = new Configuration();
    custom.set(StateBackendOptions.STATE_BACKEND, "com.example.NoSuchFactory");
    assertThatThrownBy(() -> JobRunner.checkStateBackend(custom))
        .hasMessageContaining("com.example.NoSuchFactory");

    Configuration heap = new Configuration();
    heap.set(StateBackendOptions.STATE_BACKEND, "hashmap");
    JobRunner.checkStateBackend(heap);
    JobRunner.checkStateBackend(new Configuration());
  }

  /**
   * The local Flink kept its files in java.io.tmpdir: every run and backfill left 21 MB (its RPC
   * system's jar) and a minicluster directory there after it stopped.
   */
  @Test
  void theLocalFlinkKeepsItsFilesInADirectoryOfTheRunsOwn() throws Exception {
    org.apache.flink.configuration.Configuration flink =
        new org.apache.flink.configuration.Configuration();
    io.streamrec.common.LockedDirectory d = JobRunner.localTmpDir(flink);
    try {
      assertThat(flink.get(org.apache.flink.configuration.CoreOptions.TMP_DIRS))
          .isEqualTo(d.path().toString());
      assertThat(d.path().getParent().getFileName().toString()).startsWith("streamrec-flink-");
    } finally {
      d.close();
    }
    assertThat(d.path()).doesNotExist();
    // one the user sets stays
    org.apache.flink.configuration.Configuration set =
        new org.apache.flink.configuration.Configuration();
    set.set(org.apache.flink.configuration.CoreOptions.TMP_DIRS, "/data/flink-tmp");
    assertThat(JobRunner.localTmpDir(set)).isNull();
    assertThat(set.get(org.apache.flink.configuration.CoreOptions.TMP_DIRS))
        .isEqualTo("/data/flink-tmp");
  }

  /**
   * A stop (Ctrl-C, SIGTERM) waited for the cancel's acknowledgement only, and the process exited
   * before the tasks had closed: the trainer's working directory, a copy of the model, stayed. The
   * stop now waits until the job has ended, within a bound.
   */
  @Test
  void aStopWaitsUntilTheCancelledJobHasEnded() throws Exception {
    java.util.concurrent.CompletableFuture<Object> result =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean cancelled =
        new java.util.concurrent.atomic.AtomicBoolean();
    org.apache.flink.core.execution.JobClient closing = job(cancelled, result);
    java.util.concurrent.CompletableFuture<Boolean> stop =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return JobRunner.CancelOnExit.cancelAndAwait(closing, 10_000);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(200);
    assertThat(cancelled).isTrue();
    assertThat(stop).as("the stop while the job's tasks close").isNotDone();
    result.completeExceptionally(new IllegalStateException("job cancelled"));
    assertThat(stop.get()).isTrue();

    assertThat(
            JobRunner.CancelOnExit.cancelAndAwait(
                job(cancelled, new java.util.concurrent.CompletableFuture<>()), 50))
        .as("bounded")
        .isFalse();
  }

  /**
   * A demo stopped (Ctrl-C, SIGTERM) after its job had ended, while it scored the held-out traffic
   * and wrote its report, left its broker's log and its savepoint in the temporary directory: its
   * clean-up ran on exit only where the exit itself stopped the job. It runs whenever the job is
   * over by then.
   */
  @Test
  void aStopOnExitAfterTheJobHasEndedStillCleansUp() throws Exception {
    java.util.concurrent.CompletableFuture<Object> result =
        new java.util.concurrent.CompletableFuture<>();
    result.complete("drained");
    java.util.concurrent.atomic.AtomicBoolean cancelled =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger cleanUps =
        new java.util.concurrent.atomic.AtomicInteger();
    JobRunner.CancelOnExit exit =
        new JobRunner.CancelOnExit(job(cancelled, result), "stopping", "stopped")
            .afterStop(cleanUps::incrementAndGet);
    exit.close(); // the command saw its job end (the demo's drain)
    exit.onExit();
    assertThat(cancelled).as("a job that has ended is not cancelled").isFalse();
    assertThat(cleanUps).as("the command's clean-up").hasValue(1);
  }

  /** A job client whose cancel succeeds and whose result is {@code result}. */
  private static org.apache.flink.core.execution.JobClient job(
      java.util.concurrent.atomic.AtomicBoolean cancelled,
      java.util.concurrent.CompletableFuture<Object> result) {
    return job(() -> cancelled.set(true), result);
  }

  /** A job client whose cancel runs {@code onCancel} and succeeds; its result is {@code result}. */
  private static org.apache.flink.core.execution.JobClient job(
      Runnable onCancel, java.util.concurrent.CompletableFuture<Object> result) {
    return (org.apache.flink.core.execution.JobClient)
        java.lang.reflect.Proxy.newProxyInstance(
            JobRunnerTest.class.getClassLoader(),
            new Class<?>[] {org.apache.flink.core.execution.JobClient.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "cancel" -> {
                    onCancel.run();
                    yield java.util.concurrent.CompletableFuture.completedFuture(null);
                  }
                  case "getJobExecutionResult" -> result;
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }

  /**
   * A local cluster whose task manager failed (an error fatal to it) closes it and starts none: the
   * job waited for task slots for ever, and {@code run} with it, its line at {@code job
   * RESTARTING}. The wait for the job's end fails in words instead, once it sees the loss, and
   * stops the job as a SIGTERM does; a loss before the job started is not this job's.
   */
  @Test
  void aLostTaskManagerEndsTheWaitForTheJob() throws Exception {
    long started = System.currentTimeMillis();
    java.util.concurrent.CompletableFuture<Object> never =
        new java.util.concurrent.CompletableFuture<>();
    RecentFailure.Failure lost =
        new RecentFailure.Failure(started + 5, "TimeoutException: Timeout expired after 60000ms");
    assertThatThrownBy(() -> JobRunner.awaitEnd(never, () -> lost, () -> null, started, 10))
        .isInstanceOf(JobRunner.TaskManagerLostException.class)
        .hasMessage(
            "Flink's task manager in this process failed (TimeoutException: Timeout expired"
                + " after 60000ms), and the job cannot run in this process again: the command"
                + " stops");

    RecentFailure.Failure earlier = new RecentFailure.Failure(started - 1, "an earlier job's");
    java.util.concurrent.CompletableFuture<Object> ends =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture.delayedExecutor(
            200, java.util.concurrent.TimeUnit.MILLISECONDS)
        .execute(() -> ends.complete("done"));
    assertThat(JobRunner.awaitEnd(ends, () -> earlier, () -> earlier, started, 10))
        .isEqualTo("done");

    // the command's own wait: the job is cancelled before the command fails
    java.util.concurrent.atomic.AtomicBoolean cancelled =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.CompletableFuture<Object> result =
        new java.util.concurrent.CompletableFuture<>();
    org.apache.flink.core.execution.JobClient client =
        job(
            () -> {
              cancelled.set(true);
              result.completeExceptionally(new IllegalStateException("cancelled"));
            },
            result);
    JobRunner.CancelOnExit exit = new JobRunner.CancelOnExit(client, "stopping", "stopped");
    assertThatThrownBy(
            () ->
                JobRunner.awaitEnd(
                    client,
                    exit,
                    () -> new RecentFailure.Failure(started + 1, "lost"),
                    () -> null,
                    started))
        .isInstanceOf(JobRunner.TaskManagerLostException.class);
    assertThat(cancelled).as("the job cancelled").isTrue();
    assertThat(JobRunner.stopping()).as("not a stop the user asked for").isFalse();
  }

  /**
   * {@code run -D assembler.parallelism=64} on one machine: every task failed to deploy for want of
   * network buffers, which the local cluster fixes at its start, and the job restarted for as long
   * as the command ran. The wait fails in words, naming what to change.
   */
  @Test
  void tooFewNetworkBuffersEndTheWaitForTheJob() {
    long started = System.currentTimeMillis();
    java.util.concurrent.CompletableFuture<Object> never =
        new java.util.concurrent.CompletableFuture<>();
    RecentFailure.Failure buffers =
        new RecentFailure.Failure(
            started + 5,
            "IOException: Insufficient number of network buffers: required 65, but only 38"
                + " available.");
    assertThatThrownBy(() -> JobRunner.awaitEnd(never, () -> null, () -> buffers, started, 10))
        .isInstanceOf(JobRunner.TaskManagerLostException.class)
        .hasMessage(
            "Flink's task manager in this process has too few network buffers for the job's tasks"
                + " (IOException: Insufficient number of network buffers: required 65, but only 38"
                + " available.), and every restart would fail the same way: lower"
                + " assembler.parallelism, or give the task manager more network memory (a"
                + " parallelism of 64 takes about 1 GB: -D taskmanager.memory.network.min=1gb -D"
                + " taskmanager.memory.network.max=1gb); the command stops");
  }

  /**
   * {@code run} stopped for want of network buffers said, as at any stop, "started again with
   * --state-dir ..., it resumes from its newest checkpoint", where a start again fails the same way
   * and no checkpoint was taken: such a stop says its own line; a lost task manager, which a start
   * again mends, the usual one.
   */
  @Test
  void aStopThatAStartAgainDoesNotMendGivesNoAdviceToStartAgain() throws Exception {
    long started = System.currentTimeMillis();
    for (boolean buffers : new boolean[] {true, false}) {
      java.util.concurrent.CompletableFuture<Object> result =
          new java.util.concurrent.CompletableFuture<>();
      org.apache.flink.core.execution.JobClient client =
          job(() -> result.completeExceptionally(new IllegalStateException("cancelled")), result);
      JobRunner.CancelOnExit exit =
          new JobRunner.CancelOnExit(client, "stopping; started again, it resumes", "stopped")
              .unmended("stopping");
      RecentFailure.Failure failure = new RecentFailure.Failure(started + 1, "it");
      java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
      java.io.PrintStream stdout = System.out;
      System.setOut(new java.io.PrintStream(printed, true));
      try {
        assertThatThrownBy(
                () ->
                    JobRunner.awaitEnd(
                        client,
                        exit,
                        () -> buffers ? null : failure,
                        () -> buffers ? failure : null,
                        started))
            .isInstanceOf(JobRunner.TaskManagerLostException.class);
      } finally {
        System.setOut(stdout);
      }
      assertThat(printed.toString().lines().toList())
          .as(buffers ? "too few buffers" : "a lost task manager")
          .containsExactly(buffers ? "stopping" : "stopping; started again, it resumes", "stopped");
    }
  }
}
