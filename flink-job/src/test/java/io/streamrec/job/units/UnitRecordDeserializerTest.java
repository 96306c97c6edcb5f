package io.streamrec.job.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.config.InputOptions;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class UnitRecordDeserializerTest {
  private static final long HOUR = 3_600_000L;
  private static final long JOIN_WINDOW = 10_000L;
  private static final long T0 = Instant.parse("2025-03-01T00:00:00Z").toEpochMilli();

  /**
   * The log holds units its writer assembled from events that had passed source.max-time-jump
   * already, each partition in close order, so a gap in a partition is a quiet spell of the traffic
   * (a night, a daily batch). Judged again by that bound, the first unit after a gap of over an
   * hour went to the dead-letter topic as implausible_time, and a run over the log trained one unit
   * less than the run over the events did.
   */
  @Test
  void everyUnitOfAPartitionWithAQuietSpellOfTwoHoursIsTrained() throws Exception {
    long[] times = {
      T0, T0 + 1_000, T0 + 2 * HOUR + 1_000, T0 + 2 * HOUR + 2_000, T0 + 2 * HOUR + 3_000
    };
    List<UnitRecord> records = read(LIMITS, units(times));

    for (UnitRecord r : records) {
      assertThat(r.implausibleTime).as("unit closed at %s", r.timestampMs).isNull();
      assertThat(r.eventTimeMs()).isEqualTo(r.timestampMs);
    }
    assertThat(decode(records)).hasSize(times.length);
  }

  /** The log's times are still held to the floor and to the wall clock, as the events' are. */
  @Test
  void aUnitTimedBeforeTheFloorOrFarAheadOfTheWallClockIsImplausible() throws Exception {
    Configuration c = new Configuration();
    c.set(InputOptions.MIN_TIMESTAMP, Instant.ofEpochMilli(T0).toString());
    InputLimits limits = InputLimits.from(c, ModelConfig.defaults());
    long ahead = System.currentTimeMillis() + 30L * 24 * HOUR;
    List<UnitRecord> records =
        read(limits, units(new long[] {T0 - JOIN_WINDOW - 1, T0, ahead, T0 + 1_000}));

    assertThat(records.get(0).implausibleTime).contains("source.min-timestamp");
    assertThat(records.get(1).implausibleTime).isNull();
    assertThat(records.get(2).implausibleTime).contains("source.max-future");
    assertThat(records.get(3).implausibleTime).isNull();
  }

  private static final InputLimits LIMITS =
      InputLimits.from(new Configuration(), ModelConfig.defaults());

  /** Units of requests at {@code times}, each closed a join window later. */
  private static List<CompactUnit> units(long[] times) {
    TrafficGenerator g =
        new TrafficGenerator(TrafficConfig.defaults().withSeed(7).withUsers(400).withItems(300));
    UnitEncoder enc = new UnitEncoder(new UnitLayout(ModelConfig.defaults().features()));
    List<CompactUnit> out = new ArrayList<>();
    for (long t : times) {
      GeneratedRequest r = g.next(t);
      out.add(enc.encode(RequestUnits.of(r.request(), r.impressions(), t + JOIN_WINDOW)));
    }
    return out;
  }

  /** The units as the source reads them from partition 0, each timed at its close as written. */
  private static List<UnitRecord> read(InputLimits limits, List<CompactUnit> units) {
    UnitRecordDeserializer d = new UnitRecordDeserializer(limits);
    d.open(null);
    List<UnitRecord> out = new ArrayList<>();
    ListCollector<UnitRecord> c = new ListCollector<>(out);
    long offset = 0;
    for (CompactUnit u : units) {
      byte[] value = CompactUnitCodec.encode(u);
      d.deserialize(
          new ConsumerRecord<>(
              "request-units",
              0,
              offset++,
              u.closedAtMs(),
              TimestampType.CREATE_TIME,
              2,
              value.length,
              "r1".getBytes(StandardCharsets.UTF_8),
              value,
              new RecordHeaders(),
              Optional.empty()),
          c);
    }
    return out;
  }

  private static List<CompactUnit> decode(List<UnitRecord> records) throws Exception {
    try (var h =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(
                new UnitDecoder(ModelConfig.defaults().features(), 1 << 20, 0, LIMITS)))) {
      h.open();
      for (UnitRecord r : records) {
        h.processElement(new StreamRecord<>(r));
      }
      assertThat(h.getSideOutput(UnitDecoder.DEAD_LETTERS)).as("dead letters").isNullOrEmpty();
      return new ArrayList<>(h.extractOutputValues());
    }
  }
}
