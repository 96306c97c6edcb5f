package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoriesTest {
  @TempDir Path tmp;

  @Test
  void deletesATreeAndIgnoresOneThatIsNotThere() throws Exception {
    Path dir = tmp.resolve("a");
    Files.createDirectories(dir.resolve("b/c"));
    Files.writeString(dir.resolve("b/c/f"), "x");
    Files.writeString(dir.resolve("g"), "y");
    Directories.deleteRecursively(dir);
    assertThat(dir).doesNotExist();
    Directories.deleteRecursively(dir);
    Directories.deleteRecursively(null);
  }

  /**
   * Directories deleted by another thread while the tree is walked, as Flink discards a checkpoint
   * in a backfill's scratch directory as the job ends: before, the walk failed on the one it could
   * no longer list, and the backfill that had finished its work failed with it.
   */
  @Test
  void directoriesAnotherThreadDeletesMeanwhileAreNoError() throws Exception {
    for (int round = 0; round < 30; round++) {
      Path dir = tmp.resolve("scratch-" + round);
      List<Path> checkpoints = new ArrayList<>();
      for (int c = 0; c < 200; c++) {
        Path chk = dir.resolve("checkpoints/job/chk-" + c);
        Files.createDirectories(chk);
        for (int f = 0; f < 3; f++) {
          Files.writeString(chk.resolve("f" + f), "state");
        }
        checkpoints.add(chk);
      }
      CountDownLatch go = new CountDownLatch(1);
      Thread flink =
          new Thread(
              () -> {
                try {
                  go.await();
                  for (int c = checkpoints.size() - 1; c >= 0; c--) {
                    Directories.deleteRecursively(checkpoints.get(c));
                  }
                } catch (Exception e) {
                  // the walk below may have deleted it first
                }
              });
      flink.start();
      go.countDown();
      Directories.deleteRecursively(dir);
      flink.join();
      assertThat(dir).as("round %d", round).doesNotExist();
    }
  }
}
