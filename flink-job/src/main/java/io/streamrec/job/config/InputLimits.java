package io.streamrec.job.config;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.TableCapacities;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The bounds on what producers send ({@link InputOptions}), validated.
 *
 * @param minTimestampMs events timed before this are implausible
 * @param maxFutureMs how far ahead of the wall clock an event may be (0: no bound)
 * @param maxTimeJumpMs how far ahead of its partition's newest time (0: no bound)
 * @param maxIdsPerFeature values one categorical feature of one event may hold
 * @param maxIdsPerUnit ids one unit may hold
 * @param maxUnitBytes bytes of events one open unit may keep
 * @param deadLetterMaxPayloadBytes bytes of its record a dead letter keeps
 * @param tables the rows each table keeps hot, which bound a unit's rows of that table
 */
public record InputLimits(
    long minTimestampMs,
    long maxFutureMs,
    long maxTimeJumpMs,
    int maxIdsPerFeature,
    int maxIdsPerUnit,
    int maxUnitBytes,
    int deadLetterMaxPayloadBytes,
    TableCapacities tables)
    implements Serializable {

  /** The most a dead letter may keep: far below any producer's or broker's default limit. */
  public static final int DEAD_LETTER_PAYLOAD_CAP = 512 << 10;

  public static InputLimits from(ReadableConfig c, ModelConfig model) {
    long floor;
    try {
      floor = new Timestamps().convert(c.get(InputOptions.MIN_TIMESTAMP));
    } catch (RuntimeException e) {
      throw new ConfigException(InputOptions.MIN_TIMESTAMP, "is not valid", e.getMessage());
    }
    if (floor < 0) {
      throw new ConfigException(
          InputOptions.MIN_TIMESTAMP, "is before 1970", "event times are never negative");
    }
    long maxFutureMs = c.get(InputOptions.MAX_FUTURE).toMillis();
    // the difference, not the sum: now + the longest max-future overflows
    if (maxFutureMs > 0 && floor - System.currentTimeMillis() > maxFutureMs) {
      // no event could pass both bounds: every one was dead-lettered, and the job ran on
      throw new ConfigException(
          InputOptions.MIN_TIMESTAMP,
          "is "
              + Timestamps.format(floor)
              + ", later than source.max-future lets an event be, so every event would be"
              + " dead-lettered as implausible_time",
          "give an instant in the past: events timed before it are dropped");
    }
    // a unit's rows must fit every hot tier at once: each table bounds its own rows (tables)
    int maxIdsPerUnit = positive(c, InputOptions.MAX_IDS_PER_UNIT);
    int payload = positive(c, InputOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES);
    if (payload > DEAD_LETTER_PAYLOAD_CAP) {
      throw new ConfigException(
          InputOptions.DEAD_LETTER_MAX_PAYLOAD_BYTES,
          "is " + payload,
          "it must be at most " + DEAD_LETTER_PAYLOAD_CAP);
    }
    return new InputLimits(
        floor,
        maxFutureMs,
        c.get(InputOptions.MAX_TIME_JUMP).toMillis(),
        positive(c, InputOptions.MAX_IDS_PER_FEATURE),
        maxIdsPerUnit,
        positive(c, InputOptions.MAX_UNIT_BYTES),
        payload,
        TableCapacities.of(model));
  }

  private static int positive(
      ReadableConfig c, org.apache.flink.configuration.ConfigOption<Integer> o) {
    int v = c.get(o);
    if (v <= 0) {
      throw new ConfigException(o, "is " + v, "it must be > 0");
    }
    return v;
  }
}
