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
 * other ALTREP classes) is refused by name, never guessed.
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
    Vector names = df.attribute("names");
    if (!(df.values() instanceof List<?>) || names == null) {
      throw new IOException(object + " is not a data frame: no list of named columns");
    }
    Map<String, Object> columns = new LinkedHashMap<>();
    List<Object> cols = df.list();
    for (int c = 0; c < cols.size(); c++) {
      Vector col = (Vector) cols.get(c);
      Vector levels = col.attribute("levels");
      if (levels != null) {
        int[] codes = col.ints();
        String[] lv = levels.strings();
        String[] out = new String[codes.length];
        for (int i = 0; i < codes.length; i++) {
          out[i] = codes[i] == NA_INT ? null : lv[codes[i] - 1];
        }
        columns.put(names.strings()[c], out);
      } else {
        columns.put(names.strings()[c], col.values());
      }
    }
    return columns;
  }

  /** The object {@code object} of the lazy-load database {@code base.rdx} / {@code base.rdb}. */
  public static Vector lazyLoad(Path base, String object) throws IOException {
    Path rdx = base.resolveSibling(base.getFileName() + ".rdx");
    Path rdb = base.resolveSibling(base.getFileName() + ".rdb");
    byte[] index;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(rdx))) {
      index = in.readAllBytes();
    }
    Vector idx = (Vector) read(index);
    Vector variables = field(idx, "variables", rdx);
    String[] names = variables.attribute("names").strings();
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(object)) {
        int[] at = ints(((Vector) variables.list().get(i)));
        byte[] all = Files.readAllBytes(rdb);
        if (at[0] < 0 || at[1] < 5 || (long) at[0] + at[1] > all.length) {
          throw new IOException(rdb + ": entry of " + object + " lies outside the file");
        }
        byte[] chunk = new byte[at[1]];
        System.arraycopy(all, at[0], chunk, 0, at[1]);
        Object v = read(inflate(chunk, rdb));
        if (!(v instanceof Vector vec)) {
          throw new IOException(object + " is not a vector");
        }
        return vec;
      }
    }
    throw new IOException(rdx + " has no object '" + object + "'; it has " + List.of(names));
  }

  private static Vector field(Vector list, String name, Path file) throws IOException {
    Vector names = list.attribute("names");
    if (names != null && list.values() instanceof List<?> l) {
      String[] n = names.strings();
      for (int i = 0; i < n.length; i++) {
        if (name.equals(n[i])) {
          return (Vector) l.get(i);
        }
      }
    }
    throw new IOException(file + " is not a lazy-load index: no '" + name + "'");
  }

  /** An entry's position as integers, whether R stored it as integers or doubles. */
  private static int[] ints(Vector v) {
    if (v.values() instanceof int[] i) {
      return i;
    }
    double[] d = v.doubles();
    int[] out = new int[d.length];
    for (int k = 0; k < d.length; k++) {
      out[k] = (int) d[k];
    }
    return out;
  }

  /** A lazy-load chunk: its length (4 bytes, big-endian), then a zlib stream. */
  static byte[] inflate(byte[] chunk, Path file) throws IOException {
    int length = ByteBuffer.wrap(chunk, 0, 4).getInt();
    if ((chunk[4] & 0xff) != 0x78) {
      throw new IOException(
          file
              + ": compression type '"
              + (char) chunk[4]
              + "' is not supported (only zlib, R's default for lazy-load data)");
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
    int format = in.readInt();
    in.readInt(); // the writer's R version
    in.readInt(); // the oldest R version that reads it
    if (format == 3) {
      in.skipNBytes(in.readInt()); // the native encoding's name
    } else if (format != 2) {
      throw new IOException("serialization format " + format + " is not read (2 and 3 are)");
    }
    return new Items(in).item();
  }

  /** The recursive reader; {@code refs} holds the symbols that later references point back to. */
  private static final class Items {
    private final DataInputStream in;
    private final List<Object> refs = new ArrayList<>();

    Items(DataInputStream in) {
      this.in = in;
    }

    Object item() throws IOException {
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
            return refs.get((i == 0 ? in.readInt() : i) - 1);
          }
        case SYMSXP:
          {
            Object name = item();
            refs.add(name);
            return name;
          }
        case LISTSXP:
        case ATTRLISTSXP:
          return pairlist(hasAttr, hasTag);
        case CHARSXP:
          {
            int n = in.readInt();
            return n == -1 ? null : new String(in.readNBytes(n), StandardCharsets.UTF_8);
          }
        case ALTREP_SXP:
          return altrep();
        case LGLSXP:
        case INTSXP:
          {
            int[] v = new int[length()];
            for (int i = 0; i < v.length; i++) {
              v[i] = in.readInt();
            }
            return vector(v, hasAttr);
          }
        case REALSXP:
          {
            double[] v = new double[length()];
            for (int i = 0; i < v.length; i++) {
              v[i] = in.readDouble();
            }
            return vector(v, hasAttr);
          }
        case STRSXP:
          {
            String[] v = new String[length()];
            for (int i = 0; i < v.length; i++) {
              v[i] = (String) item();
            }
            return vector(v, hasAttr);
          }
        case VECSXP:
          {
            int n = length();
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

    private int length() throws IOException {
      int n = in.readInt();
      if (n == -1) {
        long big = ((long) in.readInt() << 32) | (in.readInt() & 0xffffffffL);
        throw new IOException("a vector of " + big + " elements is too long to read");
      }
      if (n < 0) {
        throw new IOException("negative vector length " + n);
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
        p.tags.add(tag ? (String) item() : null);
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
      Vector out;
      if (cls.equals("compact_intseq") && state instanceof Vector s) {
        double[] d = s.doubles();
        int n = (int) d[0], start = (int) d[1], step = (int) d[2];
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = start + i * step;
        }
        out = new Vector(v, new LinkedHashMap<>());
      } else if ((cls.equals("wrap_integer")
              || cls.equals("wrap_real")
              || cls.equals("wrap_string")
              || cls.equals("deferred_string"))
          && state instanceof Pairlist p
          && p.values.get(0) instanceof Vector v) {
        out = new Vector(v.values(), new LinkedHashMap<>(v.attributes()));
      } else {
        throw new IOException("R ALTREP class " + cls + " is not read");
      }
      if (attr instanceof Pairlist p) {
        out.attributes().putAll(p.byTag());
      }
      return out;
    }
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
