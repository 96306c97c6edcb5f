package io.streamrec.embedding.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Moves a RocksDB checkpoint between directories without copying what is already there.
 *
 * <p>RocksDB's table files ({@code *.sst}) are immutable once written and their numbers are never
 * reused within one database's history (restores included: a restored database numbers new files
 * past the ones it was restored from). So a table file of the same name and size in the previous
 * snapshot of the same lineage is the same file: it is hard-linked from there instead of copied,
 * and only new table files cost bytes. Hard links fall back to copies across file systems. The
 * small mutable files (MANIFEST, CURRENT, OPTIONS) are always copied, since RocksDB may rewrite
 * them in a database opened from the snapshot.
 */
public final class SnapshotFiles {
  private SnapshotFiles() {}

  /** What one transfer did. */
  public record Transfer(int files, int reused, long bytes, long bytesCopied) {}

  /**
   * Fills {@code to} (created) with the files of {@code from}, taking table files from {@code
   * previous} where it has them (null: no previous snapshot).
   */
  public static Transfer transfer(Path from, Path to, Path previous) throws IOException {
    Files.createDirectories(to);
    int files = 0, reused = 0;
    long bytes = 0, copied = 0;
    List<Path> sources;
    try (Stream<Path> s = Files.list(from)) {
      sources = new ArrayList<>(s.sorted().toList());
    }
    for (Path f : sources) {
      String name = f.getFileName().toString();
      Path target = to.resolve(name);
      long size = Files.size(f);
      files++;
      bytes += size;
      if (name.endsWith(".sst")) {
        Path old = previous == null ? null : previous.resolve(name);
        Path source = f;
        if (old != null && Files.isRegularFile(old) && Files.size(old) == size) {
          source = old;
          reused++;
        }
        if (!link(source, target)) {
          Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
          copied += size;
        }
      } else {
        Files.copy(f, target);
        copied += size;
      }
    }
    return new Transfer(files, reused, bytes, copied);
  }

  private static boolean link(Path existing, Path link) {
    try {
      Files.createLink(link, existing);
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Deletes {@code dir} and everything under it, if it exists. */
  public static void deleteRecursively(Path dir) {
    try {
      io.streamrec.common.Directories.deleteRecursively(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
