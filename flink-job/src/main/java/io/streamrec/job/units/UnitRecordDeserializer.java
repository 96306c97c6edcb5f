package io.streamrec.job.units;

import io.streamrec.job.config.InputLimits;
import io.streamrec.job.source.EventTimeGuard;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Hands each request-units record on as it is (key, value, where it was read, timestamp), with the
 * verdict of an {@link EventTimeGuard} on its timestamp, which the watermarks then skip: it never
 * throws. {@link UnitDecoder} does the rest.
 *
 * <p>The guard holds a unit's time to {@code source.min-timestamp} and {@code source.max-future},
 * not to {@code source.max-time-jump}: the log's writer assembled its units from events that had
 * passed that bound already and writes each partition in close order, so a gap in a partition is a
 * quiet spell of the traffic (a night, a daily batch), and refused again, its first unit, which the
 * run over the events trained, was lost to the run over the log. ({@link UnitDecoder} still holds a
 * record's timestamp to its unit's close.)
 */
public final class UnitRecordDeserializer implements KafkaRecordDeserializationSchema<UnitRecord> {
  private static final long serialVersionUID = 1L;

  private final InputLimits limits;
  private transient EventTimeGuard guard;

  public UnitRecordDeserializer(InputLimits limits) {
    this.limits = limits;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    guard =
        new EventTimeGuard(
            limits.minTimestampMs(), limits.maxFutureMs(), 0, System::currentTimeMillis);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<UnitRecord> out) {
    UnitRecord r = new UnitRecord(record.topic(), record.key(), record.value(), record.timestamp());
    r.partition = record.partition();
    r.offset = record.offset();
    r.implausibleTime = guard.check(record.partition(), record.timestamp());
    out.collect(r);
  }

  @Override
  public TypeInformation<UnitRecord> getProducedType() {
    return TypeInformation.of(UnitRecord.class);
  }
}
