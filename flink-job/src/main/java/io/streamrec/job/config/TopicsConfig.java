package io.streamrec.job.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The names of streamrec's five topics and how many partitions the input topics get when the
 * command line creates them.
 *
 * @param requests Avro {@code RequestEvent}s, keyed by request id
 * @param impressions Avro {@code ImpressionEvent}s, keyed by request id
 * @param deadLetters Avro {@code DeadLetter}s: every record the job could not use, with its reason
 * @param modelUpdates the compacted model: deltas, tombstones and version markers
 * @param requestUnits the optional replayable training log of assembled units
 * @param inputPartitions partitions of requests, impressions and request-units when created
 */
public record TopicsConfig(
    String requests,
    String impressions,
    String deadLetters,
    String modelUpdates,
    String requestUnits,
    int inputPartitions) {

  public static final String DEFAULT_REQUESTS = "requests";
  public static final String DEFAULT_IMPRESSIONS = "impressions";
  public static final String DEFAULT_DEAD_LETTERS = "dead-letters";
  public static final String DEFAULT_MODEL_UPDATES = "model-updates";
  public static final String DEFAULT_REQUEST_UNITS = "request-units";

  /** Enough for the demo's two source readers; a production cluster sizes its own topics. */
  public static final int DEFAULT_INPUT_PARTITIONS = 2;

  /** Kafka's own rule for topic names. */
  private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** The keys that name the topics, in the order of the record's components. */
  private static final List<String> KEYS =
      List.of(
          JobOptions.REQUESTS_TOPIC.key(),
          JobOptions.IMPRESSIONS_TOPIC.key(),
          JobOptions.DEAD_LETTERS_TOPIC.key(),
          JobOptions.MODEL_UPDATES_TOPIC.key(),
          JobOptions.REQUEST_UNITS_TOPIC.key());

  public TopicsConfig {
    List<String> names =
        java.util.Arrays.asList(requests, impressions, deadLetters, modelUpdates, requestUnits);
    java.util.Map<String, String> keyOf = new java.util.HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      if (name == null
          || !LEGAL_NAME.matcher(name).matches()
          || name.equals(".")
          || name.equals("..")) {
        throw new IllegalArgumentException(
            "configuration key '"
                + KEYS.get(i)
                + "': topic name '"
                + name
                + "' is not legal in Kafka: use 1 to 249 of [a-zA-Z0-9._-]");
      }
      String other = keyOf.putIfAbsent(name, KEYS.get(i));
      if (other != null) {
        throw new IllegalArgumentException(
            "configuration keys '"
                + other
                + "' and '"
                + KEYS.get(i)
                + "' both name topic '"
                + name
                + "', which is used for two topics: give each its own");
      }
    }
    if (inputPartitions < 1) {
      throw new IllegalArgumentException(
          "inputPartitions must be at least 1, got " + inputPartitions);
    }
  }

  public static TopicsConfig defaults() {
    return new TopicsConfig(
        DEFAULT_REQUESTS,
        DEFAULT_IMPRESSIONS,
        DEFAULT_DEAD_LETTERS,
        DEFAULT_MODEL_UPDATES,
        DEFAULT_REQUEST_UNITS,
        DEFAULT_INPUT_PARTITIONS);
  }

  /** The same topics with {@code prefix} before each name, e.g. one set per tenant or per test. */
  public TopicsConfig withPrefix(String prefix) {
    return new TopicsConfig(
        prefix + requests,
        prefix + impressions,
        prefix + deadLetters,
        prefix + modelUpdates,
        prefix + requestUnits,
        inputPartitions);
  }

  public TopicsConfig withInputPartitions(int partitions) {
    return new TopicsConfig(
        requests, impressions, deadLetters, modelUpdates, requestUnits, partitions);
  }

  /** All five names, inputs first. */
  public List<String> all() {
    return List.of(requests, impressions, deadLetters, modelUpdates, requestUnits);
  }
}
