package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.ModelConfig;
import io.streamrec.protocol.ByteMutations;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whatever bytes a producer sends, the deserializer answers each record with exactly one event or
 * one dead letter, and never throws: an exception there fails the source, and the restarted job
 * reads the same record again, for ever. Valid records of both kinds are corrupted at random (bits
 * flipped, bytes overwritten with extreme values, cut short, bytes inserted or deleted, varint
 * lengths made huge), from a fixed seed.
 */
class EventDeserializerFuzzTest {
  private static final int MUTANTS = 20_000;
  private static final int MAX_BYTES = 1 << 20;

  @ParameterizedTest
  @EnumSource(EventKind.class)
  void everyCorruptedRecordIsOneEventOrOneDeadLetterAndNothingThrows(EventKind kind) {
    EventDeserializerTest.RecordingGroup metrics = new EventDeserializerTest.RecordingGroup();
    EventDeserializer d =
        EventDeserializerTest.open(
            kind,
            MAX_BYTES,
            InputLimits.from(new Configuration(), ModelConfig.defaults()),
            metrics);
    List<byte[]> seeds = seeds(kind);
    SplittableRandom rnd = new SplittableRandom(kind.ordinal() * 7919L + 17);
    long events = 0;
    long dead = 0;
    for (int i = 0; i < MUTANTS; i++) {
      byte[] original = seeds.get(rnd.nextInt(seeds.size()));
      byte[] value = ByteMutations.mutate(original, rnd);
      List<DecodedEvent> out;
      try {
        out = EventDeserializerTest.read(d, "topic", value);
      } catch (RuntimeException e) {
        throw new AssertionError("mutant " + i + " threw (" + Arrays.toString(value) + ")", e);
      }
      assertThat(out).as("mutant %d: one output", i).hasSize(1);
      if (out.get(0).deadLetter() != null) {
        dead++;
      } else {
        events++;
      }
    }
    String in = kind == EventKind.REQUEST ? JobMetrics.REQUESTS_IN : JobMetrics.IMPRESSIONS_IN;
    String deadName =
        kind == EventKind.REQUEST
            ? JobMetrics.DEAD_LETTER_REQUESTS
            : JobMetrics.DEAD_LETTER_IMPRESSIONS;
    assertThat(metrics.count(in)).isEqualTo(MUTANTS);
    assertThat(metrics.count(deadName)).isEqualTo(dead);
    System.out.printf(
        "%s: %,d corrupted records, %,d read as events, %,d dead letters%n",
        kind, MUTANTS, events, dead);
    assertThat(dead).as("most corruptions are caught").isGreaterThan(MUTANTS / 2);
  }

  private static List<byte[]> seeds(EventKind kind) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      if (kind == EventKind.REQUEST) {
        out.add(
            AvroCodec.encode(
                RequestEvent.newBuilder()
                    .setRequestId("req-" + i)
                    .setTimestampMs(1_767_225_600_000L + i)
                    .setFeatures(
                        Map.of(
                            "user_id", List.of("u" + i),
                            "recent_items", List.of("i1", "i2", "i" + i)))
                    .setDense(i % 2 == 0 ? Map.of("hour", (float) i) : Map.of())
                    .build()));
      } else {
        out.add(
            AvroCodec.encode(
                ImpressionEvent.newBuilder()
                    .setRequestId("req-" + i)
                    .setImpressionId("req-" + i + "-" + i)
                    .setTimestampMs(1_767_225_600_100L + i)
                    .setFeatures(Map.of("item_id", List.of("i" + i)))
                    .setDense(Map.of("position", (float) i))
                    .setLabels(Map.of("click", (float) (i % 2)))
                    .build()));
      }
    }
    return out;
  }
}
