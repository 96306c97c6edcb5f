package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RDataTest {
  @TempDir Path dir;

  // SEXP types and flag bits as R's serialize.c writes them
  private static final int SYM = 1, LIST = 2, CHAR = 9, INT = 13, REAL = 14, STR = 16, VEC = 19;
  private static final int CLOSURE = 3, ALTREP = 238, REF = 255, NIL = 254;
  private static final int HAS_ATTR = 1 << 9, HAS_TAG = 1 << 10;

  /** Bytes laid out as R's XDR writer lays them out. */
  private static final class Out {
    final ByteArrayOutputStream b = new ByteArrayOutputStream();

    Out i(int... v) {
      for (int x : v) {
        b.writeBytes(ByteBuffer.allocate(4).putInt(x).array());
      }
      return this;
    }

    Out d(double... v) {
      for (double x : v) {
        b.writeBytes(ByteBuffer.allocate(8).putDouble(x).array());
      }
      return this;
    }

    Out chars(String s) {
      if (s == null) {
        return i(CHAR, -1);
      }
      byte[] v = s.getBytes(StandardCharsets.UTF_8);
      i(CHAR, v.length);
      b.writeBytes(v);
      return this;
    }

    Out strings(int flags, String... v) {
      i(STR | flags, v.length);
      for (String s : v) {
        chars(s);
      }
      return this;
    }

    /** A symbol the first time, a reference to the ref-th symbol read after. */
    Out sym(String name, int ref) {
      return ref > 0 ? i(REF | (ref << 8)) : i(SYM).chars(name);
    }

    Out header3() {
      b.writeBytes("X\n".getBytes(StandardCharsets.US_ASCII));
      i(3, 0x040201, 0x030500, 5);
      b.writeBytes("UTF-8".getBytes(StandardCharsets.US_ASCII));
      return this;
    }
  }

  /**
   * data.frame(id = c(7L, NA, 9L), score = c(1.5, -2, NaN), name = c("a", NA, "c"), kind =
   * factor(c("y", "x", "y"))), row names as R 3.5+ writes them (a compact sequence).
   */
  private static byte[] frame() {
    Out o = new Out().header3();
    o.i(VEC | HAS_ATTR, 4);
    o.i(INT, 3, 7, RData.NA_INT, 9);
    o.i(REAL, 3).d(1.5, -2, Double.NaN);
    o.strings(0, "a", null, "c");
    o.i(INT | HAS_ATTR, 3, 2, 1, 2); // the factor's codes, then its attributes
    o.i(LIST | HAS_TAG).sym("levels", 0).strings(0, "x", "y");
    o.i(LIST | HAS_TAG).sym("class", 0).strings(0, "factor");
    o.i(NIL);
    // the frame's attributes: names, class (a reference to the symbol read second), row.names
    o.i(LIST | HAS_TAG).sym("names", 0).strings(0, "id", "score", "name", "kind");
    o.i(LIST | HAS_TAG).sym("class", 2).strings(0, "data.frame");
    o.i(LIST | HAS_TAG).sym("row.names", 0);
    o.i(ALTREP).i(LIST).sym("compact_intseq", 0).i(LIST).sym("base", 0).i(LIST).i(INT, 1, 13);
    o.i(NIL); // end of the info pairlist
    o.i(REAL, 3).d(3, 1, 1).i(NIL);
    o.i(NIL);
    return o.b.toByteArray();
  }

  /** Writes {@code base.rdx} / {@code base.rdb} holding {@code objects}, as R's lazy-load does. */
  private static void lazyLoadDb(Path base, Map<String, byte[]> objects) throws IOException {
    ByteArrayOutputStream rdb = new ByteArrayOutputStream();
    Out index = new Out().header3();
    index.i(VEC | HAS_ATTR, 1);
    index.i(VEC | HAS_ATTR, objects.size());
    int[] at = new int[objects.size() * 2];
    int k = 0;
    for (byte[] v : objects.values()) {
      byte[] chunk = zlibChunk(v);
      at[k++] = rdb.size();
      at[k++] = chunk.length;
      rdb.writeBytes(chunk);
    }
    for (int j = 0; j < objects.size(); j++) {
      index.i(INT, 2, at[2 * j], at[2 * j + 1]);
    }
    index.i(LIST | HAS_TAG).sym("names", 0).strings(0, objects.keySet().toArray(String[]::new));
    index.i(NIL);
    index.i(LIST | HAS_TAG).sym("names", 1).strings(0, "variables").i(NIL);
    Files.write(base.resolveSibling(base.getFileName() + ".rdb"), rdb.toByteArray());
    try (OutputStream gz =
        new GZIPOutputStream(
            Files.newOutputStream(base.resolveSibling(base.getFileName() + ".rdx")))) {
      gz.write(index.b.toByteArray());
    }
  }

  private static byte[] zlibChunk(byte[] v) {
    Deflater d = new Deflater();
    d.setInput(v);
    d.finish();
    byte[] buf = new byte[v.length + 64];
    int n = d.deflate(buf);
    d.end();
    ByteBuffer out = ByteBuffer.allocate(4 + n).putInt(v.length).put(buf, 0, n);
    return out.array();
  }

  @Test
  void readsADataFrameWithNasFactorsAndCompactRowNamesFromALazyLoadDatabase() throws Exception {
    Path base = dir.resolve("Rdata");
    lazyLoadDb(base, Map.of("frame", frame()));

    Map<String, Object> cols = RData.dataFrame(base, "frame");

    assertThat(cols).containsOnlyKeys("id", "score", "name", "kind");
    assertThat((int[]) cols.get("id")).containsExactly(7, RData.NA_INT, 9);
    assertThat((double[]) cols.get("score")).containsExactly(1.5, -2, Double.NaN);
    assertThat((String[]) cols.get("name")).containsExactly("a", null, "c");
    assertThat((String[]) cols.get("kind")).containsExactly("y", "x", "y");
    RData.Vector raw = RData.lazyLoad(base, "frame");
    assertThat(raw.attribute("row.names").ints()).containsExactly(1, 2, 3);
    assertThat(raw.attribute("class").strings()).containsExactly("data.frame");
  }

  @Test
  void refusesWhatItCannotReadByNameRatherThanGuessing() throws Exception {
    Path base = dir.resolve("Rdata");
    byte[] closure = new Out().header3().i(CLOSURE).b.toByteArray();
    byte[] format1 = "X\n".getBytes(StandardCharsets.US_ASCII);
    lazyLoadDb(
        base,
        new java.util.LinkedHashMap<>(
            Map.of("fn", closure, "old", concat(format1, new Out().i(1, 0, 0).b.toByteArray()))));

    assertThatThrownBy(() -> RData.lazyLoad(base, "fn"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("type 3");
    assertThatThrownBy(() -> RData.lazyLoad(base, "old"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("format 1");
    assertThatThrownBy(() -> RData.lazyLoad(base, "movielens"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no object 'movielens'")
        .hasMessageContaining("fn");
    assertThatThrownBy(() -> RData.dataFrame(base, "fn")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> RData.read("RDX3\n".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("XDR");
  }

  @Test
  void aChunkThatIsNotZlibIsRefusedWithItsType() {
    byte[] xz = {0, 0, 0, 9, 'Z', (byte) 0xfd, '7', 'z', 'X', 'Z'};
    assertThatThrownBy(() -> RData.inflate(xz, Path.of("Rdata.rdb")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("compression type 'Z'");
  }

  /**
   * A damaged or truncated database is refused with an {@link IOException} saying what is wrong: no
   * {@code EOFException} without a message, no ClassCastException or index exception, and no array
   * of the size a damaged length field asks for (an OutOfMemoryError) or a recursion as deep as the
   * file allows (a StackOverflowError).
   */
  @Test
  void damagedDataIsRefusedWithWhatIsWrongRatherThanATraceOrAHugeAllocation() {
    byte[] whole = frame();
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
    assertRefused(truncated, "truncated");
    assertRefused(new Out().header3().i(REAL, Integer.MAX_VALUE).d(1, 2).b.toByteArray(), "long");
    assertRefused(new Out().header3().i(STR, 1).i(CHAR, -5).b.toByteArray(), "-5");
    assertRefused(new Out().header3().i(STR, 1).i(INT, 1, 7).b.toByteArray(), "string");
    assertRefused(new Out().header3().i(LIST | HAS_TAG).i(REF | (7 << 8)).b.toByteArray(), "7");
    Out deep = new Out().header3();
    for (int k = 0; k < 200_000; k++) {
      deep.i(VEC, 1);
    }
    assertRefused(deep.i(NIL).b.toByteArray(), "deep");
    Out seq = new Out().header3();
    seq.i(ALTREP).i(LIST).sym("compact_intseq", 0).i(LIST).sym("base", 0).i(LIST).i(INT, 1, 13);
    seq.i(NIL).i(REAL, 3).d(2e9, 1, 1).i(NIL);
    assertRefused(seq.b.toByteArray(), "long");
  }

  @Test
  void aChunkWhoseLengthFieldIsDamagedIsRefusedWithoutAllocatingIt() {
    byte[] chunk = zlibChunk(frame());
    ByteBuffer.wrap(chunk).putInt(0, Integer.MAX_VALUE);
    assertThatThrownBy(() -> RData.inflate(chunk, Path.of("Rdata.rdb")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Rdata.rdb");
    ByteBuffer.wrap(chunk).putInt(0, -3);
    assertThatThrownBy(() -> RData.inflate(chunk, Path.of("Rdata.rdb")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Rdata.rdb");
  }

  @Test
  void aDataFrameWhoseFactorCodesOrColumnLengthsDoNotFitIsRefused() throws Exception {
    Out badCode = new Out().header3();
    badCode.i(VEC | HAS_ATTR, 1);
    badCode.i(INT | HAS_ATTR, 2, 1, 5); // code 5 of a factor of two levels
    badCode.i(LIST | HAS_TAG).sym("levels", 0).strings(0, "x", "y").i(NIL);
    badCode.i(LIST | HAS_TAG).sym("names", 0).strings(0, "kind").i(NIL);
    Out ragged = new Out().header3();
    ragged.i(VEC | HAS_ATTR, 2);
    ragged.i(INT, 3, 1, 2, 3);
    ragged.i(INT, 2, 1, 2);
    ragged.i(LIST | HAS_TAG).sym("names", 0).strings(0, "a", "b").i(NIL);
    Out unnamed = new Out().header3();
    unnamed.i(VEC | HAS_ATTR, 2).i(INT, 1, 1).i(INT, 1, 1);
    unnamed.i(LIST | HAS_TAG).sym("names", 0).i(INT, 1, 3).i(NIL);
    Path base = dir.resolve("Rdata");
    lazyLoadDb(
        base,
        new java.util.LinkedHashMap<>(
            Map.of(
                "badCode", badCode.b.toByteArray(),
                "ragged", ragged.b.toByteArray(),
                "unnamed", unnamed.b.toByteArray())));

    assertThatThrownBy(() -> RData.dataFrame(base, "badCode"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("kind")
        .hasMessageContaining("5");
    assertThatThrownBy(() -> RData.dataFrame(base, "ragged"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("'b'")
        .hasMessageContaining("2");
    assertThatThrownBy(() -> RData.dataFrame(base, "unnamed"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("names");
  }

  @Test
  void anIndexThatIsNotGzipIsRefusedNamingTheFile() throws Exception {
    Path base = dir.resolve("Rdata");
    lazyLoadDb(base, Map.of("frame", frame()));
    Files.write(dir.resolve("Rdata.rdx"), new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> RData.lazyLoad(base, "frame"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Rdata.rdx");
  }

  /**
   * as.character(c(7L, NA, 9L)) as R keeps it until its strings are needed: an ALTREP
   * deferred_string whose state is the integers, which is a character vector all the same.
   */
  @Test
  void aDeferredStringIsReadAsItsStringsAndOneOfDoublesIsRefused() throws Exception {
    Out ints = new Out().header3();
    ints.i(ALTREP).i(LIST).sym("deferred_string", 0).i(LIST).sym("base", 0).i(LIST).i(INT, 1, 13);
    ints.i(NIL).i(LIST).i(INT, 3, 7, RData.NA_INT, 9).i(LIST).i(INT, 1, 0).i(NIL).i(NIL);
    Object v = RData.read(ints.b.toByteArray());
    assertThat(((RData.Vector) v).values()).isInstanceOf(String[].class);
    assertThat(((RData.Vector) v).strings()).containsExactly("7", null, "9");

    Out doubles = new Out().header3();
    doubles
        .i(ALTREP)
        .i(LIST)
        .sym("deferred_string", 0)
        .i(LIST)
        .sym("base", 0)
        .i(LIST)
        .i(INT, 1, 13);
    doubles.i(NIL).i(LIST).i(REAL, 1).d(0.1).i(LIST).i(INT, 1, 0).i(NIL).i(NIL);
    assertRefused(doubles.b.toByteArray(), "deferred_string");
  }

  private static void assertRefused(byte[] serialized, String says) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> RData.read(serialized));
    assertThat(t).isInstanceOf(IOException.class);
    assertThat(t.getMessage()).isNotNull().containsIgnoringCase(says);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
