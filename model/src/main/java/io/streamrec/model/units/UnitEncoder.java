package io.streamrec.model.units;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link RequestUnit} (strings) into a {@link CompactUnit} (ids and floats) under one
 * {@link UnitLayout}: every categorical value hashed with {@link FeatureIds} (with its vocabulary
 * for the embedding id, with its feature's name for the wide id), dense values through {@code
 * sign(x)·log1p(|x|)}, a missing label as 0. The work the trainer would otherwise do per
 * impression, done once in the stages that run in parallel before it. Not thread-safe (it reuses a
 * buffer); one per operator instance.
 */
public final class UnitEncoder {
  private final UnitLayout layout;
  private long[] ids = new long[64];
  private long[] wide = new long[64];
  private int n;

  public UnitEncoder(UnitLayout layout) {
    this.layout = layout;
  }

  public UnitLayout layout() {
    return layout;
  }

  /** The 64-bit key of a request id (the tie-breaker of {@link CompactUnit#TRAINING_ORDER}). */
  public static long requestKey(String requestId) {
    return FeatureIds.of("request", requestId);
  }

  /** The unit of an assembled {@link RequestUnit}. */
  public CompactUnit encode(RequestUnit unit) {
    List<EventPart> imps = new ArrayList<>(unit.getImpressions().size());
    for (Impression im : unit.getImpressions()) {
      imps.add(
          part(
              unit.getRequestId(),
              im.getImpressionId(),
              im.getTimestampMs(),
              im.getFeatures(),
              im.getDense(),
              im.getLabels(),
              null));
    }
    EventPart request =
        part(
            unit.getRequestId(),
            null,
            unit.getTimestampMs(),
            unit.getFeatures(),
            unit.getDense(),
            null,
            null);
    return assemble(request, imps, unit.getClosedAtMs());
  }

  /**
   * The unit of {@code request} and {@code impressions} (in the order given), whose join window
   * closed at {@code closedAtMs}.
   */
  public CompactUnit encode(
      RequestEvent request, List<ImpressionEvent> impressions, long closedAtMs) {
    List<EventPart> imps = new ArrayList<>(impressions.size());
    for (ImpressionEvent e : impressions) {
      imps.add(impressionPart(e, null));
    }
    return assemble(requestPart(request, null), imps, closedAtMs);
  }

  /** A request's part, its bytes as read kept for a dead letter (may be null). */
  public EventPart requestPart(RequestEvent e, byte[] raw) {
    return part(
        e.getRequestId(), null, e.getTimestampMs(), e.getFeatures(), e.getDense(), null, raw);
  }

  /** An impression's part, its bytes as read kept for a dead letter (may be null). */
  public EventPart impressionPart(ImpressionEvent e, byte[] raw) {
    return part(
        e.getRequestId(),
        e.getImpressionId(),
        e.getTimestampMs(),
        e.getFeatures(),
        e.getDense(),
        e.getLabels(),
        raw);
  }

  private EventPart part(
      String requestId,
      String impressionId,
      long timestampMs,
      Map<String, List<String>> features,
      Map<String, Float> denseValues,
      Map<String, Float> labelValues,
      byte[] raw) {
    boolean request = impressionId == null;
    int nf = request ? layout.requestFeatures() : layout.impressionFeatures();
    int[] bagEnds = new int[nf];
    n = 0;
    for (int k = 0; k < nf; k++) {
      add(request ? layout.requestFeature(k) : layout.impressionFeature(k), features);
      bagEnds[k] = n;
    }
    float[] dense = new float[request ? layout.requestDenseCount() : layout.impressionDenseCount()];
    for (int k = 0; k < dense.length; k++) {
      dense[k] =
          squash(denseValues.get(request ? layout.requestDense(k) : layout.impressionDense(k)));
    }
    float[] labels = null;
    if (!request) {
      labels = new float[layout.labelCount()];
      for (int k = 0; k < labels.length; k++) {
        Float y = labelValues.get(layout.label(k));
        labels[k] = y == null ? 0f : y;
      }
    }
    return new EventPart(
        layout.fingerprint(),
        requestId,
        impressionId,
        timestampMs,
        bagEnds,
        Arrays.copyOf(ids, n),
        Arrays.copyOf(wide, n),
        dense,
        labels,
        raw);
  }

  /**
   * The unit of a request part and its impression parts (in the order given), whose join window
   * closed at {@code closedAtMs}: the parts' bags, ids and values laid end to end.
   */
  public CompactUnit assemble(EventPart request, List<EventPart> impressions, long closedAtMs) {
    int ni = impressions.size();
    int rb = request.bags(), total = request.ids().length;
    int bags = rb;
    for (EventPart p : impressions) {
      bags += p.bags();
      total += p.ids().length;
    }
    int[] bagEnds = new int[bags];
    long[] allIds = new long[total];
    long[] allWide = new long[total];
    System.arraycopy(request.bagEnds(), 0, bagEnds, 0, rb);
    System.arraycopy(request.ids(), 0, allIds, 0, request.ids().length);
    System.arraycopy(request.wideIds(), 0, allWide, 0, request.ids().length);
    int at = request.ids().length, bag = rb;
    int nd = layout.impressionDenseCount(), nl = layout.labelCount();
    float[] impDense = new float[ni * nd];
    float[] labels = new float[ni * nl];
    for (int i = 0; i < ni; i++) {
      EventPart p = impressions.get(i);
      for (int b = 0; b < p.bags(); b++) {
        bagEnds[bag++] = at + p.bagEnd(b);
      }
      System.arraycopy(p.ids(), 0, allIds, at, p.ids().length);
      System.arraycopy(p.wideIds(), 0, allWide, at, p.ids().length);
      at += p.ids().length;
      System.arraycopy(p.dense(), 0, impDense, i * nd, nd);
      System.arraycopy(p.labels(), 0, labels, i * nl, nl);
    }
    String requestId = request.requestId();
    return new CompactUnit(
        layout.fingerprint(),
        requestId,
        requestKey(requestId),
        request.timestampMs(),
        closedAtMs,
        ni,
        bagEnds,
        allIds,
        allWide,
        request.dense(),
        impDense,
        labels);
  }

  private void add(CategoricalFeature feat, Map<String, List<String>> values) {
    List<String> vs = values.get(feat.name());
    if (vs == null) {
      return;
    }
    boolean shared = !feat.vocabulary().equals(feat.name());
    for (String v : vs) {
      if (n == ids.length) {
        ids = Arrays.copyOf(ids, 2 * n);
        wide = Arrays.copyOf(wide, 2 * n);
      }
      long id = FeatureIds.of(feat.vocabulary(), v);
      ids[n] = id;
      wide[n++] = shared ? FeatureIds.of(feat.name(), v) : id;
    }
  }

  /** {@code sign(x)·log1p(|x|)}: a missing value is 0. */
  public static float squash(Float x) {
    if (x == null) {
      return 0f;
    }
    float v = x;
    return v >= 0 ? (float) Math.log1p(v) : -(float) Math.log1p(-v);
  }
}
