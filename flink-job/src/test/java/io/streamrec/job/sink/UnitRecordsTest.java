package io.streamrec.job.sink;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema.KafkaSinkContext;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Every assembler subtask wrote its units to every partition of the request-units topic: a
 * partition then held one subtask's units behind another's, out of close order by how far their
 * event times had drifted apart (5 to 37 s in a backfill, against 2.5 s a run over the log allows),
 * and a run over the log trained another model than the run over the events. Each subtask now
 * writes partitions of its own, in its own close order.
 */
class UnitRecordsTest {

  private static KafkaSinkContext subtask(int i, int n, int partitions) {
    return new KafkaSinkContext() {
      @Override
      public int getParallelInstanceId() {
        return i;
      }

      @Override
      public int getNumberOfParallelInstances() {
        return n;
      }

      @Override
      public int[] getPartitionsForTopic(String topic) {
        return IntStream.range(0, partitions).map(p -> partitions - 1 - p).toArray();
      }
    };
  }

  @Test
  void eachSubtaskWritesPartitionsOfItsOwnAndTogetherTheyWriteEvery() {
    for (int n = 1; n <= 5; n++) {
      for (int partitions = n; partitions <= 9; partitions++) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
          int[] own =
              UnitRecords.partitionsOf(
                  i, n, subtask(i, n, partitions).getPartitionsForTopic("units"));
          assertThat(own).isNotEmpty();
          for (int p : own) {
            assertThat(seen.add(p)).as("partition %d of %d writers", p, n).isTrue();
          }
        }
        assertThat(seen).hasSize(partitions);
      }
    }
    assertThat(UnitRecords.partitionsOf(1, 2, new int[] {3, 2, 1, 0})).containsExactly(1, 3);
    // fewer partitions than writers: they share, a subtask a partition
    assertThat(UnitRecords.partitionsOf(3, 4, new int[] {0, 1})).containsExactly(1);
  }

  @Test
  void aUnitIsKeyedByItsRequestTimedAtItsCloseAndSentToOneOfItsSubtasksPartitions() {
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(3));
    UnitEncoder enc = new UnitEncoder(new UnitLayout(ModelConfig.defaults().features()));
    List<CompactUnit> units = new ArrayList<>();
    for (int k = 0; k < 200; k++) {
      long close = 1_700_000_000_000L + 10L * k;
      GeneratedRequest r = g.next(close - 500);
      units.add(enc.encode(RequestUnits.of(r.request(), r.impressions(), close)));
    }
    Set<Integer> used = new HashSet<>();
    UnitRecords records = new UnitRecords("units");
    KafkaSinkContext ctx = subtask(1, 3, 8);
    for (CompactUnit u : units) {
      ProducerRecord<byte[], byte[]> r = records.serialize(u, ctx, null);
      assertThat(r.topic()).isEqualTo("units");
      assertThat(r.partition()).isIn(1, 4, 7);
      assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(u.requestId());
      assertThat(r.timestamp()).isEqualTo(u.closedAtMs());
      assertThat(CompactUnitCodec.decode(r.value()).requestId()).isEqualTo(u.requestId());
      assertThat(records.serialize(u, ctx, null).partition()).isEqualTo(r.partition());
      used.add(r.partition());
    }
    assertThat(used).as("spread by the key among them").containsExactlyInAnyOrder(1, 4, 7);
  }
}
