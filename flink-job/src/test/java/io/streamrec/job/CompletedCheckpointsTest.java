package io.streamrec.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.local.LocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run}'s account of a stop with a savepoint listed the job's checkpoints while Flink deleted
 * a subsumed one, and failed the command: "cannot list ... for checkpoints to resume from ... chk-2
 * does not exist". A listing that meets a checkpoint being deleted is made again.
 */
class CompletedCheckpointsTest {
  @Test
  void aCheckpointDeletedWhileListedIsListedAgainAndOneGoneIsNone(@TempDir java.nio.file.Path dir)
      throws IOException {
    java.nio.file.Path job = Files.createDirectories(dir.resolve("job"));
    Files.writeString(Files.createDirectories(job.resolve("chk-3")).resolve("_metadata"), "m");
    Files.createDirectories(job.resolve("chk-4")); // still being written
    AtomicInteger listings = new AtomicInteger();
    LocalFileSystem deleting =
        new LocalFileSystem() {
          @Override
          public FileStatus[] listStatus(Path f) throws IOException {
            if (listings.incrementAndGet() == 1) {
              throw new FileNotFoundException("File " + f + "/chk-2 does not exist");
            }
            return super.listStatus(f);
          }
        };
    assertThat(CompletedCheckpoints.in(new Path(job.toUri()), deleting))
        .extracting(CompletedCheckpoints.Completed::id)
        .containsExactly(3L);
    assertThat(listings).hasValue(2);

    LocalFileSystem alwaysDeleting =
        new LocalFileSystem() {
          @Override
          public FileStatus[] listStatus(Path f) throws IOException {
            throw new FileNotFoundException("File " + f + "/chk-2 does not exist");
          }
        };
    assertThatThrownBy(() -> CompletedCheckpoints.in(new Path(job.toUri()), alwaysDeleting))
        .isInstanceOf(FileNotFoundException.class);

    // the metadata gone between "is it there" and "how long is it"
    LocalFileSystem metadataGone =
        new LocalFileSystem() {
          @Override
          public FileStatus getFileStatus(Path f) throws IOException {
            if (f.getName().equals("_metadata")) {
              throw new FileNotFoundException(f + " does not exist");
            }
            return super.getFileStatus(f);
          }
        };
    assertThat(CompletedCheckpoints.in(new Path(job.toUri()), metadataGone)).isEmpty();
  }
}
