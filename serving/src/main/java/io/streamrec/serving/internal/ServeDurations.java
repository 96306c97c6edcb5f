package io.streamrec.serving.internal;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads durations as the other commands do ({@code 60s}, {@code 2min}, {@code 500ms}, {@code 1h}; a
 * bare number is seconds), without Flink on the serving class path.
 */
public final class ServeDurations implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    int unit = 0;
    while (unit < v.length() && (Character.isDigit(v.charAt(unit)) || v.charAt(unit) == '.')) {
      unit++;
    }
    try {
      double n = Double.parseDouble(v.substring(0, unit));
      String u = v.substring(unit).trim();
      double ms =
          switch (u) {
            case "ms", "milli", "millis", "millisecond", "milliseconds" -> n;
            case "", "s", "sec", "secs", "second", "seconds" -> n * 1_000;
            case "m", "min", "mins", "minute", "minutes" -> n * 60_000;
            case "h", "hour", "hours" -> n * 3_600_000;
            default -> throw new NumberFormatException(u);
          };
      return Duration.ofMillis(Math.round(ms));
    } catch (RuntimeException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration (e.g. 60s, 2min, 500ms)");
    }
  }
}
