package io.streamrec.model.bench;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/**
 * A reader of the data an R package ships in its lazy-load database ({@code data/Rdata.rdx} and
 * {@code Rdata.rdb}), so that a benchmark can read a dataset from a Debian {@code r-cran-*} package
 * without R. It reads R's XDR serialization (formats 2 and 3) as far as data frames need: integer,
 * logical, double and character vectors, lists, pairlists, symbols and attributes, and the compact
 * integer sequences R 3.5+ writes for row names. Anything else (closures, environments, bytecode,
 * other ALTREP classes) is refused by name, never guessed. Damaged or truncated data is refused
 * with an {@link IOException} saying what does not fit: a length field is checked against the bytes
 * left before anything of that size is allocated, and nesting deeper than {@link #MAX_DEPTH} is
 * refused.
 *
 * <p>Values come back as {@link Vector}s: an {@code int[]} (logical and integer; R's NA is {@link
 * #NA_INT}), a {@code double[]}, a {@code String[]} (NA is {@code null}) or a {@code List<Object>}
 * of values, each with its attributes by name.
 */
public final class RData {
  /** R's integer NA. */
  public static final int NA_INT = Integer.MIN_VALUE;

  private static final int NILSXP = 0,
      SYMSXP = 1,
      LISTSXP = 2,
      LGLSXP = 10,
      INTSXP = 13,
      REALSXP = 14,
      STRSXP = 16,
      VECSXP = 19,
      CHARSXP = 9,
      ALTREP_SXP = 238,
      ATTRLISTSXP = 239,
      REFSXP = 255,
      NILVALUE_SXP = 254;

  /** How deep values may nest: a data frame's are a few levels deep. */
  static final int MAX_DEPTH = 100;

  /** The most elements a compact integer sequence is expanded to (a frame's row names). */
  static final int MAX_SEQUENCE = 1 << 26;

  /** Deflate's largest ratio of output to input is about 1032 to 1. */
  private static final long MAX_INFLATE_RATIO = 1032;

  private RData() {}

  /** An R value and its attributes (names, class, levels, ...). */
  public record Vector(Object values, Map<String, Object> attributes) {
    public int[] ints() {
      return (int[]) values;
    }

    public double[] doubles() {
      return (double[]) values;
    }

    public String[] strings() {
      return (String[]) values;
    }

    @SuppressWarnings("unchecked")
    public List<Object> list() {
      return (List<Object>) values;
    }

    /** The value of attribute {@code name} as a vector, or null. */
    public Vector attribute(String name) {
      return (Vector) attributes.get(name);
    }
  }

  /**
   * The columns of the data frame {@code object} in the lazy-load database {@code base.rdx} /
   * {@code base.rdb} (base without its extension, for example {@code .../dslabs/data/Rdata}), by
   * name; factors are turned into their levels' strings.
   */
  public static Map<String, Object> dataFrame(Path base, String object) throws IOException {
    Vector df = lazyLoad(base, object);
    Object names = df.attributes().get("names");
    if (!(df.values() instanceof List<?>)
        || !(names instanceof Vector n)
        || !(n.values() instanceof String[] name)
        || name.length != df.list().size()) {
      throw new IOException(
          object
              + " is not a data frame: no list of columns named by a 'names' attribute of strings");
    }
    Map<String, Object> columns = new LinkedHashMap<>();
    List<Object> cols = df.list();
    int rows = -1;
    for (int c = 0; c < cols.size(); c++) {
      if (!(cols.get(c) instanceof Vector col)) {
        throw new IOException(object + ": column '" + name[c] + "' is not a vector");
      }
      Object values = col.values();
      Object levels = col.attributes().get("levels");
      if (levels != null) {
        if (!(values instanceof int[] codes)
            || !(levels instanceof Vector l)
            || !(l.values() instanceof String[] lv)) {
          throw new IOException(
              object + ": column '" + name[c] + "' has levels but is not a factor of strings");
        }
        String[] out = new String[codes.length];
        for (int i = 0; i < codes.length; i++) {
          if (codes[i] != NA_INT && (codes[i] < 1 || codes[i] > lv.length)) {
            throw new IOException(
                object
                    + ": column '"
                    + name[c]
                    + "' row "
                    + (i + 1)
                    + " has code "
                    + codes[i]
                    + " of a factor of "
                    + lv.length
                    + " levels");
          }
          out[i] = codes[i] == NA_INT ? null : lv[codes[i] - 1];
        }
        values = out;
      }
      int length = length(values);
      if (length < 0) {
        throw new IOException(object + ": column '" + name[c] + "' is not a column of values");
      }
      if (rows >= 0 && length != rows) {
        throw new IOException(
            object
                + ": column '"
                + name[c]
                + "' has "
                + length
                + " rows and column '"
                + name[0]
                + "' "
                + rows);
      }
      rows = length;
      columns.put(name[c], values);
    }
    return columns;
  }

