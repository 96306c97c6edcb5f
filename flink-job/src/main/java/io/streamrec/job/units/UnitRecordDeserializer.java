package io.streamrec.job.units;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Hands each request-units record on as it is (key, value, topic, timestamp): it never throws. */
public final class UnitRecordDeserializer implements KafkaRecordDeserializationSchema<UnitRecord> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<UnitRecord> out) {
    out.collect(new UnitRecord(record.topic(), record.key(), record.value(), record.timestamp()));
  }

  @Override
  public TypeInformation<UnitRecord> getProducedType() {
    return TypeInformation.of(UnitRecord.class);
  }
}
