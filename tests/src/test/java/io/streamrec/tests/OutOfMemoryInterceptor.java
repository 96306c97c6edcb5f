package io.streamrec.tests;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer interceptor that runs out of memory, as a heap too small for the model would, in the
 * thread that polls ({@code interceptor.classes}): how the tests make a replica's thread meet an
 * {@link OutOfMemoryError} without filling a heap.
 */
public final class OutOfMemoryInterceptor implements ConsumerInterceptor<byte[], byte[]> {
  @Override
  public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
    if (!records.isEmpty()) {
      throw new OutOfMemoryError(
          "Java heap space (simulated by " + getClass().getSimpleName() + ")");
    }
    return records;
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
