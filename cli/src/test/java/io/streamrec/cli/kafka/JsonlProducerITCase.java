package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.streamrec.job.config.TopicsConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.JsonlReader;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads JSONL files with good, bad and blank lines into a real broker and reads them back. */
class JsonlProducerITCase {
  private static final String LONG_PAD = "x".repeat(300);

  private static final List<String> REQUEST_LINES =
      List.of(
          "{\"requestId\":\"r1\",\"timestampMs\":1767225600000,\"features\":{\"user_id\":[\"u42\"]},\"dense\":{\"hour\":13.0}}",
          "",
          "{\"requestId\":\"r2\",\"timestampMs\":1767225601000,\"features\":{\"user_id\":\"u7\",\"country\":[\"de\",\"fr\"]}}",
          "{not json",
          "{\"requestId\":\"\",\"timestampMs\":1}",
          "{\"requestId\":\"r3\",\"timestampMs\":1767225602000}",
          "   ",
          "{\"requestId\":\"r4\",\"timestampMs\":-5,\"pad\":\"" + LONG_PAD + "\"}");

  private static final List<String> IMPRESSION_LINES =
      List.of(
          "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1767225600950,\"features\":{\"item_id\":[\"i9\"]},\"dense\":{\"position\":0.0},\"labels\":{\"click\":1}}",
          "{\"impressionId\":\"r1-1\",\"requestId\":\"r1\",\"timestampMs\":1767225600960,\"features\":{\"item_id\":[\"i3\"]},\"labels\":{\"click\":0}}",
          "{\"impressionId\":\"r2-0\",\"requestId\":\"r2\",\"timestampMs\":1767225601500,\"labels\":{\"click\":\"yes\"}}",
          "",
          "{\"impressionId\":\"r2-1\",\"requestId\":\"r2\",\"timestampMs\":1767225601600,\"labels\":{\"click\":0}}",
          "{\"impressionId\":\"r3-0\",\"requestId\":\"r3\",\"timestampMs\":1767225602100,\"dense\":{\"x\":1e999}}",
          "{\"impressionId\":\"r3-1\",\"requestId\":\"r3\",\"timestampMs\":1767225602200,\"labels\":{\"click\":1}}");

