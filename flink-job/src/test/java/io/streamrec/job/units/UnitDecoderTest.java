package io.streamrec.job.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class UnitDecoderTest {

  @Test
  void unitsPassAndEveryBadRecordIsADeadLetterWithItsReason() throws Exception {
    List<CompactUnit> good = CompactUnitSerializerTest.units(5, 3);
    FeatureSpec other = ModelConfig.defaults().features();
    other = new FeatureSpec(other.categorical().subList(0, 4), other.dense(), other.labels());
    List<CompactUnit> otherSpec =
        List.of(
            new UnitEncoder(new UnitLayout(other))
                .encode(
                    RequestUnits.of(
                        new TrafficGenerator(TrafficConfig.defaults()).next(0).request(),
                        List.of(),
                        5)));
    try (var h =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(
                new UnitDecoder(ModelConfig.defaults().features(), 600, 0, LIMITS)))) {
      h.open();
      for (CompactUnit u : good) {
        h.processElement(new StreamRecord<>(record(CompactUnitCodec.encode(u))));
      }
      h.processElement(new StreamRecord<>(record("not a unit".getBytes(StandardCharsets.UTF_8))));
      h.processElement(new StreamRecord<>(record(new byte[700])));
      h.processElement(new StreamRecord<>(record(CompactUnitCodec.encode(otherSpec.get(0)))));
      h.processElement(new StreamRecord<>(record(null)));

      assertThat(h.extractOutputValues()).hasSize(5);
      List<String> reasons = new ArrayList<>();
      for (StreamRecord<DeadLetter> d : h.getSideOutput(UnitDecoder.DEAD_LETTERS)) {
        reasons.add(d.getValue().getReason());
        assertThat(d.getValue().getSourceTopic()).isEqualTo("request-units");
        assertThat(d.getValue().getKey()).isEqualTo("r1");
      }
      assertThat(reasons)
          .containsExactly(
              DeadLetterReasons.MALFORMED,
              DeadLetterReasons.TOO_LARGE,
              DeadLetterReasons.UNKNOWN_SCHEMA,
              DeadLetterReasons.MALFORMED);
    }
  }

  /**
   * A unit's dense values are squashed, sign(x)·log1p(|x|), so none is past ±88.73. One written raw
   * by another producer (1e30), or damaged by a flipped exponent bit, was trained: with running
   * normalisation its feature's variance overflowed to infinity and the feature read zero from then
   * on, in the trainer and every replica, with no word. Such a unit is now a malformed dead letter.
   */
  @Test
  void aDenseValueNoSquashedValueReachesIsMalformed() throws Exception {
    List<CompactUnit> units = CompactUnitSerializerTest.units(3, 3);
    units.get(0).requestDense()[0] = 1e30f;
    units.get(1).impressionDense()[0] = -89f;
    units.get(2).requestDense()[0] = UnitEncoder.squash(-Float.MAX_VALUE);
    try (var h =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(
                new UnitDecoder(ModelConfig.defaults().features(), 1 << 20, 0, LIMITS)))) {
      h.open();
      for (CompactUnit u : units) {
        h.processElement(new StreamRecord<>(record(CompactUnitCodec.encode(u))));
      }
      assertThat(h.extractOutputValues()).as("the most a squashed value can be").hasSize(1);
      List<String> details = new ArrayList<>();
      for (StreamRecord<DeadLetter> d : h.getSideOutput(UnitDecoder.DEAD_LETTERS)) {
        assertThat(d.getValue().getReason()).isEqualTo(DeadLetterReasons.MALFORMED);
        details.add(d.getValue().getDetail());
      }
      assertThat(details).hasSize(2);
      assertThat(details.get(0)).startsWith("request dense value 0 is 1.0E30");
      assertThat(details.get(1)).startsWith("impression dense value 0 is -89.0");
    }
  }

  private static final InputLimits LIMITS =
      InputLimits.from(new Configuration(), ModelConfig.defaults());

  private static UnitRecord record(byte[] value) {
    return new UnitRecord("request-units", "r1".getBytes(StandardCharsets.UTF_8), value, 42L);
  }
}
