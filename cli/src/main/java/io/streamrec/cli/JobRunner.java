package io.streamrec.cli;

import io.streamrec.cli.metrics.InJvmMetricReporter;
import io.streamrec.cli.metrics.InJvmMetrics;
import io.streamrec.common.LockedDirectory;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.sink.KafkaSinks;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Starts the job on the execution environment of wherever the command runs: a local Flink
 * environment in this JVM (the default), or the cluster's when launched through {@code flink run}.
 * The in-JVM metric reporter is configured so the command can print progress. Kafka is checked
 * first ({@link KafkaPreflight}): a refused login or a missing topic fails at once, in words. A
 * local Flink's REST and BLOB servers listen on the loopback interface unless the configuration
 * says otherwise ({@link RetainedCheckpoints#bindLocally}).
 */
final class JobRunner {
  private JobRunner() {}

  /** A job that was started, with the figures it reports. */
  record Started(JobClient client, JobConfig config, long startedAtMs) {
    Map<String, Double> metrics() {
      return InJvmMetrics.snapshot(client.getJobID().toHexString());
    }

    /**
     * Until closed, a SIGTERM or Ctrl-C prints {@code stopping}, cancels the job and prints {@code
     * stopped}; closed once the job has ended on its own (a refusal, a failure, a backfill's end),
     * nothing is left to cancel and nothing is said.
     */
    CancelOnExit cancelOnExit(String stopping, String stopped) {
      return new CancelOnExit(client, stopping, stopped);
    }

    /**
     * Waits for the job's end ({@link JobRunner#awaitEnd}); where the local cluster lost its task
     * manager, stops the job as a SIGTERM does ({@code exit}) and fails.
     */
    void awaitEnd(CancelOnExit exit) throws Exception {
      JobRunner.awaitEnd(
          client,
          exit,
          RecentFailure::taskManagerLost,
          RecentFailure::tooFewNetworkBuffers,
          startedAtMs);
    }
  }

  /**
   * The local cluster lost its task manager, or has too few network buffers for the job: the job
   * cannot run in this process again.
   */
  static final class TaskManagerLostException extends io.streamrec.common.StreamrecException {
    private static final long serialVersionUID = 1L;

    private final boolean restartMends;

    TaskManagerLostException(String message, boolean restartMends) {
      super(message);
      this.restartMends = restartMends;
    }

    /**
     * Whether the command started again goes on (a lost task manager: a new process has another),
     * or fails the same way (too few network buffers for the same settings).
     */
    boolean restartMends() {
      return restartMends;
    }
  }

  /** {@link Started#awaitEnd}, with the lost task manager from {@code lost}. */
  static void awaitEnd(
      JobClient client,
      CancelOnExit exit,
      java.util.function.Supplier<RecentFailure.Failure> lost,
      java.util.function.Supplier<RecentFailure.Failure> tooFewBuffers,
      long sinceMs)
      throws Exception {
    try {
      awaitEnd(client.getJobExecutionResult(), lost, tooFewBuffers, sinceMs, POLL_MS);
    } catch (TaskManagerLostException e) {
      exit.stop(false, e.restartMends());
      throw e;
    }
  }

  /** How often a wait for the job's end looks for a lost task manager. */
  static final long POLL_MS = 500;

  /**
   * Waits for {@code result}, the job's end; fails, in words, where the local cluster in this
   * process lost its task manager ({@code lost}, a failure after {@code sinceMs}): an error fatal
   * to it (one in Flink's clean-up after a task's failure) closes it, no other takes its place, and
   * the job waited for task slots for ever, its command with it, the line at {@code job
   * RESTARTING}. The command stops instead, its job cancelled as at a stop (a supervisor starts it
   * again, and it resumes from its newest checkpoint).
   */
  static <T> T awaitEnd(
      java.util.concurrent.Future<T> result,
      java.util.function.Supplier<RecentFailure.Failure> lost,
      java.util.function.Supplier<RecentFailure.Failure> tooFewBuffers,
      long sinceMs,
      long pollMs)
      throws Exception {
    while (true) {
      try {
        return result.get(pollMs, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        RecentFailure.Failure f = lost.get();
        if (f != null && f.atMs() >= sinceMs) {
          throw new TaskManagerLostException(
              "Flink's task manager in this process failed ("
                  + f.cause()
                  + "), and the job cannot run in this process again: the command stops",
              true);
        }
        // a task failed for want of network buffers, fixed at the local cluster's start: every
        // restart failed the same way, for as long as the command ran
        RecentFailure.Failure b = tooFewBuffers.get();
        if (b != null && b.atMs() >= sinceMs) {
          throw new TaskManagerLostException(
              "Flink's task manager in this process has too few network buffers for the job's"
                  + " tasks ("
                  + b.cause()
                  + "), and every restart would fail the same way: lower "
                  + JobOptions.ASSEMBLER_PARALLELISM.key()
                  + ", or give the task manager more network memory (a parallelism of 64 takes"
                  + " about 1 GB: -D taskmanager.memory.network.min=1gb -D"
                  + " taskmanager.memory.network.max=1gb); the command stops",
              false);
        }
      }
    }
  }

  /** Set once a stop (SIGTERM, Ctrl-C) cancels a job: its cancellation is then no failure. */
  private static final java.util.concurrent.atomic.AtomicBoolean STOPPING =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Whether a stop is cancelling this process's job. */
  static boolean stopping() {
    return STOPPING.get();
  }

  /** See {@link Started#cancelOnExit}. */
  static final class CancelOnExit implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicBoolean ended =
        new java.util.concurrent.atomic.AtomicBoolean();

    private final JobClient client;
    private final String stopping;

    /**
     * The stopping line as the stop begins, where {@link #stopping(java.util.function.Supplier)}
     * gave one.
     */
    private volatile java.util.function.Supplier<String> stoppingNow;

    private final String stopped;

    /** What a stop for a failure that a start again does not mend says instead of stopping. */
    private String stoppingUnmended;

    /** What the stop on exit does once it has stopped the job (the command's own clean-up). */
    private volatile Runnable afterStop;

    CancelOnExit(JobClient client, String stopping, String stopped) {
      this.client = client;
      this.stopping = stopping;
      this.stopped = stopped;
      Runtime.getRuntime().addShutdownHook(new Thread(this::onExit, "streamrec-cancel"));
    }

    /** Whether the command closed this, its job ended (as the demo's drain ends it). */
    private volatile boolean closed;

    /**
     * The stop on exit (Ctrl-C, SIGTERM): stops the job, then runs {@link #afterStop} where the job
     * is over: this stopped it, or the command saw it end before the exit (a demo scoring its
     * held-out traffic after its drain, which left its broker and savepoint behind).
     */
    void onExit() {
      if (stop(true, true) || closed) {
        Runnable then = afterStop;
        if (then != null) {
          then.run();
        }
      }
    }

    /**
     * Runs {@code cleanUp} on exit (Ctrl-C, SIGTERM) once the job is over (stopped by the exit, or
     * ended before it, {@link #close}), in the exit's thread: the command's own finally blocks
     * never run then, and what they close (an embedded broker, temporary directories) is closed
     * only after the job that used it has ended.
     */
    CancelOnExit afterStop(Runnable cleanUp) {
      afterStop = cleanUp;
      return this;
    }

    /**
     * Prints {@code stopping}, cancels the job, and prints {@code stopped} once it has ended;
     * nothing where it has ended already, or was stopped before. {@code asked}: a stop the user
     * asked for (SIGTERM, Ctrl-C), whose cancellation is then no failure.
     */
    void stop(boolean asked) {
      stop(asked, true);
    }

    /**
     * Where the stopping line depends on what the job has done by then (whether a checkpoint
     * completed), {@code line} says it as the stop begins.
     */
    CancelOnExit stopping(java.util.function.Supplier<String> line) {
      stoppingNow = line;
      return this;
    }

    /** The line a stop begins with: {@link #stoppingNow}'s, or the one given where it has none. */
    private String stoppingLine() {
      java.util.function.Supplier<String> now = stoppingNow;
      if (now == null) {
        return stopping;
      }
      try {
        return now.get();
      } catch (RuntimeException e) {
        return stopping;
      }
    }

    /**
     * Where the command stops for a failure that a start again does not mend ({@code restartMends}
     * false), this says {@code line} rather than the stopping line, whose advice (start again, and
     * it resumes) is then wrong.
     */
    CancelOnExit unmended(String line) {
      stoppingUnmended = line;
      return this;
    }

    /**
     * As {@link #stop(boolean)}; {@code restartMends} false: the stop {@link #unmended} says. True
     * when this stopped the job.
     */
    boolean stop(boolean asked, boolean restartMends) {
      if (ended.getAndSet(true) || hasEnded(client)) {
        return false;
      }
      if (asked) {
        STOPPING.set(true);
      }
      System.out.println(
          !restartMends && stoppingUnmended != null ? stoppingUnmended : stoppingLine());
      try {
        if (cancelAndAwait(client, STOP_WAIT_MS)) {
          System.out.println(stopped);
        } else {
          System.out.println(
              stopped
                  + " (the job had not ended "
                  + STOP_WAIT_MS / 1000
                  + " s after its cancel: the next start deletes the files it left)");
        }
      } catch (Exception e) {
        // the JVM is going away, or the job with it; nothing more to do
      }
      return true;
    }

    @Override
    public void close() {
      closed = true;
      ended.set(true);
    }

    /** Whether the job has already ended (a command that failed before it closed this). */
    private static boolean hasEnded(JobClient client) {
      try {
        return client.getJobExecutionResult().isDone()
            || client
                .getJobStatus()
                .get(2, java.util.concurrent.TimeUnit.SECONDS)
                .isGloballyTerminalState();
      } catch (Exception e) {
        return false; // not known: cancel it
      }
    }

    /** How long a stop waits for the cancelled job to end (a supervisor's grace is longer). */
    static final long STOP_WAIT_MS = 20_000;

    /**
     * Cancels the job and waits, up to {@code waitMs}, until it has ended: its tasks have closed
     * (the trainer its RocksDB and working directory, the sinks their producers). The cancel's
     * acknowledgement alone comes before that, and the process then exited with the tasks still
     * open, leaving the trainer's directory (a copy of the model) behind. True when it ended.
     */
    static boolean cancelAndAwait(JobClient client, long waitMs) throws Exception {
      client.cancel().get(waitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
      try {
        // completes, as a cancellation, once the job has ended (a local cluster then goes too)
        client.getJobExecutionResult().get(waitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        return false;
      } catch (java.util.concurrent.ExecutionException e) {
        // ended as cancelled
      }
      return true;
    }
  }

  /** Flink's factories of the state backends it names by a short name. */
  private static final java.util.Map<String, String> STATE_BACKEND_FACTORIES =
      java.util.Map.of(
          "hashmap", "org.apache.flink.runtime.state.hashmap.HashMapStateBackendFactory",
          "rocksdb", "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackendFactory",
          "forst", "org.apache.flink.state.forst.ForStStateBackendFactory");

  /**
   * Refuses a {@code state.backend.type} this process cannot load, in one line: the local Flink
   * here has the heap backend only, and the job failed deep in its JobMaster otherwise.
   */
  static void checkStateBackend(Configuration conf) {
    String type = conf.get(org.apache.flink.configuration.StateBackendOptions.STATE_BACKEND);
    if (type == null) {
      return;
    }
    String factory =
        STATE_BACKEND_FACTORIES.getOrDefault(type.toLowerCase(java.util.Locale.ROOT), type);
    try {
      Class.forName(factory, false, JobRunner.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException(
          "state.backend.type '"
              + type
              + "' is not available to streamrec's local Flink, which keeps state on the heap"
              + " ('hashmap', the default and the only one here)");
    }
  }

  /**
   * Where the local Flink keeps its files ({@code io.tmp.dirs}), unless set: a directory of this
   * run's own under {@code java.io.tmpdir}/streamrec-flink-&lt;user&gt;, which the caller deletes
   * at exit and a later start deletes if this process was killed. Flink's default, {@code
   * java.io.tmpdir} itself, kept 21 MB (its RPC system's jar) and more of every start after a stop.
   * Null where {@code flink} sets it.
   */
  static LockedDirectory localTmpDir(Configuration flink) throws java.io.IOException {
    if (flink.contains(CoreOptions.TMP_DIRS)) {
      return null;
    }
    LockedDirectory d =
        LockedDirectory.claim(LockedDirectory.tempParent("streamrec-flink"), "run-");
    d.notes().forEach(n -> org.slf4j.LoggerFactory.getLogger(JobRunner.class).info("{}", n));
    flink.set(CoreOptions.TMP_DIRS, d.path().toString());
    return d;
  }

  static Started start(Configuration conf, StreamrecJob.Bounds bounds, String name)
      throws Exception {
    return start(conf, bounds, name, false);
  }

  /**
   * The same, where {@code topicsChecked} says the caller has just checked the job's topics itself
   * ({@link KafkaPreflight#checkJob}), as {@code run} does while it waits for its broker.
   */
  static Started start(
      Configuration conf, StreamrecJob.Bounds bounds, String name, boolean topicsChecked)
      throws Exception {
    checkStateBackend(conf);
    JobConfig cfg = JobConfig.from(conf);
    if (!topicsChecked) {
      // the topics are there and served (a topic created a moment before is written only then)
      KafkaPreflight.checkJob(cfg);
    }
    KafkaSinks.abortLeftOpenTransactions(cfg, bounds.bounded());
    Configuration flink = RetainedCheckpoints.bindLocally(conf);
    InJvmMetricReporter.configure(flink);
    LockedDirectory tmp = localTmpDir(flink);
    if (tmp != null) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      tmp.close();
                    } catch (java.io.IOException e) {
                      // swept by the next start
                    }
                  },
                  "streamrec-tmp-delete"));
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    StreamrecJob.build(env, cfg, bounds);
    long t0 = System.currentTimeMillis();
    return new Started(env.executeAsync(name), cfg, t0);
  }
}
