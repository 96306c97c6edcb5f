package io.streamrec.cli;

import java.time.Duration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads durations as Flink does: {@code 60s}, {@code 2 min}, {@code 500ms}, {@code 1h}. */
final class Durations implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      return TimeUtils.parseDuration(value);
    } catch (RuntimeException e) {
      throw new TypeConversionException(
          "'"
              + value
              + "' is not a duration (e.g. 60s, 2min, 500ms"
              + (value.strip().startsWith("-") ? "; a duration is never negative" : "")
              + ")");
    }
  }
}
