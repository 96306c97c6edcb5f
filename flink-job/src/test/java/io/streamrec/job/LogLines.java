package io.streamrec.job;

import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** The lines a class logs at a level or above while open, into a list. */
public final class LogLines implements AutoCloseable {
  private final Logger logger;
  private final Level level;
  private final AbstractAppender appender;

  private LogLines(Class<?> of, Level atLeast, List<String> into) {
    logger = (Logger) LogManager.getLogger(of);
    level = logger.getLevel();
    if (!logger.isEnabled(atLeast)) {
      logger.setLevel(atLeast);
    }
    appender =
        new AbstractAppender("lines", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            if (event.getLevel().isMoreSpecificThan(atLeast)) {
              synchronized (into) {
                into.add(event.getMessage().getFormattedMessage());
              }
            }
          }
        };
    appender.start();
    logger.addAppender(appender);
  }

  /** {@code of}'s lines at {@code atLeast} or above, into {@code into}, until closed. */
  public static LogLines of(Class<?> of, Level atLeast, List<String> into) {
    return new LogLines(of, atLeast, into);
  }

  @Override
  public void close() {
    logger.removeAppender(appender);
    appender.stop();
    logger.setLevel(level);
  }
}
