package io.streamrec.job.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.protocol.ByteMutations;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes the request-units topic holds (a writer of another build, a disk fault, a producer
 * that is not streamrec), the decoder answers each record with one unit or one dead letter, never
 * throws, and never passes on a unit the trainer cannot train: one whose shape is not its layout's
 * (bags, dense values and labels per impression), or whose values are not finite, or whose labels
 * are outside [0, 1]. Such a unit would fail the trainer (the restarted job reading it again, for
 * ever) or put NaN into the model that replicas serve.
 */
class UnitDecoderFuzzTest {
  private static final int MUTANTS = 20_000;
  private static final UnitLayout LAYOUT = new UnitLayout(ModelConfig.defaults().features());

  @Test
  void everyCorruptedUnitIsADeadLetterOrAUnitTheTrainerCanTrain() throws Exception {
    List<byte[]> seeds = new ArrayList<>();
    for (CompactUnit u : CompactUnitSerializerTest.units(8, 5)) {
      seeds.add(CompactUnitCodec.encode(u));
    }
    SplittableRandom rnd = new SplittableRandom(29);
    InputLimits limits = InputLimits.from(new Configuration(), ModelConfig.defaults());
    int passed = 0;
    int dead = 0;
    try (var h =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(
                new UnitDecoder(ModelConfig.defaults().features(), 1 << 20, 0, limits)))) {
      h.open();
      for (int i = 0; i < MUTANTS; i++) {
        byte[] value = ByteMutations.mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
        int before = h.extractOutputValues().size();
        int deadBefore = h.getSideOutput(UnitDecoder.DEAD_LETTERS) == null ? 0 : size(h);
        try {
          h.processElement(
              new StreamRecord<>(
                  new UnitRecord(
                      "request-units", "r".getBytes(StandardCharsets.UTF_8), value, 42L)));
        } catch (Exception e) {
          throw new AssertionError("mutant " + i + " threw: " + Arrays.toString(value), e);
        }
        List<CompactUnit> out = h.extractOutputValues();
        int units = out.size() - before;
        int letters = size(h) - deadBefore;
        assertThat(units + letters).as("mutant %d: one output", i).isEqualTo(1);
        if (units == 1) {
          String wrong = wrongFor(out.get(out.size() - 1));
          assertThat(wrong).as("mutant %d passed on: %s", i, Arrays.toString(value)).isNull();
          passed++;
        } else {
          dead++;
        }
      }
    }
    System.out.printf(
        "units: %,d corrupted records, %,d passed on as units, %,d dead letters%n",
        MUTANTS, passed, dead);
  }

  private static int size(OneInputStreamOperatorTestHarness<UnitRecord, CompactUnit> h) {
    var q = h.getSideOutput(UnitDecoder.DEAD_LETTERS);
    return q == null ? 0 : q.size();
  }

  /** What makes {@code u} a unit the trainer cannot train; null if nothing does. */
  static String wrongFor(CompactUnit u) {
    if (u.timestampMs() < 0 || u.closedAtMs() < u.timestampMs()) {
      return "times " + u.timestampMs() + " and " + u.closedAtMs();
    }
    int n = u.impressions();
    int bags = LAYOUT.requestFeatures() + n * LAYOUT.impressionFeatures();
    if (u.bags() != bags) {
      return u.bags() + " bags, the layout's " + bags;
    }
    if (u.requestDense().length != LAYOUT.requestDenseCount()) {
      return u.requestDense().length + " request dense values";
    }
    if (u.impressionDense().length != n * LAYOUT.impressionDenseCount()) {
      return u.impressionDense().length + " impression dense values";
    }
    if (u.labels().length != n * LAYOUT.labelCount()) {
      return u.labels().length + " labels";
    }
    for (float[] values : List.of(u.requestDense(), u.impressionDense(), u.labels())) {
      for (float v : values) {
        if (!Float.isFinite(v)) {
          return "a value " + v;
        }
      }
    }
    for (float v : u.labels()) {
      if (!(v >= 0f && v <= 1f)) {
        return "a label " + v;
      }
    }
    return null;
  }
}
