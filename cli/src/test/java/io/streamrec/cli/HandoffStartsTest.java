package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.trainer.Handoff;
import io.streamrec.schemas.VersionMarker;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second {@code run} from a handoff the live job had already gone on from (another state
 * directory) started, trained the same range again and published a second version 126 and 127 of
 * the model over the live job's; now it is refused. The same run started again on its own state
 * directory, after stopping before its first checkpoint, still goes on.
 */
class HandoffStartsTest {
  private static final long MODEL = 0x5eed00000000000aL;
  private static final Handoff.Header HANDOFF = new Handoff.Header(MODEL, 80, Map.of());
  private static final String PATH = "/data/model.handoff";

  @TempDir Path dir;

  private static Optional<VersionMarker> head(long model, long version) {
    return Optional.of(
        VersionMarker.newBuilder()
            .setModel(model)
            .setVersion(version)
            .setEventTimeMs(1)
            .setRows(0)
            .setDenseBlocks(0)
            .setTombstones(0)
            .setPublishedAtMs(2)
            .setTrainedImpressions(0)
            .setTrainedUnits(0)
            .setProgressiveAuc(0.5)
            .setProgressiveLogLoss(0.7)
            .setSkippedBatches(0)
            .build());
  }

  @Test
  void aTopicAtOrBeforeTheHandoffOrOfAnotherModelLetsTheRunGoOn() {
    assertThat(HandoffStarts.refusal(HANDOFF, Optional.empty(), PATH, dir, "m")).isNull();
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 80), PATH, dir, "m")).isNull();
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 12), PATH, dir, "m")).isNull();
    // another model on the topic: the trainer refuses it by name, unless --replace
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL + 1, 300), PATH, dir, "m")).isNull();
  }

  @Test
  void aTopicPastTheHandoffIsRefusedUnlessThisStateDirectoryStartedFromIt() {
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 125), PATH, dir, "model-updates"))
        .contains("model-updates topic 'model-updates' already holds version 125 of model")
        .contains("past the version 80 the handoff at /data/model.handoff holds")
        .contains("Resume that job (its own --state-dir)");

    HandoffStarts.record(dir, HANDOFF, PATH);
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 125), PATH, dir, "model-updates"))
        .as("this run, started again before its first checkpoint")
        .isNull();
    assertThat(
            HandoffStarts.refusal(
                HANDOFF, head(MODEL, 125), "/data/other.handoff", dir, "model-updates"))
        .as("another handoff than the one this directory started from")
        .isNotNull();
    assertThat(
            HandoffStarts.refusal(
                new Handoff.Header(MODEL, 90, Map.of()), head(MODEL, 125), PATH, dir, "m"))
        .as("the file at that path written again since")
        .isNotNull();
  }

  /**
   * A run started again before its first checkpoint with the handoff's path written another way
   * ({@code ./model.handoff} for {@code model.handoff}, or its absolute path) was refused as
   * another job that had gone on from it.
   */
  @Test
  void theSameHandoffWrittenAnotherWayIsStillThisRunsOwn() {
    HandoffStarts.record(dir, HANDOFF, "model.handoff");
    for (String same :
        new String[] {"./model.handoff", Path.of("model.handoff").toAbsolutePath().toString()}) {
      assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 125), same, dir, "m"))
          .as(same)
          .isNull();
    }
    assertThat(HandoffStarts.refusal(HANDOFF, head(MODEL, 125), "../model.handoff", dir, "m"))
        .isNotNull();
    HandoffStarts.record(dir, HANDOFF, "s3://models/model.handoff");
    assertThat(
            HandoffStarts.refusal(HANDOFF, head(MODEL, 125), "s3://models/model.handoff", dir, "m"))
        .isNull();
    assertThat(
            HandoffStarts.refusal(HANDOFF, head(MODEL, 125), "s3://other/model.handoff", dir, "m"))
        .isNotNull();
  }
}
