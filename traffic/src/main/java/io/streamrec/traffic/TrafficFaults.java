package io.streamrec.traffic;

import io.streamrec.common.SplitMix64;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.traffic.OutgoingRecord.Fate;
import io.streamrec.traffic.OutgoingRecord.Topic;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns generated requests into the Kafka records to produce, adding the bad input a real job meets
 * (duplicates, orphans, late events, unreadable bytes, non-finite values) at the rates of a {@link
 * FaultConfig}, and labelling every record with the {@link Fate} the job must give it. A test then
 * checks that the job's counters match the fates, and computes the oracle AUC over the TRAIN
 * impressions.
 *
 * <p>Every original record is kept intact (fate TRAIN); each fault adds a record, so the job's
 * trained units are exactly the generated requests whatever the rates. Which faults a request gets
 * depends only on the fault seed and its request id, never on call order, so this class is
 * stateless and thread-safe, and a request's records are the same whichever run produces them. The
 * records of one request are sorted by timestamp (stably: the request first, a duplicate after its
 * original).
 */
public final class TrafficFaults {
  /** A single-object message starts with a 2-byte marker and an 8-byte schema fingerprint. */
  static final int SINGLE_OBJECT_HEADER_BYTES = 10;

  /** First byte of the single-object marker; random garbage must never start with it. */
  static final byte SINGLE_OBJECT_MARKER = (byte) 0xC3;

  /** Random garbage is 1..this many bytes: short, like a stray producer's payload. */
  static final int MAX_GARBAGE_BYTES = 64;

  /** Zig-zag varint of -1: as a string length it makes any Avro reader reject the body. */
  static final byte NEGATIVE_LENGTH = 0x01;

  /** Late copies fall uniformly in [window end, window end + this many windows × joinWindowMs]. */
  static final long LATE_SPREAD_WINDOWS = 1;

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;
  private static final float[] NON_FINITE = {
    Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY
  };

  private enum Garbage {
    RANDOM_BYTES,
    TRUNCATED_BODY,
    NEGATIVE_LENGTH
  }

  private final FaultConfig config;

  public TrafficFaults(FaultConfig config) {
    this.config = config;
  }

  public FaultConfig config() {
    return config;
  }

  /**
   * The records for one generated request: the request and its impressions (TRAIN), plus the extra
   * records the fault rates draw, sorted by timestamp.
   *
   * @throws IllegalArgumentException if an original impression already falls outside the join
   *     window (TrafficConfig.impressionDelayMaxMs is not below FaultConfig.joinWindowMs)
   */
  public List<OutgoingRecord> toRecords(GeneratedRequest g) {
    String requestId = g.requestId();
    long requestTs = g.request().getTimestampMs();
    long windowEnd = requestTs + config.joinWindowMs();
    SplitMix64 rng = new SplitMix64(SplitMix64.mix(config.seed() ^ hash(requestId)));
    int n = g.size();
    List<OutgoingRecord> out = new ArrayList<>(n + 2);
    out.add(
        new OutgoingRecord(
            Topic.REQUESTS,
            requestId,
            requestTs,
            AvroCodec.encode(g.request()),
            Fate.TRAIN,
            Double.NaN,
            Float.NaN));
    int nextPosition = n; // ids for the extra impressions of this request
    for (int p = 0; p < n; p++) {
      ImpressionEvent e = g.impressions().get(p);
      long ts = e.getTimestampMs();
      if (ts >= windowEnd) {
        throw new IllegalArgumentException(
            "impression "
                + e.getImpressionId()
                + " is "
                + (ts - requestTs)
                + " ms after its request, outside the join window of "
                + config.joinWindowMs()
                + " ms: keep TrafficConfig.impressionDelayMaxMs below FaultConfig.joinWindowMs");
      }
      double ctr = g.trueCtr()[p];
      float label = g.click(p);
      byte[] bytes = AvroCodec.encode(e);
      out.add(new OutgoingRecord(Topic.IMPRESSIONS, requestId, ts, bytes, Fate.TRAIN, ctr, label));

      boolean duplicate = rng.nextDouble() < config.duplicateRate();
      boolean orphan = rng.nextDouble() < config.orphanRate();
      boolean late = rng.nextDouble() < config.lateRate();
      boolean malformed = rng.nextDouble() < config.malformedRate();
      boolean nonFinite = rng.nextDouble() < config.nonFiniteRate();
      if (duplicate) {
        out.add(
            new OutgoingRecord(
                Topic.IMPRESSIONS, requestId, ts, bytes.clone(), Fate.DUPLICATE, ctr, label));
      }
      if (orphan) {
        String orphanRequestId = "orphan-" + e.getImpressionId();
        ImpressionEvent o = copy(e, orphanRequestId + "-0", orphanRequestId, ts, e.getDense());
        out.add(
            new OutgoingRecord(
                Topic.IMPRESSIONS,
                orphanRequestId,
                ts,
                AvroCodec.encode(o),
                Fate.ORPHAN,
                ctr,
                label));
      }
      if (late) {
        long lateTs =
            windowEnd + rng.nextLongInclusive(LATE_SPREAD_WINDOWS * config.joinWindowMs());
        ImpressionEvent l =
            copy(e, requestId + "-" + nextPosition++, requestId, lateTs, e.getDense());
        out.add(
            new OutgoingRecord(
                Topic.IMPRESSIONS, requestId, lateTs, AvroCodec.encode(l), Fate.LATE, ctr, label));
      }
      if (malformed) {
        Garbage kind = Garbage.values()[rng.nextInt(Garbage.values().length)];
        Topic topic =
            kind == Garbage.RANDOM_BYTES && rng.nextInt(2) == 0
                ? Topic.REQUESTS
                : Topic.IMPRESSIONS;
        out.add(
            new OutgoingRecord(
                topic, null, ts, garbage(kind, bytes, rng), Fate.MALFORMED, Double.NaN, Float.NaN));
      }
      if (nonFinite) {
        Map<String, Float> dense = new LinkedHashMap<>(e.getDense());
        dense.put(TrafficGenerator.POSITION, NON_FINITE[rng.nextInt(NON_FINITE.length)]);
        ImpressionEvent f = copy(e, requestId + "-" + nextPosition++, requestId, ts, dense);
        out.add(
            new OutgoingRecord(
                Topic.IMPRESSIONS,
                requestId,
                ts,
                AvroCodec.encode(f),
                Fate.NON_FINITE,
                Double.NaN,
                label));
      }
    }
    out.sort(Comparator.comparingLong(OutgoingRecord::timestampMs));
    return out;
  }

