package io.streamrec.traffic;

import io.streamrec.common.SplitMix64;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a hostile or broken producer sends, as raw Kafka records, each with the outcome a job must
 * reach for it: truncated Avro, a valid fingerprint over a garbage body, declared lengths far
 * beyond the bytes, unknown fingerprints, no value at all, records near and over the size limit,
 * huge feature lists and feature maps, NaN, infinite and subnormal values, labels out of range,
 * extreme, negative, far-future and jumping timestamps, second copies of events with other content,
 * floods of impressions for one request, and good events under empty or enormous keys.
 *
 * <p>{@link #around} mixes such records into a stream of good ones: the hostile records of a good
 * request follow its last impression (a second copy of the request follows the request, while its
 * unit is open), on the partitions their keys pick, and the good stream goes on as it would.
 */
public final class HostileRecords {
  private static final int HEADER = TrafficFaults.SINGLE_OBJECT_HEADER_BYTES;

  /** Kafka accepts records up to about 1 MB by default: the largest this sends. */
  public static final int NEAR_LIMIT_BYTES = 1_000_000;

  /**
   * One raw record and where it must end up.
   *
   * @param key the Kafka key (may be empty or enormous)
   * @param expectedReason the dead-letter reason the job must give it; null for a record the job
   *     must take (it trains, or is counted as a request without impressions)
   * @param what a name for the case, for messages
   */
  public record Hostile(
      OutgoingRecord.Topic topic, byte[] key, byte[] value, String expectedReason, String what) {}

  /** A record of the mixed stream: a good one ({@code hostile == null}) or a hostile one. */
  public record Mixed(OutgoingRecord good, Hostile hostile) {}

  private final SplitMix64 rng;

  public HostileRecords(long seed) {
    this.rng = new SplitMix64(seed);
  }

  /**
   * The hostile records for one good request {@code g} of the stream (timed where {@code g} is),
   * whose request was sent already: {@code kind} picks the case, so that a stream cycles through
   * them all. {@code recordBytesLimit} is the job's {@code source.max-record-bytes}; {@code
   * maxIdsPerFeature} its {@code source.max-ids-per-feature}.
   */
  public List<Hostile> forRequest(
      GeneratedRequest g, int kind, int recordBytesLimit, int maxIdsPerFeature) {
    RequestEvent r = g.request();
    byte[] good = AvroCodec.encode(r);
    String rid = r.getRequestId();
    long t = r.getTimestampMs();
    List<Hostile> out = new ArrayList<>();
    switch (kind % CASES) {
      case 0 -> {
        out.add(
            req(
                key(rid),
                Arrays.copyOf(good, HEADER + 1 + rng.nextInt(good.length - HEADER - 1)),
                DeadLetterReasons.MALFORMED,
                "truncated Avro"));
      }
      case 1 -> {
        byte[] v = Arrays.copyOf(good, good.length + 32);
        for (int i = HEADER; i < v.length; i++) {
          v[i] = (byte) rng.nextLong();
        }
        // a fingerprint of today's schema over a garbage body: it must not decode into an event
        v[HEADER] = (byte) 0x7f; // a request id claiming 63 bytes more than there may be
        out.add(req(key(rid), v, DeadLetterReasons.MALFORMED, "valid fingerprint, garbage body"));
      }
      case 2 -> {
        byte[] v = Arrays.copyOf(good, HEADER + 6);
        // a string length of about 2^34: far beyond the bytes
        v[HEADER] = (byte) 0xff;
        v[HEADER + 1] = (byte) 0xff;
        v[HEADER + 2] = (byte) 0xff;
        v[HEADER + 3] = (byte) 0xff;
        v[HEADER + 4] = (byte) 0x7f;
        out.add(req(key(rid), v, DeadLetterReasons.MALFORMED, "declared length beyond the bytes"));
      }
      case 3 -> {
        byte[] v = good.clone();
        for (int i = 2; i < HEADER; i++) {
          v[i] = (byte) rng.nextLong();
        }
        out.add(req(key(rid), v, DeadLetterReasons.UNKNOWN_SCHEMA, "unknown fingerprint"));
      }
      case 4 -> out.add(req(key(rid), null, DeadLetterReasons.MALFORMED, "no value"));
      case 5 -> {
        byte[] v = new byte[Math.min(NEAR_LIMIT_BYTES, recordBytesLimit)];
        for (int i = 0; i < v.length; i += 8) {
          v[i] = (byte) rng.nextLong();
        }
        out.add(req(key(rid), v, DeadLetterReasons.MALFORMED, "malformed near the size limit"));
      }
      case 6 -> {
        if (recordBytesLimit < NEAR_LIMIT_BYTES) {
          out.add(
              req(
                  key(rid),
                  new byte[recordBytesLimit + 1],
                  DeadLetterReasons.TOO_LARGE,
                  "over the size limit"));
        }
      }
      case 7 -> {
        RequestEvent e = copyOf(r, "huge-list-" + rid, t);
        List<String> many = new ArrayList<>();
        for (int i = 0; i < Math.max(maxIdsPerFeature + 1, 200_000 / 8); i++) {
          many.add("x" + i);
        }
        Map<String, List<String>> f = new HashMap<>(e.getFeatures());
        f.put("recent_items", many);
        e.setFeatures(f);
        byte[] v = AvroCodec.encode(e);
        // over the record limit or over the bound on one feature's values: too large either way
        out.add(req(key(e.getRequestId()), v, DeadLetterReasons.TOO_LARGE, "huge feature list"));
      }
      case 8 -> {
        // thousands of feature names nobody configured: read, ignored, a request without
        // impressions
        RequestEvent e = copyOf(r, "wide-map-" + rid, t);
        Map<String, List<String>> f = new HashMap<>(e.getFeatures());
        for (int i = 0; i < 5_000; i++) {
          f.put("unknown_" + i, List.of("v"));
        }
        e.setFeatures(f);
        out.add(req(key(e.getRequestId()), AvroCodec.encode(e), null, "huge feature map"));
      }
      case 9 -> {
        RequestEvent e = copyOf(r, "nan-" + rid, t);
        e.setDense(Map.of("hour", Float.NaN));
        out.add(
            req(
                key(e.getRequestId()),
                AvroCodec.encode(e),
                DeadLetterReasons.NON_FINITE,
                "NaN dense"));
        RequestEvent inf = copyOf(r, "inf-" + rid, t);
        inf.setDense(Map.of("hour", Float.NEGATIVE_INFINITY));
        out.add(
            req(
                key(inf.getRequestId()),
                AvroCodec.encode(inf),
                DeadLetterReasons.NON_FINITE,
                "infinite dense"));
      }
      case 10 -> {
        RequestEvent e = copyOf(r, "subnormal-" + rid, t);
        e.setDense(Map.of("hour", Float.MIN_VALUE));
        out.add(req(key(e.getRequestId()), AvroCodec.encode(e), null, "subnormal dense"));
      }
      case 11 -> {
        for (long ts : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, -1, 4_102_444_800_000L}) {
          RequestEvent e = copyOf(r, "time-" + ts + "-" + rid, ts);
          out.add(
              req(
                  key(e.getRequestId()),
                  AvroCodec.encode(e),
                  DeadLetterReasons.IMPLAUSIBLE_TIME,
                  "timestamp " + ts));
        }
      }
      case 12 -> {
        // a month ahead of the stream, though in the past: one bad clock must not move event time
        RequestEvent e = copyOf(r, "jump-" + rid, t + 30L * 24 * 3_600_000);
        out.add(
            req(key(rid), AvroCodec.encode(e), DeadLetterReasons.IMPLAUSIBLE_TIME, "time jump"));
      }
      case 13 -> {
        RequestEvent e = copyOf(r, rid, t);
        e.setFeatures(Map.of("user_id", List.of("impostor")));
        out.add(
            req(
                key(rid),
                AvroCodec.encode(e),
                DeadLetterReasons.CONFLICTING_DUPLICATE,
                "request copy, other content"));
      }
      case 14 -> {
        if (!g.impressions().isEmpty()) {
          ImpressionEvent first = g.impressions().get(0);
          ImpressionEvent other = ImpressionEvent.newBuilder(first).build();
          Map<String, Float> labels = new HashMap<>(first.getLabels());
          labels.put(
              TrafficGenerator.LABEL_CLICK,
              1f - first.getLabels().get(TrafficGenerator.LABEL_CLICK));
          other.setLabels(labels);
          out.add(
              imp(
                  key(rid),
                  AvroCodec.encode(other),
                  DeadLetterReasons.CONFLICTING_DUPLICATE,
                  "impression copy, other label"));
        }
      }
      case 15 -> {
        ImpressionEvent e = impressionFor("badlabel-" + rid, t);
        e.setLabels(Map.of(TrafficGenerator.LABEL_CLICK, 3e38f));
        out.add(imp(key(rid), AvroCodec.encode(e), DeadLetterReasons.BAD_LABEL, "label 3e38"));
        ImpressionEvent neg = impressionFor("neglabel-" + rid, t);
        neg.setLabels(Map.of(TrafficGenerator.LABEL_CLICK, -3e38f));
        out.add(imp(key(rid), AvroCodec.encode(neg), DeadLetterReasons.BAD_LABEL, "label -3e38"));
      }
      case 16 -> {
        // a flood of large impressions for a request that never comes: bounded as they arrive
        String ghost = "flood-" + rid;
        Map<String, Float> pad = new HashMap<>();
        for (int i = 0; i < 100; i++) {
          pad.put("pad" + i, (float) i);
        }
        for (int i = 0; i < 1_500; i++) {
          ImpressionEvent e = impressionFor(ghost, t);
          e.setImpressionId(ghost + "-" + i);
          e.setDense(pad);
          out.add(imp(key(ghost), AvroCodec.encode(e), FLOOD, "impression flood"));
        }
      }
      case 17 -> {
        RequestEvent e = copyOf(r, "emptykey-" + rid, t);
        out.add(req(new byte[0], AvroCodec.encode(e), null, "empty key"));
        RequestEvent big = copyOf(r, "bigkey-" + rid, t);
        byte[] k = new byte[64 << 10];
        Arrays.fill(k, (byte) 'k');
        out.add(req(k, AvroCodec.encode(big), null, "enormous key"));
      }
      default -> throw new IllegalStateException();
    }
    return out;
  }

  /** How many cases {@link #forRequest} cycles through. */
  public static final int CASES = 18;

  /**
   * The reason of an impression of a flood: {@code too_large} beyond the unit's bounds, {@code
   * orphan} for those the unit kept (their request never comes). A test counts the two together.
   */
  public static final String FLOOD = "too_large|orphan";

  /**
   * {@code good} with hostile records after every {@code every}-th request (its impressions sent),
   * cycling through the cases.
   */
  public List<Mixed> around(
      List<GeneratedRequest> requests,
      List<OutgoingRecord> good,
      int every,
      int recordBytesLimit,
      int maxIdsPerFeature) {
    Map<String, GeneratedRequest> byId = new HashMap<>();
    for (GeneratedRequest g : requests) {
      byId.put(g.requestId(), g);
    }
    Map<String, Integer> last = new HashMap<>();
    for (int i = 0; i < good.size(); i++) {
      last.put(good.get(i).key(), i);
    }
    Map<String, List<Hostile>> later = new HashMap<>();
    List<Mixed> out = new ArrayList<>();
    int seen = 0;
    int kind = 0;
    for (int i = 0; i < good.size(); i++) {
      OutgoingRecord r = good.get(i);
      out.add(new Mixed(r, null));
      GeneratedRequest g = byId.get(r.key());
      if (r.topic() == OutgoingRecord.Topic.REQUESTS
          && r.fate() == OutgoingRecord.Fate.TRAIN
          && g != null
          && ++seen % every == 0) {
        boolean soon = kind % CASES == REQUEST_COPY;
        List<Hostile> h = forRequest(g, kind++, recordBytesLimit, maxIdsPerFeature);
        if (soon) {
          h.forEach(x -> out.add(new Mixed(null, x)));
        } else {
          later.put(r.key(), h);
        }
      }
      if (r.key() != null && last.get(r.key()) == i) {
        List<Hostile> h = later.remove(r.key());
        if (h != null) {
          h.forEach(x -> out.add(new Mixed(null, x)));
        }
      }
    }
    return out;
  }

  /** The case whose record must come while its request's unit is open. */
  private static final int REQUEST_COPY = 13;

  private static byte[] key(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Hostile req(byte[] key, byte[] value, String reason, String what) {
    return new Hostile(OutgoingRecord.Topic.REQUESTS, key, value, reason, what);
  }

  private static Hostile imp(byte[] key, byte[] value, String reason, String what) {
    return new Hostile(OutgoingRecord.Topic.IMPRESSIONS, key, value, reason, what);
  }

  private static RequestEvent copyOf(RequestEvent r, String id, long ts) {
    RequestEvent e = RequestEvent.newBuilder(r).build();
    e.setRequestId(id);
    e.setTimestampMs(ts);
    return e;
  }

  private static ImpressionEvent impressionFor(String rid, long ts) {
    return ImpressionEvent.newBuilder()
        .setRequestId(rid)
        .setImpressionId(rid + "-x")
        .setTimestampMs(ts)
        .setFeatures(Map.of("item_id", List.of("i1")))
        .setDense(Map.of())
        .setLabels(Map.of(TrafficGenerator.LABEL_CLICK, 0f))
        .build();
  }
}
