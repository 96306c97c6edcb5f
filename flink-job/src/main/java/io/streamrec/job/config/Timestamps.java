package io.streamrec.job.config;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a point in time: epoch milliseconds, or an ISO-8601 instant such as 2026-01-01T00:00:00Z.
 */
public final class Timestamps implements ITypeConverter<Long> {
  /** {@code ms} as an ISO-8601 instant. */
  public static String format(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }

  /** Refuses a range whose {@code until} is not after its {@code from} (either may be null). */
  public static void requireOrder(Long from, Long until) {
    if (from != null && until != null && until <= from) {
      throw new IllegalArgumentException(
          "--until (" + format(until) + ") must be after --from (" + format(from) + ")");
    }
  }

  @Override
  public Long convert(String value) {
    String v = value.trim();
    if (v.matches("\\d+")) {
      long ms = Long.parseLong(v);
      if (ms >= 1_000_000_000L && ms < 100_000_000_000L) {
        // 10 or 11 digits: epoch seconds of 2001-5138, or milliseconds of 1970-1973
        throw new TypeConversionException(
            "'"
                + value
                + "' reads as "
                + format(ms)
                + " in epoch milliseconds: epoch seconds? Give milliseconds ("
                + v
                + "000) or an ISO-8601 instant like 2026-01-01T00:00:00Z");
      }
      return ms;
    }
    try {
      return Instant.parse(v).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new TypeConversionException(
          "'"
              + value
              + "' is not a time: give epoch milliseconds or an ISO-8601 instant like 2026-01-01T00:00:00Z");
    }
  }
}
