package io.streamrec.cli;

import io.streamrec.job.trainer.Handoff;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.schemas.VersionMarker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether {@code run} may go on from a handoff whose model the topic already holds past it.
 *
 * <p>A run that goes on from a handoff publishes the handoff's model from its next version. When
 * the topic already holds later versions of that model, some job went on from the handoff before.
 * If it was this run, started again on its state directory after it stopped before its first
 * checkpoint, it trains those versions again, the same ones, and does not publish them twice. Any
 * other job (another state directory, another machine: the live job itself, or a second {@code run}
 * from the same handoff) would publish a second set of the model's next versions over the first,
 * and replicas would read two models' rows as one; so that start is refused. A run records in its
 * state directory which handoff it started from ({@value #RECORD}), which tells the two apart.
 */
final class HandoffStarts {
  static final String RECORD = "handoff-start";

  private HandoffStarts() {}

  /**
   * Null when a run on {@code stateDir} may go on from the handoff of header {@code h} at {@code
   * path}, given the topic's newest marker {@code head}; otherwise why not, and what to do.
   */
  static String refusal(
      Handoff.Header h, Optional<VersionMarker> head, String path, Path stateDir, String topic) {
    if (head.isEmpty()
        || head.get().getModel() != h.model()
        || head.get().getVersion() <= h.version()
        || startedHere(stateDir, h, path)) {
      return null;
    }
    return "model-updates topic '"
        + topic
        + "' already holds version "
        + head.get().getVersion()
        + " of model "
        + ModelLineage.format(h.model())
        + ", past the version "
        + h.version()
        + " the handoff at "
        + path
        + " holds: another job has gone on from it, and a second one would publish another set"
        + " of the model's next versions over the first. Resume that job (its own --state-dir),"
        + " or stop it and go on from a handoff written after its last version";
  }

  /** Records that a run on {@code stateDir} goes on from the handoff {@code h} at {@code path}. */
  static void record(Path stateDir, Handoff.Header h, String path) {
    try {
      Files.writeString(stateDir.resolve(RECORD), line(h, path), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + stateDir.resolve(RECORD), e);
    }
  }

  /**
   * Whether a run on {@code stateDir} went on from the handoff {@code h} at {@code path} before.
   */
  static boolean startedHere(Path stateDir, Handoff.Header h, String path) {
    Path record = stateDir.resolve(RECORD);
    try {
      if (!Files.isRegularFile(record)) {
        return false;
      }
      String recorded = Files.readString(record, StandardCharsets.UTF_8);
      String lineage = ModelLineage.format(h.model()) + " " + h.version() + " ";
      return recorded.equals(line(h, path))
          || recorded.startsWith(lineage)
              && recorded.endsWith("\n")
              && sameFile(recorded.substring(lineage.length(), recorded.length() - 1), path);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Whether two local paths name one file however they were written ({@code model.handoff}, {@code
   * ./model.handoff}, its absolute path); other file systems' paths only as the same string.
   */
  private static boolean sameFile(String a, String b) {
    if (a.contains(":") || b.contains(":")) {
      return a.equals(b);
    }
    try {
      return Path.of(a)
          .toAbsolutePath()
          .normalize()
          .equals(Path.of(b).toAbsolutePath().normalize());
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  private static String line(Handoff.Header h, String path) {
    return ModelLineage.format(h.model()) + " " + h.version() + " " + path + "\n";
  }
}