  private static ImpressionEvent copy(
      ImpressionEvent e, String impressionId, String requestId, long ts, Map<String, Float> dense) {
    ImpressionEvent c = new ImpressionEvent();
    c.setImpressionId(impressionId);
    c.setRequestId(requestId);
    c.setTimestampMs(ts);
    c.setFeatures(e.getFeatures());
    c.setDense(dense);
    c.setLabels(e.getLabels());
    return c;
  }

  /** Bytes no reader accepts, made from a valid encoding {@code valid} where the kind needs one. */
  private static byte[] garbage(Garbage kind, byte[] valid, SplitMix64 rng) {
    return switch (kind) {
      case RANDOM_BYTES -> randomBytes(rng);
      case TRUNCATED_BODY -> truncatedBody(valid, rng);
      case NEGATIVE_LENGTH -> negativeLength(valid);
    };
  }

  private static byte[] randomBytes(SplitMix64 rng) {
    byte[] b = new byte[1 + rng.nextInt(MAX_GARBAGE_BYTES)];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) rng.nextLong();
    }
    if (b[0] == SINGLE_OBJECT_MARKER) {
      b[0] = (byte) ~SINGLE_OBJECT_MARKER;
    }
    return b;
  }

  /** A strict prefix of a self-delimiting encoding always runs out of bytes while being decoded. */
  private static byte[] truncatedBody(byte[] valid, SplitMix64 rng) {
    int keep = SINGLE_OBJECT_HEADER_BYTES + rng.nextInt(valid.length - SINGLE_OBJECT_HEADER_BYTES);
    return Arrays.copyOf(valid, keep);
  }

  /** The body starts with the impression id's length as a varint; it is replaced by -1. */
  private static byte[] negativeLength(byte[] valid) {
    int varintEnd = SINGLE_OBJECT_HEADER_BYTES;
    while ((valid[varintEnd] & 0x80) != 0) {
      varintEnd++;
    }
    varintEnd++;
    int rest = valid.length - varintEnd;
    byte[] b = new byte[SINGLE_OBJECT_HEADER_BYTES + 1 + rest];
    System.arraycopy(valid, 0, b, 0, SINGLE_OBJECT_HEADER_BYTES);
    b[SINGLE_OBJECT_HEADER_BYTES] = NEGATIVE_LENGTH;
    System.arraycopy(valid, varintEnd, b, SINGLE_OBJECT_HEADER_BYTES + 1, rest);
    return b;
  }

  /** 64-bit FNV-1a over the UTF-16 units of {@code s}, finished by SplitMix64's mixer. */
  private static long hash(String s) {
    long h = FNV_OFFSET;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * FNV_PRIME;
    }
    return SplitMix64.mix(h);
  }
}
