package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.job.kafka.TopicSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * {@code dead-letters --follow} and {@code tail --follow} on a topic that gains partitions while
 * they read it: they assigned the partitions they found at their start, and the records of the ones
 * added later (the job writes to them once its producer sees them) never showed.
 */
class TopicReadingITCase {
  @Test
  void aFollowedTopicsAddedPartitionsAreReadToo() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
        Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        KafkaProducer<byte[], byte[]> p = producer(kafka)) {
      String topic = "followed";
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())))
          .all()
          .get();
      p.send(new ProducerRecord<>(topic, 0, null, bytes("first"))).get();

      TopicReading reading = new TopicReading();
      new picocli.CommandLine(reading)
          .parseArgs("--bootstrap-servers", kafka.bootstrapServers(), "--follow");
      StringWriter printed = new StringWriter();
      PrintWriter out = new PrintWriter(printed, true);
      Thread follower =
          new Thread(
              () -> {
                try {
                  reading.print(
                      TopicSpec.deadLetters(topic),
                      "it-follow",
                      out,
                      r -> r.partition() + ":" + new String(r.value(), StandardCharsets.UTF_8),
                      () -> {});
                } catch (org.apache.kafka.common.errors.InterruptException e) {
                  // stopped
                }
              });
      follower.start();
      try {
        awaitLine(printed, "0:first");
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get();
        p.send(new ProducerRecord<>(topic, 1, null, bytes("in the added one"))).get();
        p.send(new ProducerRecord<>(topic, 0, null, bytes("second"))).get();
        awaitLine(printed, "0:second");
        awaitLine(printed, "1:in the added one");
      } finally {
        follower.interrupt();
        follower.join(10_000);
      }
    }
  }

  /**
   * {@code tail --follow} on the model-updates topic read the partitions added to it as any
   * topic's, and printed a record written to one as the model's, where every replica stops at it.
   * It reads the model's partition and stops, naming the partition, once another holds a record.
   */
  @Test
  void aFollowedModelTopicStopsAtARecordOutsideTheModelsPartition() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
        Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        KafkaProducer<byte[], byte[]> p = producer(kafka)) {
      String topic = "followed-model";
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, Optional.of(1), Optional.empty())
                      .configs(TopicSpec.modelUpdates(topic).configs())))
          .all()
          .get();
      p.send(new ProducerRecord<>(topic, 0, bytes("k"), bytes("first"))).get();
      TopicReading reading = new TopicReading();
      new picocli.CommandLine(reading)
          .parseArgs("--bootstrap-servers", kafka.bootstrapServers(), "--follow");
      StringWriter printed = new StringWriter();
      PrintWriter out = new PrintWriter(printed, true);
      java.util.concurrent.atomic.AtomicReference<Throwable> stopped =
          new java.util.concurrent.atomic.AtomicReference<>();
      Thread follower =
          new Thread(
              () -> {
                try {
                  reading.print(
                      TopicSpec.modelUpdates(topic),
                      "it-follow-model",
                      out,
                      r -> r.partition() + ":" + new String(r.value(), StandardCharsets.UTF_8),
                      () -> {});
                } catch (RuntimeException e) {
                  stopped.set(e);
                }
              });
      follower.start();
      try {
        awaitLine(printed, "0:first");
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get();
        p.send(new ProducerRecord<>(topic, 0, bytes("k"), bytes("second"))).get();
        awaitLine(printed, "0:second");
        p.send(new ProducerRecord<>(topic, 1, bytes("k"), bytes("stray"))).get();
        follower.join(30_000);
        assertThat(stopped.get())
            .as("the follow stops")
            .isNotNull()
            .hasMessageContaining("has 2 partitions, and partition 1 holds 1 record:");
        assertThat(printed.toString()).doesNotContain("stray");
      } finally {
        follower.interrupt();
        follower.join(10_000);
      }
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(EmbeddedKafka kafka) {
    return new KafkaProducer<>(
        Map.of(
            "bootstrap.servers", kafka.bootstrapServers(),
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void awaitLine(StringWriter printed, String line) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    while (!printed.toString().lines().toList().contains(line)
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertThat(printed.toString().lines()).contains(line);
  }
}
