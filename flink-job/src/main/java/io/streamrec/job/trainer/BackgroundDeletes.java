package io.streamrec.job.trainer;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes checkpoint files on a thread of its own, one at a time in the order asked: on object
 * storage each delete is a remote call, and the trainer's thread, which hears of completed
 * checkpoints, only trains. A file that cannot be deleted is logged and left (it is no longer
 * referenced; nothing reads it).
 */
final class BackgroundDeletes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BackgroundDeletes.class);

  /** How long {@link #close} waits for the deletes asked before it. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  /** Deletes one file. */
  @FunctionalInterface
  interface Deleter {
    void delete(Path file) throws IOException;
  }

  private final ExecutorService thread;
  private final Deleter deleter;

  /** Deletes through each file's Flink file system. */
  BackgroundDeletes(String threadName) {
    this(threadName, f -> f.getFileSystem().delete(f, false));
  }

  BackgroundDeletes(String threadName, Deleter deleter) {
    this.deleter = deleter;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
  }

  /** Deletes {@code file} soon, on this object's thread; returns at once. */
  void delete(Path file) {
    try {
      thread.execute(
          () -> {
            try {
              deleter.delete(file);
            } catch (IOException | RuntimeException e) {
              LOG.warn("cannot delete the unreferenced checkpoint file {}: {}", file, e.toString());
            }
          });
    } catch (RejectedExecutionException e) {
      LOG.warn("not deleting the unreferenced checkpoint file {}: the trainer is closing", file);
    }
  }

  /** Waits up to {@link #CLOSE_WAIT} for the deletes asked, then stops. */
  @Override
  public void close() throws InterruptedException {
    thread.shutdown();
    if (!thread.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      int left = thread.shutdownNow().size();
      LOG.warn(
          "{} unreferenced checkpoint files not deleted within {} s of the trainer's close: they"
              + " stay in the checkpoint storage's shared directory",
          left,
          CLOSE_WAIT.toSeconds());
    }
  }
}
