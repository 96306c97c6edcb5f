package io.streamrec.cli;

import java.time.Duration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads durations as Flink does: {@code 60s}, {@code 2 min}, {@code 500ms}, {@code 1h}. */
final class Durations implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String n = io.streamrec.job.config.JobConfig.withoutUnit(value);
    if (n != null) {
      // Flink reads a bare number as milliseconds: --duration 10 ran 10 ms of traffic and failed
      throw new TypeConversionException(
          "'"
              + value
              + "' has no unit (it would be "
              + n
              + " ms): write it, e.g. "
              + n
              + "s, "
              + n
              + "min or "
              + n
              + "ms");
    }
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
