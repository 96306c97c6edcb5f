package io.streamrec.model;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A minibatch of request units, encoded for the compute backend: every categorical value hashed to
 * its 64-bit id, grouped by embedding table, with bag offsets per feature; dense features and
 * labels in flat arrays. The request side is encoded once per unit, not once per impression — the
 * "request-only" layout — and {@link #impUnit} maps each impression to its unit.
 *
 * <p>Buffers are reused across batches: a trainer keeps one {@code UnitBatch} and calls {@link
 * #encode} for each minibatch, so steady-state encoding allocates nothing but the hashed strings.
 *
 * <p>Dense values pass through {@code sign(x)·log1p(|x|)}, which keeps counts, positions and hours
 * on a scale a linear term can use without per-feature normalisation. A missing label reads as 0.
 */
public final class UnitBatch {
  private static final int INITIAL_CAPACITY = 64;

  final ModelConfig config;

  /** Embedding tables, in {@link io.streamrec.model.features.FeatureSpec#tables()} order. */
  final List<String> tables;

  final CategoricalFeature[] features;
  final int[] featureTable;
  final boolean[] featureMean;
  final DenseFeature[] requestDense;
  final DenseFeature[] impressionDense;

  /** Label names; {@code labels} holds {@code nImps × labelNames.length} values, row-major. */
  final String[] labelNames;

  int nUnits;
  int nImps;
  int[] impUnit = new int[INITIAL_CAPACITY];
  float[] labels = new float[INITIAL_CAPACITY];
  float[] reqDense = new float[INITIAL_CAPACITY];
  float[] impDense = new float[INITIAL_CAPACITY];

  /** Per embedding table: the ids of every (feature, bag, value), features concatenated. */
  final long[][] tableKeys;

  final int[] tableKeyCount;

  /** Per categorical feature: bag offsets into its table's keys, one bag per unit or impression. */
  final int[][] featureOffsets;

  long[] wideKeys = new long[INITIAL_CAPACITY];
  int wideCount;
  int[] wideReqOffsets = new int[INITIAL_CAPACITY + 1];
  int[] wideImpOffsets = new int[INITIAL_CAPACITY + 1];

  /** 0, 1, 2, …: the bag-to-row target map where bag b writes row b. */
  int[] identity = new int[0];

  long maxClosedAtMs;

  public UnitBatch(ModelConfig config) {
    this.config = config;
    this.tables = config.features().tables();
    List<CategoricalFeature> cat = config.features().categorical();
    this.features = cat.toArray(new CategoricalFeature[0]);
    this.featureTable = new int[features.length];
    this.featureMean = new boolean[features.length];
    for (int f = 0; f < features.length; f++) {
      featureTable[f] = tables.indexOf(features[f].table());
      featureMean[f] = features[f].pooling() == Pooling.MEAN;
    }
    this.requestDense = config.features().dense(Side.REQUEST).toArray(new DenseFeature[0]);
    this.impressionDense = config.features().dense(Side.IMPRESSION).toArray(new DenseFeature[0]);
    this.labelNames = config.features().labels().toArray(new String[0]);
    this.tableKeys = new long[tables.size()][INITIAL_CAPACITY];
    this.tableKeyCount = new int[tables.size()];
    this.featureOffsets = new int[features.length][INITIAL_CAPACITY + 1];
  }

  public int units() {
    return nUnits;
  }

  public int impressions() {
    return nImps;
  }

  /** The primary (first) label of impression {@code i} (0 or 1 for a click). */
  public float label(int i) {
    return labels[i * labelNames.length];
  }

  /** The latest join-window close among the batch's units (event time). */
  public long maxClosedAtMs() {
    return maxClosedAtMs;
  }

  /** Encodes {@code units} in the order given, replacing the previous contents. */
  public void encode(List<RequestUnit> units) {
    nUnits = units.size();
    int n = 0;
    for (RequestUnit u : units) {
      n += u.getImpressions().size();
    }
    nImps = n;
    ensureCapacity();
    Arrays.fill(tableKeyCount, 0);
    wideCount = 0;
    maxClosedAtMs = Long.MIN_VALUE;

    int imp = 0;
    for (int u = 0; u < nUnits; u++) {
      RequestUnit unit = units.get(u);
      maxClosedAtMs = Math.max(maxClosedAtMs, unit.getClosedAtMs());
      for (int k = 0; k < requestDense.length; k++) {
        reqDense[u * requestDense.length + k] = squash(unit.getDense().get(requestDense[k].name()));
      }
      for (Impression im : unit.getImpressions()) {
        impUnit[imp] = u;
        Map<String, Float> ys = im.getLabels();
        for (int l = 0; l < labelNames.length; l++) {
          Float y = ys.get(labelNames[l]);
          labels[imp * labelNames.length + l] = y == null ? 0f : y;
        }
        for (int k = 0; k < impressionDense.length; k++) {
          impDense[imp * impressionDense.length + k] =
              squash(im.getDense().get(impressionDense[k].name()));
        }
        imp++;
      }
    }

    for (int f = 0; f < features.length; f++) {
      CategoricalFeature feat = features[f];
      int t = featureTable[f];
      int[] off = featureOffsets[f];
      if (feat.side() == Side.REQUEST) {
        for (int u = 0; u < nUnits; u++) {
          off[u] = tableKeyCount[t];
          addKeys(t, feat, units.get(u).getFeatures());
        }
        off[nUnits] = tableKeyCount[t];
      } else {
        int i = 0;
        for (RequestUnit unit : units) {
          for (Impression im : unit.getImpressions()) {
            off[i++] = tableKeyCount[t];
            addKeys(t, feat, im.getFeatures());
          }
        }
        off[nImps] = tableKeyCount[t];
      }
    }

    for (int u = 0; u < nUnits; u++) {
      wideReqOffsets[u] = wideCount;
      addWide(units.get(u).getFeatures(), Side.REQUEST);
    }
    wideReqOffsets[nUnits] = wideCount;
    int i = 0;
    for (RequestUnit unit : units) {
      for (Impression im : unit.getImpressions()) {
        wideImpOffsets[i++] = wideCount;
        addWide(im.getFeatures(), Side.IMPRESSION);
      }
    }
    wideImpOffsets[nImps] = wideCount;
  }

  private void addKeys(int t, CategoricalFeature feat, Map<String, List<String>> values) {
    List<String> vs = values.get(feat.name());
    if (vs == null) {
      return;
    }
    for (String v : vs) {
      long[] keys = tableKeys[t];
      if (tableKeyCount[t] == keys.length) {
        tableKeys[t] = keys = Arrays.copyOf(keys, keys.length * 2);
      }
      keys[tableKeyCount[t]++] = FeatureIds.of(feat.vocabulary(), v);
    }
  }

  private void addWide(Map<String, List<String>> values, Side side) {
    for (CategoricalFeature feat : features) {
      if (feat.side() != side) {
        continue;
      }
      List<String> vs = values.get(feat.name());
      if (vs == null) {
        continue;
      }
      for (String v : vs) {
        if (wideCount == wideKeys.length) {
          wideKeys = Arrays.copyOf(wideKeys, wideKeys.length * 2);
        }
        wideKeys[wideCount++] = FeatureIds.of(feat.name(), v);
      }
    }
  }

  private void ensureCapacity() {
    int units = nUnits, imps = nImps;
    if (impUnit.length < imps) {
      int cap = Math.max(imps, impUnit.length * 2);
      impUnit = new int[cap];
    }
    if (labels.length < imps * labelNames.length) {
      labels = new float[Math.max(imps * labelNames.length, labels.length * 2)];
    }
    if (reqDense.length < units * requestDense.length) {
      reqDense = new float[Math.max(units * requestDense.length, reqDense.length * 2)];
    }
    if (impDense.length < imps * impressionDense.length) {
      impDense = new float[Math.max(imps * impressionDense.length, impDense.length * 2)];
    }
    int bags = Math.max(units, imps) + 1;
    for (int f = 0; f < features.length; f++) {
      if (featureOffsets[f].length < bags) {
        featureOffsets[f] = new int[Math.max(bags, featureOffsets[f].length * 2)];
      }
    }
    if (wideReqOffsets.length < units + 1) {
      wideReqOffsets = new int[Math.max(units + 1, wideReqOffsets.length * 2)];
    }
    if (wideImpOffsets.length < imps + 1) {
      wideImpOffsets = new int[Math.max(imps + 1, wideImpOffsets.length * 2)];
    }
    if (identity.length < bags) {
      identity = new int[Math.max(bags, identity.length * 2)];
      for (int k = 0; k < identity.length; k++) {
        identity[k] = k;
      }
    }
  }

  /** {@code sign(x)·log1p(|x|)}: a missing value is 0. */
  static float squash(Float x) {
    if (x == null) {
      return 0f;
    }
    float v = x;
    return v >= 0 ? (float) Math.log1p(v) : -(float) Math.log1p(-v);
  }
}
