package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.LongIntHashMap;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.testutils.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the trainer reads of a model-updates topic before its first publish, on a real broker. */
class ModelTopicHeadITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  /** Slows each record down as a consumer reads it: a topic whose full read takes a while. */
  public static final class SlowRead implements ConsumerInterceptor<byte[], byte[]> {
    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
      try {
        Thread.sleep(records.count());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
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

  /**
   * A restored trainer reads every row of its model on the topic. That read had to end within the
   * head's timeout (60 s) as a whole, however large the model: a model of tens of millions of rows
   * could not be read in time, the trainer's start failed, and each restart failed the same way.
   * The timeout now bounds a read that makes no progress.
   */
  @Test
  void aFullReadThatKeepsProgressingOutlastsTheTimeout() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "head-slow-read";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    long model = 0x0abc_0000_0000_0007L;
    int rows = 3_000;
    List<ModelUpdateRecord> records = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(model, 1, 1_000, records::add);
    for (int i = 0; i < rows; i++) {
      enc.row("user", i, new float[] {i, 1f}, 0, 2);
    }
    enc.close(VersionMarker.newBuilder().setPublishedAtMs(1_000).setLiveRows(rows));
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "2048");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      ModelUpdatesSupport.send(producer, topic, records);
    }
    // each poll a small batch, its records slowed: about 3 s to read them all, none long
    ModelTopicHead head =
        new ModelTopicHead(
            bootstrap,
            KafkaClientProperties.of(
                Map.of(
                    "interceptor.classes",
                    SlowRead.class.getName(),
                    "max.partition.fetch.bytes",
                    "2048")),
            topic,
            Duration.ofSeconds(1));

    Map<String, LongIntHashMap> read = head.rowsOf(model);

    assertThat(read.get("user").size()).as("rows read").isEqualTo(rows);
  }
}