  /** An array's length, or -1 where {@code values} is no array of values. */
  private static int length(Object values) {
    if (values instanceof int[] v) {
      return v.length;
    } else if (values instanceof double[] v) {
      return v.length;
    } else if (values instanceof String[] v) {
      return v.length;
    } else if (values instanceof List<?> v) {
      return v.size();
    }
    return -1;
  }

  /** The object {@code object} of the lazy-load database {@code base.rdx} / {@code base.rdb}. */
  public static Vector lazyLoad(Path base, String object) throws IOException {
    Path rdx = base.resolveSibling(base.getFileName() + ".rdx");
    Path rdb = base.resolveSibling(base.getFileName() + ".rdb");
    byte[] index;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(rdx))) {
      index = in.readAllBytes();
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      throw new IOException(rdx + ": not a gzip file or a damaged one: " + e.getMessage(), e);
    }
    Object idx = read(index, rdx);
    String[] names;
    List<?> entries;
    Vector variables = idx instanceof Vector v ? field(v, "variables", rdx) : null;
    if (variables != null
        && variables.values() instanceof List<?> l
        && variables.attributes().get("names") instanceof Vector n
        && n.values() instanceof String[] s
        && s.length == l.size()) {
      names = s;
      entries = l;
    } else {
      throw new IOException(rdx + " is not a lazy-load index: no named 'variables'");
    }
    for (int i = 0; i < names.length; i++) {
      if (object.equals(names[i])) {
        long[] at = position(entries.get(i));
        byte[] all = Files.readAllBytes(rdb);
        if (at == null || at[0] < 0 || at[1] < 5 || at[0] + at[1] > all.length) {
          throw new IOException(rdb + ": entry of " + object + " lies outside the file");
        }
        byte[] chunk = new byte[(int) at[1]];
        System.arraycopy(all, (int) at[0], chunk, 0, chunk.length);
        Object v = read(inflate(chunk, rdb), rdb);
        if (!(v instanceof Vector vec)) {
          throw new IOException(object + " is not a vector");
        }
        return vec;
      }
    }
    throw new IOException(rdx + " has no object '" + object + "'; it has " + List.of(names));
  }

  private static Vector field(Vector list, String name, Path file) throws IOException {
    if (list.attributes().get("names") instanceof Vector names
        && names.values() instanceof String[] n
        && list.values() instanceof List<?> l
        && n.length == l.size()) {
      for (int i = 0; i < n.length; i++) {
        if (name.equals(n[i]) && l.get(i) instanceof Vector v) {
          return v;
        }
      }
    }
    throw new IOException(file + " is not a lazy-load index: no '" + name + "'");
  }

  /**
   * An entry's offset and length, whether R stored them as integers or doubles; null where the
   * entry is not two numbers.
   */
  private static long[] position(Object entry) {
    if (entry instanceof Vector v && v.values() instanceof int[] i && i.length == 2) {
      return new long[] {i[0], i[1]};
    }
    if (entry instanceof Vector v
        && v.values() instanceof double[] d
        && d.length == 2
        && d[0] >= 0
        && d[1] >= 0
        && d[0] + d[1] <= Integer.MAX_VALUE) {
      return new long[] {(long) d[0], (long) d[1]};
    }
    return null;
  }

  /** {@link #read(byte[])}, its refusal naming {@code file}. */
  private static Object read(byte[] serialized, Path file) throws IOException {
    try {
      return read(serialized);
    } catch (IOException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  /** A lazy-load chunk: its length (4 bytes, big-endian), then a zlib stream. */
  static byte[] inflate(byte[] chunk, Path file) throws IOException {
    if (chunk.length < 5) {
      throw new IOException(file + ": a chunk of " + chunk.length + " bytes is too short");
    }
    int length = ByteBuffer.wrap(chunk, 0, 4).getInt();
    if ((chunk[4] & 0xff) != 0x78) {
      throw new IOException(
          file
              + ": compression type '"
              + (char) chunk[4]
              + "' is not supported (only zlib, R's default for lazy-load data)");
    }
    if (length < 0 || length > (chunk.length - 4) * MAX_INFLATE_RATIO + 64) {
      throw new IOException(
          file
              + ": a chunk of "
              + chunk.length
              + " bytes says it inflates to "
              + length
              + " bytes: damaged");
    }
    Inflater inf = new Inflater();
    inf.setInput(chunk, 4, chunk.length - 4);
    byte[] out = new byte[length];
    try {
      int n = 0;
      while (n < length && !inf.finished()) {
        int k = inf.inflate(out, n, length - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          break;
        }
        n += k;
      }
      if (n != length) {
        throw new IOException(file + ": chunk inflates to " + n + " bytes, not " + length);
      }
    } catch (DataFormatException e) {
      throw new IOException(file + ": corrupt zlib chunk", e);
    } finally {
      inf.end();
    }
    return out;
  }

  /** One serialized value: the header {@code X\n}, the format, R's versions, then the value. */
  public static Object read(byte[] serialized) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized));
    if (in.read() != 'X' || in.read() != '\n') {
      throw new IOException("not R's XDR serialization (only the binary XDR format is read)");
    }
    try {
      int format = in.readInt();
      in.readInt(); // the writer's R version
      in.readInt(); // the oldest R version that reads it
      if (format == 3) {
        int n = in.readInt(); // the native encoding's name
        if (n < 0 || n > in.available()) {
          throw new IOException("damaged header: an encoding name of " + n + " bytes");
        }
        in.skipNBytes(n);
      } else if (format != 2) {
        throw new IOException("serialization format " + format + " is not read (2 and 3 are)");
      }
      return new Items(in).item();
    } catch (java.io.EOFException e) {
      throw new IOException(
          "the data ends inside a value, after "
              + serialized.length
              + " bytes: truncated or damaged",
          e);
    }
  }

  /** The recursive reader; {@code refs} holds the symbols that later references point back to. */
  private static final class Items {
    private final DataInputStream in;
    private final List<Object> refs = new ArrayList<>();
    private int depth;

    Items(DataInputStream in) {
      this.in = in;
    }

    Object item() throws IOException {
      if (++depth > MAX_DEPTH) {
        throw new IOException("values nest more than " + MAX_DEPTH + " deep: not data");
      }
      try {
        return value();
      } finally {
        depth--;
      }
    }

    /** {@link #item()} where it must be a string (or R's NA string, null). */
    private String string(String what) throws IOException {
      Object o = item();
      if (o != null && !(o instanceof String)) {
        throw new IOException(what + " is not a string but " + kind(o));
      }
      return (String) o;
    }

    private Object value() throws IOException {
      int flags = in.readInt();
      int type = flags & 0xff;
      boolean hasAttr = (flags & (1 << 9)) != 0, hasTag = (flags & (1 << 10)) != 0;
      switch (type) {
        case NILVALUE_SXP:
        case NILSXP:
          return null;
        case REFSXP:
          {
            int i = flags >>> 8;
            int ref = i == 0 ? in.readInt() : i;
            if (ref < 1 || ref > refs.size()) {
              throw new IOException(
                  "reference " + ref + " points to no symbol (" + refs.size() + " read before)");
            }
            return refs.get(ref - 1);
          }
        case SYMSXP:
          {
            Object name = string("a symbol's name");
            refs.add(name);
            return name;
          }
        case LISTSXP:
        case ATTRLISTSXP:
          return pairlist(hasAttr, hasTag);
        case CHARSXP:
          {
            int n = in.readInt();
            if (n == -1) {
              return null;
            }
            if (n < 0 || n > in.available()) {
              throw new IOException(
                  "a string of length " + n + " where " + in.available() + " bytes are left");
            }
            return new String(in.readNBytes(n), StandardCharsets.UTF_8);
          }
        case ALTREP_SXP:
          return altrep();
        case LGLSXP:
        case INTSXP:
          {
            int[] v = new int[length(4)];
            for (int i = 0; i < v.length; i++) {
              v[i] = in.readInt();
            }
            return vector(v, hasAttr);
          }
        case REALSXP:
          {
            double[] v = new double[length(8)];
            for (int i = 0; i < v.length; i++) {
              v[i] = in.readDouble();
            }
            return vector(v, hasAttr);
          }
        case STRSXP:
          {
            String[] v = new String[length(4)];
            for (int i = 0; i < v.length; i++) {
              v[i] = string("element " + (i + 1) + " of a character vector");
            }
            return vector(v, hasAttr);
          }
        case VECSXP:
          {
            int n = length(4);
            List<Object> v = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              v.add(item());
            }
            return vector(v, hasAttr);
          }
        default:
          throw new IOException("R value of type " + type + " is not read (not data)");
      }
    }

    /**
     * A vector's length, refused where its elements, of at least {@code bytesEach} bytes, would not
     * fit in the bytes left: a damaged length, which would otherwise be allocated.
     */
    private int length(int bytesEach) throws IOException {
      int n = in.readInt();
      if (n == -1) {
        long big = ((long) in.readInt() << 32) | (in.readInt() & 0xffffffffL);
        throw new IOException("a vector of " + big + " elements is too long to read");
      }
      if (n < 0) {
        throw new IOException("negative vector length " + n);
      }
      if ((long) n * bytesEach > in.available()) {
        throw new IOException(
            "a vector of "
                + n
                + " elements is longer than the "
                + in.available()
                + " bytes left: truncated or damaged");
      }
      return n;
    }

    private Vector vector(Object values, boolean hasAttr) throws IOException {
      Map<String, Object> attrs = new LinkedHashMap<>();
      if (hasAttr) {
        Object a = item();
        if (a instanceof Pairlist p) {
          attrs.putAll(p.byTag());
        }
      }
      return new Vector(values, attrs);
    }

    private Pairlist pairlist(boolean hasAttr, boolean hasTag) throws IOException {
      Pairlist p = new Pairlist();
      boolean attr = hasAttr, tag = hasTag;
      while (true) {
        if (attr) {
          item(); // a pairlist's own attributes: none in data
        }
        p.tags.add(tag ? string("a tag") : null);
        p.values.add(item());
        int flags = in.readInt();
        int type = flags & 0xff;
        if (type == NILVALUE_SXP) {
          return p;
        }
        if (type != LISTSXP && type != ATTRLISTSXP) {
          throw new IOException("a pairlist ends in a value of type " + type);
        }
        attr = (flags & (1 << 9)) != 0;
        tag = (flags & (1 << 10)) != 0;
      }
    }

    /** R 3.5+'s compact sequences ({@code 1:n} row names); other classes are refused. */
    private Object altrep() throws IOException {
      Object info = item();
      Object state = item();
      Object attr = item();
      String cls =
          info instanceof Pairlist p && !p.values.isEmpty() ? String.valueOf(p.values.get(0)) : "?";
      // a wrapper's or a deferred string's state: the vector it stands for, then its metadata
      Vector wrapped =
          state instanceof Pairlist p && !p.values.isEmpty() && p.values.get(0) instanceof Vector w
              ? w
              : null;
      Vector out;
      if (cls.equals("compact_intseq")
          && state instanceof Vector s
          && s.values() instanceof double[] d
          && d.length == 3) {
        if (!(d[0] >= 0 && d[0] <= MAX_SEQUENCE)) {
          throw new IOException(
              "a compact sequence of " + d[0] + " elements is too long to read, or damaged");
        }
        int n = (int) d[0], start = (int) d[1], step = (int) d[2];
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = start + i * step;
        }
        out = new Vector(v, new LinkedHashMap<>());
      } else if (cls.equals("deferred_string") && wrapped != null) {
        // as.character() of a vector R has not converted yet: its state is the vector itself
        if (!(wrapped.values() instanceof int[] ints)) {
          throw new IOException(
              "R ALTREP class deferred_string over "
                  + kind(wrapped)
                  + " is not read (only over integers, whose strings are exact)");
        }
        String[] strings = new String[ints.length];
        for (int i = 0; i < ints.length; i++) {
          strings[i] = ints[i] == NA_INT ? null : Integer.toString(ints[i]);
        }
        out = new Vector(strings, new LinkedHashMap<>());
      } else if (wrapped != null
          && (cls.equals("wrap_integer") && wrapped.values() instanceof int[]
              || cls.equals("wrap_real") && wrapped.values() instanceof double[]
              || cls.equals("wrap_string") && wrapped.values() instanceof String[])) {
        out = new Vector(wrapped.values(), new LinkedHashMap<>(wrapped.attributes()));
      } else {
        throw new IOException("R ALTREP class " + cls + " is not read");
      }
      if (attr instanceof Pairlist p) {
        out.attributes().putAll(p.byTag());
      }
      return out;
    }
  }

  private static String kind(Object o) {
    if (o instanceof Vector v) {
      return v.values() == null
          ? "a vector"
          : "a vector of " + v.values().getClass().getSimpleName();
    }
    return o instanceof Pairlist ? "a pairlist" : String.valueOf(o);
  }

  /** A pairlist: tags (possibly null) and values. */
  private static final class Pairlist {
    final List<String> tags = new ArrayList<>();
    final List<Object> values = new ArrayList<>();

    Map<String, Object> byTag() {
      Map<String, Object> m = new LinkedHashMap<>();
      for (int i = 0; i < tags.size(); i++) {
        if (tags.get(i) != null) {
          m.put(tags.get(i), values.get(i));
        }
      }
      return m;
    }
  }
}
