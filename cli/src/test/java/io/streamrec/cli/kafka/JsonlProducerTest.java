package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.job.config.TopicsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlProducerTest {

  @Test
  void aShortLineIsQuotedWhole() {
    assertThat(JsonlProducer.excerpt("{bad")).isEqualTo("{bad");
    String exact = "y".repeat(JsonlProducer.EXCERPT_CHARS);
    assertThat(JsonlProducer.excerpt(exact)).isEqualTo(exact);
  }

  @Test
  void aLongLineIsCut() {
    String line = "a".repeat(JsonlProducer.EXCERPT_CHARS) + "TAIL";

    assertThat(JsonlProducer.excerpt(line))
        .isEqualTo("a".repeat(JsonlProducer.EXCERPT_CHARS) + "...");
  }

  @Test
  void aCutNeverSplitsASurrogatePair() {
    String smile = new String(Character.toChars(0x1F600));
    String line = "a".repeat(JsonlProducer.EXCERPT_CHARS - 1) + smile + "tail";

    String excerpt = JsonlProducer.excerpt(line);

    assertThat(excerpt).isEqualTo("a".repeat(JsonlProducer.EXCERPT_CHARS - 1) + "...");
    assertThat(Character.isHighSurrogate(excerpt.charAt(excerpt.length() - 4))).isFalse();
  }

  /**
   * A broker that died mid-load: produce said "1 record could not be written to topic 'requests'"
   * while the producer had dropped every record it still held (a walk: 26,097 requests of the
   * 30,000 not written), and nothing said how many were. The error now says what the broker
   * acknowledged.
   */
  @Test
  void aLoadThatFailsSaysWhatTheBrokerAcknowledged(@TempDir Path tmp) throws Exception {
    Path requests =
        Files.write(
            tmp.resolve("requests.jsonl"),
            List.of(
                "{\"requestId\":\"r1\",\"timestampMs\":1000}",
                "{\"requestId\":\"r2\",\"timestampMs\":2000}",
                "{\"requestId\":\"r3\",\"timestampMs\":3000}"));
    Path impressions =
        Files.write(
            tmp.resolve("impressions.jsonl"),
            List.of(
                "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1500}",
                "{\"impressionId\":\"r2-0\",\"requestId\":\"r2\",\"timestampMs\":2500}"));
    // the broker acknowledges three records, then is gone
    MockProducer<byte[], byte[]> dying =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          int sent;

          @Override
          public synchronized java.util.concurrent.Future<
                  org.apache.kafka.clients.producer.RecordMetadata>
              send(
                  ProducerRecord<byte[], byte[]> record,
                  org.apache.kafka.clients.producer.Callback callback) {
            if (++sent <= 3) {
              return super.send(record, callback);
            }
            org.apache.kafka.common.errors.TimeoutException gone =
                new org.apache.kafka.common.errors.TimeoutException(
                    "Topic requests not present in metadata after 60000 ms.");
            callback.onCompletion(null, gone);
            return java.util.concurrent.CompletableFuture.failedFuture(gone);
          }
        };

    assertThatThrownBy(
            () ->
                JsonlProducer.loadClosing(
                    new ByteRecordProducer(dying),
                    TopicsConfig.defaults(),
                    requests,
                    impressions,
                    JsonlProducer.loggingListener(),
                    Map.of(),
                    null))
        .isInstanceOf(ProduceFailedException.class)
        .hasMessageStartingWith("1 record could not be written to topic 'impressions'")
        .hasMessageContaining("acknowledged by the broker): 2 requests and 1 impressions;");
  }

  @Test
  void twoFilesGoOutMergedInEventTimeARequestBeforeTheImpressionsOfItsTime(@TempDir Path tmp)
      throws Exception {
    Path requests =
        Files.write(
            tmp.resolve("requests.jsonl"),
            List.of(
                "{\"requestId\":\"r1\",\"timestampMs\":1000}",
                "{\"requestId\":\"r2\",\"timestampMs\":2000}",
                "{not json",
                "{\"requestId\":\"r3\",\"timestampMs\":3000}"));
    Path impressions =
        Files.write(
            tmp.resolve("impressions.jsonl"),
            List.of(
                "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1500}",
                "{\"impressionId\":\"r2-0\",\"requestId\":\"r2\",\"timestampMs\":2000}",
                "",
                "{\"impressionId\":\"r2-1\",\"requestId\":\"r2\",\"timestampMs\":2900}",
                "{\"impressionId\":\"r3-0\",\"requestId\":\"r3\",\"timestampMs\":3100}",
                "{\"impressionId\":\"r3-1\",\"requestId\":\"r3\",\"timestampMs\":3200}"));
    MockProducer<byte[], byte[]> mock =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    List<JsonlProducer.BadLine> bad = new ArrayList<>();
    JsonlProducer.Summary summary;
    try (ByteRecordProducer producer = new ByteRecordProducer(mock)) {
      summary =
          new JsonlProducer(producer, TopicsConfig.defaults(), collecting(bad))
              .load(requests, impressions);
    }

    assertThat(mock.history())
        .extracting(r -> r.topic() + "@" + r.timestamp())
        .containsExactly(
            "requests@1000",
            "impressions@1500",
            "requests@2000",
            "impressions@2000",
            "impressions@2900",
            "requests@3000",
            "impressions@3100",
            "impressions@3200");
    assertThat(mock.history()).extracting(ProducerRecord::key).doesNotContainNull();
    assertThat(summary.requestsSent()).isEqualTo(3);
    assertThat(summary.impressionsSent()).isEqualTo(5);
    assertThat(summary.badLines()).isEqualTo(1);
    assertThat(bad)
        .singleElement()
        .satisfies(b -> assertThat(b.file()).isEqualTo(requests))
        .satisfies(b -> assertThat(b.lineNumber()).isEqualTo(3));
  }

  /**
   * A request timed past its topic's bounds, as the head of its file, steered the merge of the two
   * files before it was held back: every impression went out before the requests after it. It is
   * held back as it is read, and the files merge in event time around it.
   */
  @Test
  void aLineHeldBackForItsTimeDoesNotSteerTheMerge(@TempDir Path tmp) throws Exception {
    long now = 1_767_225_600_000L;
    Path requests =
        Files.write(
            tmp.resolve("requests.jsonl"),
            List.of(
                "{\"requestId\":\"r0\",\"timestampMs\":" + (now - 100) + "}",
                "{\"requestId\":\"far\",\"timestampMs\":" + (now + 86_400_000L) + "}",
                "{\"requestId\":\"r2\",\"timestampMs\":" + (now - 80) + "}"));
    Path impressions =
        Files.write(
            tmp.resolve("impressions.jsonl"),
            List.of(
                "{\"impressionId\":\"i0\",\"requestId\":\"r0\",\"timestampMs\":" + (now - 90) + "}",
                "{\"impressionId\":\"i2\",\"requestId\":\"r2\",\"timestampMs\":"
                    + (now - 70)
                    + "}"));
    TopicsConfig topics = TopicsConfig.defaults();
    Loaded l = loadAt(now, requests, impressions, null);
    MockProducer<byte[], byte[]> broker = l.broker();
    List<JsonlProducer.BadLine> bad = l.bad();

    assertThat(broker.history())
        .extracting(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))
        .containsExactly("r0", "r0", "r2", "r2");
    assertThat(broker.history())
        .extracting(ProducerRecord::topic)
        .containsExactly(
            topics.requests(), topics.impressions(), topics.requests(), topics.impressions());
    assertThat(bad).extracting(JsonlProducer.BadLine::lineNumber).containsExactly(2L);
  }

  /**
   * On a Kafka 4 topic (records up to an hour ahead) a line timed in microseconds was held back as
   * "this event is 20773860.3 days ahead" and nothing more: the warning that names microseconds
   * sees only the events sent, so it never came.
   */
  @Test
  void aLineHeldBackForAMicrosecondTimeSaysItLooksLikeMicroseconds(@TempDir Path tmp)
      throws Exception {
    long now = 1_796_661_792_000L;
    Path requests =
        Files.write(
            tmp.resolve("requests.jsonl"),
            List.of("{\"requestId\":\"r1\",\"timestampMs\":" + (now - 1000) * 1000 + "}"));
    Loaded l = loadAt(now, requests, null, null);
    MockProducer<byte[], byte[]> broker = l.broker();
    List<JsonlProducer.BadLine> bad = l.bad();

    assertThat(broker.history()).isEmpty();
    assertThat(bad).hasSize(1);
    assertThat(bad.get(0).reason()).isEqualTo("refused");
    assertThat(bad.get(0).message()).contains("looks like microseconds");
  }

  /**
   * A dense value past a float's range under a name the model does not read made its line bad,
   * losing the request and, as orphans, its impressions; the job ignores such a value.
   */
  @Test
  void aValueBeyondAFloatCostsTheLineOnlyUnderANameTheModelReads(@TempDir Path tmp)
      throws Exception {
    Path requests =
        Files.write(
            tmp.resolve("requests.jsonl"),
            List.of(
                "{\"requestId\":\"r1\",\"timestampMs\":1000,\"dense\":{\"hour\":13,\"raw\":1e39}}",
                "{\"requestId\":\"r2\",\"timestampMs\":2000,\"dense\":{\"hour\":1e39}}"));
    Loaded l =
        loadAt(
            System.currentTimeMillis(),
            requests,
            null,
            io.streamrec.model.ModelConfig.defaults().features());
    MockProducer<byte[], byte[]> broker = l.broker();
    List<JsonlProducer.BadLine> bad = l.bad();

    assertThat(l.summary().requestsSent()).isEqualTo(1);
    assertThat(broker.history())
        .extracting(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))
        .containsExactly("r1");
    assertThat(bad)
        .extracting(JsonlProducer.BadLine::lineNumber, JsonlProducer.BadLine::reason)
        .containsExactly(org.assertj.core.api.Assertions.tuple(2L, "non_finite"));
  }

  /** What a load sent to a mock broker, its bad lines and its summary. */
  private record Loaded(
      MockProducer<byte[], byte[]> broker,
      List<JsonlProducer.BadLine> bad,
      JsonlProducer.Summary summary) {}

  /**
   * Loads {@code requests} and {@code impressions} (null: none) to a mock broker at clock {@code
   * now}, the requests topic taking times up to an hour ahead (Kafka 4's default), a value past a
   * float's range a bad line under the names of {@code features} (null: any).
   */
  private static Loaded loadAt(
      long now, Path requests, Path impressions, io.streamrec.model.features.FeatureSpec features)
      throws Exception {
    MockProducer<byte[], byte[]> broker =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    TopicsConfig topics = TopicsConfig.defaults();
    List<JsonlProducer.BadLine> bad = new ArrayList<>();
    try (ByteRecordProducer producer = new ByteRecordProducer(broker)) {
      JsonlProducer.Summary s =
          new JsonlProducer(
                  producer,
                  topics,
                  collecting(bad),
                  JsonlProducer.PROGRESS_INTERVAL_MS,
                  Map.of(topics.requests(), new TimestampBounds(Long.MAX_VALUE, 3_600_000)),
                  () -> now,
                  features)
              .load(requests, impressions);
      return new Loaded(broker, bad, s);
    }
  }

  /** A listener that adds each bad line to {@code bad}. */
  private static JsonlProducer.Listener collecting(List<JsonlProducer.BadLine> bad) {
    return new JsonlProducer.Listener() {
      @Override
      public void onBadLine(JsonlProducer.BadLine badLine) {
        bad.add(badLine);
      }

      @Override
      public void onProgress(JsonlProducer.Progress progress) {}
    };
  }
}
