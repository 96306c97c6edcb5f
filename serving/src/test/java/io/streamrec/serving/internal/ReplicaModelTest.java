package io.streamrec.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaModelTest {
  /**
   * Each thread that scored had a scorer of its own (a thread local), and the HTTP server runs a
   * thread per connection: a model held as many scorers, each two copies of the dense parameters,
   * as connections had ever scored on it. Scorers are shared now, as many as scores at once.
   */
  @Test
  void threadsThatScoreOneAfterAnotherShareOneScorerAndScoreAlike() throws Exception {
    ReplicaModel model = new ReplicaModel();
    model.setConfig(ModelConfig.defaults(), 1);
    List<RequestUnit> units = units();
    float[] first = model.score(units);
    float[][] byThread = new float[8][];
    for (int t = 0; t < byThread.length; t++) {
      int i = t;
      Thread thread = new Thread(() -> byThread[i] = model.score(units));
      thread.start();
      thread.join();
    }
    for (float[] scores : byThread) {
      assertThat(scores).containsExactly(first);
    }
    assertThat(model.scorersMade()).isEqualTo(1);
  }

  /**
   * A spec whose hot capacity is past what one trainer's slab holds (published by a trainer from
   * before such a capacity was refused) is a model a replica scores: a replica keeps no hot tier,
   * and it stopped on the spec with the trainer's refusal of that capacity.
   */
  @Test
  void aSpecWithAHotCapacityPastOneSlabStillScores() throws Exception {
    ReplicaModel model = new ReplicaModel();
    model.setConfig(ModelConfig.defaults().withHotCapacityRows(Integer.MAX_VALUE), 1);
    assertThat(model.score(units())).hasSize(units().get(0).getImpressions().size());
  }

  /**
   * A dense block of another length than the spec's (a record of another producer): the replica
   * applied it, and every score after it failed (503) while its probes said it was ready. It is
   * refused and counted, as a row of the wrong width is, and the block keeps what it had.
   */
  @Test
  void aDenseBlockOfAnotherLengthIsRefusedAndTheModelStillScores() {
    ReplicaModel model = new ReplicaModel();
    model.setConfig(ModelConfig.defaults(), 5);
    java.util.Map<String, Integer> sizes =
        new io.streamrec.model.ModelScorer(ModelConfig.defaults()).denseBlockSizes();
    String block = sizes.keySet().iterator().next();
    float[] right = new float[sizes.get(block)];
    java.util.Arrays.fill(right, 0.5f);

    PendingVersion v1 = new PendingVersion();
    v1.add(new io.streamrec.protocol.ModelUpdate.DenseBlock("dense/" + block, block, 5, 1, right));
    assertThat(v1.applyTo(model, marker(1))).isEqualTo(new PendingVersion.Applied(0, 0, 0));
    assertThat(model.dense(block)).containsExactly(right);

    PendingVersion v2 = new PendingVersion();
    v2.add(
        new io.streamrec.protocol.ModelUpdate.DenseBlock(
            "dense/" + block, block, 5, 2, new float[right.length + 1]));
    assertThat(v2.applyTo(model, marker(2))).isEqualTo(new PendingVersion.Applied(0, 1, 0));

    assertThat(model.dense(block)).containsExactly(right);
    assertThat(model.score(units())).hasSize(1);
  }

  /**
   * A first version whose dense block was refused (another producer's length) left the model
   * without it, and the replica served it complete, scoring with the block's initial values: a
   * model the trainer never had. It is complete only once it holds the blocks its marker counts.
   */
  @Test
  void aModelWithoutTheDenseBlocksItsMarkerCountsIsNotComplete() {
    ReplicaModel model = new ReplicaModel();
    model.setConfig(ModelConfig.defaults(), 5);
    java.util.Map<String, Integer> sizes =
        new io.streamrec.model.ModelScorer(ModelConfig.defaults()).denseBlockSizes();
    String block = sizes.keySet().iterator().next();
    PendingVersion v1 = new PendingVersion();
    v1.add(
        new io.streamrec.protocol.ModelUpdate.DenseBlock(
            "dense/" + block, block, 5, 1, new float[sizes.get(block) + 1]));
    assertThat(v1.applyTo(model, marker(1))).isEqualTo(new PendingVersion.Applied(0, 1, 0));
    assertThat(model.missingDenseBlocks()).isEqualTo(1);
    assertThat(model.complete()).isFalse();

    PendingVersion v2 = new PendingVersion();
    v2.add(
        new io.streamrec.protocol.ModelUpdate.DenseBlock(
            "dense/" + block, block, 5, 2, new float[sizes.get(block)]));
    v2.applyTo(model, marker(2));
    assertThat(model.missingDenseBlocks()).isZero();
    assertThat(model.complete()).isTrue();
  }

  private static io.streamrec.schemas.VersionMarker marker(long version) {
    return io.streamrec.schemas.VersionMarker.newBuilder()
        .setModel(5)
        .setVersion(version)
        .setEventTimeMs(1_000 * version)
        .setRows(0)
        .setDenseBlocks(1)
        .setTombstones(0)
        .setPublishedAtMs(1_000 * version)
        .setTrainedImpressions(version)
        .setTrainedUnits(version)
        .setProgressiveAuc(0.5)
        .setProgressiveLogLoss(0.7)
        .setSkippedBatches(0)
        .build();
  }

  private static List<RequestUnit> units() {
    RequestEvent request =
        JsonEvents.parseRequest(
            "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"user_id\":[\"u1\"]}}");
    return List.of(
        RequestUnits.of(
            request,
            List.of(
                JsonEvents.parseImpression(
                    "{\"impressionId\":\"0\",\"requestId\":\"r1\",\"timestampMs\":1,"
                        + "\"features\":{\"item_id\":[\"i\"]}}")),
            1));
  }
}
