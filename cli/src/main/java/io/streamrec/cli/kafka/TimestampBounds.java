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
record TimestampBounds(long beforeMaxMs, String beforeKey, long afterMaxMs, String afterKey) {
  private static final Logger LOG = LoggerFactory.getLogger(TimestampBounds.class);

  static final String BEFORE = "message.timestamp.before.max.ms";
  static final String AFTER = "message.timestamp.after.max.ms";
  static final String TYPE = "message.timestamp.type";
  static final String DIFFERENCE = "message.timestamp.difference.max.ms";

  /** A topic that takes every timestamp. */
  static final TimestampBounds ANY = new TimestampBounds(Long.MAX_VALUE, Long.MAX_VALUE);

  /** Bounds of the current settings' names. */
  TimestampBounds(long beforeMaxMs, long afterMaxMs) {
    this(beforeMaxMs, BEFORE, afterMaxMs, AFTER);
  }

  /** The bounds of a topic of these settings. */
  static TimestampBounds of(Config settings) {
    if ("LogAppendTime".equalsIgnoreCase(value(settings, TYPE))) {
      return ANY;
    }
    Bound before = bound(settings, BEFORE);
    Bound after = bound(settings, AFTER);
    return new TimestampBounds(before.ms(), before.key(), after.ms(), after.key());
  }

  /** One bound and the setting it came from. */
  private record Bound(long ms, String key) {}

  /**
   * The bound {@code key} sets; a broker before Kafka 4 takes {@value #DIFFERENCE} for a bound left
   * at its default (a broker before 3.6 has no other).
   */
  private static Bound bound(Config settings, String key) {
    long own = millis(settings, key);
    long difference = millis(settings, DIFFERENCE);
    return own == Long.MAX_VALUE && difference != Long.MAX_VALUE
        ? new Bound(difference, DIFFERENCE)
        : new Bound(own, key);
  }

  /**
   * The bounds of each of {@code topics}, read in at most {@code timeout}; a topic whose settings
   * cannot be read (no DescribeConfigs ACL, no answer) takes every timestamp here, which the log
   * says: the broker's refusal is the check then.
   */
  static Map<String, TimestampBounds> of(
      Admin admin, Collection<String> topics, java.time.Duration timeout) {
    Map<String, TimestampBounds> bounds = new HashMap<>();
    List<ConfigResource> resources =
        topics.stream()
            .distinct()
            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t))
            .toList();
    var futures = admin.describeConfigs(resources).values();
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> unread = new java.util.ArrayList<>();
    for (ConfigResource r : resources) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        bounds.put(r.name(), of(futures.get(r).get(left, TimeUnit.NANOSECONDS)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return bounds;
      } catch (Exception e) {
        unread.add(
            r.name()
                + " ("
                + (e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e)
                + ")");
      }
    }
    if (!unread.isEmpty()) {
      LOG.warn(
          "cannot read the record time bounds of topic(s) {}: each of their lines is sent whatever"
              + " its time, and a line the broker refuses for it is sent again after the file's"
              + " others",
          String.join(", ", unread));
    }
    return bounds;
  }

  /**
   * Why the broker would refuse a record of {@code timestampMs} on {@code topic} at {@code nowMs};
   * null when it takes it. Where the time looks written in another unit than milliseconds it says
   * so: such an event is refused before the load's check of units sees it, and a time in
   * microseconds is the commonest cause of this refusal.
   */
  String refusal(String topic, long timestampMs, long nowMs) {
    long ahead = timestampMs - nowMs;
    String why = null;
    if (ahead > afterMaxMs) {
      why = refusal(topic, afterMaxMs, afterKey, ahead, "ahead of");
    } else if (-ahead > beforeMaxMs) {
      why = refusal(topic, beforeMaxMs, beforeKey, -ahead, "behind");
    }
    String unit = TimeCheck.likelyUnit(timestampMs);
    return why == null || unit == null
        ? why
        : why
            + ". Its timestampMs, "
            + timestampMs
            + ", looks like "
            + unit
            + ", not milliseconds since the epoch";
  }

  private static String refusal(String topic, long boundMs, String key, long byMs, String way) {
    return "topic '"
        + topic
        + "' takes record times up to "
        + TimeCheck.span(boundMs)
        + " "
        + way
        + " the broker's clock ("
        + key
        + "): this event is "
        + TimeCheck.span(byMs)
        + " "
        + way
        + " this machine's, not sent (the broker would refuse it, and every event sent with it)";
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
