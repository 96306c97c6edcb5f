package io.streamrec.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Reads a JSONL file of events, one per line. A bad line does not stop the read: it is reported,
 * with its line number and why, to an {@link ErrorHandler}; every good line still reaches the sink.
 * Blank lines are skipped.
 */
public final class JsonlReader {

  /** Receives each good event. */
  @FunctionalInterface
  public interface Sink<T> {
    void accept(T event, long lineNumber);
  }

  /** Receives each bad line. */
  @FunctionalInterface
  public interface ErrorHandler {
    void onBadLine(Path file, long lineNumber, String line, MalformedRecordException error);
  }

  /** What a read did. */
  public record Result(long good, long bad, long blank) {}

  private JsonlReader() {}

  public static <T> Result read(
      Path file, Function<String, T> parser, Sink<T> sink, ErrorHandler errors) {
    long good = 0, bad = 0, blank = 0, lineNo = 0;
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          blank++;
          continue;
        }
        T event;
        try {
          event = parser.apply(line);
        } catch (MalformedRecordException e) {
          bad++;
          errors.onBadLine(file, lineNo, line, e);
          continue;
        }
        good++;
        sink.accept(event, lineNo);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return new Result(good, bad, blank);
  }
}
