package io.streamrec.job.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackgroundDeletesTest {
  @TempDir java.nio.file.Path dir;

  /**
   * On object storage a delete is a remote call: the caller (the trainer's thread, at each
   * completed checkpoint) is not held while one runs, and the files go in the order asked.
   */
  @Test
  void aSlowDeleteHoldsNotTheCallerAndFilesGoInOrder() throws Exception {
    CountDownLatch storageAnswers = new CountDownLatch(1);
    List<String> deleted = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    BackgroundDeletes deletes =
        new BackgroundDeletes(
            "deleter",
            f -> {
              try {
                assertThat(storageAnswers.await(10, TimeUnit.SECONDS)).isTrue();
              } catch (InterruptedException e) {
                throw new IOException(e);
              }
              threads.add(Thread.currentThread().getName());
              deleted.add(f.getName());
            });

    deletes.delete(new Path("s3://bucket/shared/a"));
    deletes.delete(new Path("s3://bucket/shared/b"));
    assertThat(deleted).as("the caller went on while the storage had not answered").isEmpty();

    storageAnswers.countDown();
    deletes.close();
    assertThat(deleted).containsExactly("a", "b");
    assertThat(threads).containsOnly("deleter");
  }

  @Test
  void aFileIsDeletedThroughItsFileSystemAndAFailureIsNotThrown() throws Exception {
    java.nio.file.Path file = Files.writeString(dir.resolve("shared-file"), "x");
    try (BackgroundDeletes deletes = new BackgroundDeletes("deleter")) {
      deletes.delete(Path.fromLocalFile(file.toFile()));
      deletes.delete(new Path("nosuchscheme://x/y"));
    }
    assertThat(file).doesNotExist();
  }

  @Test
  void aDeleteAskedAfterCloseIsNotThrown() throws Exception {
    BackgroundDeletes deletes = new BackgroundDeletes("deleter", f -> {});
    deletes.close();
    deletes.delete(new Path("file:///tmp/x"));
  }
}
