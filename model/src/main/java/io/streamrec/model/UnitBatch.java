package io.streamrec.model;

import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A minibatch of request units, laid out for the compute backend: every categorical id grouped by
 * embedding table, with bag offsets per feature; dense features and labels in flat arrays. The
 * request side is laid out once per unit, not once per impression — the "request-only" layout — and
 * {@link #impUnit} maps each impression to its unit.
 *
 * <p>The units come already hashed ({@link CompactUnit}, made in the parallel stages before the
 * trainer), so laying out a batch copies ids and floats and hashes nothing. Buffers are reused
 * across batches: a trainer keeps one {@code UnitBatch} and calls {@link #encode} for each
 * minibatch, so steady-state encoding allocates nothing.
 *
 * <p>Dense values arrive through {@code sign(x)·log1p(|x|)} ({@link UnitEncoder}), which keeps
 * counts, positions and hours on a scale a linear term can use without per-feature normalisation.
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

  /**
   * Per unit, and per impression, the bag of its wide keys in {@link #wideKeys} that add to its
   * logit as they are: every value's with {@link ModelConfig.WidePooling#SUM}; with {@link
   * ModelConfig.WidePooling#PER_FEATURE} those of single-valued and sum-pooled features, the
   * request-impression crosses too, and not the values of a multi-valued mean-pooled feature, whose
   * mean is a bag of {@link #wideReqMean} or {@link #wideImpMean}.
   */
  int[] wideReqOffsets = new int[INITIAL_CAPACITY + 1];

  int[] wideImpOffsets = new int[INITIAL_CAPACITY + 1];

  /**
   * {@link ModelConfig.WidePooling#PER_FEATURE}: per unit, and per impression, a bag of each
   * mean-pooled feature with more than one value, whose wide weights add their mean to the unit's
   * or the impression's logit. Empty with {@link ModelConfig.WidePooling#SUM}.
   */
  final MeanBags wideReqMean = new MeanBags();

  final MeanBags wideImpMean = new MeanBags();

  /** Whether a mean-pooled feature's values add their mean of wide weights, or each its own. */
  final boolean widePerFeature;

  /** Per request bag of a unit, and per impression bag: whether its feature is mean-pooled. */
  private final boolean[] requestSlotMean, impressionSlotMean;

  /** Bags of wide keys, each mean-pooled into its target row (a unit or an impression). */
  static final class MeanBags {
    int[] offsets = new int[INITIAL_CAPACITY + 1];
    int[] targets = new int[INITIAL_CAPACITY];
    int count;

    /** Opens a bag of row {@code target} at key {@code start}. */
    void open(int target, int start) {
      if (count + 2 > offsets.length) {
        offsets = Arrays.copyOf(offsets, offsets.length * 2);
      }
      if (count + 1 > targets.length) {
        targets = Arrays.copyOf(targets, targets.length * 2);
      }
      offsets[count] = start;
      targets[count++] = target;
    }

    /** Ends the last bag at key {@code end} (room for it is kept by {@link #open}). */
    void close(int end) {
      offsets[count] = end;
    }
  }

  /**
   * With {@link ModelConfig.WideCrosses#FIELD_WEIGHTED}: per impression, per pair of a request
   * feature and an impression feature (request-major, {@link #crossPairs} of them), a bag of its
   * wide cross key (none, or one where both features have exactly one value) into {@link
   * #wideKeys}, after every impression's own keys.
   */
  int[] crossOffsets = new int[0];

  /** Request × impression categorical features with field-weighted wide crosses; 0 without. */
  final int crossPairs;

  /** 0, 1, 2, …: the bag-to-row target map where bag b writes row b. */
  int[] identity = new int[0];

  long maxClosedAtMs;

  private final UnitLayout layout;
  private final UnitEncoder encoder;

  /** Per categorical feature (spec index): its place in its side's bags of a unit. */
  private final int[] layoutSlot;

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
    this.crossPairs =
        config.wideCrosses() == ModelConfig.WideCrosses.FIELD_WEIGHTED
            ? config.features().categorical(Side.REQUEST).size()
                * config.features().categorical(Side.IMPRESSION).size()
            : 0;
    this.tableKeys = new long[tables.size()][INITIAL_CAPACITY];
    this.tableKeyCount = new int[tables.size()];
    this.featureOffsets = new int[features.length][INITIAL_CAPACITY + 1];
    this.layout = new UnitLayout(config.features());
    this.encoder = new UnitEncoder(layout);
    this.layoutSlot = new int[features.length];
    for (int k = 0; k < layout.requestFeatures(); k++) {
      layoutSlot[layout.requestSpecIndex(k)] = k;
    }
    for (int k = 0; k < layout.impressionFeatures(); k++) {
      layoutSlot[layout.impressionSpecIndex(k)] = k;
    }
    this.widePerFeature = config.widePooling() == ModelConfig.WidePooling.PER_FEATURE;
    this.requestSlotMean = new boolean[layout.requestFeatures()];
    for (int k = 0; k < requestSlotMean.length; k++) {
      requestSlotMean[k] = featureMean[layout.requestSpecIndex(k)];
    }
    this.impressionSlotMean = new boolean[layout.impressionFeatures()];
    for (int k = 0; k < impressionSlotMean.length; k++) {
      impressionSlotMean[k] = featureMean[layout.impressionSpecIndex(k)];
    }
  }

  /** Where this batch expects each value of a unit: the units it encodes must have this layout. */
  public UnitLayout layout() {
    return layout;
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

  /** Label {@code label} (by its place in the model's labels) of impression {@code i}. */
  public float label(int i, int label) {
    return labels[i * labelNames.length + label];
  }

  /** The latest join-window close among the batch's units (event time). */
  public long maxClosedAtMs() {
    return maxClosedAtMs;
  }

  /**
   * Encodes {@code units} (strings) in the order given, replacing the previous contents: hashes
   * every value first ({@link UnitEncoder}). For scoring and tests; the trainer gets compact units.
   */
  public void encodeRequestUnits(List<RequestUnit> units) {
    List<CompactUnit> compact = new ArrayList<>(units.size());
    for (RequestUnit u : units) {
      compact.add(encoder.encode(u));
    }
    encode(compact);
  }

  /**
   * Encodes {@code units} in the order given, replacing the previous contents: copies ids and
   * values, hashes nothing.
   *
   * @throws IllegalArgumentException for a unit encoded under another feature spec
   */
  public void encode(List<CompactUnit> units) {
    nUnits = units.size();
    int n = 0;
    for (CompactUnit u : units) {
      if (u.layoutFingerprint() != layout.fingerprint()) {
        throw new IllegalArgumentException(
            "unit '"
                + u.requestId()
                + "' was encoded under another feature spec (layout "
                + Long.toHexString(u.layoutFingerprint())
                + ", this model's is "
                + Long.toHexString(layout.fingerprint())
                + ")");
      }
      n += u.impressions();
    }
    nImps = n;
    ensureCapacity();
    Arrays.fill(tableKeyCount, 0);
    wideCount = 0;
    maxClosedAtMs = Long.MIN_VALUE;
    int nr = requestDense.length, nd = impressionDense.length, nl = labelNames.length;
    int nrf = layout.requestFeatures(), nif = layout.impressionFeatures();

    int imp = 0;
    for (int u = 0; u < nUnits; u++) {
      CompactUnit unit = units.get(u);
      maxClosedAtMs = Math.max(maxClosedAtMs, unit.closedAtMs());
      System.arraycopy(unit.requestDense(), 0, reqDense, u * nr, nr);
      int ni = unit.impressions();
      System.arraycopy(unit.impressionDense(), 0, impDense, imp * nd, ni * nd);
      System.arraycopy(unit.labels(), 0, labels, imp * nl, ni * nl);
      for (int i = 0; i < ni; i++) {
        impUnit[imp + i] = u;
      }
      imp += ni;
    }

    // embedding keys, feature by feature in the spec's order (a table's keys in that order)
    for (int f = 0; f < features.length; f++) {
      int t = featureTable[f];
      int[] off = featureOffsets[f];
      int slot = layoutSlot[f];
      if (features[f].side() == Side.REQUEST) {
        for (int u = 0; u < nUnits; u++) {
          off[u] = tableKeyCount[t];
          CompactUnit unit = units.get(u);
          addKeys(t, unit.ids(), unit.bagStart(slot), unit.bagEnd(slot));
        }
        off[nUnits] = tableKeyCount[t];
      } else {
        int i = 0;
        for (int u = 0; u < nUnits; u++) {
          CompactUnit unit = units.get(u);
          for (int k = 0; k < unit.impressions(); k++) {
            off[i++] = tableKeyCount[t];
            int b = nrf + k * nif + slot;
            addKeys(t, unit.ids(), unit.bagStart(b), unit.bagEnd(b));
          }
        }
        off[nImps] = tableKeyCount[t];
      }
    }

    // wide keys: per unit its request values, then per impression its values (and crosses), then
    // the mean-pooled bags, then the weighted crosses
    encodeWide(units, nrf, nif);
    if (crossPairs > 0) {
      addWeightedCrosses(units, nrf, nif);
    }
  }

  /** The wide bags: one per unit and one per impression, then the mean-pooled ones. */
  private void encodeWide(List<CompactUnit> units, int nrf, int nif) {
    for (int u = 0; u < nUnits; u++) {
      wideReqOffsets[u] = wideCount;
      CompactUnit unit = units.get(u);
      if (widePerFeature) {
        addSummed(unit, 0, requestSlotMean);
      } else {
        addWide(unit.wideIds(), 0, nrf == 0 ? 0 : unit.bagEnd(nrf - 1));
      }
    }
    wideReqOffsets[nUnits] = wideCount;
    boolean crosses = config.wideCrosses() == ModelConfig.WideCrosses.REQUEST_IMPRESSION;
    int i = 0;
    for (int u = 0; u < nUnits; u++) {
      CompactUnit unit = units.get(u);
      int single = crosses ? requestSingleValued(unit, nrf) : 0;
      for (int k = 0; k < unit.impressions(); k++) {
        wideImpOffsets[i++] = wideCount;
        int first = nrf + k * nif;
        if (widePerFeature) {
          addSummed(unit, first, impressionSlotMean);
        } else {
          addWide(unit.wideIds(), unit.bagStart(first), unit.bagEnd(first + nif - 1));
        }
        if (single > 0) {
          addCrosses(unit, first, nif, single);
        }
      }
    }
    wideImpOffsets[nImps] = wideCount;
    wideReqMean.count = 0;
    wideImpMean.count = 0;
    if (!widePerFeature) {
      return;
    }
    for (int u = 0; u < nUnits; u++) {
      addPooled(units.get(u), 0, requestSlotMean, wideReqMean, u);
    }
    wideReqMean.close(wideCount);
    i = 0;
    for (CompactUnit unit : units) {
      for (int k = 0; k < unit.impressions(); k++) {
        addPooled(unit, nrf + k * nif, impressionSlotMean, wideImpMean, i++);
      }
    }
    wideImpMean.close(wideCount);
  }

  /** Whether bag {@code b} of {@code unit} is a mean-pooled feature's with more than one value. */
  private static boolean pooled(CompactUnit unit, int b, boolean mean) {
    return mean && unit.bagEnd(b) - unit.bagStart(b) > 1;
  }

  /** The keys of the bags {@code first ..} of {@code unit} that are not {@link #pooled}. */
  private void addSummed(CompactUnit unit, int first, boolean[] slotMean) {
    for (int k = 0; k < slotMean.length; k++) {
      int b = first + k;
      if (!pooled(unit, b, slotMean[k])) {
        addWide(unit.wideIds(), unit.bagStart(b), unit.bagEnd(b));
      }
    }
  }

  /**
   * Each {@link #pooled} bag of the bags {@code first ..} of {@code unit} as a bag of row {@code
   * target}.
   */
  private void addPooled(
      CompactUnit unit, int first, boolean[] slotMean, MeanBags bags, int target) {
    for (int k = 0; k < slotMean.length; k++) {
      int b = first + k;
      if (pooled(unit, b, slotMean[k])) {
        bags.open(target, wideCount);
        addWide(unit.wideIds(), unit.bagStart(b), unit.bagEnd(b));
      }
    }
  }

  /**
   * The {@link ModelConfig.WideCrosses#FIELD_WEIGHTED} bags: for each impression, each request
   * feature and each impression feature in order, the cross key of their ids where both have
   * exactly one value.
   */
  private void addWeightedCrosses(List<CompactUnit> units, int nrf, int nif) {
    int most = wideCount + nImps * crossPairs;
    if (most > wideKeys.length) {
      wideKeys = Arrays.copyOf(wideKeys, Math.max(wideKeys.length * 2, most));
    }
    int bag = 0;
    for (CompactUnit unit : units) {
      long[] wide = unit.wideIds();
      for (int k = 0; k < unit.impressions(); k++) {
        int first = nrf + k * nif;
        for (int r = 0; r < nrf; r++) {
          int rs = unit.bagStart(r);
          boolean single = unit.bagEnd(r) - rs == 1;
          for (int b = first; b < first + nif; b++) {
            crossOffsets[bag++] = wideCount;
            int s = unit.bagStart(b);
            if (single && unit.bagEnd(b) - s == 1) {
              wideKeys[wideCount++] = ModelConfig.crossKey(wide[rs], wide[s]);
            }
          }
        }
      }
    }
    crossOffsets[bag] = wideCount;
  }

  /**
   * The rows {@code unit} takes in the wide table, the most of any one table: its ids, plus its
   * wide crosses under {@code config}'s {@link ModelConfig#wideCrosses} ({@link TableCapacities}
   * counts the other tables').
   */
  public static long rows(ModelConfig config, CompactUnit unit) {
    long n = unit.ids().length;
    if (config.wideCrosses() == ModelConfig.WideCrosses.NONE) {
      return n;
    }
    int nrf = config.features().categorical(Side.REQUEST).size();
    int nif = config.features().categorical(Side.IMPRESSION).size();
    long req = 0;
    for (int b = 0; b < nrf; b++) {
      req += unit.bagEnd(b) - unit.bagStart(b) == 1 ? 1 : 0;
    }
    if (req == 0) {
      return n;
    }
    for (int b = nrf; b < nrf + unit.impressions() * nif; b++) {
      n += unit.bagEnd(b) - unit.bagStart(b) == 1 ? req : 0;
    }
    return n;
  }

  /** The wide keys of the single-valued request features of the unit being laid out. */
  private long[] crossRequestKeys = new long[0];

  /**
   * Writes the wide key of each single-valued bag among {@code unit}'s {@code nrf} request bags
   * into {@link #crossRequestKeys} (grown as needed); returns how many.
   */
  private int requestSingleValued(CompactUnit unit, int nrf) {
    if (crossRequestKeys.length < nrf) {
      crossRequestKeys = new long[nrf];
    }
    long[] out = crossRequestKeys;
    int m = 0;
    long[] wide = unit.wideIds();
    for (int b = 0; b < nrf; b++) {
      int s = unit.bagStart(b);
      if (unit.bagEnd(b) - s == 1) {
        out[m++] = wide[s];
      }
    }
    return m;
  }

  /**
   * The {@link ModelConfig.WideCrosses#REQUEST_IMPRESSION} keys of one impression (bags {@code
   * [first, first + nif)}): each of the unit's {@code nReq} single-valued request keys crossed with
   * each single-valued impression key, request feature by request feature.
   */
  private void addCrosses(CompactUnit unit, int first, int nif, int nReq) {
    long[] wide = unit.wideIds();
    long[] req = crossRequestKeys;
    if (wideCount + nReq * nif > wideKeys.length) {
      wideKeys = Arrays.copyOf(wideKeys, Math.max(wideKeys.length * 2, wideCount + nReq * nif));
    }
    for (int r = 0; r < nReq; r++) {
      for (int b = first; b < first + nif; b++) {
        int s = unit.bagStart(b);
        if (unit.bagEnd(b) - s == 1) {
          wideKeys[wideCount++] = ModelConfig.crossKey(req[r], wide[s]);
        }
      }
    }
  }

  private void addKeys(int t, long[] ids, int from, int to) {
    int n = to - from;
    if (n <= 0) {
      return;
    }
    long[] keys = tableKeys[t];
    if (tableKeyCount[t] + n > keys.length) {
      tableKeys[t] = keys = Arrays.copyOf(keys, Math.max(keys.length * 2, tableKeyCount[t] + n));
    }
    System.arraycopy(ids, from, keys, tableKeyCount[t], n);
    tableKeyCount[t] += n;
  }

  private void addWide(long[] ids, int from, int to) {
    int n = to - from;
    if (n <= 0) {
      return;
    }
    if (wideCount + n > wideKeys.length) {
      wideKeys = Arrays.copyOf(wideKeys, Math.max(wideKeys.length * 2, wideCount + n));
    }
    System.arraycopy(ids, from, wideKeys, wideCount, n);
    wideCount += n;
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
    int crossBags = imps * crossPairs + 1;
    if (crossPairs > 0 && crossOffsets.length < crossBags) {
      crossOffsets = new int[Math.max(crossBags, crossOffsets.length * 2)];
    }
    int targets = Math.max(bags, crossBags);
    if (identity.length < targets) {
      identity = new int[Math.max(targets, identity.length * 2)];
      for (int k = 0; k < identity.length; k++) {
        identity[k] = k;
      }
    }
  }
}
