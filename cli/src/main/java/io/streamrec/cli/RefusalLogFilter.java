package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.filter.AbstractFilter;
import org.apache.logging.log4j.core.filter.AbstractFilterable;

/**
 * Keeps Flink's account of a task that failed for one of streamrec's refusals (a topic of another
 * model, a checkpoint of another configuration, a damaged handoff) off the terminal: the command
 * prints the refusal itself as one line when the job ends ({@link StreamrecCli#commandLine()}), and
 * Flink's log line before it is the same message under a page of stack trace.
 *
 * <p>A refusal is a {@link SuppressRestartsException} (the job stops at once, no restart) whose
 * cause is a {@link StreamrecException}. Any other failure, and any refusal without such a cause,
 * is logged as before.
 */
final class RefusalLogFilter extends AbstractFilter {
  /** The appender of the command line's log configuration that writes to the terminal. */
  static final String TERMINAL_APPENDER = "stderr";

  RefusalLogFilter() {
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
      f.addFilter(new RefusalLogFilter());
    }
  }

  @Override
  public Result filter(LogEvent event) {
    return isRefusal(event.getThrown()) ? onMatch : onMismatch;
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
