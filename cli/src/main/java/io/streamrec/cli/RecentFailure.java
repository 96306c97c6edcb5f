package io.streamrec.cli;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.filter.AbstractFilter;

/**
 * The root cause of the newest failure Flink logged, for the progress line of a job being
 * restarted: it said {@code job RESTARTING} and no more, so a full disk or a lost broker showed
 * only in a page of trace above. A filter on Flink's loggers that records and lets every event
 * through.
 */
final class RecentFailure extends AbstractFilter {
  /** What a note shows of the cause at most. */
  static final int MAX_CHARS = 200;

  /** The newest failure: when it was logged and its root cause, in one line. */
  record Failure(long atMs, String cause) {}

  private static final AtomicReference<Failure> NEWEST = new AtomicReference<>();

  private static final AtomicReference<Failure> TASK_MANAGER_LOST = new AtomicReference<>();

  private static final AtomicReference<Failure> TOO_FEW_NETWORK_BUFFERS = new AtomicReference<>();

  /**
   * The newest checkpoint that failed, with its cause: the failure that restarts a job once too
   * many have ({@link #CHECKPOINTS_FAILING}) names none of its own.
   */
  private static final AtomicReference<Failure> CHECKPOINT_FAILED = new AtomicReference<>();

  /** The logger that says which checkpoint failed and why. */
  static final String CHECKPOINT_FAILURE_LOGGER =
      "org.apache.flink.runtime.checkpoint.CheckpointFailureManager";

  /**
   * How the failure that restarts a job for its failed checkpoints begins; it says only to look at
   * the web interface's checkpoint history, and has no cause.
   */
  static final String CHECKPOINTS_FAILING = "Exceeded checkpoint tolerable failure threshold";

  private static final java.util.regex.Pattern CHECKPOINT_ID =
      java.util.regex.Pattern.compile("checkpoint (\\d+)");

  /** The logger of Flink's local cluster, which says when one of its task managers failed. */
  static final String LOCAL_CLUSTER_LOGGER = "org.apache.flink.runtime.minicluster.MiniCluster";

  RecentFailure() {
    super(Result.NEUTRAL, Result.NEUTRAL);
  }

  /**
   * Adds the recorder to the configurations of Flink's loggers in {@code ctx} (their events pass
   * there after the level, before an appender's filters, which may settle an event first), and to
   * the root logger's, which has the events of loggers that a configuration names nothing for (a
   * configuration of the user's own).
   */
  static void install(LoggerContext ctx) {
    for (LoggerConfig c : ctx.getConfiguration().getLoggers().values()) {
      if (c.getName().startsWith("org.apache.flink")) {
        c.addFilter(new RecentFailure());
      }
    }
    ctx.getConfiguration().getRootLogger().addFilter(new RecentFailure());
  }

  /** The newest failure logged, or null. */
  static Failure newest() {
    return NEWEST.get();
  }

  /**
   * The newest failure of a task manager of the local cluster in this process, or null: an error
   * fatal to it (Flink's ERROR "TaskManager #0 failed."). The local cluster closes it and starts no
   * other, so its job waits for task slots for ever.
   */
  static Failure taskManagerLost() {
    return TASK_MANAGER_LOST.get();
  }

  /**
   * The newest task of the local cluster in this process that failed for want of network buffers,
   * or null: its memory is fixed at its start, so every restart fails the same way (an {@code
   * assembler.parallelism} of 64 failed with 8,192 buffers of 32 KB, four times the local default,
   * and ran with 32,768).
   */
  static Failure tooFewNetworkBuffers() {
    return TOO_FEW_NETWORK_BUFFERS.get();
  }

