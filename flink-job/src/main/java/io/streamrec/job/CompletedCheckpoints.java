package io.streamrec.job;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * The complete checkpoints Flink left in a job's checkpoint directory ({@code <dir>/<job id>}):
 * each {@code chk-<n>} whose {@code _metadata}, which Flink writes last, is there and not empty.
 * What a start of {@code streamrec run} resumes from, and what a trainer restored in claim mode
 * looks for beside the checkpoint it claimed.
 */
public final class CompletedCheckpoints {
  /** A complete checkpoint: its number, directory, and when its metadata was written. */
  public record Completed(long id, Path dir, long writtenAtMs) {}

  /** The file Flink writes last in a checkpoint's directory. */
  public static final String METADATA = "_metadata";

  /** A checkpoint's directory, {@code chk-<n>}, its number the group. */
  public static final Pattern CHECKPOINT = Pattern.compile("chk-(\\d+)");

  private CompletedCheckpoints() {}

  /** How many times a listing that met a checkpoint being deleted is made again. */
  static final int LISTINGS = 5;

  /** The complete checkpoints in {@code jobDir}; none where it is not there. */
  public static List<Completed> in(Path jobDir) throws IOException {
    return in(jobDir, jobDir.getFileSystem());
  }

  /**
   * As {@link #in(Path)}, on {@code fs}. Flink deletes a subsumed checkpoint while the job runs and
   * after a stop with a savepoint: a directory listed a moment before is gone when its status is
   * read, and {@code run}'s account of a stop with a savepoint failed the command ("cannot list ...
   * chk-2 does not exist"). Such a listing is made again, and a checkpoint gone meanwhile is none.
   */
  static List<Completed> in(Path jobDir, FileSystem fs) throws IOException {
    for (int attempt = 1; ; attempt++) {
      if (!fs.exists(jobDir)) {
        return new ArrayList<>();
      }
      FileStatus[] all;
      try {
        all = fs.listStatus(jobDir);
      } catch (FileNotFoundException gone) {
        if (attempt >= LISTINGS) {
          throw gone;
        }
        continue; // a checkpoint deleted while it was listed
      }
      List<Completed> done = new ArrayList<>();
      for (FileStatus s : all == null ? new FileStatus[0] : all) {
        Matcher m = CHECKPOINT.matcher(s.getPath().getName());
        if (!s.isDir() || !m.matches()) {
          continue;
        }
        // empty: still being written, or abandoned half-way: not restorable
        Optional<Long> written = metadataWritten(s.getPath(), fs);
        if (written.isPresent()) {
          done.add(new Completed(Long.parseLong(m.group(1)), s.getPath(), written.get()));
        }
      }
      return done;
    }
  }

  /**
   * When the {@code _metadata} of the checkpoint or savepoint in {@code dir} was written; empty
   * while it is missing or empty, or gone with its checkpoint.
   */
  public static Optional<Long> metadataWritten(Path dir) throws IOException {
    return metadataWritten(dir, dir.getFileSystem());
  }

  private static Optional<Long> metadataWritten(Path dir, FileSystem fs) throws IOException {
    Path meta = new Path(dir, METADATA);
    try {
      if (!fs.exists(meta)) {
        return Optional.empty();
      }
      FileStatus s = fs.getFileStatus(meta);
      return s.getLen() > 0 ? Optional.of(s.getModificationTime()) : Optional.empty();
    } catch (FileNotFoundException gone) {
      return Optional.empty(); // deleted between the two questions
    }
  }
}
