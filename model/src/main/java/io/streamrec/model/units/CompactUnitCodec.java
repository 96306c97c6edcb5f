package io.streamrec.model.units;

import java.nio.charset.StandardCharsets;

/**
 * The binary form of a {@link CompactUnit}: what crosses from the assembler to the trainer, what
 * the trainer's checkpoints hold, and the value of each record of the request-units topic
 * (docs/request-units.md). Little-endian; {@code var} is an unsigned LEB128 varint:
 *
 * <pre>
 *   u8   format                 1
 *   i64  layout fingerprint     UnitLayout.fingerprint() of the spec that encoded it
 *   i64  request key            hash of the request id
 *   i64  timestamp ms, i64 closed-at ms
 *   var  n, n bytes             the request id, UTF-8
 *   var  impressions
 *   var  bags, then each bag's length (var)
 *   i64  × Σ lengths            the embedding ids
 *   var  w, then w × (var index, i64 id)   wide ids that differ from the embedding id at that index
 *   var  d, f32 × d             request dense values (squashed)
 *   var  e, f32 × impressions·e impression dense values (squashed), row-major
 *   var  l, f32 × impressions·l labels, row-major
 * </pre>
 *
 * A unit of a few impressions takes 60 bytes plus 8 per id and 4 per value, about a third of the
 * same impressions written one Avro record each with the request's strings repeated.
 *
 * <p>{@link #decode} checks every length against what is left, so truncated or corrupt bytes fail
 * with a {@link MalformedUnitException} naming what is wrong, never an index error or a huge
 * allocation.
 */
public final class CompactUnitCodec {
  /** The one layout this code writes; {@link #decode} refuses others. */
  public static final byte FORMAT = 1;

  private CompactUnitCodec() {}

  /** The unit's bytes. */
  public static byte[] encode(CompactUnit u) {
    byte[] rid = u.requestId().getBytes(StandardCharsets.UTF_8);
    UnitBytes.Writer w = new UnitBytes.Writer(sizeWithout(u) + 5 + rid.length);
    w.u8(FORMAT);
    w.i64(u.layoutFingerprint());
    w.i64(u.requestKey());
    w.i64(u.timestampMs());
    w.i64(u.closedAtMs());
    w.var(rid.length);
    w.bytes(rid);
    w.var(u.impressions());
    w.idBags(u.bagEnds(), u.ids(), u.wideIds());
    int ni = u.impressions();
    w.floats(u.requestDense(), 1);
    w.floats(u.impressionDense(), ni);
    w.floats(u.labels(), ni);
    return w.done();
  }

  /**
   * At least as many bytes as {@link #encode} makes of {@code u} (each varint counted at its
   * longest, each character of the request id at three bytes), found without encoding it: a check
   * against a limit need encode only a unit near it.
   */
  public static long maxEncodedSize(CompactUnit u) {
    return sizeWithout(u) + 5 + 3L * u.requestId().length();
  }

  /** What {@link #encode} allots for all but the request id and its length. */
  private static int sizeWithout(CompactUnit u) {
    return 1
        + 32
        + 5
        + UnitBytes.Writer.idBagsSize(u.bagEnds(), u.ids(), u.wideIds())
        + 15
        + 4 * (u.requestDense().length + u.impressionDense().length + u.labels().length);
  }

  /**
   * The unit in {@code bytes[off, off + len)}.
   *
   * @throws MalformedUnitException for bytes that are not a unit of this format
   */
  public static CompactUnit decode(byte[] bytes, int off, int len) {
    UnitBytes.Reader r = new UnitBytes.Reader(bytes, off, len);
    int format = r.u8("format");
    if (format != FORMAT) {
      throw new MalformedUnitException("unit format " + format + ", this build reads " + FORMAT);
    }
    long fingerprint = r.i64("layout fingerprint");
    long key = r.i64("request key");
    long ts = r.i64("timestamp");
    long closed = r.i64("closed-at time");
    int ridLen = r.byteLength("request id length", 0);
    String rid = new String(bytes, r.take(ridLen, "request id"), ridLen, StandardCharsets.UTF_8);
    int ni = r.count("impressions", 0);
    UnitBytes.IdBags bags = r.idBags("unit");
    float[] reqDense = r.floats(1, "request dense values");
    float[] impDense = r.floats(ni, "impression dense values");
    float[] labels = r.floats(ni, "labels");
    if (r.remaining() != 0) {
      throw new MalformedUnitException(r.remaining() + " bytes after the unit's end");
    }
    return new CompactUnit(
        fingerprint,
        rid,
        key,
        ts,
        closed,
        ni,
        bags.bagEnds(),
        bags.ids(),
        bags.wide(),
        reqDense,
        impDense,
        labels);
  }

  public static CompactUnit decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }
}
