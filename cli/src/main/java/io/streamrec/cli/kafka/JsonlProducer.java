package io.streamrec.cli.kafka;

import io.streamrec.job.config.TopicsConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.JsonlReader;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the JSON interchange files users bring (one event per line, see {@link JsonEvents}) into
 * the requests and impressions topics: key = request id (UTF-8), record timestamp = the event's
 * {@code timestampMs}, value = the Avro single-object encoding ({@link AvroCodec#encode}).
 *
 * <p>A bad line does not stop the load. It goes to {@link Listener#onBadLine} with its file, line
 * number, reason and the start of its text, is counted, and every good line is still produced;
 * blank lines are skipped. A line the broker refuses (a timestamp outside the topic's bounds, a
 * record over its size limit) is a bad line too, reason {@code refused}: a broker refuses a whole
 * batch for one such record, so the records of a refused batch are sent again one by one at the end
 * of their file, and only the bad one is lost. Long loads report {@link Listener#onProgress
 * progress} every {@value #PROGRESS_INTERVAL_MS} ms. A load ends with a flush: it returns only when
 * every good event is written, and otherwise throws a {@link ProduceFailedException} naming the
 * topic.
 *
 * <p>Requests are loaded before impressions. Order between the two topics does not matter: the job
 * joins them in event time.
 */
public final class JsonlProducer {
  private static final Logger LOG = LoggerFactory.getLogger(JsonlProducer.class);

  /** How often a long load reports progress. */
  static final long PROGRESS_INTERVAL_MS = 5_000;

  /** Enough of a bad line to recognise it, not so much that one huge line floods the log. */
  static final int EXCERPT_CHARS = 200;

  /** One bad line of a file. */
  public record BadLine(Path file, long lineNumber, String reason, String message, String excerpt) {
    @Override
    public String toString() {
      return file + ":" + lineNumber + ": " + reason + ": " + message + " | " + excerpt;
    }
  }

  /** Where a load of one file stands. */
  public record Progress(Path file, long eventsSent, long badLines, long elapsedMs) {
    public double eventsPerSecond() {
      return eventsSent * 1000.0 / Math.max(1, elapsedMs);
    }
  }

  /** What a load did; everything counted was written, since a load that fails throws instead. */
  public record Summary(long requestsSent, long impressionsSent, long badLines, long elapsedMs) {
    public long eventsSent() {
      return requestsSent + impressionsSent;
    }

    public double eventsPerSecond() {
      return eventsSent() * 1000.0 / Math.max(1, elapsedMs);
    }
  }

  /** Hears about bad lines and progress. Called on the loading thread. */
  public interface Listener {
    void onBadLine(BadLine badLine);

    void onProgress(Progress progress);
  }

  /** Logs bad lines at WARN and progress at INFO. */
  public static Listener loggingListener() {
    return LoggingListener.INSTANCE;
  }

  private final ByteRecordProducer producer;
  private final TopicsConfig topics;
  private final Listener listener;
  private final long progressIntervalNanos;

  /** Uses {@code producer} without owning it: the caller closes it. */
  public JsonlProducer(ByteRecordProducer producer, TopicsConfig topics, Listener listener) {
    this(producer, topics, listener, PROGRESS_INTERVAL_MS);
  }

  /** For tests: progress every {@code progressIntervalMs} (0: after every line). */
  JsonlProducer(
      ByteRecordProducer producer,
      TopicsConfig topics,
      Listener listener,
      long progressIntervalMs) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.progressIntervalNanos = progressIntervalMs * 1_000_000;
  }

  /**
   * Opens a producer to {@code bootstrapServers}, loads the files and closes it.
   *
   * @see #load(Path, Path)
   */
  public static Summary load(
      String bootstrapServers,
      TopicsConfig topics,
      Path requestsFile,
      Path impressionsFile,
      Listener listener) {
    return load(bootstrapServers, Map.of(), topics, requestsFile, impressionsFile, listener);
  }

  /**
   * Opens a producer to {@code bootstrapServers} with the user's Kafka client settings ({@code
   * clientSettings}: security, tuning), loads the files and closes it.
   *
   * @see #load(Path, Path)
   */
  public static Summary load(
      String bootstrapServers,
      Map<String, String> clientSettings,
      TopicsConfig topics,
      Path requestsFile,
      Path impressionsFile,
      Listener listener) {
    try (ByteRecordProducer producer = new ByteRecordProducer(bootstrapServers, clientSettings)) {
      return new JsonlProducer(producer, topics, listener).load(requestsFile, impressionsFile);
    }
  }

  /**
   * Produces every good event of the two files, then flushes.
   *
   * @param requestsFile JSONL requests, or {@code null} to load none
   * @param impressionsFile JSONL impressions, or {@code null} to load none
   * @throws ProduceFailedException if any event could not be written (naming the topic)
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public Summary load(Path requestsFile, Path impressionsFile) {
    long start = System.nanoTime();
    long requestsSent = 0;
    long impressionsSent = 0;
    long badLines = 0;
    if (requestsFile != null) {
      FileLoad requests =
          loadFile(
              requestsFile,
              topics.requests(),
              JsonEvents::parseRequest,
              RequestEvent::getRequestId,
              RequestEvent::getTimestampMs);
      requestsSent = requests.sent;
      badLines += requests.bad;
    }
    if (impressionsFile != null) {
      FileLoad impressions =
          loadFile(
              impressionsFile,
              topics.impressions(),
              JsonEvents::parseImpression,
              ImpressionEvent::getRequestId,
              ImpressionEvent::getTimestampMs);
      impressionsSent = impressions.sent;
      badLines += impressions.bad;
    }
    producer.flush();
    Summary summary =
        new Summary(
            requestsSent, impressionsSent, badLines, (System.nanoTime() - start) / 1_000_000);
    LOG.info(
        "Loaded {} requests and {} impressions ({} bad line(s) skipped) in {} ms, {} events/s",
        summary.requestsSent(),
        summary.impressionsSent(),
        summary.badLines(),
        summary.elapsedMs(),
        Math.round(summary.eventsPerSecond()));
    return summary;
  }

  private <T extends SpecificRecord> FileLoad loadFile(
      Path file,
      String topic,
      Function<String, T> parser,
      Function<T, String> requestId,
      ToLongFunction<T> timestampMs) {
    FileLoad load = new FileLoad(file);
    List<Refused> refused = Collections.synchronizedList(new ArrayList<>());
    JsonlReader.read(
        file,
        parser,
        (event, lineNumber) -> {
          Refused r =
              new Refused(
                  lineNumber,
                  requestId.apply(event).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  timestampMs.applyAsLong(event),
                  AvroCodec.encode(event),
                  event);
          producer.send(topic, r.key(), r.timestampMs(), r.value(), e -> refused.add(r));
          load.sent++;
          load.maybeReportProgress();
        },
        (f, lineNumber, line, error) -> {
          load.bad++;
          listener.onBadLine(badLine(f, lineNumber, line, error));
          load.maybeReportProgress();
        });
    producer.flush();
    retryOneByOne(topic, load, refused);
    return load;
  }

  /** A record of a line whose batch a broker refused: sent again on its own. */
  private record Refused(
      long lineNumber, byte[] key, long timestampMs, byte[] value, SpecificRecord event) {}

  /**
   * Sends the records of refused batches again, one at a time, so that one bad record (a timestamp
   * or a size the broker does not take) costs only its own line, reported with its number; the rest
   * of its batch is written, after the file's other records.
   */
  private void retryOneByOne(String topic, FileLoad load, List<Refused> refused) {
    List<Refused> todo = new ArrayList<>(refused);
    todo.sort(java.util.Comparator.comparingLong(Refused::lineNumber));
    for (Refused r : todo) {
      AtomicReference<Exception> error = new AtomicReference<>();
      producer.send(topic, r.key(), r.timestampMs(), r.value(), error::set);
      producer.flush();
      if (error.get() != null) {
        load.sent--;
        load.bad++;
        listener.onBadLine(
            new BadLine(
                load.file,
                r.lineNumber(),
                "refused",
                "the broker refused the record: " + error.get().getMessage(),
                excerpt(r.event().toString())));
      }
    }
  }

  static BadLine badLine(Path file, long lineNumber, String line, MalformedRecordException error) {
    return new BadLine(file, lineNumber, error.reason(), error.getMessage(), excerpt(line));
  }

  /** The first {@value #EXCERPT_CHARS} characters, without splitting a surrogate pair. */
  static String excerpt(String line) {
    if (line.length() <= EXCERPT_CHARS) {
      return line;
    }
    int end =
        Character.isHighSurrogate(line.charAt(EXCERPT_CHARS - 1))
            ? EXCERPT_CHARS - 1
            : EXCERPT_CHARS;
    return line.substring(0, end) + "...";
  }

  /** Counts of one file's load, and its progress clock. */
  private final class FileLoad {
    final Path file;
    final long startNanos = System.nanoTime();
    long nextReportNanos = startNanos + progressIntervalNanos;
    long sent;
    long bad;

    FileLoad(Path file) {
      this.file = file;
    }

    void maybeReportProgress() {
      long now = System.nanoTime();
      if (now >= nextReportNanos) {
        nextReportNanos = now + progressIntervalNanos;
        listener.onProgress(new Progress(file, sent, bad, (now - startNanos) / 1_000_000));
      }
    }
  }

  private enum LoggingListener implements Listener {
    INSTANCE;

    @Override
    public void onBadLine(BadLine badLine) {
      LOG.warn(
          "{}:{}: skipped ({}): {} | {}",
          badLine.file(),
          badLine.lineNumber(),
          badLine.reason(),
          badLine.message(),
          badLine.excerpt());
    }

    @Override
    public void onProgress(Progress progress) {
      LOG.info(
          "{}: {} events sent, {} bad line(s), {} events/s",
          progress.file(),
          progress.eventsSent(),
          progress.badLines(),
          Math.round(progress.eventsPerSecond()));
    }
  }
}
