package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.model.baseline.OnlineLearner;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TestThenTrainTest {
  /**
   * Remembers every label it learns, by impression id: it scores an impression it has learnt from
   * perfectly, and any other 0.5.
   */
  private static final class Memorizer implements OnlineLearner {
    final Map<String, Float> seen = new HashMap<>();
    int scored, learnt;

    @Override
    public String name() {
      return "memorizer";
    }

    @Override
    public float[] score(List<RequestUnit> units) {
      List<Float> out = new ArrayList<>();
      for (RequestUnit u : units) {
        for (Impression i : u.getImpressions()) {
          out.add(seen.getOrDefault(i.getImpressionId(), 0.5f));
        }
      }
      scored++;
      float[] p = new float[out.size()];
      for (int k = 0; k < p.length; k++) {
        p[k] = out.get(k);
      }
      return p;
    }

    @Override
    public void learn(List<RequestUnit> units) {
      for (RequestUnit u : units) {
        for (Impression i : u.getImpressions()) {
          seen.put(i.getImpressionId(), i.getLabels().get("click"));
        }
      }
      learnt++;
    }
  }

  private static List<RequestUnit> stream(int units) {
    SplittableRandom rnd = new SplittableRandom(3);
    List<RequestUnit> out = new ArrayList<>();
    for (int u = 0; u < units; u++) {
      List<Impression> imps = new ArrayList<>();
      for (int i = 0, n = 1 + rnd.nextInt(5); i < n; i++) {
        imps.add(
            Impression.newBuilder()
                .setImpressionId("r" + u + "-" + i)
                .setTimestampMs(u)
                .setFeatures(Map.of())
                .setDense(Map.of())
                .setLabels(Map.of("click", rnd.nextInt(4) == 0 ? 1f : 0f))
                .build());
      }
      out.add(
          RequestUnit.newBuilder()
              .setRequestId("r" + u)
              .setTimestampMs(u)
              .setClosedAtMs(u)
              .setFeatures(Map.of())
              .setDense(Map.of())
              .setImpressions(imps)
              .build());
    }
    return out;
  }

  @Test
  void aModelScoresEveryImpressionOfAUnitBeforeItLearnsFromIt() {
    List<RequestUnit> units = stream(500);
    Memorizer m = new Memorizer();
    TestThenTrain.Result r = TestThenTrain.run(units, 8, "click", m);

    assertThat(r.size()).isEqualTo(units.stream().mapToInt(u -> u.getImpressions().size()).sum());
    assertThat(m.scored).isEqualTo(m.learnt).isEqualTo((500 + 7) / 8);
    // never scored from a label it had learnt: every prediction is the unseen one
    assertThat(r.predictions()).containsOnly(0.5);
    assertThat(r.lifetimeAuc()).isEqualTo(0.5);
    assertThat(r.lastAuc(100)).isEqualTo(0.5);

    // the same model after it has learnt the stream would score it perfectly
    assertThat(TestThenTrain.run(units, 8, "click", m).lifetimeAuc()).isEqualTo(1.0);
  }

  @Test
  void summariesCoverTheWholeStreamOrItsLastImpressions() {
    TestThenTrain.Result r =
        new TestThenTrain.Result(
            new double[] {0.9, 0.1, 0.2, 0.8, 0.4, 0.6}, new float[] {1, 0, 1, 0, 0, 1}, 1);
    // all: positives 0.9, 0.2, 0.6 against negatives 0.1, 0.8, 0.4: 3 + 1 + 2 of 9 pairs ordered
    assertThat(r.lifetimeAuc()).isCloseTo(6 / 9.0, within(1e-12));
    assertThat(r.lastAuc(2)).isEqualTo(1.0);
    assertThat(r.calibration(6)).isCloseTo(3.0 / 3, within(1e-12));
    assertThat(r.calibration(2)).isCloseTo(1.0, within(1e-12));
    assertThat(r.calibration(3)).isCloseTo((0.8 + 0.4 + 0.6) / 1, within(1e-12));
    assertThat(r.logLoss(2)).isCloseTo(-(Math.log(0.6) + Math.log(0.6)) / 2, within(1e-12));
  }
}
