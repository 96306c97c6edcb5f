package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.protocol.ModelLineage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lineage id of the new model a {@code run} on a state directory trains, where {@code
 * trainer.model-id} is not set: drawn once and kept in the state directory ({@value #FILE}). The
 * trainer drew one each time the job was built, so a run stopped or killed before its first
 * checkpoint started again as another model, and refused its own topic ("holds model 0999… at
 * version 118; this job trains model 7c73… (a new one)") at every start after. A checkpoint, once
 * there, restores its own lineage whatever this says.
 */
final class StateDirModelId {
  static final String FILE = "model-id";

  private StateDirModelId() {}

  /** The id kept in {@code stateDir}, drawn and kept first where there is none. */
  static String of(Path stateDir) {
    Path f = stateDir.resolve(FILE);
    try {
      if (Files.isRegularFile(f)) {
        String kept = Files.readString(f, StandardCharsets.UTF_8).strip();
        try {
          ModelLineage.parse(kept);
        } catch (RuntimeException e) {
          throw new StreamrecException(
              f
                  + " holds '"
                  + kept
                  + "', not a model id (16 hex digits): delete it to draw a new one");
        }
        return kept;
      }
      String id = ModelLineage.format(ModelLineage.newId());
      Files.writeString(f, id + "\n", StandardCharsets.UTF_8);
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the model id in " + f, e);
    }
  }
}
