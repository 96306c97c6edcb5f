package io.streamrec.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlReaderTest {
  @TempDir Path dir;

  private final List<Good> good = new ArrayList<>();
  private final List<Bad> bad = new ArrayList<>();

  record Good(long line, String requestId) {}

  record Bad(Path file, long line, String text, String reason) {}

  @Test
  void everyGoodLineReachesTheSinkAndEveryBadLineTheErrorHandler() throws IOException {
    Path file =
        write(
            String.join(
                "\n",
                request("r1", 1), // 1
                "", // 2 blank
                "{not json", // 3 bad
                request("r2", 2), // 4
                "   \t ", // 5 blank
                "{\"timestampMs\":5}", // 6 bad: no requestId
                "[1,2,3]", // 7 bad: not an object
                request("r3", 3), // 8
                "{\"requestId\":\"r4\",\"timestampMs\":-4}", // 9 bad: negative time
                request("r5", 5))); // 10, no newline at the end

    JsonlReader.Result result = read(file);

    assertThat(good)
        .extracting(Good::line, Good::requestId)
        .containsExactly(tuple(1L, "r1"), tuple(4L, "r2"), tuple(8L, "r3"), tuple(10L, "r5"));
    assertThat(bad)
        .extracting(Bad::line, Bad::text)
        .containsExactly(
            tuple(3L, "{not json"),
            tuple(6L, "{\"timestampMs\":5}"),
            tuple(7L, "[1,2,3]"),
            tuple(9L, "{\"requestId\":\"r4\",\"timestampMs\":-4}"));
    assertThat(bad).extracting(Bad::file).containsOnly(file);
    assertThat(bad).extracting(Bad::reason).containsOnly(DeadLetterReasons.MALFORMED);
    assertThat(result).isEqualTo(new JsonlReader.Result(4, 4, 2));
    assertThat(result.good() + result.bad() + result.blank()).isEqualTo(10);
  }

  @Test
  void aNonFiniteValueIsReportedWithItsReason() throws IOException {
    Path file =
        write(
            "{\"requestId\":\"r1\",\"timestampMs\":1,\"dense\":{\"x\":1e999}}\n"
                + request("r2", 2)
                + "\n");

    JsonlReader.Result result = read(file);

    assertThat(bad)
        .extracting(Bad::line, Bad::reason)
        .containsExactly(tuple(1L, DeadLetterReasons.NON_FINITE));
    assertThat(good).extracting(Good::line).containsExactly(2L);
    assertThat(result).isEqualTo(new JsonlReader.Result(1, 1, 0));
  }

  @Test
  void windowsLineEndingsAreLineEndings() throws IOException {
    Path file = write(request("r1", 1) + "\r\n\r\n" + request("r2", 2) + "\r\n");

    JsonlReader.Result result = read(file);

    assertThat(good)
        .extracting(Good::line, Good::requestId)
        .containsExactly(tuple(1L, "r1"), tuple(3L, "r2"));
    assertThat(result).isEqualTo(new JsonlReader.Result(2, 0, 1));
  }

  @Test
  void unicodeValuesAreReadAsUtf8() throws IOException {
    Path file = write(request("r-東京-🎉", 1) + "\n");

    read(file);

    assertThat(good).extracting(Good::requestId).containsExactly("r-東京-🎉");
  }

  @Test
  void aLineThatIsNotUtf8IsABadLineAndTheRestIsStillRead() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes((request("r1", 1) + "\n").getBytes(StandardCharsets.UTF_8));
    bytes.writeBytes("{\"requestId\":\"r".getBytes(StandardCharsets.UTF_8));
    bytes.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC3});
    bytes.writeBytes("\",\"timestampMs\":2}\n".getBytes(StandardCharsets.UTF_8));
    bytes.writeBytes((request("r3", 3) + "\n").getBytes(StandardCharsets.UTF_8));
    Path file = dir.resolve("mixed-encoding.jsonl");
    Files.write(file, bytes.toByteArray());

    JsonlReader.Result result = read(file);

    assertThat(good)
        .extracting(Good::line, Good::requestId)
        .containsExactly(tuple(1L, "r1"), tuple(3L, "r3"));
    assertThat(bad)
        .extracting(Bad::line, Bad::reason)
        .containsExactly(tuple(2L, DeadLetterReasons.MALFORMED));
    assertThat(result).isEqualTo(new JsonlReader.Result(2, 1, 0));
  }

  /**
   * A line longer than any event could be (a whole file written as one JSON array) was read into
   * memory whole, then copied and parsed: a large enough file ran the reader out of memory.
   */
  @Test
  void aLineLongerThanAnEventCanBeIsABadLineNamedSoAndTheNextLineIsRead() throws IOException {
    StringBuilder array = new StringBuilder("[");
    for (int i = 0; array.length() <= 3 * JsonlReader.MAX_LINE_BYTES; i++) {
      array.append(i == 0 ? "" : ",").append(request("a" + i, i));
    }
    array.append("]");
    Path file = write(request("r1", 1) + "\n" + array + "\r\n" + request("r3", 3) + "\n");
    List<String> messages = new ArrayList<>();

    JsonlReader.Result result =
        JsonlReader.read(
            file,
            JsonEvents::parseRequest,
            (event, line) -> good.add(new Good(line, event.getRequestId())),
            (f, line, text, error) -> {
              bad.add(new Bad(f, line, text, error.reason()));
              messages.add(error.getMessage());
            });

    assertThat(good)
        .extracting(Good::line, Good::requestId)
        .containsExactly(tuple(1L, "r1"), tuple(3L, "r3"));
    assertThat(bad)
        .extracting(Bad::line, Bad::reason)
        .containsExactly(tuple(2L, DeadLetterReasons.MALFORMED));
    assertThat(bad.get(0).text()).startsWith("[{\"requestId\":\"a0\"").hasSizeLessThan(1000);
    assertThat(messages.get(0))
        .contains(String.format(java.util.Locale.ROOT, "line is %,d bytes", array.length()))
        .contains("one JSON array?");
    assertThat(result).isEqualTo(new JsonlReader.Result(2, 1, 0));
  }

  @Test
  void aLineOfTheLongestLengthIsRead() throws IOException {
    String head = "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"pad\":[\"";
    String tail = "\"]}}";
    String longest =
        head + "x".repeat(JsonlReader.MAX_LINE_BYTES - head.length() - tail.length()) + tail;
    Path file = write(longest + "\n" + longest + "y\n");

    JsonlReader.Result result = read(file);

    assertThat(good).extracting(Good::line).containsExactly(1L);
    assertThat(bad).extracting(Bad::line).containsExactly(2L);
    assertThat(result).isEqualTo(new JsonlReader.Result(1, 1, 0));
  }

  @Test
  void aLoneCarriageReturnEndsALine() throws IOException {
    Path file = write(request("r1", 1) + "\r" + request("r2", 2));

    read(file);

    assertThat(good)
        .extracting(Good::line, Good::requestId)
        .containsExactly(tuple(1L, "r1"), tuple(2L, "r2"));
  }

  /**
   * A file saved as "UTF-8 with BOM" (Notepad, PowerShell 5) lost its first event as "not valid
   * JSON: Unexpected character", naming a character no editor shows.
   */
  @Test
  void aByteOrderMarkAtTheStartIsSkippedAndNowhereElse() throws IOException {
    String bom = "\uFEFF";
    Path file = write(bom + request("r1", 1) + "\n" + bom + request("r2", 2) + "\n");

    JsonlReader.Result result = read(file);

    assertThat(good).extracting(Good::line, Good::requestId).containsExactly(tuple(1L, "r1"));
    assertThat(bad).extracting(Bad::line).containsExactly(2L);
    assertThat(result).isEqualTo(new JsonlReader.Result(1, 1, 0));
  }

  /**
   * A file written by Windows PowerShell 5's {@code >} is UTF-16: each of its lines was a bad line
   * ("not valid JSON"), the load went on to its end and said nothing of the encoding.
   */
  @Test
  void aFileInUtf16IsRefusedWholeNamingItsEncoding() throws IOException {
    String events = request("r1", 1) + "\r\n" + request("r2", 2) + "\r\n";
    Path withMark = dir.resolve("with-mark.jsonl");
    Files.write(withMark, events.getBytes(StandardCharsets.UTF_16LE));
    Files.write(
        withMark, concat(new byte[] {(byte) 0xff, (byte) 0xfe}, Files.readAllBytes(withMark)));
    Path bigEndian = dir.resolve("big-endian.jsonl");
    Files.write(bigEndian, events.getBytes(StandardCharsets.UTF_16BE));

    assertThatThrownBy(() -> read(withMark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(withMark + " is in UTF-16LE")
        .hasMessageContaining("iconv -f UTF-16LE -t UTF-8");
    assertThatThrownBy(() -> read(bigEndian))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(bigEndian + " is in UTF-16BE");
    assertThat(good).isEmpty();
    assertThat(bad).isEmpty();
  }

  /**
   * A gzipped file of events ({@code requests.jsonl.gz}) was read as text: every one of its lines
   * was a bad line, "line is not valid UTF-8", with nothing said of the compression.
   */
  @Test
  void aFileCompressedWithGzipIsRefusedWholeNamingIt() throws IOException {
    Path gz = dir.resolve("events.jsonl.gz");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(bytes)) {
      for (int i = 0; i < 2_000; i++) {
        out.write((request("r" + i, i) + "\n").getBytes(StandardCharsets.UTF_8));
      }
    }
    Files.write(gz, bytes.toByteArray());

    assertThatThrownBy(() -> read(gz))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(gz + " is compressed with gzip")
        .hasMessageContaining("gunzip -k " + gz);
    assertThat(good).isEmpty();
    assertThat(bad).isEmpty();
  }

  @Test
  void aFileOfOneCharacterIsRead() throws IOException {
    JsonlReader.Result result = read(write("x"));

    assertThat(bad).extracting(Bad::line, Bad::text).containsExactly(tuple(1L, "x"));
    assertThat(result).isEqualTo(new JsonlReader.Result(0, 1, 0));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void anEmptyFileReadsNothing() throws IOException {
    JsonlReader.Result result = read(write(""));

    assertThat(good).isEmpty();
    assertThat(bad).isEmpty();
    assertThat(result).isEqualTo(new JsonlReader.Result(0, 0, 0));
  }

  private JsonlReader.Result read(Path file) {
    return JsonlReader.read(
        file,
        JsonEvents::parseRequest,
        (event, line) -> good.add(new Good(line, event.getRequestId())),
        (f, line, text, error) -> bad.add(new Bad(f, line, text, error.reason())));
  }

  private Path write(String content) throws IOException {
    Path file = dir.resolve("events.jsonl");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  private static String request(String id, long timestampMs) {
    return "{\"requestId\":\""
        + id
        + "\",\"timestampMs\":"
        + timestampMs
        + ",\"features\":{\"user_id\":[\"u1\"]}}";
  }
}
