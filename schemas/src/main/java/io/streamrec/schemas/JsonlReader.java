package io.streamrec.schemas;

import java.io.IOException;
import java.io.InputStream;
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
 * Blank lines are skipped; a line that is not valid UTF-8 is a bad line, and so is a line longer
 * than {@link #MAX_LINE_BYTES}, which is passed over without being held in memory. A byte order
 * mark at the start of the file is skipped. A file in UTF-16 (what Windows PowerShell 5's {@code >}
 * writes) is refused whole, naming its encoding: every line of it would be a bad line; so is a file
 * compressed with gzip.
 */
public final class JsonlReader {

  /**
   * The longest line read as an event: 1 MiB, what Kafka producers send at most by default ({@code
   * max.request.size}) and the job's {@code source.max-record-bytes}, so no longer line could
   * become an event anyway. A longer line is usually a whole file written as one JSON array.
   */
  public static final int MAX_LINE_BYTES = 1 << 20;

  /** UTF-8's byte order mark, skipped at the start of a file. */
  private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /** How much of a line that is too long is handed to the {@link ErrorHandler}. */
  private static final int LONG_LINE_SHOWN = 200;

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
   * @throws IllegalArgumentException if the file is in UTF-16
   */
  public static <T> Cursor<T> open(Path file, Function<String, T> parser, ErrorHandler errors) {
    return open(file, parser, errors, MAX_LINE_BYTES);
  }

  /**
   * {@link #open(Path, Function, ErrorHandler)} with lines longer than {@code maxLineBytes} bad.
   */
  static <T> Cursor<T> open(
      Path file, Function<String, T> parser, ErrorHandler errors, int maxLineBytes) {
    InputStream in;
    try {
      in = Files.newInputStream(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    Cursor<T> cursor = new Cursor<>(file, in, parser, errors, maxLineBytes);
    try {
      cursor.readStart();
      return cursor;
    } catch (RuntimeException e) {
      cursor.close();
      throw e;
    }
  }

  /** The good events of a file, one at a time; not thread-safe. */
  public static final class Cursor<T> implements AutoCloseable {
    private final Path file;
    private final InputStream in;
    private final Function<String, T> parser;
    private final ErrorHandler errors;
    private final int maxLineBytes;
    // Lines are split on raw bytes (UTF-8 never uses the bytes of \r or \n inside a character),
    // then each line is decoded on its own: invalid UTF-8 in one line makes that line bad instead
    // of failing the whole read.
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private byte[] line = new byte[1024];
    private int lineLength;
    private long lineBytes;
    private boolean afterCarriageReturn;
    private long good;
    private long bad;
    private long blank;
    private long lineNumber;

    private Cursor(
        Path file,
        InputStream in,
        Function<String, T> parser,
        ErrorHandler errors,
        int maxLineBytes) {
      this.file = file;
      this.in = in;
      this.parser = parser;
      this.errors = errors;
      this.maxLineBytes = maxLineBytes;
    }

    /**
     * The next good event, or {@code null} at the end of the file.
     *
     * @throws UncheckedIOException if the file cannot be read
     */
    public T next() {
      try {
        while (readLine()) {
          lineNumber++;
          T event = lineBytes > maxLineBytes ? tooLong() : parse();
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

    /**
     * Reads the file's first bytes into the buffer, where {@link #readLine} takes them, passing
     * over UTF-8's byte order mark, which editors on Windows write at the start of a file ("UTF-8
     * with BOM") and which is no part of the first event (RFC 8259 lets a reader ignore it); and
     * refuses a file in UTF-16, known by its byte order mark or, without one, by a zero byte beside
     * the first character: UTF-8 text holds no zero byte, and in UTF-16 every ASCII character has
     * one; and refuses a file compressed with gzip, known by its magic number.
     */
    private void readStart() {
      try {
        limit = Math.max(in.readNBytes(buffer, 0, BYTE_ORDER_MARK.length), 0);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
      if (limit == BYTE_ORDER_MARK.length
          && java.util.Arrays.equals(buffer, 0, limit, BYTE_ORDER_MARK, 0, limit)) {
        position = limit;
        return;
      }
      if (limit < 2) {
        return;
      }
      int b0 = buffer[0] & 0xff;
      int b1 = buffer[1] & 0xff;
      if (b0 == 0x1f && b1 == 0x8b) {
        // gzip's magic number: no UTF-8 text starts with it (0x8b continues a character)
        throw new IllegalArgumentException(
            file
                + " is compressed with gzip; events are read as UTF-8 text, one JSON object per"
                + " line: decompress it first, e.g. gunzip -k "
                + file
                + ", or give <(zcat "
                + file
                + ")");
      }
      String which = null;
      if (b0 != 0 && b1 == 0 || b0 == 0xff && b1 == 0xfe) {
        which = "UTF-16LE";
      } else if (b0 == 0 && b1 != 0 || b0 == 0xfe && b1 == 0xff) {
        which = "UTF-16BE";
      }
      if (which != null) {
        throw new IllegalArgumentException(
            file
                + " is in "
                + which
                + " (as Windows PowerShell 5 writes with '>'); events are read as UTF-8, one JSON"
                + " object per line: convert it first, e.g. iconv -f "
                + which
                + " -t UTF-8 "
                + file
                + " > events.jsonl");
      }
    }

    /** What the read did so far. */
    public Result result() {
      return new Result(good, bad, blank);
    }

    /**
     * Reads the next line (ended by \n, \r\n or \r, or by the end of the file) into {@link #line},
     * keeping no more of it than {@link #maxLineBytes} and counting all of it in {@link
     * #lineBytes}; false at the end of the file.
     */
    private boolean readLine() throws IOException {
      lineLength = 0;
      lineBytes = 0;
      while (true) {
        if (position == limit) {
          limit = in.read(buffer);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return lineBytes > 0;
          }
        }
        if (afterCarriageReturn) {
          afterCarriageReturn = false;
          if (buffer[position] == '\n') {
            position++;
            continue;
          }
        }
        int start = position;
        while (position < limit && buffer[position] != '\n' && buffer[position] != '\r') {
          position++;
        }
        keep(start, position - start);
        if (position < limit) {
          afterCarriageReturn = buffer[position] == '\r';
          position++;
          return true;
        }
      }
    }

    /**
     * Adds {@code length} bytes of the buffer to the line, up to one byte past the longest kept.
     */
    private void keep(int start, int length) {
      lineBytes += length;
      int room = maxLineBytes + 1 - lineLength;
      int n = Math.min(length, Math.max(room, 0));
      if (n == 0) {
        return;
      }
      if (lineLength + n > line.length) {
        line =
            java.util.Arrays.copyOf(
                line,
                (int) Math.min(Math.max(2L * line.length, lineLength + n), maxLineBytes + 1L));
      }
      System.arraycopy(buffer, start, line, lineLength, n);
      lineLength += n;
    }

    private T tooLong() {
      bad++;
      errors.onBadLine(
          file,
          lineNumber,
          new String(line, 0, Math.min(lineLength, LONG_LINE_SHOWN), StandardCharsets.UTF_8),
          new MalformedRecordException(
              DeadLetterReasons.MALFORMED,
              String.format(
                  java.util.Locale.ROOT,
                  "line is %,d bytes, longer than the %,d an event can be: events are read one"
                      + " JSON object per line (is the file one JSON array?)",
                  lineBytes,
                  maxLineBytes)));
      return null;
    }

    /** The event of the line read, or null for a blank or bad one (counted, and reported). */
    private T parse() {
      String text;
      try {
        text = utf8.decode(ByteBuffer.wrap(line, 0, lineLength)).toString();
      } catch (CharacterCodingException e) {
        bad++;
        errors.onBadLine(
            file,
            lineNumber,
            new String(line, 0, lineLength, StandardCharsets.UTF_8),
            new MalformedRecordException(
                DeadLetterReasons.MALFORMED, "line is not valid UTF-8", e));
        return null;
      }
      if (text.isBlank()) {
        blank++;
        return null;
      }
      try {
        return parser.apply(text);
      } catch (MalformedRecordException e) {
        bad++;
        errors.onBadLine(file, lineNumber, text, e);
        return null;
      }
    }

    @Override
    public void close() {
      try {
        in.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + file, e);
      }
    }
  }
}
