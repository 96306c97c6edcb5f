package io.streamrec.cli.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record timestamps a topic takes: a broker refuses a record timed more than {@code
 * message.timestamp.before.max.ms} behind its clock or {@code message.timestamp.after.max.ms} ahead
 * of it (Kafka 4's default: one hour ahead), unless the topic stamps records itself ({@code
 * message.timestamp.type: LogAppendTime}). It refuses the whole batch with it: the batch's good
 * records, sent again after the file's others, came 20 s and more behind their neighbours, past a
 * job's join window, and a backfill's {@code --until} stopped its partition before them. {@code
 * produce} holds such a line back instead (a bad line, reason {@code refused}), judged by this
 * machine's clock; a line the broker refuses all the same is still sent again on its own.
 */
record TimestampBounds(long beforeMaxMs, long afterMaxMs) {
  private static final Logger LOG = LoggerFactory.getLogger(TimestampBounds.class);

  static final String BEFORE = "message.timestamp.before.max.ms";
  static final String AFTER = "message.timestamp.after.max.ms";
  static final String TYPE = "message.timestamp.type";
  static final String DIFFERENCE = "message.timestamp.difference.max.ms";

  /** A topic that takes every timestamp. */
  static final TimestampBounds ANY = new TimestampBounds(Long.MAX_VALUE, Long.MAX_VALUE);

  /** The bounds of a topic of these settings. */
  static TimestampBounds of(Config settings) {
    if ("LogAppendTime".equalsIgnoreCase(value(settings, TYPE))) {
      return ANY;
    }
    if (value(settings, BEFORE) == null && value(settings, AFTER) == null) {
      // a broker before Kafka 3.6: one bound each way
      long both = millis(settings, DIFFERENCE);
      return new TimestampBounds(both, both);
    }
    return new TimestampBounds(millis(settings, BEFORE), millis(settings, AFTER));
  }

  /**
   * The bounds of each of {@code topics}, in one request of at most {@code timeout}; where their
   * settings cannot be read (no DescribeConfigs ACL, no answer) every topic takes every timestamp
   * here, which the log says: the broker's refusal is the check then.
   */
  static Map<String, TimestampBounds> of(
      Admin admin, Collection<String> topics, java.time.Duration timeout) {
    Map<String, TimestampBounds> bounds = new HashMap<>();
    List<ConfigResource> resources =
        topics.stream()
            .distinct()
            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t))
            .toList();
    try {
      Map<ConfigResource, Config> settings =
          admin.describeConfigs(resources).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      for (ConfigResource r : resources) {
        bounds.put(r.name(), of(settings.get(r)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warn(
          "cannot read the record time bounds of topics {} ({}): each line is sent whatever its"
              + " time, and a line the broker refuses for it is sent again after the file's others",
          topics,
          e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e.toString());
    }
    return bounds;
  }

  /**
   * Why the broker would refuse a record of {@code timestampMs} on {@code topic} at {@code nowMs};
   * null when it takes it.
   */
  String refusal(String topic, long timestampMs, long nowMs) {
    long ahead = timestampMs - nowMs;
    if (ahead > afterMaxMs) {
      return "topic '"
          + topic
          + "' takes record times up to "
          + TimeCheck.span(afterMaxMs)
          + " ahead of the broker's clock ("
          + AFTER
          + "): this event is "
          + TimeCheck.span(ahead)
          + " ahead of this machine's, not sent (the broker would refuse it, and every event"
          + " sent with it)";
    }
    if (-ahead > beforeMaxMs) {
      return "topic '"
          + topic
          + "' takes record times up to "
          + TimeCheck.span(beforeMaxMs)
          + " behind the broker's clock ("
          + BEFORE
          + "): this event is "
          + TimeCheck.span(-ahead)
          + " behind this machine's, not sent (the broker would refuse it, and every event"
          + " sent with it)";
    }
    return null;
  }

  private static String value(Config settings, String name) {
    ConfigEntry e = settings == null ? null : settings.get(name);
    return e == null ? null : e.value();
  }

  private static long millis(Config settings, String name) {
    String v = value(settings, name);
    try {
      return v == null ? Long.MAX_VALUE : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }
}
