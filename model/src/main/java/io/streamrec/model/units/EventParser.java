package io.streamrec.model.units;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.SchemaNormalization;

/**
 * Reads a request or impression event's single-object bytes straight into its {@link EventPart},
 * without the Avro record: every value of a feature the model reads is hashed from its UTF-8 bytes
 * where it lies in the message, features and dense values it does not read are skipped. This is the
 * decode stage's per-event work, and it allocates only the part and its ids' strings' worth of
 * nothing: no map, no list, no value string.
 *
 * <p>It takes the happy path only: a message written with today's schema (its fingerprint), whose
 * ids are not empty, whose time is not negative, whose every dense value and label is finite, with
 * no key repeated in a map and nothing after the record. For anything else it answers null, and the
 * caller decodes the message with the general decoder ({@code AvroCodec}), which resolves earlier
 * schemas and names what is wrong; both give the same part for the same event ({@code
 * EventParserTest} checks it on generated and corrupted traffic).
 *
 * <p>Not thread-safe: one per decoding operator.
 */
public final class EventParser {
  private static final long REQUEST_FINGERPRINT =
      SchemaNormalization.parsingFingerprint64(RequestEvent.getClassSchema());
  private static final long IMPRESSION_FINGERPRINT =
      SchemaNormalization.parsingFingerprint64(ImpressionEvent.getClassSchema());
  private static final int HEADER_BYTES = 10;

  private final UnitLayout layout;
  private final Side request;
  private final Side impression;
  private final NameIndex labels;
  private final float[] labelScratch;

  private byte[] b;
  private int pos;

  public EventParser(UnitLayout layout) {
    this.layout = layout;
    CategoricalFeature[] rf = new CategoricalFeature[layout.requestFeatures()];
    for (int k = 0; k < rf.length; k++) {
      rf[k] = layout.requestFeature(k);
    }
    String[] rd = new String[layout.requestDenseCount()];
    for (int k = 0; k < rd.length; k++) {
      rd[k] = layout.requestDense(k);
    }
    CategoricalFeature[] itf = new CategoricalFeature[layout.impressionFeatures()];
    for (int k = 0; k < itf.length; k++) {
      itf[k] = layout.impressionFeature(k);
    }
    String[] id = new String[layout.impressionDenseCount()];
    for (int k = 0; k < id.length; k++) {
      id[k] = layout.impressionDense(k);
    }
    String[] ls = new String[layout.labelCount()];
    for (int k = 0; k < ls.length; k++) {
      ls[k] = layout.label(k);
    }
    this.request = new Side(rf, rd);
    this.impression = new Side(itf, id);
    this.labels = new NameIndex(ls);
    this.labelScratch = new float[ls.length];
  }

  /** The part of a {@code RequestEvent} message, or null when it needs the general decoder. */
  public EventPart parseRequest(byte[] bytes) {
    if (!start(bytes, REQUEST_FINGERPRINT)) {
      return null;
    }
    try {
      String requestId = string();
      long ts = varLong();
      if (requestId == null || requestId.isEmpty() || ts < 0 || !request.features(this)) {
        return null;
      }
      float[] dense = request.dense(this);
      if (dense == null || pos != b.length) {
        return null;
      }
      return request.part(layout, requestId, null, ts, dense, null, bytes);
    } catch (Truncated e) {
      return null;
    }
  }

  /** The part of an {@code ImpressionEvent} message, or null when it needs the general decoder. */
  public EventPart parseImpression(byte[] bytes) {
    if (!start(bytes, IMPRESSION_FINGERPRINT)) {
      return null;
    }
    try {
      String impressionId = string();
      String requestId = string();
      long ts = varLong();
      if (impressionId == null
          || impressionId.isEmpty()
          || requestId == null
          || requestId.isEmpty()
          || ts < 0
          || !impression.features(this)) {
        return null;
      }
      float[] dense = impression.dense(this);
      if (dense == null) {
        return null;
      }
      Arrays.fill(labelScratch, 0f);
      if (!floatMap(labels, labelScratch, false) || pos != b.length) {
        return null;
      }
      return impression.part(
          layout, requestId, impressionId, ts, dense, labelScratch.clone(), bytes);
    } catch (Truncated e) {
      return null;
    }
  }

