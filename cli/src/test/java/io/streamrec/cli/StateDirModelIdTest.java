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
}
