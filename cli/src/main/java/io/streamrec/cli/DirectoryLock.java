package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;

/**
 * A directory held by one process: one {@code streamrec run} per state directory, one {@code
 * streamrec broker} per data directory. The second is refused before it starts anything, naming the
 * process that holds the directory. Two runs of one job on the same state directory would both
 * resume the newest checkpoint, each claiming it and deleting what the other still needs, and both
 * publish the model's next versions; a second broker on a data directory wrote its metadata into
 * the running broker's before Kafka's own log-directory lock refused it. The lock is the operating
 * system's on a file in the directory: it goes with the process however that ends, {@code kill -9}
 * included, so a stale file never blocks a restart.
 */
public final class DirectoryLock implements AutoCloseable {
  /** The lock file of {@code run}'s state directory. */
  static final String STATE_DIR_FILE = ".lock";

  /**
   * The lock files this process holds. The operating system's locks are the process's: a second
   * take in the same process must be refused from here, without opening the file, since closing any
   * channel of a locked file releases the process's lock on it (POSIX), and the holder would then
   * hold nothing.
   */
  private static final java.util.Set<Path> HELD =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Path file;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes {@code run}'s state directory for this process, or refuses. */
  static DirectoryLock ofStateDir(Path dir) throws IOException {
    return take(
        dir,
        STATE_DIR_FILE,
        holder ->
            new StreamrecException(
                "another streamrec run"
                    + holder
                    + " uses the state directory "
                    + dir.toAbsolutePath()
                    + ": two runs of one job there would take each other's checkpoints and publish"
                    + " the model's versions twice. Stop that run first, or give this one another"
                    + " --state-dir"));
  }

  /**
   * Takes {@code dir} for this process through its file {@code fileName}, or throws what {@code
   * refusal} makes of the holder (" (process N)", or "" where it is not known).
   */
  public static DirectoryLock take(
      Path dir, String fileName, Function<String, ? extends RuntimeException> refusal)
      throws IOException {
    Files.createDirectories(dir);
    Path file = dir.toRealPath().resolve(fileName);
    if (!HELD.add(file)) {
      throw refusal.apply(" (process " + ProcessHandle.current().pid() + ", this one)");
    }
    FileChannel ch = null;
    FileLock lock = null;
    boolean taken = false;
    try {
      ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // not taken through this class: this process holds it all the same
      }
      if (lock == null) {
        // another process holds it (closing this channel releases nothing of that one's)
        String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
        throw refusal.apply(holder.isEmpty() ? "" : " (process " + holder + ")");
      }
      ch.truncate(0);
      ch.write(
          ByteBuffer.wrap(
              String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
      ch.force(false);
      taken = true;
      return new DirectoryLock(file, ch, lock);
    } finally {
      if (!taken) {
        // whatever failed (a full disk while writing the holder, an error), nothing stays held
        try {
          if (lock != null) {
            lock.release();
          }
          if (ch != null) {
            ch.close();
          }
        } finally {
          HELD.remove(file);
        }
      }
    }
  }

  @Override
  public void close() throws IOException {
    // a second close must not remove the entry of a later holder of the same directory
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      lock.release();
    } finally {
      try {
        channel.close();
      } finally {
        HELD.remove(file);
      }
    }
  }
}