  private boolean start(byte[] bytes, long fingerprint) {
    if (bytes == null
        || bytes.length < HEADER_BYTES
        || bytes[0] != (byte) 0xC3
        || bytes[1] != 0x01) {
      return false;
    }
    long fp = 0;
    for (int i = 0; i < 8; i++) {
      fp |= (bytes[2 + i] & 0xffL) << (8 * i);
    }
    if (fp != fingerprint) {
      return false;
    }
    b = bytes;
    pos = HEADER_BYTES;
    return true;
  }

  /** The features map: each value of a feature the layout has hashed into its bag. */
  private boolean readFeatures(Side side) {
    side.reset();
    for (long n = blockCount(); n != 0; n = blockCount()) {
      for (long i = 0; i < n; i++) {
        int keyLen = length();
        int keyAt = take(keyLen);
        int f = side.features.find(b, keyAt, keyLen);
        if (f >= 0 && !side.mark(f)) {
          return false; // a key twice: the decoder's map keeps the last, let it
        }
        for (long m = blockCount(); m != 0; m = blockCount()) {
          for (long j = 0; j < m; j++) {
            int len = length();
            int at = take(len);
            if (f >= 0 && !side.add(f, b, at, len)) {
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  /**
   * A map of floats: those the index names stored (squashed when asked), the others skipped; false
   * for a non-finite value the index names or a key twice.
   */
  private boolean floatMap(NameIndex index, float[] out, boolean squash) {
    long seen = 0;
    boolean[] seenMany = index.size() > 64 ? new boolean[index.size()] : null;
    for (long n = blockCount(); n != 0; n = blockCount()) {
      for (long i = 0; i < n; i++) {
        int keyLen = length();
        int keyAt = take(keyLen);
        need(4);
        int bits =
            (b[pos] & 0xff)
                | (b[pos + 1] & 0xff) << 8
                | (b[pos + 2] & 0xff) << 16
                | (b[pos + 3] & 0xff) << 24;
        pos += 4;
        float v = Float.intBitsToFloat(bits);
        int k = index.find(b, keyAt, keyLen);
        if (k >= 0) {
          if (!Float.isFinite(v)) {
            return false;
          }
          if (seenMany != null) {
            if (seenMany[k]) {
              return false;
            }
            seenMany[k] = true;
          } else {
            if ((seen & (1L << k)) != 0) {
              return false;
            }
            seen |= 1L << k;
          }
          out[k] = squash ? UnitEncoder.squash(v) : v;
        }
      }
    }
    return true;
  }

  /** A block count of an array or map; a negative one is followed by its size in bytes. */
  private long blockCount() {
    long n = varLong();
    if (n < 0) {
      varLong();
      n = -n;
    }
    // -Long.MIN_VALUE is itself negative: a count no writer makes, which passed as an empty block
    if (n < 0 || n > b.length - pos) {
      throw Truncated.INSTANCE; // each item takes at least a byte
    }
    return n;
  }

  private int length() {
    long n = varLong();
    if (n < 0 || n > b.length - pos) {
      throw Truncated.INSTANCE;
    }
    return (int) n;
  }

  private int take(int n) {
    need(n);
    int at = pos;
    pos += n;
    return at;
  }

  private void need(int n) {
    if (n > b.length - pos) {
      throw Truncated.INSTANCE;
    }
  }

  /** A string, or null when its bytes are not ASCII (the decoder's strings then decide). */
  private String string() {
    int len = length();
    int at = take(len);
    for (int i = at; i < at + len; i++) {
      if (b[i] < 0) {
        return null;
      }
    }
    return new String(b, at, len, StandardCharsets.ISO_8859_1);
  }

  /** Avro's zig-zag varint. */
  private long varLong() {
    long raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos == b.length) {
        throw Truncated.INSTANCE;
      }
      int x = b[pos++] & 0xff;
      raw |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw Truncated.INSTANCE;
  }

  /** Bytes end, or a length points past them: the general decoder will say which. */
  private static final class Truncated extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final Truncated INSTANCE = new Truncated();

    private Truncated() {
      super(null, null, false, false);
    }
  }

  /** Names to their index, found from UTF-8 bytes without making a string. */
  static final class NameIndex {
    private final byte[][] names;
    private final int[] slots;
    private final int mask;

    NameIndex(String[] names) {
      this.names = new byte[names.length][];
      int cap = Integer.highestOneBit(Math.max(4, names.length * 4) - 1) << 1;
      this.slots = new int[cap];
      this.mask = cap - 1;
      Arrays.fill(slots, -1);
      for (int k = 0; k < names.length; k++) {
        byte[] nb = names[k].getBytes(StandardCharsets.UTF_8);
        this.names[k] = nb;
        int s = hash(nb, 0, nb.length) & mask;
        while (slots[s] >= 0) {
          s = (s + 1) & mask;
        }
        slots[s] = k;
      }
    }

    int size() {
      return names.length;
    }

    int find(byte[] bytes, int off, int len) {
      int s = hash(bytes, off, len) & mask;
      for (int k = slots[s]; k >= 0; s = (s + 1) & mask, k = slots[s]) {
        if (Arrays.equals(names[k], 0, names[k].length, bytes, off, off + len)) {
          return k;
        }
      }
      return -1;
    }

    private static int hash(byte[] bytes, int off, int len) {
      int h = len;
      for (int i = off; i < off + len; i++) {
        h = 31 * h + bytes[i];
      }
      return h ^ (h >>> 16);
    }
  }

  /** One side's features and dense values, and the ids of the event being read, per feature. */
  private static final class Side {
    final NameIndex features;
    final NameIndex dense;
    final long[] vocabularySeed;
    final long[] nameSeed;
    final boolean[] shared;
    final long[][] ids;
    final long[][] wide;
    final int[] count;
    final boolean[] seen;

    Side(CategoricalFeature[] fs, String[] denseNames) {
      String[] names = new String[fs.length];
      vocabularySeed = new long[fs.length];
      nameSeed = new long[fs.length];
      shared = new boolean[fs.length];
      for (int k = 0; k < fs.length; k++) {
        names[k] = fs[k].name();
        vocabularySeed[k] = FeatureIds.seed(fs[k].vocabulary());
        nameSeed[k] = FeatureIds.seed(fs[k].name());
        shared[k] = !fs[k].vocabulary().equals(fs[k].name());
      }
      features = new NameIndex(names);
      dense = new NameIndex(denseNames);
      ids = new long[fs.length][8];
      wide = new long[fs.length][8];
      count = new int[fs.length];
      seen = new boolean[fs.length];
    }

    void reset() {
      Arrays.fill(count, 0);
      Arrays.fill(seen, false);
    }

    boolean mark(int f) {
      if (seen[f]) {
        return false;
      }
      seen[f] = true;
      return true;
    }

    /** Hashes one value; false when its bytes are not ASCII (the decoder's strings then decide). */
    boolean add(int f, byte[] bytes, int at, int len) {
      for (int i = at; i < at + len; i++) {
        if (bytes[i] < 0) {
          return false;
        }
      }
      int c = count[f];
      if (c == ids[f].length) {
        ids[f] = Arrays.copyOf(ids[f], 2 * c);
        wide[f] = Arrays.copyOf(wide[f], 2 * c);
      }
      long id = FeatureIds.of(vocabularySeed[f], bytes, at, len);
      ids[f][c] = id;
      wide[f][c] = shared[f] ? FeatureIds.of(nameSeed[f], bytes, at, len) : id;
      count[f] = c + 1;
      return true;
    }

    boolean features(EventParser p) {
      return p.readFeatures(this);
    }

    /**
     * The dense map, squashed, in layout order (a missing value squashes to 0, which the array
     * holds already); null when it must be decoded.
     */
    float[] dense(EventParser p) {
      float[] out = new float[dense.size()];
      return p.floatMap(dense, out, true) ? out : null;
    }

    EventPart part(
        UnitLayout layout,
        String requestId,
        String impressionId,
        long ts,
        float[] denseValues,
        float[] labelValues,
        byte[] raw) {
      int nf = count.length, total = 0;
      int[] bagEnds = new int[nf];
      for (int f = 0; f < nf; f++) {
        total += count[f];
        bagEnds[f] = total;
      }
      long[] allIds = new long[total];
      long[] allWide = new long[total];
      for (int f = 0, at = 0; f < nf; f++) {
        System.arraycopy(ids[f], 0, allIds, at, count[f]);
        System.arraycopy(wide[f], 0, allWide, at, count[f]);
        at += count[f];
      }
      return new EventPart(
          layout.fingerprint(),
          requestId,
          impressionId,
          ts,
          bagEnds,
          allIds,
          allWide,
          denseValues,
          labelValues,
          raw);
    }
  }
}
