package io.streamrec.cli.kafka;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.JsonlReader;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the JSON interchange files users bring (one event per line, see {@link JsonEvents}) into
 * the requests and impressions topics: key = request id (UTF-8), record timestamp = the event's
 * {@code timestampMs}, value = the Avro single-object encoding ({@link AvroCodec#encode}).
 *
 * <p>A bad line does not stop the load. It goes to {@link Listener#onBadLine} with its file, line
 * number, reason and the start of its text, is counted, and every good line is still produced;
 * blank lines are skipped. A line timed outside its topic's bounds is held back, not sent, as a bad
 * line of reason {@code refused} ({@link TimestampBounds}). A line the broker refuses all the same
 * (a record over its size limit) is a bad line too: a broker refuses a whole batch for one such
 * record, so the records of a refused batch are sent again one by one at the end of the load, and
 * only the bad one is lost. Long loads report {@link Listener#onProgress progress} every {@value
 * #PROGRESS_INTERVAL_MS} ms. A load ends with a flush: it returns only when every good event is
 * written, and otherwise throws a {@link ProduceFailedException} naming the topic.
 *
 * <p>The two files are merged in event time (each read in its own order): a running job reads both
 * topics moving on together, as live traffic comes. Loaded one after the other, a file of requests
 * would carry the job's event time past the impressions still to come while the silent impressions
 * topic counts as idle ({@code source.idle-timeout}), and those would arrive late.
 */
public final class JsonlProducer {
  private static final Logger LOG = LoggerFactory.getLogger(JsonlProducer.class);

  /** How often a long load reports progress. */
  static final long PROGRESS_INTERVAL_MS = 5_000;

  /** How long reading the topics' record time bounds may take before a load goes on without. */
  static final java.time.Duration BOUNDS_TIMEOUT = java.time.Duration.ofSeconds(10);

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

    /** Each good impression as it is sent, with where it came from. */
    default void onImpression(ImpressionEvent impression, Path file, long lineNumber) {}

    /** Each good event, request or impression, as it is sent: its time and where it came from. */
    default void onEvent(long timestampMs, Path file, long lineNumber) {}

    /** Each good event's line as it is sent, parsed, with its kind ({@code request}) and place. */
    default void onLine(ObjectNode event, boolean request, Path file, long lineNumber) {}
  }

  /** Logs the first bad lines of a load at WARN (then counts the rest) and progress at INFO. */
  public static Listener loggingListener() {
    return new LoggingListener();
  }

  private final ByteRecordProducer producer;
  private final TopicsConfig topics;
  private final Listener listener;
  private final long progressIntervalNanos;
  private final Map<String, TimestampBounds> bounds;
  private final java.util.function.LongSupplier clock;
  private final io.streamrec.model.features.FeatureSpec features;

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
    this(producer, topics, listener, progressIntervalMs, Map.of(), System::currentTimeMillis);
  }

  /**
   * A line timed outside its topic's {@code bounds} (by {@code clock}) is held back as refused, not
   * sent: see {@link TimestampBounds}.
   */
  JsonlProducer(
      ByteRecordProducer producer,
      TopicsConfig topics,
      Listener listener,
      long progressIntervalMs,
      Map<String, TimestampBounds> bounds,
      java.util.function.LongSupplier clock) {
    this(producer, topics, listener, progressIntervalMs, bounds, clock, null);
  }

  /**
   * As above; a dense value or label past a 32-bit float's range is a bad line only under a name
   * {@code features} reads (null: under any name), as the job dead-letters a non-finite value only
   * there and ignores it under a name the model does not read.
   */
  JsonlProducer(
      ByteRecordProducer producer,
      TopicsConfig topics,
      Listener listener,
      long progressIntervalMs,
      Map<String, TimestampBounds> bounds,
      java.util.function.LongSupplier clock,
      io.streamrec.model.features.FeatureSpec features) {
    this.features = features;
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.progressIntervalNanos = progressIntervalMs * 1_000_000;
    this.bounds = Map.copyOf(bounds);
    this.clock = clock;
  }

  /**
   * Opens a producer to {@code bootstrapServers}, loads the files and closes it (the topics' record
   * time bounds read by an admin client of its own).
   *
   * @see #load(Path, Path)
   */
  public static Summary load(
      String bootstrapServers,
      TopicsConfig topics,
      Path requestsFile,
      Path impressionsFile,
      Listener listener) {
    try (org.apache.kafka.clients.admin.Admin admin =
        io.streamrec.job.kafka.KafkaPreflight.admin(
            bootstrapServers, io.streamrec.common.KafkaClientProperties.empty())) {
      return load(
          bootstrapServers, Map.of(), admin, topics, requestsFile, impressionsFile, listener, null);
    }
  }

  /**
   * Opens a producer to {@code bootstrapServers} with the user's Kafka client settings ({@code
   * clientSettings}: security, tuning), loads the files and closes it. {@code admin}, a client of
   * the same cluster, reads the topics' record time bounds ({@link TimestampBounds}).
   *
   * @see #load(Path, Path)
   */
  public static Summary load(
      String bootstrapServers,
      Map<String, String> clientSettings,
      org.apache.kafka.clients.admin.Admin admin,
      TopicsConfig topics,
      Path requestsFile,
      Path impressionsFile,
      Listener listener,
      io.streamrec.model.features.FeatureSpec features) {
    List<String> loaded = new ArrayList<>();
    if (requestsFile != null) {
      loaded.add(topics.requests());
    }
    if (impressionsFile != null) {
      loaded.add(topics.impressions());
    }
    Map<String, TimestampBounds> bounds =
        loaded.isEmpty() ? Map.of() : TimestampBounds.of(admin, loaded, BOUNDS_TIMEOUT);
    return loadClosing(
        new ByteRecordProducer(bootstrapServers, clientSettings),
        topics,
        requestsFile,
        impressionsFile,
        listener,
        bounds,
        features);
  }

  /** The dense features of {@code side} the model reads; empty when no model is known. */
  private java.util.Set<String> denseNames(io.streamrec.model.features.Side side) {
    return features == null
        ? java.util.Set.of()
        : features.dense(side).stream()
            .map(io.streamrec.model.features.DenseFeature::name)
            .collect(java.util.stream.Collectors.toSet());
  }

  /**
   * Loads the files with {@code producer}, then closes it; a failure says what was written. A line
   * timed outside its topic's {@code bounds} is not sent (see {@link TimestampBounds}).
   */
  static Summary loadClosing(
      ByteRecordProducer producer,
      TopicsConfig topics,
      Path requestsFile,
      Path impressionsFile,
      Listener listener,
      Map<String, TimestampBounds> bounds,
      io.streamrec.model.features.FeatureSpec features) {
    // the producer is closed before the catch runs: closing waits for the records in flight, and
    // then the broker's acknowledgements are all in
    try (producer) {
      return new JsonlProducer(
              producer,
              topics,
              listener,
              PROGRESS_INTERVAL_MS,
              bounds,
              System::currentTimeMillis,
              features)
          .load(requestsFile, impressionsFile);
    } catch (ProduceFailedException e) {
      throw e.with(written(producer, topics, requestsFile, impressionsFile));
    }
  }

  /**
   * What a load that failed had written, by the broker's acknowledgements: the count of events
   * handed to the producer said nothing of those it dropped when it gave up.
   */
  static String written(
      ByteRecordProducer producer, TopicsConfig topics, Path requestsFile, Path impressionsFile) {
    List<String> parts = new java.util.ArrayList<>();
    if (requestsFile != null) {
      parts.add(
          String.format(Locale.ROOT, "%,d requests", producer.acknowledged(topics.requests())));
    }
    if (impressionsFile != null) {
      parts.add(
          String.format(
              Locale.ROOT, "%,d impressions", producer.acknowledged(topics.impressions())));
    }
    return ". Written before it (acknowledged by the broker): "
        + String.join(" and ", parts)
        + "; the files' other events were not written, or not confirmed. Sending the files again"
        + " sends those written again: the job counts a repeat within the join window as a"
        + " duplicate, and one past the watermark as a late dead letter";
  }

  /**
   * Produces every good event of the two files, then flushes. With both files the events go out
   * merged in event time, as live traffic comes: a request before the impressions timed with or
   * after it, so that a running job sees both topics advance together.
   *
   * @param requestsFile JSONL requests, or {@code null} to load none
   * @param impressionsFile JSONL impressions, or {@code null} to load none
   * @throws ProduceFailedException if any event could not be written (naming the topic)
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public Summary load(Path requestsFile, Path impressionsFile) {
    long start = System.nanoTime();
    java.util.Set<String> requestDense = denseNames(io.streamrec.model.features.Side.REQUEST);
    java.util.Set<String> impressionDense = denseNames(io.streamrec.model.features.Side.IMPRESSION);
    try (FileLoad<RequestEvent> requests =
            requestsFile == null
                ? null
                : new FileLoad<>(
                    requestsFile,
                    topics.requests(),
                    features == null
                        ? JsonEvents::parseRequest
                        : o -> JsonEvents.parseRequest(o, requestDense::contains),
                    RequestEvent::getRequestId,
                    RequestEvent::getTimestampMs);
        FileLoad<ImpressionEvent> impressions =
            impressionsFile == null
                ? null
                : new FileLoad<>(
                    impressionsFile,
                    topics.impressions(),
                    features == null
                        ? JsonEvents::parseImpression
                        : o ->
                            JsonEvents.parseImpression(
                                o, impressionDense::contains, features.labels()::contains),
                    ImpressionEvent::getRequestId,
                    ImpressionEvent::getTimestampMs)) {
      while (requests != null && requests.hasNext()
          || impressions != null && impressions.hasNext()) {
        // a request goes before the impressions of its time: its own come at or after it
        boolean request =
            impressions == null
                || !impressions.hasNext()
                || requests != null
                    && requests.hasNext()
                    && requests.headTimestampMs() <= impressions.headTimestampMs();
        (request ? requests : impressions).sendHead();
      }
      producer.flush();
      long badLines = 0;
      for (FileLoad<?> load : new FileLoad<?>[] {requests, impressions}) {
        if (load != null) {
          retryOneByOne(load);
          badLines += load.bad;
        }
      }
      Summary summary =
          new Summary(
              requests == null ? 0 : requests.sent,
              impressions == null ? 0 : impressions.sent,
              badLines,
              (System.nanoTime() - start) / 1_000_000);
      LOG.info(
          "Loaded {} requests and {} impressions ({} bad line(s) skipped) in {} ms, {} events/s",
          summary.requestsSent(),
          summary.impressionsSent(),
          summary.badLines(),
          summary.elapsedMs(),
          Math.round(summary.eventsPerSecond()));
      return summary;
    }
  }

  /** A record of a line whose batch a broker refused: sent again on its own. */
  private record Refused(
      long lineNumber, byte[] key, long timestampMs, byte[] value, SpecificRecord event) {}

  /**
   * Sends the records of refused batches again, one at a time, so that one bad record (a timestamp
   * or a size the broker does not take) costs only its own line, reported with its number; the rest
   * of its batch is written, after the file's other records.
   */
  private void retryOneByOne(FileLoad<?> load) {
    String topic = load.topic;
    List<Refused> todo = new ArrayList<>(load.refused);
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
                (error.get() instanceof RecordTooLargeException
                            && String.valueOf(error.get().getMessage()).contains("max.request.size")
                        ? "the producer refused the record: "
                        : "the broker refused the record: ")
                    + error.get().getMessage(),
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

  /**
   * One file's load: its events read one ahead (so that two files can be merged in time), its
   * counts, the records of its batches the broker refused, and its progress clock.
   */
  private final class FileLoad<T extends SpecificRecord> implements AutoCloseable {
    final Path file;
    final String topic;
    final List<Refused> refused = Collections.synchronizedList(new ArrayList<>());
    private final JsonlReader.Cursor<T> cursor;
    private final Function<T, String> requestId;
    private final ToLongFunction<T> timestampMs;
    private final long startNanos = System.nanoTime();
    private long nextReportNanos = startNanos + progressIntervalNanos;
    private T head;
    private ObjectNode headLine;
    private ObjectNode lastParsed;
    long sent;
    long bad;

    FileLoad(
        Path file,
        String topic,
        Function<ObjectNode, T> parser,
        Function<T, String> requestId,
        ToLongFunction<T> timestampMs) {
      this.file = file;
      this.topic = topic;
      this.requestId = requestId;
      this.timestampMs = timestampMs;
      this.cursor =
          JsonlReader.open(
              file,
              line -> {
                lastParsed = JsonEvents.parseObject(line);
                return parser.apply(lastParsed);
              },
              (f, lineNumber, line, error) -> {
                bad++;
                listener.onBadLine(badLine(f, lineNumber, line, error));
                maybeReportProgress();
              });
      advance();
    }

    /**
     * Reads the next event its topic takes into {@link #head}: a line timed outside the topic's
     * bounds is held back as it is read, so that it never steers the merge of the two files (a
     * request years ahead as the head of its file sent every impression first).
     */
    private void advance() {
      while (true) {
        head = cursor.next();
        headLine = lastParsed;
        if (head == null) {
          return;
        }
        String refusal =
            bounds
                .getOrDefault(topic, TimestampBounds.ANY)
                .refusal(topic, timestampMs.applyAsLong(head), clock.getAsLong());
        if (refusal == null) {
          return;
        }
        // sent, it would take its batch down with it, and the batch's other events would go again
        // after the file's others, far out of event-time order
        bad++;
        listener.onBadLine(
            new BadLine(file, cursor.lineNumber(), "refused", refusal, excerpt(head.toString())));
        maybeReportProgress();
      }
    }

    boolean hasNext() {
      return head != null;
    }

    long headTimestampMs() {
      return timestampMs.applyAsLong(head);
    }

    /** Sends the event read last and reads the next one. */
    void sendHead() {
      Refused r =
          new Refused(
              cursor.lineNumber(),
              requestId.apply(head).getBytes(StandardCharsets.UTF_8),
              timestampMs.applyAsLong(head),
              AvroCodec.encode(head),
              head);
      producer.send(topic, r.key(), r.timestampMs(), r.value(), e -> refused.add(r));
      if (head instanceof ImpressionEvent impression) {
        listener.onImpression(impression, file, cursor.lineNumber());
      }
      listener.onEvent(r.timestampMs(), file, cursor.lineNumber());
      listener.onLine(headLine, !(head instanceof ImpressionEvent), file, cursor.lineNumber());
      sent++;
      maybeReportProgress();
      advance();
    }

    void maybeReportProgress() {
      long now = System.nanoTime();
      if (now >= nextReportNanos) {
        nextReportNanos = now + progressIntervalNanos;
        listener.onProgress(new Progress(file, sent, bad, (now - startNanos) / 1_000_000));
      }
    }

    @Override
    public void close() {
      cursor.close();
    }
  }

  /**
   * Logs the first {@link #SHOWN} bad lines of a load, then says that the rest are counted only: a
   * file of 900 refused lines printed 900 warnings of one cause.
   */
  private static final class LoggingListener implements Listener {
    static final int SHOWN = 20;
    private long bad;

    @Override
    public void onBadLine(BadLine badLine) {
      if (++bad > SHOWN) {
        if (bad == SHOWN + 1) {
          LOG.warn(
              "more bad lines: counted, not shown one by one (the load's summary gives how many)");
        }
        return;
      }
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
