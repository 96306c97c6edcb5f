package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.protocol.ModelLineage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed before its first checkpoint drew another model id when started again, and refused
 * its own topic at every start after ("holds model 0999… at version 118; this job trains model
 * 7c73… (a new one)").
 */
class StateDirModelIdTest {
  @TempDir Path dir;

  @Test
  void aStateDirectoryKeepsTheIdOfItsNewModel() throws Exception {
    String first = StateDirModelId.of(dir);
    ModelLineage.parse(first);
    assertThat(StateDirModelId.of(dir)).isEqualTo(first);
    assertThat(StateDirModelId.of(Files.createDirectory(dir.resolve("other")))).isNotEqualTo(first);

    Files.writeString(dir.resolve(StateDirModelId.FILE), "not an id\n");
    assertThatThrownBy(() -> StateDirModelId.of(dir))
        .hasMessageContaining("holds 'not an id', not a model id");
  }

  /**
   * {@code run --from-handoff} into a new state directory drew an id there too, and the trainer
   * warned that "trainer.model-id … names a new model's lineage", which the user never set.
   */
  @Test
  void aRunFromAHandoffDrawsNoIdOfItsOwn() throws Exception {
    org.apache.flink.configuration.Configuration fromHandoff =
        new org.apache.flink.configuration.Configuration();
    fromHandoff.set(io.streamrec.job.config.JobOptions.HANDOFF_START_FROM, "/h/model.handoff");
    RunCommand.keepNewModelId(fromHandoff, dir);
    assertThat(fromHandoff.get(io.streamrec.job.config.JobOptions.MODEL_ID)).isEmpty();
    assertThat(dir.resolve(StateDirModelId.FILE)).doesNotExist();

    org.apache.flink.configuration.Configuration fresh =
        new org.apache.flink.configuration.Configuration();
    RunCommand.keepNewModelId(fresh, dir);
    assertThat(fresh.get(io.streamrec.job.config.JobOptions.MODEL_ID))
        .isEqualTo(StateDirModelId.of(dir));
  }

  /**
   * A start that resumes a checkpoint of a state directory from before the id was kept there drew
   * one, which named no model: the checkpoint restores its own lineage.
   */
  @Test
  void aStartThatRestoresDrawsNoId() {
    org.apache.flink.configuration.Configuration resuming =
        new org.apache.flink.configuration.Configuration();
    resuming.set(
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
        dir.resolve("checkpoints/0a/chk-2").toString());
    RunCommand.keepNewModelId(resuming, dir);
    assertThat(resuming.get(io.streamrec.job.config.JobOptions.MODEL_ID)).isEmpty();
    assertThat(dir.resolve(StateDirModelId.FILE)).doesNotExist();
  }
}
