package io.streamrec.job.trainer;

import io.streamrec.common.Directories;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trainer's working directory under {@code store.dir}: one of its own, so that any number of
 * trainers (of one job, of several jobs, of a job's restarts) may share the setting. The store
 * starts from nothing or from a checkpoint each time, so nothing in it outlives the trainer: it is
 * deleted on {@link #close}. Its lock file, held while the trainer lives, tells those a killed
 * process left behind from those in use; the next trainer to start under the same directory deletes
 * the former.
 *
 * <p>Every trainer had {@code store.dir/trainer-<subtask>}. Two jobs given one {@code store.dir}
 * deleted each other's RocksDB on every start and restarted for ever.
 */
final class StoreWorkDir implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreWorkDir.class);

  /** The lock file in each working directory. */
  static final String LOCK_FILE = "streamrec-trainer.lock";

  /** Trainers of one JVM claim and sweep one at a time (a file lock is per process). */
  private static final Object CLAIMING = new Object();

  private final Path dir;
  private final FileChannel channel;

  private StoreWorkDir(Path dir, FileChannel channel) {
    this.dir = dir;
    this.channel = channel;
  }

  /**
   * A new directory {@code trainer-<subtask>-<random>} under {@code parent} (made if missing),
   * locked; first deletes the directories of that form under {@code parent} that no live trainer
   * holds.
   */
  static StoreWorkDir claim(Path parent, int subtask) throws IOException {
    synchronized (CLAIMING) {
      Files.createDirectories(parent);
      Path guard = parent.resolve(".streamrec-store.lock");
      try (FileChannel g =
              FileChannel.open(guard, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = g.lock()) {
        sweep(parent);
        Path dir = Files.createTempDirectory(parent, "trainer-" + subtask + "-");
        FileChannel c =
            FileChannel.open(
                dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
          c.lock(); // held until the channel closes
          return new StoreWorkDir(dir, c);
        } catch (IOException | RuntimeException e) {
          c.close();
          throw e;
        }
      }
    }
  }

  /** The names {@link #claim} gives: {@code trainer-<subtask>-<random digits>}. */
  private static final java.util.regex.Pattern NAME =
      java.util.regex.Pattern.compile("trainer-\\d+-\\d+");

  /**
   * Deletes the working directories under {@code parent} whose lock no trainer holds, or whose lock
   * file is gone (a delete cut short: only the claim, under the parent's lock, makes a directory
   * before its lock file).
   */
  private static void sweep(Path parent) throws IOException {
    List<Path> left = new ArrayList<>();
    try (Stream<Path> s = Files.list(parent)) {
      for (Path d : s.toList()) {
        Path lockFile = d.resolve(LOCK_FILE);
        if (Files.isDirectory(d)
            && NAME.matcher(d.getFileName().toString()).matches()
            && (!Files.exists(lockFile) || !inUse(lockFile))) {
          left.add(d);
        }
      }
    }
    for (Path d : left) {
      try {
        Directories.deleteRecursively(d);
        LOG.info("trainer: deleted {}, the store's working directory of a trainer that is gone", d);
      } catch (IOException e) {
        LOG.warn("trainer: cannot delete {}, left by a trainer that is gone: {}", d, e.toString());
      }
    }
  }

  private static boolean inUse(Path lockFile) throws IOException {
    try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock l = c.tryLock();
      if (l == null) {
        return true; // another process holds it
      }
      l.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true; // a trainer of this JVM holds it
    }
  }

  Path path() {
    return dir;
  }

  /**
   * Deletes the directory, its lock file last (a delete cut short leaves a directory the next claim
   * sweeps), and releases the lock (closing its channel does); again: nothing.
   */
  @Override
  public void close() throws IOException {
    try {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          for (Path p : s.toList()) {
            if (!p.getFileName().toString().equals(LOCK_FILE)) {
              Directories.deleteRecursively(p);
            }
          }
        }
      }
    } finally {
      channel.close();
      Directories.deleteRecursively(dir);
    }
  }
}
