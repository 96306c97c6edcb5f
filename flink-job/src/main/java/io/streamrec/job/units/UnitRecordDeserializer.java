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
    guard = EventTimeGuard.of(limits);
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
