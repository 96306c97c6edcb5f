package io.streamrec.job.config;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a point in time: epoch milliseconds, or an ISO-8601 instant such as 2026-01-01T00:00:00Z.
 */
public final class Timestamps implements ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    String v = value.trim();
    if (v.matches("\\d+")) {
      return Long.parseLong(v);
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
