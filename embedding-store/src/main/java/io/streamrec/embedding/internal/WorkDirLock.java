package io.streamrec.embedding.internal;

import io.streamrec.embedding.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * A store's hold on its working directory, taken before anything in it is deleted: RocksDB locks
 * its database only when it opens it, so a second store on a directory in use would otherwise
 * delete the first one's files before it was refused.
 *
 * <p>A file lock on {@value #FILE} keeps other processes out; the directories held in this JVM are
 * also kept in a set, which is asked first: file locks are per process, and a channel opened on the
 * file only to find it locked would, closed, release the holder's lock too.
 */
public final class WorkDirLock implements AutoCloseable {
  /** The lock file in the working directory. */
  static final String FILE = "store.lock";

  private static final Set<Path> HELD = new HashSet<>();

  private final Path dir;
  private FileChannel channel;

  private WorkDirLock(Path dir, FileChannel channel) {
    this.dir = dir;
    this.channel = channel;
  }

  /**
   * Holds {@code workDir} (made if missing) until {@link #close}.
   *
   * @throws StoreException if another store, in this process or another, holds it
   */
  public static WorkDirLock take(Path workDir) {
    synchronized (HELD) {
      Path dir;
      try {
        Files.createDirectories(workDir);
        dir = workDir.toRealPath();
      } catch (IOException e) {
        throw new StoreException(
            "cannot create the store's working directory " + workDir + ": " + e.getMessage(), e);
      }
      if (HELD.contains(dir)) {
        throw inUse(workDir);
      }
      FileChannel c = null;
      try {
        c =
            FileChannel.open(
                dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        if (c.tryLock() == null) {
          throw inUse(workDir);
        }
        HELD.add(dir);
        return new WorkDirLock(dir, c);
      } catch (IOException | OverlappingFileLockException e) {
        closeQuietly(c);
        throw new StoreException(
            "cannot lock the store's working directory " + workDir + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        closeQuietly(c);
        throw e;
      }
    }
  }

  private static StoreException inUse(Path workDir) {
    return new StoreException(
        "the store's working directory " + workDir + " is in use by another open store");
  }

  private static void closeQuietly(FileChannel c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // nothing was locked through it
      }
    }
  }

  /** Releases the directory (closing the channel releases its lock); again: nothing. */
  @Override
  public void close() {
    synchronized (HELD) {
      if (channel == null) {
        return;
      }
      closeQuietly(channel);
      channel = null;
      HELD.remove(dir);
    }
  }
}
