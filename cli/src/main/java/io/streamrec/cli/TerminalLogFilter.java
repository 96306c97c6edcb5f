package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import java.util.List;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.ExceptionUtils;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.filter.AbstractFilter;
import org.apache.logging.log4j.core.filter.AbstractFilterable;

/**
 * Keeps some of Flink's log lines off the terminal, each a page of stack trace that tells a user
 * nothing the command does not say better:
 *
 * <ul>
 *   <li>The account of a task that failed for one of streamrec's refusals (a topic of another
 *       model, a checkpoint of another configuration, a damaged handoff): the command prints the
 *       refusal itself as one line when the job ends ({@link StreamrecCli#commandLine()}). A
 *       refusal is a {@link SuppressRestartsException} (the job stops at once, no restart) whose
 *       cause is a {@link StreamrecException}.
 *   <li>A checkpoint declined because its tasks were finishing (the end of a backfill's input, a
 *       drain): it races the tasks' end, is not counted as a failed checkpoint, and the job ends as
 *       it should.
 * </ul>
 *
 * <p>Also the checkpoint a failover or a stop cuts short ({@code Checkpoint Coordinator is
 * suspending}, a page of the RPC system's frames): the failure that caused it is logged itself.
 *
 * <p>And Kafka's committer's account of a transaction it could not commit for a known reason, which
 * the job's own check says better ({@link #committerRepeat}); and the tasks that fail for want of
 * network buffers, which the command says in one line as it stops ({@link #tooFewNetworkBuffers}).
 *
 * <p>Any other failure, and any other checkpoint failure, is logged as before.
 */
final class TerminalLogFilter extends AbstractFilter {
  /** The appender of the command line's log configuration that writes to the terminal. */
  static final String TERMINAL_APPENDER = "stderr";

  TerminalLogFilter() {
    super(Result.DENY, Result.NEUTRAL);
  }

  /** Adds the filter to the terminal's appender, where the command line's configuration has one. */
  static void install() {
    if (LogManager.getContext(false) instanceof LoggerContext ctx) {
      install(ctx);
    }
  }

  /** As {@link #install()}, in {@code ctx}. */
  static void install(LoggerContext ctx) {
    Appender terminal = ctx.getConfiguration().getAppender(TERMINAL_APPENDER);
    if (terminal instanceof AbstractFilterable f) {
      f.addFilter(new TerminalLogFilter());
    }
    RecentFailure.install(ctx);
  }

  /** How Flink's network stack says that its buffers cannot serve a task's channels. */
  private static final String TOO_FEW_BUFFERS = "Insufficient number of network buffers";

  /** What Flink's declines say when a checkpoint meets tasks that are finishing. */
  private static final List<String> FINISHING =
      List.of(
          "Checkpoint was declined (task is closing)",
          // triggered while the job's tasks were still starting (a backfill's first seconds): the
          // next checkpoint finds them running
          "Checkpoint was declined (tasks not ready)",
          "Checkpoint was declined because one input stream is finished",
          "received a checkpoint request for unknown task");

  @Override
  public Result filter(LogEvent event) {
    Throwable t = event.getThrown();
    return isRefusal(t)
            || declinedWhileFinishing(t)
            || cutShortBySuspension(t)
            || committerRepeat(event)
            || tooFewNetworkBuffers(t)
        ? onMatch
        : onMismatch;
  }

  /** The logger of Kafka's committer, in Flink's Kafka connector. */
  static final String KAFKA_COMMITTER =
      "org.apache.flink.connector.kafka.sink.internal.KafkaCommitter";

  /**
   * Kafka's committer's account of a transaction it could not commit for a known reason (fenced,
   * aborted, its producer id unknown): "... In both cases this most likely signals data loss". It
   * came at nearly every start of an exactly-once job that resumed a checkpoint, for the
   * checkpoint's own transactions, committed before the stop, where nothing was lost. The job's
   * committer check says what such a failure means itself, in its own line: a transaction of the
   * restored checkpoint is harmless, one after it fails the job (the model) or is counted as lost
   * (the units log).
   */
  static boolean committerRepeat(LogEvent event) {
    return KAFKA_COMMITTER.equals(event.getLoggerName())
        && String.valueOf(event.getMessage().getFormattedMessage())
            .startsWith("Unable to commit transaction (");
  }

  /**
   * Whether {@code t} is a checkpoint's failure because the checkpoints were suspended: the job
   * fails over, or is stopped.
   */
  static boolean cutShortBySuspension(Throwable t) {
    return ExceptionUtils.findThrowable(
            t,
            c ->
                c instanceof CheckpointException e
                    && e.getCheckpointFailureReason()
                        == CheckpointFailureReason.CHECKPOINT_COORDINATOR_SUSPEND)
        .isPresent();
  }

  /**
   * Whether {@code t} is a checkpoint's failure because its tasks were finishing, or not yet
   * running.
   */
  static boolean declinedWhileFinishing(Throwable t) {
    boolean checkpoint = false;
    for (Throwable c = t; c != null; c = c.getCause()) {
      checkpoint |= c instanceof CheckpointException;
      String m = String.valueOf(c.getMessage());
      if (checkpoint && FINISHING.stream().anyMatch(m::contains)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code t} is a task's failure for want of network buffers: every task of the job fails
   * so, some 2,300 lines of trace at {@code assembler.parallelism} 64, and the command stops at the
   * first with one line of its own ({@link JobRunner#awaitEnd}).
   */
  static boolean tooFewNetworkBuffers(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (String.valueOf(c.getMessage()).contains(TOO_FEW_BUFFERS)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code t} is a job stopped without restarts for a reason of streamrec's. */
  static boolean isRefusal(Throwable t) {
    boolean suppressed = false;
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SuppressRestartsException) {
        suppressed = true;
      } else if (suppressed && c instanceof StreamrecException) {
        return true;
      }
    }
    return false;
  }
}
