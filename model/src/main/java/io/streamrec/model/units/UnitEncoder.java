package io.streamrec.model.units;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

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
    List<Impression> imps = unit.getImpressions();
    return encode(
        unit.getRequestId(),
        unit.getTimestampMs(),
        unit.getClosedAtMs(),
        unit.getFeatures(),
        unit.getDense(),
        imps.size(),
        i -> imps.get(i).getFeatures(),
        i -> imps.get(i).getDense(),
        i -> imps.get(i).getLabels());
  }

  /**
   * The unit of {@code request} and {@code impressions} (in the order given), whose join window
   * closed at {@code closedAtMs}: what the assembler emits, without building a {@link RequestUnit}
   * first.
   */
  public CompactUnit encode(
      RequestEvent request, List<ImpressionEvent> impressions, long closedAtMs) {
    return encode(
        request.getRequestId(),
        request.getTimestampMs(),
        closedAtMs,
        request.getFeatures(),
        request.getDense(),
        impressions.size(),
        i -> impressions.get(i).getFeatures(),
        i -> impressions.get(i).getDense(),
        i -> impressions.get(i).getLabels());
  }

  private CompactUnit encode(
      String requestId,
      long timestampMs,
      long closedAtMs,
      Map<String, List<String>> reqFeatures,
      Map<String, Float> reqDenseValues,
      int ni,
      IntFunction<Map<String, List<String>>> impFeatures,
      IntFunction<Map<String, Float>> impDenseValues,
      IntFunction<Map<String, Float>> impLabels) {
    int r = layout.requestFeatures(), g = layout.impressionFeatures();
    int[] bagEnds = new int[r + ni * g];
    n = 0;
    int bag = 0;
    for (int k = 0; k < r; k++) {
      add(layout.requestFeature(k), reqFeatures);
      bagEnds[bag++] = n;
    }
    int nd = layout.impressionDenseCount(), nl = layout.labelCount();
    float[] impDense = new float[ni * nd];
    float[] labels = new float[ni * nl];
    for (int i = 0; i < ni; i++) {
      Map<String, List<String>> f = impFeatures.apply(i);
      for (int k = 0; k < g; k++) {
        add(layout.impressionFeature(k), f);
        bagEnds[bag++] = n;
      }
      Map<String, Float> dense = impDenseValues.apply(i);
      for (int k = 0; k < nd; k++) {
        impDense[i * nd + k] = squash(dense.get(layout.impressionDense(k)));
      }
      Map<String, Float> ys = impLabels.apply(i);
      for (int k = 0; k < nl; k++) {
        Float y = ys.get(layout.label(k));
        labels[i * nl + k] = y == null ? 0f : y;
      }
    }
    float[] reqDense = new float[layout.requestDenseCount()];
    for (int k = 0; k < reqDense.length; k++) {
      reqDense[k] = squash(reqDenseValues.get(layout.requestDense(k)));
    }
    return new CompactUnit(
        layout.fingerprint(),
        requestId,
        requestKey(requestId),
        timestampMs,
        closedAtMs,
        ni,
        bagEnds,
        Arrays.copyOf(ids, n),
        Arrays.copyOf(wide, n),
        reqDense,
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
