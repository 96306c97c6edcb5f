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

/**
 * One {@code streamrec run} per state directory. Two runs of one job on the same directory would
 * both resume the newest checkpoint, each claiming it and deleting what the other still needs, and
 * both publish the model's next versions; so the second is refused before it starts anything,
 * naming the process that holds the directory. The lock is the operating system's on {@code
 * DIR/.lock}: it goes with the process however that ends, {@code kill -9} included, so a stale file
 * never blocks a restart.
 */
final class StateDirLock implements AutoCloseable {
  static final String FILE = ".lock";

  private final FileChannel channel;
  private final FileLock lock;

  private StateDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes {@code dir} for this process, or refuses, naming the process that has it. */
  static StateDirLock acquire(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE);
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // this very process holds it
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
      ch.close();
      throw new StreamrecException(
          "another streamrec run"
              + (holder.isEmpty() ? "" : " (process " + holder + ")")
              + " uses the state directory "
              + dir.toAbsolutePath()
              + ": two runs of one job there would take each other's checkpoints and publish the"
              + " model's versions twice. Stop that run first, or give this one another --state-dir");
    }
    ch.truncate(0);
    ch.write(
        ByteBuffer.wrap(
            String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
    ch.force(false);
    return new StateDirLock(ch, lock);
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
