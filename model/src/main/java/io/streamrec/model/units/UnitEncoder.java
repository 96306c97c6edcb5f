package io.streamrec.model.units;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
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

  public CompactUnit encode(RequestUnit unit) {
    List<Impression> imps = unit.getImpressions();
    int ni = imps.size();
    int r = layout.requestFeatures(), g = layout.impressionFeatures();
    int[] bagEnds = new int[r + ni * g];
    n = 0;
    int bag = 0;
    Map<String, List<String>> reqFeatures = unit.getFeatures();
    for (int k = 0; k < r; k++) {
      add(layout.requestFeature(k), reqFeatures);
      bagEnds[bag++] = n;
    }
    int nd = layout.impressionDenseCount(), nl = layout.labelCount();
    float[] impDense = new float[ni * nd];
    float[] labels = new float[ni * nl];
    for (int i = 0; i < ni; i++) {
      Impression im = imps.get(i);
      Map<String, List<String>> f = im.getFeatures();
      for (int k = 0; k < g; k++) {
        add(layout.impressionFeature(k), f);
        bagEnds[bag++] = n;
      }
      Map<String, Float> dense = im.getDense();
      for (int k = 0; k < nd; k++) {
        impDense[i * nd + k] = squash(dense.get(layout.impressionDense(k)));
      }
      Map<String, Float> ys = im.getLabels();
      for (int k = 0; k < nl; k++) {
        Float y = ys.get(layout.label(k));
        labels[i * nl + k] = y == null ? 0f : y;
      }
    }
    float[] reqDense = new float[layout.requestDenseCount()];
    Map<String, Float> dense = unit.getDense();
    for (int k = 0; k < reqDense.length; k++) {
      reqDense[k] = squash(dense.get(layout.requestDense(k)));
    }
    String requestId = unit.getRequestId();
    return new CompactUnit(
        layout.fingerprint(),
        requestId,
        requestKey(requestId),
        unit.getTimestampMs(),
        unit.getClosedAtMs(),
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
