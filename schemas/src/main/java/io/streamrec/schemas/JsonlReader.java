package io.streamrec.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Reads a JSONL file of events, one per line. A bad line does not stop the read: it is reported,
 * with its line number and why, to an {@link ErrorHandler}; every good line still reaches the sink.
 * Blank lines are skipped; a line that is not valid UTF-8 is a bad line.
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
    // Lines are split on raw bytes (ISO-8859-1 maps each byte to one char, and UTF-8 never uses the
    // bytes of \r or \n inside a character), then each line is decoded on its own: invalid UTF-8 in
    // one line makes that line bad instead of failing the whole read.
    CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
      String raw;
      while ((raw = r.readLine()) != null) {
        lineNo++;
        byte[] bytes = raw.getBytes(StandardCharsets.ISO_8859_1);
        String line;
        try {
          line = utf8.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
          bad++;
          errors.onBadLine(
              file,
              lineNo,
              new String(bytes, StandardCharsets.UTF_8),
              new MalformedRecordException(
                  DeadLetterReasons.MALFORMED, "line is not valid UTF-8", e));
          continue;
        }
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
