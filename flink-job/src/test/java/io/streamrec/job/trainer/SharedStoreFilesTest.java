package io.streamrec.job.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.trainer.SharedStoreFiles.SharedFile;
import java.util.Map;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;

class SharedStoreFilesTest {
  private static SharedFile file(String name) {
    return new SharedFile(new Path("file:///cp/shared/" + name), 100, true);
  }

  @Test
  void aFileGoesOnceNoRetainedOrPendingCheckpointReferencesIt() {
    SharedStoreFiles files = new SharedStoreFiles(1);
    SharedFile a = file("a"), b = file("b"), c = file("c");
    files.begin(1);
    files.uploaded(1, "1.sst#100", a);
    files.uploaded(1, "2.sst#100", b);
    // checkpoint 2: 1.sst is still live, 2.sst was compacted away into 3.sst
    files.begin(2);
    assertThat(files.reference(2, "1.sst#100")).isEqualTo(a);
    files.uploaded(2, "3.sst#100", c);
    assertThat(files.completed(1)).as("checkpoint 1 is the retained one").isEmpty();
    assertThat(files.completed(2)).containsExactly(b);
    assertThat(files.reference(3, "2.sst#100")).as("a deleted file is uploaded again").isNull();
    assertThat(files.reference(3, "1.sst#100")).isEqualTo(a);
    assertThat(files.reference(3, "3.sst#100")).isEqualTo(c);
  }

  @Test
  void filesOfTheRetainedCheckpointsStay() {
    SharedStoreFiles files = new SharedStoreFiles(2);
    SharedFile a = file("a"), b = file("b");
    files.begin(1);
    files.uploaded(1, "1.sst#100", a);
    assertThat(files.completed(1)).isEmpty();
    files.begin(2);
    files.uploaded(2, "2.sst#100", b);
    assertThat(files.completed(2)).as("checkpoint 1 is still retained").isEmpty();
    files.begin(3);
    files.reference(3, "2.sst#100");
    assertThat(files.completed(3)).containsExactly(a);
  }

  @Test
  void aFilePendingCheckpointsReferenceIsKept() {
    SharedStoreFiles files = new SharedStoreFiles(1);
    SharedFile a = file("a");
    files.begin(1);
    files.uploaded(1, "1.sst#100", a);
    files.begin(3);
    files.reference(3, "1.sst#100"); // checkpoint 3 is being uploaded
    files.completed(1);
    files.begin(2);
    assertThat(files.completed(2)).isEmpty();
    files.aborted(3);
    files.begin(4);
    assertThat(files.completed(4)).containsExactly(a);
  }

  @Test
  void aCompletedSavepointDeletesNothingTheCheckpointsBeforeItHold() {
    SharedStoreFiles files = new SharedStoreFiles(1);
    SharedFile a = file("a");
    files.begin(1);
    files.uploaded(1, "1.sst#100", a);
    assertThat(files.completed(1)).isEmpty();
    // checkpoint 2 is a savepoint: its files are its own, and Flink keeps checkpoint 1
    assertThat(files.completed(2)).isEmpty();
    assertThat(files.reference(3, "1.sst#100")).isEqualTo(a);
  }

  @Test
  void filesInheritedFromAnotherRunAreForgottenButNeverDeleted() {
    SharedStoreFiles files = new SharedStoreFiles(1);
    SharedFile old = new SharedFile(new Path("file:///other-job/shared/x"), 100, false);
    files.inherit(7, Map.of("1.sst#100", old));
    files.begin(8);
    assertThat(files.reference(8, "1.sst#100")).isEqualTo(old);
    assertThat(files.completed(8)).isEmpty();
    assertThat(files.size()).isEqualTo(1);
    files.begin(9);
    assertThat(files.completed(9)).as("unreferenced, but not ours to delete").isEmpty();
    assertThat(files.size()).isZero();
  }

  /**
   * A job restored from another job's checkpoint (docs/deploy.md: "into another --state-dir"), then
   * failed over, took every file of the checkpoint it restored for its own, those in the other
   * job's directory too, and deleted them once its checkpoints no longer used them: the other job's
   * newest checkpoint could not be restored any more ("the checkpoint references ..., which is
   * gone"). A failover now owns only the files in this job's own checkpoint directory.
   */
  @Test
  void aFailoverOwnsTheFilesInItsOwnJobsDirectoryOnly() {
    String own = "/a1e6f7c4edef43080e7a0a3a7a1b3686/";
    assertThat(
            TrainerOperator.ownsFile(
                "file:/state/sY/checkpoints/a1e6f7c4edef43080e7a0a3a7a1b3686/shared/4e06c413", own))
        .isTrue();
    assertThat(
            TrainerOperator.ownsFile(
                "file:/state/s2/checkpoints/0b7d0e4c7f1e2a3b4c5d6e7f8a9b0c1d/shared/4e06c413", own))
        .as("a file of the checkpoint this job was restored from")
        .isFalse();
  }
}
