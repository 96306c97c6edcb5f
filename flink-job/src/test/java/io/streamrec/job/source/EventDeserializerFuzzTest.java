package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
    EventDeserializer d = open(kind, metrics);
    List<byte[]> seeds = seeds(kind);
    SplittableRandom rnd = new SplittableRandom(kind.ordinal() * 7919L + 17);
    long events = 0;
    long dead = 0;
    for (int i = 0; i < MUTANTS; i++) {
      byte[] original = seeds.get(rnd.nextInt(seeds.size()));
      byte[] value = mutate(original, rnd);
      List<DecodedEvent> out = new ArrayList<>();
      try {
        read(d, value, out);
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

  private static byte[] mutate(byte[] original, SplittableRandom rnd) {
    byte[] v = original.clone();
    int edits = 1 + rnd.nextInt(3);
    for (int e = 0; e < edits && v.length > 0; e++) {
      int at = rnd.nextInt(v.length);
      switch (rnd.nextInt(6)) {
        case 0 -> v[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> v[at] = (byte) (rnd.nextBoolean() ? 0x7f : 0xff);
        case 2 -> v = Arrays.copyOf(v, at);
        case 3 -> {
          byte[] w = new byte[v.length + 1];
          System.arraycopy(v, 0, w, 0, at);
          w[at] = (byte) rnd.nextInt(256);
          System.arraycopy(v, at, w, at + 1, v.length - at);
          v = w;
        }
        case 4 -> {
          byte[] w = new byte[v.length - 1];
          System.arraycopy(v, 0, w, 0, at);
          System.arraycopy(v, at + 1, w, at, v.length - at - 1);
          v = w;
        }
        default -> {
          // a varint length of about 2^31 or more: five bytes with the continuation bit set
          byte[] w = new byte[v.length + 4];
          System.arraycopy(v, 0, w, 0, at);
          w[at] = (byte) 0xfe;
          w[at + 1] = (byte) 0xff;
          w[at + 2] = (byte) 0xff;
          w[at + 3] = (byte) 0xff;
          w[at + 4] = (byte) 0x0f;
          System.arraycopy(v, at, w, at + 5, v.length - at - 1);
          v = w;
        }
      }
    }
    return v;
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

  private static EventDeserializer open(EventKind kind, MetricGroup metrics) {
    EventDeserializer d =
        new EventDeserializer(
            kind,
            MAX_BYTES,
            InputLimits.from(new Configuration(), ModelConfig.defaults()),
            ModelConfig.defaults().features());
    d.open(
        new DeserializationSchema.InitializationContext() {
          @Override
          public MetricGroup getMetricGroup() {
            return metrics;
          }

          @Override
          public UserCodeClassLoader getUserCodeClassLoader() {
            return SimpleUserCodeClassLoader.create(getClass().getClassLoader());
          }
        });
    return d;
  }

  private static void read(EventDeserializer d, byte[] value, List<DecodedEvent> out) {
    ConsumerRecord<byte[], byte[]> r =
        new ConsumerRecord<>(
            "topic",
            0,
            7L,
            1234L,
            org.apache.kafka.common.record.TimestampType.CREATE_TIME,
            0,
            0,
            "k".getBytes(StandardCharsets.UTF_8),
            value,
            new org.apache.kafka.common.header.internals.RecordHeaders(),
            java.util.Optional.empty());
    d.deserialize(
        r,
        new Collector<>() {
          @Override
          public void collect(DecodedEvent e) {
            out.add(e);
          }

          @Override
          public void close() {}
        });
  }
}
