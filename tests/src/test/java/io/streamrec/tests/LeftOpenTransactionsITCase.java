package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.sink.KafkaSinks;
import io.streamrec.testutils.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A job killed inside an exactly-once publish and started again at-least-once: the transaction its
 * exactly-once run left open held every reader of committed records (replicas) back until the
 * broker timed it out, 15 minutes, the at-least-once run's own versions included. The at-least-once
 * start now aborts the transactions of its own job's prefix, and no other job's.
 */
class LeftOpenTransactionsITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void anAtLeastOnceStartAbortsWhatItsExactlyOnceRunLeftOpenAndNoOtherJobsTransaction()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "left-open-");
    Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 10_000);
    JobConfig exactlyOnce = JobConfig.from(withGuarantee(conf, "exactly-once"));
    JobConfig atLeastOnce = JobConfig.from(withGuarantee(conf, "at-least-once"));
    Configuration otherJob = withGuarantee(conf, "exactly-once");
    otherJob.set(JobOptions.GROUP_ID, "another-model");
    TopicPartition part = new TopicPartition(topics.modelUpdates(), 0);

    String ours = KafkaSinks.transactionalIdPrefix(exactlyOnce, false, "model-updates") + "-0-3";
    String theirs =
        KafkaSinks.transactionalIdPrefix(JobConfig.from(otherJob), false, "model-updates") + "-0-7";
    try (KafkaProducer<byte[], byte[]> killed = openTransaction(bootstrap, ours, part);
        KafkaProducer<byte[], byte[]> other = openTransaction(bootstrap, theirs, part);
        KafkaProducer<byte[], byte[]> plain = ModelUpdatesSupport.producer(bootstrap)) {
      plain.send(record(part, "after")).get();
      assertThat(committedEnd(bootstrap, part)).as("held by the first open transaction").isZero();

      // an exactly-once start leaves the aborting to its sink
      KafkaSinks.abortLeftOpenTransactions(exactlyOnce, false);
      assertThat(committedEnd(bootstrap, part)).isZero();

      KafkaSinks.abortLeftOpenTransactions(atLeastOnce, false);
      // ours (offset 0) is aborted; the other job's (offset 1) now holds the committed end
      awaitCommittedEnd(bootstrap, part, 1);
      Thread.sleep(500);
      assertThat(committedEnd(bootstrap, part))
          .as("the other job's transaction is still open")
          .isEqualTo(1);

      other.commitTransaction();
      awaitCommittedEnd(bootstrap, part, highWatermark(bootstrap, part));
    }
  }

  private static Configuration withGuarantee(Configuration conf, String guarantee) {
    Configuration c = new Configuration(conf);
    c.set(JobOptions.DELIVERY_GUARANTEE, guarantee);
    return c;
  }

  /** A producer of {@code transactionalId} inside a transaction holding one record of {@code p}. */
  private static KafkaProducer<byte[], byte[]> openTransaction(
      String bootstrap, String transactionalId, TopicPartition p) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    producer.beginTransaction();
    producer.send(record(p, transactionalId)).get();
    return producer;
  }

  private static ProducerRecord<byte[], byte[]> record(TopicPartition p, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(p.topic(), p.partition(), b, b);
  }

  private static long committedEnd(String bootstrap, TopicPartition p) {
    return endOffset(bootstrap, p, "read_committed");
  }

  private static long highWatermark(String bootstrap, TopicPartition p) {
    return endOffset(bootstrap, p, "read_uncommitted");
  }

  private static long endOffset(String bootstrap, TopicPartition p, String isolation) {
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                isolation),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      return c.endOffsets(List.of(p), WAIT).get(p);
    }
  }

  private static void awaitCommittedEnd(String bootstrap, TopicPartition p, long atLeast)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (committedEnd(bootstrap, p) < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(committedEnd(bootstrap, p)).isGreaterThanOrEqualTo(atLeast);
  }
}
