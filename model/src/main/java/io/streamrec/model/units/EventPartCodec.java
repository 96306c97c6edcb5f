package io.streamrec.model.units;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The binary form of an {@link EventPart}: what crosses from the decode stage to the assembler and
 * what the assembler's checkpoints hold. Little-endian, {@code var} an unsigned LEB128 count:
 *
 * <pre>
 *   u8   format                1
 *   i64  layout fingerprint
 *   var  n, n bytes            the request id, UTF-8
 *   var  n+1, n bytes          the impression id (0: none, a request)
 *   i64  timestamp ms
 *   var  bags, then each bag's length (var)
 *   i64  × Σ lengths           the embedding ids
 *   var  w, w × (var, i64)     wide ids that differ from the embedding id at that index
 *   var  d, f32 × d            dense values (squashed)
 *   var  l+1, f32 × l          labels (0: none, a request)
 *   var  n+1, n bytes          the event's bytes as read (0: none)
 * </pre>
 */
public final class EventPartCodec {
  public static final byte FORMAT = 1;

  private EventPartCodec() {}

  public static byte[] encode(EventPart p) {
    byte[] rid = p.requestId().getBytes(StandardCharsets.UTF_8);
    byte[] iid =
        p.impressionId() == null ? null : p.impressionId().getBytes(StandardCharsets.UTF_8);
    byte[] raw = p.raw();
    int size =
        40
            + rid.length
            + (iid == null ? 0 : iid.length)
            + UnitBytes.Writer.idBagsSize(p.bagEnds(), p.ids(), p.wideIds())
            + 4 * (p.dense().length + (p.labels() == null ? 0 : p.labels().length))
            + (raw == null ? 0 : raw.length)
            + 13;
    UnitBytes.Writer w = new UnitBytes.Writer(size);
    w.u8(FORMAT);
    w.i64(p.layoutFingerprint());
    w.var(rid.length);
    w.bytes(rid);
    w.var(iid == null ? 0 : iid.length + 1);
    if (iid != null) {
      w.bytes(iid);
    }
    w.i64(p.timestampMs());
    w.idBags(p.bagEnds(), p.ids(), p.wideIds());
    w.floats(p.dense(), 1);
    if (p.labels() == null) {
      w.var(0);
    } else {
      w.var(p.labels().length + 1);
      for (float x : p.labels()) {
        w.i32(Float.floatToRawIntBits(x));
      }
    }
    w.var(raw == null ? 0 : raw.length + 1);
    if (raw != null) {
      w.bytes(raw);
    }
    w.var(p.sourcePartition() + 1);
    w.i64(p.sourceOffset());
    return w.done();
  }

  /**
   * The part in {@code bytes[off, off + len)}.
   *
   * @throws MalformedUnitException for bytes that are not a part of this format
   */
  public static EventPart decode(byte[] bytes, int off, int len) {
    UnitBytes.Reader r = new UnitBytes.Reader(bytes, off, len);
    int format = r.u8("format");
    if (format != FORMAT) {
      throw new MalformedUnitException(
          "event part format " + format + ", this build reads " + FORMAT);
    }
    long fingerprint = r.i64("layout fingerprint");
    int ridLen = r.byteLength("request id length", 0);
    String rid = new String(bytes, r.take(ridLen, "request id"), ridLen, StandardCharsets.UTF_8);
    int iidLen = r.byteLength("impression id length", 1);
    String iid =
        iidLen == 0
            ? null
            : new String(
                bytes, r.take(iidLen - 1, "impression id"), iidLen - 1, StandardCharsets.UTF_8);
    long ts = r.i64("timestamp");
    UnitBytes.IdBags bags = r.idBags("part");
    float[] dense = r.floats(1, "dense values");
    int nl = r.count("labels", 0);
    float[] labels = null;
    if (nl > 0) {
      r.need(4L * (nl - 1), "labels");
      labels = new float[nl - 1];
      for (int k = 0; k < labels.length; k++) {
        labels[k] = Float.intBitsToFloat(r.i32("label"));
      }
    }
    int rawLen = r.byteLength("event bytes", 1);
    byte[] raw = null;
    if (rawLen > 0) {
      int at = r.take(rawLen - 1, "event bytes");
      raw = Arrays.copyOfRange(bytes, at, at + rawLen - 1);
    }
    int partition = r.count("source partition", 0) - 1;
    long offset = r.i64("source offset");
    if (r.remaining() != 0) {
      throw new MalformedUnitException(r.remaining() + " bytes after the part's end");
    }
    return new EventPart(
        fingerprint,
        rid,
        iid,
        ts,
        bags.bagEnds(),
        bags.ids(),
        bags.wide(),
        dense,
        labels,
        raw,
        partition,
        offset);
  }

  public static EventPart decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }
}
