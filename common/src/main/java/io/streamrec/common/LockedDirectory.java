package io.streamrec.common;

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

/**
 * A working directory of its own under a parent that many processes may share ({@code store.dir}, a
 * temporary directory): for what lives no longer than its user, deleted on {@link #close}. Its lock
 * file, held while its user lives, tells a directory a killed process left behind from one in use;
 * the next claim under the same parent deletes the former.
 *
 * <p>Every trainer had {@code store.dir/trainer-<subtask>}: two jobs given one {@code store.dir}
 * deleted each other's RocksDB on every start and restarted for ever. A local Flink's files (21 MB
 * of its RPC system's jar each start) stayed in {@code java.io.tmpdir} after every stop.
 */
public final class LockedDirectory implements Closeable {
  /** The lock file in each working directory. */
  public static final String LOCK_FILE = "streamrec-dir.lock";

  /**
   * The file in each working directory that names the process holding it. A claim never opens the
   * lock file of a directory its own process holds: on Linux, closing any channel of a file
   * releases every lock the process holds on it, so a look at that lock (two jobs' trainers in one
   * task manager) released it, and the next claim in another process on the machine deleted the
   * directory while its trainer was using it.
   */
  public static final String OWNER_FILE = "streamrec-dir.owner";

  /**
   * This process: its id and a token drawn once per JVM, kept in a system property so that every
   * class loader of the JVM (one per Flink job) reads the same one.
   */
  private static final String OWNER =
      ProcessHandle.current().pid()
          + "-"
          + System.getProperties()
              .computeIfAbsent(
                  "io.streamrec.common.LockedDirectory.owner",
                  k -> java.util.UUID.randomUUID().toString());

  /**
   * Claims of one JVM claim and sweep one at a time: a file lock is per process, so a second lock
   * of the parent's guard in this JVM is not waited for but fails. A string literal is one object
   * in the whole JVM, whichever class loader (each Flink job has its own) loaded this class.
   */
  private static final Object CLAIMING = "io.streamrec.common.LockedDirectory.CLAIMING";

  private final Path dir;
  private final FileChannel channel;
  private final List<String> notes;

  private LockedDirectory(Path dir, FileChannel channel, List<String> notes) {
    this.dir = dir;
    this.channel = channel;
    this.notes = notes;
  }

  /** What the claim did beside: a line per directory of a gone process it deleted, or could not. */
  public List<String> notes() {
    return notes;
  }

  /**
   * A parent for the claims of this user's processes in {@code java.io.tmpdir}: {@code
   * <name>-<user>}.
   */
  public static Path tempParent(String name) {
    return Path.of(
        System.getProperty("java.io.tmpdir"), name + "-" + System.getProperty("user.name", "user"));
  }

  /**
   * A new directory {@code <prefix><random digits>} under {@code parent} (made if missing), locked;
   * first deletes the directories of that form under {@code parent} that nothing holds.
   */
  public static LockedDirectory claim(Path parent, String prefix) throws IOException {
    synchronized (CLAIMING) {
      Files.createDirectories(parent);
      Path guard = parent.resolve(".streamrec-dirs.lock");
      try (FileChannel g =
              FileChannel.open(guard, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = g.lock()) {
        List<String> notes = sweep(parent, prefix);
        Path dir = Files.createTempDirectory(parent, prefix);
        Files.writeString(dir.resolve(OWNER_FILE), OWNER);
        FileChannel c =
            FileChannel.open(
                dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
          c.lock(); // held until the channel closes
          return new LockedDirectory(dir, c, notes);
        } catch (IOException | RuntimeException e) {
          c.close();
          throw e;
        }
      }
    }
  }

  /**
   * Deletes the working directories under {@code parent} whose lock nothing holds, or whose lock
   * file is gone (a delete cut short: only the claim, under the parent's lock, makes a directory
   * before its lock file); those of this process stay, their lock files unopened.
   */
  private static List<String> sweep(Path parent, String prefix) throws IOException {
    List<String> notes = new ArrayList<>();
    java.util.regex.Pattern name =
        java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix) + "\\d+");
    List<Path> left = new ArrayList<>();
    try (Stream<Path> s = Files.list(parent)) {
      for (Path d : s.toList()) {
        Path lockFile = d.resolve(LOCK_FILE);
        if (Files.isDirectory(d)
            && name.matcher(d.getFileName().toString()).matches()
            && !ownedHere(d)
            && (!Files.exists(lockFile) || !inUse(lockFile))) {
          left.add(d);
        }
      }
    }
    for (Path d : left) {
      try {
        Directories.deleteRecursively(d);
        notes.add("deleted " + d + ", the working directory of a process that is gone");
      } catch (IOException e) {
        notes.add("cannot delete " + d + ", left by a process that is gone: " + e);
      }
    }
    return notes;
  }

  /** Whether {@code dir} is one this process claimed (and holds, or is closing). */
  private static boolean ownedHere(Path dir) {
    try {
      return Files.readString(dir.resolve(OWNER_FILE)).equals(OWNER);
    } catch (IOException e) {
      return false; // none: an earlier release's, or one whose close began
    }
  }

  /** Only for the lock file of a directory of another process: see {@link #OWNER_FILE}. */
  private static boolean inUse(Path lockFile) throws IOException {
    try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock l = c.tryLock();
      if (l == null) {
        return true; // another process holds it
      }
      l.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true; // a claim of this JVM holds it (one whose owner file is not there yet or gone)
    }
  }

  public Path path() {
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
            String name = p.getFileName().toString();
            if (!name.equals(LOCK_FILE) && !name.equals(OWNER_FILE)) {
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
