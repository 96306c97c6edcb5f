package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.testutils.KafkaBroker;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dead-letters --follow}, stopped as a user stops it (Ctrl-C, or SIGTERM), prints the count
 * by reason that its help and the README promise: it exited at once and printed none.
 */
class FollowStopITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @TempDir Path dir;

  @Test
  void aStoppedFollowOfTheDeadLettersPrintsItsCountByReason() throws Exception {
    String topic = "followed-dead-letters";
    try (Admin admin = Admin.create(KAFKA.adminSettings());
        KafkaProducer<byte[], byte[]> p =
            new KafkaProducer<>(
                Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())))
          .all()
          .get();
      List<String> reasons =
          List.of(DeadLetterReasons.ORPHAN, DeadLetterReasons.LATE, DeadLetterReasons.ORPHAN);
      for (int i = 0; i < reasons.size(); i++) {
        DeadLetter d =
            DeadLetter.newBuilder()
                .setReason(reasons.get(i))
                .setSourceTopic("impressions")
                .setDetail("detail " + i)
                .setKey("key-" + i)
                .setTimestampMs(1_767_225_600_000L + i)
                .setPayload(ByteBuffer.wrap(new byte[] {(byte) i}))
                .build();
        p.send(new ProducerRecord<>(topic, 0, null, AvroCodec.encode(d))).get();
      }
      Path output = dir.resolve("dead-letters.out");
      try (RunProcess follow =
          RunProcess.start(
              List.of(
                  "dead-letters",
                  "--bootstrap-servers",
                  KAFKA.bootstrapServers(),
                  "--topic",
                  topic,
                  "--follow"),
              output)) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!follow.output().contains("key-2")) {
          assertThat(follow.isAlive()).as(follow.output()).isTrue();
          assertThat(System.currentTimeMillis()).as(follow.output()).isLessThan(deadline);
          Thread.sleep(100);
        }
        follow.stop();
      }
      assertThat(Files.readString(output)).contains("-- 3 dead letters: late 1, orphan 2");
    }
  }
}
