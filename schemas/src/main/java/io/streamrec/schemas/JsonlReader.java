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

  /** Reads the whole file: every good event to {@code sink}, every bad line to {@code errors}. */
  public static <T> Result read(
      Path file, Function<String, T> parser, Sink<T> sink, ErrorHandler errors) {
    try (Cursor<T> cursor = open(file, parser, errors)) {
      T event;
      while ((event = cursor.next()) != null) {
        sink.accept(event, cursor.lineNumber());
      }
      return cursor.result();
    }
  }

  /**
   * Opens {@code file} to read its events one at a time ({@link Cursor#next}), as a merge of two
   * files needs; bad lines go to {@code errors} as they are passed.
   *
   * @throws UncheckedIOException if the file cannot be opened
   */
  public static <T> Cursor<T> open(Path file, Function<String, T> parser, ErrorHandler errors) {
    try {
      return new Cursor<>(
          file, Files.newBufferedReader(file, StandardCharsets.ISO_8859_1), parser, errors);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The good events of a file, one at a time; not thread-safe. */
  public static final class Cursor<T> implements AutoCloseable {
    private final Path file;
    private final BufferedReader reader;
    private final Function<String, T> parser;
    private final ErrorHandler errors;
    // Lines are split on raw bytes (ISO-8859-1 maps each byte to one char, and UTF-8 never uses the
    // bytes of \r or \n inside a character), then each line is decoded on its own: invalid UTF-8
    // in one line makes that line bad instead of failing the whole read.
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    private long good;
    private long bad;
    private long blank;
    private long lineNumber;

    private Cursor(
        Path file, BufferedReader reader, Function<String, T> parser, ErrorHandler errors) {
      this.file = file;
      this.reader = reader;
      this.parser = parser;
      this.errors = errors;
    }

    /**
     * The next good event, or {@code null} at the end of the file.
     *
     * @throws UncheckedIOException if the file cannot be read
     */
    public T next() {
      try {
        String raw;
        while ((raw = reader.readLine()) != null) {
          lineNumber++;
          T event = parse(raw.getBytes(StandardCharsets.ISO_8859_1));
          if (event != null) {
            good++;
            return event;
          }
        }
        return null;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }

    /** The line of the event {@link #next} returned last (1-based). */
    public long lineNumber() {
      return lineNumber;
    }

    /** What the read did so far. */
    public Result result() {
      return new Result(good, bad, blank);
    }

    private T parse(byte[] bytes) {
      String line;
      try {
        line = utf8.decode(ByteBuffer.wrap(bytes)).toString();
      } catch (CharacterCodingException e) {
        bad++;
        errors.onBadLine(
            file,
            lineNumber,
            new String(bytes, StandardCharsets.UTF_8),
            new MalformedRecordException(
                DeadLetterReasons.MALFORMED, "line is not valid UTF-8", e));
        return null;
      }
      if (line.isBlank()) {
        blank++;
        return null;
      }
      try {
        return parser.apply(line);
      } catch (MalformedRecordException e) {
        bad++;
        errors.onBadLine(file, lineNumber, line, e);
        return null;
      }
    }

    @Override
    public void close() {
      try {
        reader.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + file, e);
      }
    }
  }
}
