package io.streamrec.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directories on the local disk. */
public final class Directories {
  private Directories() {}

  /**
   * Deletes {@code dir} and everything under it, if it exists (null: nothing). A directory another
   * thread deletes meanwhile is no error; a file that cannot be deleted is.
   */
  public static void deleteRecursively(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (NoSuchFileException | UncheckedIOException e) {
      if (Files.exists(dir)) {
        throw e;
      }
    }
  }
}
