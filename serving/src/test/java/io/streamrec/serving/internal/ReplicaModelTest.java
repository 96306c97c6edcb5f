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
    RequestEvent request =
        JsonEvents.parseRequest(
            "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"user_id\":[\"u1\"]}}");
    List<RequestUnit> units =
        List.of(
            RequestUnits.of(
                request,
                List.of(
                    JsonEvents.parseImpression(
                        "{\"impressionId\":\"0\",\"requestId\":\"r1\",\"timestampMs\":1,"
                            + "\"features\":{\"item_id\":[\"i\"]}}")),
                1));
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
}