  @Override
  public Result filter(LogEvent event) {
    Throwable t = event.getThrown();
    String message = t == null ? "" : String.valueOf(event.getMessage().getFormattedMessage());
    if (t != null
        && event.getLoggerName().equals(LOCAL_CLUSTER_LOGGER)
        && event.getLevel().isMoreSpecificThan(Level.ERROR)
        && message.startsWith("TaskManager #")
        && message.contains("failed")) {
      TASK_MANAGER_LOST.set(new Failure(event.getTimeMillis(), rootCause(t)));
    }
    if (t != null
        && event.getLoggerName().equals(CHECKPOINT_FAILURE_LOGGER)
        && message.startsWith("Failed to trigger or complete checkpoint")) {
      java.util.regex.Matcher id = CHECKPOINT_ID.matcher(message);
      CHECKPOINT_FAILED.set(
          new Failure(
              event.getTimeMillis(),
              (id.find() ? "checkpoint " + id.group(1) : "a checkpoint")
                  + " failed: "
                  + rootCause(t)));
    }
    // a task that failed (Flink's WARN "... switched from RUNNING to FAILED ..."), the whole job
    // (the job master's "Trying to recover from a global failure"), or a source's coordinator
    // (its ERROR "... Triggering job failover.", where the job master logs nothing of it): what
    // restarts the job, not a declined checkpoint or another warning
    if (t != null
        && event.getLoggerName().startsWith("org.apache.flink")
        && ((event.getLevel().isMoreSpecificThan(Level.WARN)
                && (message.contains("to FAILED") || message.contains("Triggering job failover")))
            || message.startsWith("Trying to recover"))
        && !TerminalLogFilter.declinedWhileFinishing(t)
        && !TerminalLogFilter.isRefusal(t)) {
      Failure f = new Failure(event.getTimeMillis(), causeOf(t, event.getTimeMillis()));
      NEWEST.set(f);
      if (TerminalLogFilter.tooFewNetworkBuffers(t)) {
        TOO_FEW_NETWORK_BUFFERS.set(f);
      }
    }
    return Result.NEUTRAL;
  }

  /**
   * The root cause of a failure logged at {@code atMs}; for the job's failure for its failed
   * checkpoints, which has none, the newest failed checkpoint's (logged just before it).
   */
  private static String causeOf(Throwable t, long atMs) {
    Failure checkpoint = CHECKPOINT_FAILED.get();
    if (String.valueOf(t.getMessage()).startsWith(CHECKPOINTS_FAILING)
        && checkpoint != null
        && atMs - checkpoint.atMs() <= 60_000) {
      return checkpoint.cause();
    }
    return rootCause(t);
  }

  /**
   * The deepest cause of {@code t} that says something: its class's simple name and the first line
   * of its message; or, where it names no path and a cause above it repeats its message with one (a
   * wrapper that says which file), the nearest such. A deepest cause without a message (a bare
   * {@code TimeoutException} under the exception that says what timed out) gives way to the nearest
   * above it with one.
   */
  static String rootCause(Throwable t) {
    java.util.List<Throwable> chain = new java.util.ArrayList<>();
    for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
      chain.add(c);
    }
    while (chain.size() > 1 && isBlank(chain.get(chain.size() - 1).getMessage())) {
      chain.remove(chain.size() - 1);
    }
    Throwable root = chain.get(chain.size() - 1);
    String own = String.valueOf(root.getMessage());
    if (!own.contains("/")) {
      for (int i = chain.size() - 2; i >= 0; i--) {
        String m = String.valueOf(chain.get(i).getMessage());
        if (m.contains(own) && m.contains("/")) {
          root = chain.get(i);
          break;
        }
      }
    }
    String m = root.getMessage() == null ? "" : root.getMessage().strip();
    int nl = m.indexOf('\n');
    if (nl >= 0) {
      m = m.substring(0, nl).strip();
    }
    String name = root.getClass().getSimpleName();
    if (root instanceof org.apache.flink.util.SerializedThrowable st) {
      // a cause sent from a task: its message is the original's class name and message
      String original = st.getOriginalErrorClassName();
      if (original != null) {
        name = original.substring(original.lastIndexOf('.') + 1);
        if (m.startsWith(original + ":")) {
          m = m.substring(original.length() + 1).strip();
        } else if (m.equals(original)) {
          m = "";
        }
      }
    }
    String s = name + (m.isEmpty() ? "" : ": " + m);
    return s.length() <= MAX_CHARS ? s : s.substring(0, MAX_CHARS - 3) + "...";
  }

  private static boolean isBlank(String message) {
    return message == null || message.isBlank();
  }
}
