package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.protocol.ModelLineage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lineage id of the new model a job of {@code run} trains, where {@code trainer.model-id} is
 * not set: drawn once and kept in the state directory, one file per job ({@code model-id-<job
 * id>}). The trainer drew one each time the job was built, so a run stopped or killed before its
 * first checkpoint started again as another model, and refused its own topic ("holds model 0999… at
 * version 118; this job trains model 7c73… (a new one)") at every start after. A checkpoint, once
 * there, restores its own lineage whatever this says.
 *
 * <p>Per job, not per directory: a start with another {@code kafka.group-id} or {@code
 * topics.model-updates} is another job, which finds no checkpoint of its own and trains a new model
 * from the topics' start. With one id per directory that new model took the old one's id, and
 * published over it on its topic without {@code --replace}, its replicas none the wiser.
 */
final class StateDirModelId {
  /** The one file of the releases that kept one id per state directory. */
  static final String LEGACY_FILE = "model-id";

  private StateDirModelId() {}

  /** The name of job {@code jobId}'s file. */
  static String file(String jobId) {
    return "model-id-" + jobId;
  }

  /**
   * The id kept in {@code stateDir} for job {@code jobId}, drawn and kept first where there is
   * none. A directory of an earlier release keeps one id for all its jobs ({@value #LEGACY_FILE}):
   * the job takes it over where {@code adoptLegacy} says so (no other job has checkpoints there, so
   * it was this one's, stopped before its first checkpoint; asked only where that file is), and
   * draws its own otherwise.
   */
  static String of(Path stateDir, String jobId, java.util.function.BooleanSupplier adoptLegacy) {
    Path f = stateDir.resolve(file(jobId));
    try {
      if (Files.isRegularFile(f)) {
        return read(f);
      }
      Path legacy = stateDir.resolve(LEGACY_FILE);
      if (Files.isRegularFile(legacy) && adoptLegacy.getAsBoolean()) {
        String kept = read(legacy);
        Files.move(legacy, f);
        return kept;
      }
      String id = ModelLineage.format(ModelLineage.newId());
      Files.writeString(f, id + "\n", StandardCharsets.UTF_8);
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the model id in " + f, e);
    }
  }

  /** Deletes job {@code jobId}'s kept id, where there is one: the next new start draws another. */
  static void forget(Path stateDir, String jobId) {
    Path f = stateDir.resolve(file(jobId));
    try {
      Files.deleteIfExists(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the kept model id " + f, e);
    }
  }

  private static String read(Path f) throws IOException {
    String kept = Files.readString(f, StandardCharsets.UTF_8).strip();
    try {
      ModelLineage.parse(kept);
    } catch (RuntimeException e) {
      throw new StreamrecException(
          f + " holds '" + kept + "', not a model id (16 hex digits): delete it to draw a new one");
    }
    return kept;
  }
}