  private static EmbeddedKafka kafka;
  private static Admin admin;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
    admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
  }

  @AfterAll
  static void stopBroker() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void topicsHoldExactlyTheGoodEventsAndBadLinesAreReported(@TempDir Path tmp) throws Exception {
    Path requestsFile = write(tmp.resolve("requests.jsonl"), REQUEST_LINES);
    Path impressionsFile = write(tmp.resolve("impressions.jsonl"), IMPRESSION_LINES);
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("load-");
    Topics.ensure(admin, topics);
    RecordingListener listener = new RecordingListener();

    JsonlProducer.Summary summary = load(topics, listener, requestsFile, impressionsFile);

    assertThat(summary.requestsSent()).isEqualTo(3);
    assertThat(summary.impressionsSent()).isEqualTo(4);
    assertThat(summary.badLines()).isEqualTo(5);
    assertThat(summary.eventsSent()).isEqualTo(7);
    assertThat(summary.elapsedMs()).isNotNegative();
    assertThat(summary.eventsPerSecond()).isPositive();

    assertThat(listener.badLines)
        .extracting(
            JsonlProducer.BadLine::file,
            JsonlProducer.BadLine::lineNumber,
            JsonlProducer.BadLine::reason)
        .as("each file's bad lines in its order, the two files' as the merge in time reaches them")
        .containsExactly(
            tuple(impressionsFile, 3L, "malformed"),
            tuple(requestsFile, 4L, "malformed"),
            tuple(requestsFile, 5L, "malformed"),
            tuple(impressionsFile, 6L, "non_finite"),
            tuple(requestsFile, 8L, "malformed"));
    assertThat(listener.badLines.get(1).excerpt()).isEqualTo("{not json");
    assertThat(listener.badLines.get(2).message()).contains("requestId");
    assertThat(listener.badLines.get(4).message()).contains("timestampMs");
    assertThat(listener.badLines.get(4).excerpt())
        .hasSize(JsonlProducer.EXCERPT_CHARS + 3)
        .isEqualTo(REQUEST_LINES.get(7).substring(0, JsonlProducer.EXCERPT_CHARS) + "...");
    assertThat(listener.badLines.get(0).message()).contains("labels.click");
    assertThat(listener.progress)
        .anySatisfy(
            p -> {
              assertThat(p.file()).isEqualTo(requestsFile);
              assertThat(p.eventsSent()).isEqualTo(3);
              assertThat(p.badLines()).isEqualTo(3);
            });

    Map<String, Integer> requestPartition = new HashMap<>();
    List<ConsumerRecord<byte[], byte[]>> requests =
        KafkaReads.readAll(kafka.bootstrapServers(), topics.requests(), 3);
    assertThat(requests).hasSize(3);
    for (ConsumerRecord<byte[], byte[]> r : requests) {
      RequestEvent event = AvroCodec.decode(r.value(), RequestEvent.class);
      assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(event.getRequestId());
      assertThat(r.timestamp()).isEqualTo(event.getTimestampMs());
      requestPartition.put(event.getRequestId(), r.partition());
    }
    assertThat(requests)
        .extracting(r -> AvroCodec.decode(r.value(), RequestEvent.class))
        .containsExactlyInAnyOrder(
            JsonEvents.parseRequest(REQUEST_LINES.get(0)),
            JsonEvents.parseRequest(REQUEST_LINES.get(2)),
            JsonEvents.parseRequest(REQUEST_LINES.get(5)));

    List<ConsumerRecord<byte[], byte[]>> impressions =
        KafkaReads.readAll(kafka.bootstrapServers(), topics.impressions(), 4);
    assertThat(impressions).hasSize(4);
    for (ConsumerRecord<byte[], byte[]> r : impressions) {
      ImpressionEvent event = AvroCodec.decode(r.value(), ImpressionEvent.class);
      assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(event.getRequestId());
      assertThat(r.timestamp()).isEqualTo(event.getTimestampMs());
      // same key, same partition count: an impression lands in its request's partition number
      assertThat(r.partition())
          .as(event.getImpressionId())
          .isEqualTo(requestPartition.get(event.getRequestId()));
    }
    assertThat(impressions)
        .extracting(r -> AvroCodec.decode(r.value(), ImpressionEvent.class))
        .containsExactlyInAnyOrder(
            JsonEvents.parseImpression(IMPRESSION_LINES.get(0)),
            JsonEvents.parseImpression(IMPRESSION_LINES.get(1)),
            JsonEvents.parseImpression(IMPRESSION_LINES.get(4)),
            JsonEvents.parseImpression(IMPRESSION_LINES.get(6)));
  }

  @Test
  void aLineTheBrokerRefusesCostsOnlyItselfNotItsBatchNorTheNextFile(@TempDir Path tmp)
      throws Exception {
    List<String> requests = new ArrayList<>();
    int n = 600;
    for (int i = 0; i < n; i++) {
      long ts = i == 250 ? Long.MAX_VALUE : 1767225600000L + i;
      requests.add("{\"requestId\":\"q" + i + "\",\"timestampMs\":" + ts + "}");
    }
    Path requestsFile = write(tmp.resolve("requests.jsonl"), requests);
    Path impressionsFile = write(tmp.resolve("impressions.jsonl"), IMPRESSION_LINES);
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("refused-");
    Topics.ensure(admin, topics);
    RecordingListener listener = new RecordingListener();

    JsonlProducer.Summary summary = load(topics, listener, requestsFile, impressionsFile);

    assertThat(listener.badLines)
        .extracting(JsonlProducer.BadLine::file, JsonlProducer.BadLine::lineNumber)
        .contains(tuple(requestsFile, 251L));
    JsonlProducer.BadLine refused =
        listener.badLines.stream().filter(b -> b.lineNumber() == 251L).findFirst().orElseThrow();
    assertThat(refused.reason()).isEqualTo("refused");
    assertThat(refused.message()).contains("broker refused");
    assertThat(summary.requestsSent()).isEqualTo(n - 1);
    assertThat(summary.impressionsSent()).isEqualTo(4);
    assertThat(KafkaReads.readAll(kafka.bootstrapServers(), topics.requests(), n - 1))
        .hasSize(n - 1);
    assertThat(KafkaReads.readAll(kafka.bootstrapServers(), topics.impressions(), 4)).hasSize(4);
  }

  /**
   * A line timed past the topic's message.timestamp.after.max.ms took its whole batch down with it;
   * the batch's good events, sent again after the file's others, stood 20 s and more behind their
   * neighbours in the partition, past a job's join window, and a backfill's --until stopped the
   * partition before them. Such a line is held back, and the partitions stay in event-time order.
   */
  @Test
  void aLineTimedPastTheTopicsBoundIsHeldBackAndThePartitionsStayInOrder(@TempDir Path tmp)
      throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("bounded-");
    Topics.ensure(admin, topics);
    org.apache.kafka.common.config.ConfigResource r =
        new org.apache.kafka.common.config.ConfigResource(
            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topics.requests());
    admin
        .incrementalAlterConfigs(
            Map.of(
                r,
                List.of(
                    new org.apache.kafka.clients.admin.AlterConfigOp(
                        new org.apache.kafka.clients.admin.ConfigEntry(
                            "message.timestamp.after.max.ms", "3600000"),
                        org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
        .all()
        .get(30, java.util.concurrent.TimeUnit.SECONDS);
    List<String> requests = new ArrayList<>();
    int n = 600;
    long farAhead = System.currentTimeMillis() + 4L * 365 * 86_400_000;
    for (int i = 0; i < n; i++) {
      long ts = i == 250 ? farAhead : 1767225600000L + 10L * i;
      requests.add("{\"requestId\":\"q" + i + "\",\"timestampMs\":" + ts + "}");
    }
    Path requestsFile = write(tmp.resolve("requests.jsonl"), requests);
    RecordingListener listener = new RecordingListener();

    JsonlProducer.Summary summary =
        JsonlProducer.load(kafka.bootstrapServers(), topics, requestsFile, null, listener);

    assertThat(summary.requestsSent()).isEqualTo(n - 1);
    Map<Integer, Long> newest = new java.util.HashMap<>();
    for (var rec : KafkaReads.readAll(kafka.bootstrapServers(), topics.requests(), n - 1)) {
      Long before = newest.put(rec.partition(), rec.timestamp());
      assertThat(before == null || before <= rec.timestamp())
          .as("partition %d: %d after %d", rec.partition(), rec.timestamp(), before)
          .isTrue();
    }
    assertThat(listener.badLines)
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.lineNumber()).isEqualTo(251L);
              assertThat(b.reason()).isEqualTo("refused");
              assertThat(b.message())
                  .startsWith(
                      "topic 'bounded-requests' takes record times up to 60 min ahead of the"
                          + " broker's clock (message.timestamp.after.max.ms): ");
            });
  }

  /**
   * A line over the producer's own max.request.size: refused by the client, and said so. (The
   * producer's limit is lowered to 200 kB here: a line over 1 MiB is refused before it is sent.)
   */
  @Test
  void aLineOverTheProducersRequestSizeIsNamedAsTheProducersRefusal(@TempDir Path tmp)
      throws Exception {
    StringBuilder items = new StringBuilder();
    for (int i = 0; i < 40_000; i++) {
      items.append(i == 0 ? "" : ",").append("\"item-").append(i).append('"');
    }
    List<String> requests =
        List.of(
            "{\"requestId\":\"ok\",\"timestampMs\":1767225600000}",
            "{\"requestId\":\"big\",\"timestampMs\":1767225600001,\"features\":{\"recent_items\":["
                + items
                + "]}}");
    Path requestsFile = write(tmp.resolve("requests.jsonl"), requests);
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("too-big-");
    Topics.ensure(admin, topics);
    RecordingListener listener = new RecordingListener();

    JsonlProducer.Summary summary;
    try (ByteRecordProducer producer =
        new ByteRecordProducer(kafka.bootstrapServers(), Map.of("max.request.size", 200_000))) {
      summary = new JsonlProducer(producer, topics, listener, 0).load(requestsFile, null);
    }

    assertThat(Files.size(requestsFile)).isLessThan(JsonlReader.MAX_LINE_BYTES);
    assertThat(listener.badLines).hasSize(1);
    assertThat(listener.badLines.get(0).lineNumber()).isEqualTo(2L);
    assertThat(listener.badLines.get(0).message())
        .startsWith("the producer refused the record: ")
        .contains("max.request.size");
    assertThat(summary.requestsSent()).isEqualTo(1);
  }

  @Test
  void aFailedSendFailsTheLoadAndNamesTheTopic(@TempDir Path tmp) throws Exception {
    Path requestsFile = write(tmp.resolve("requests.jsonl"), REQUEST_LINES);
    // Never created, and the broker does not create topics on demand.
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("absent-");
    RecordingListener listener = new RecordingListener();

    try (ByteRecordProducer producer =
        new ByteRecordProducer(
            kafka.bootstrapServers(), Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000))) {
      JsonlProducer loader = new JsonlProducer(producer, topics, listener);
      assertThatThrownBy(() -> loader.load(requestsFile, null))
          .isInstanceOfSatisfying(
              ProduceFailedException.class, e -> assertThat(e.topic()).isEqualTo("absent-requests"))
          .hasMessageContaining("topic 'absent-requests'");
    }
  }

  @Test
  void theStaticLoadOpensAndClosesItsOwnProducer(@TempDir Path tmp) throws Exception {
    Path impressionsFile = write(tmp.resolve("impressions.jsonl"), IMPRESSION_LINES);
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("static-");
    Topics.ensure(admin, topics);
    RecordingListener listener = new RecordingListener();

    JsonlProducer.Summary summary =
        JsonlProducer.load(kafka.bootstrapServers(), topics, null, impressionsFile, listener);

    assertThat(summary.requestsSent()).isZero();
    assertThat(summary.impressionsSent()).isEqualTo(4);
    assertThat(summary.badLines()).isEqualTo(2);
    assertThat(KafkaReads.readAll(kafka.bootstrapServers(), topics.impressions(), 4)).hasSize(4);
  }

  /** Loads the files with a producer of the test's own, progress after every line. */
  private static JsonlProducer.Summary load(
      TopicsConfig topics, RecordingListener listener, Path requestsFile, Path impressionsFile) {
    try (ByteRecordProducer producer = new ByteRecordProducer(kafka.bootstrapServers())) {
      return new JsonlProducer(producer, topics, listener, 0).load(requestsFile, impressionsFile);
    }
  }

  private static Path write(Path file, List<String> lines) throws Exception {
    return Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }

  private static final class RecordingListener implements JsonlProducer.Listener {
    final List<JsonlProducer.BadLine> badLines = new ArrayList<>();
    final List<JsonlProducer.Progress> progress = new ArrayList<>();

    @Override
    public void onBadLine(JsonlProducer.BadLine badLine) {
      badLines.add(badLine);
    }

    @Override
    public void onProgress(JsonlProducer.Progress p) {
      progress.add(p);
    }
  }
}
