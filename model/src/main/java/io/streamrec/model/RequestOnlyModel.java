package io.streamrec.model;

import io.streamrec.common.SplitMix64;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.FieldBlocks;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import io.streamrec.model.features.Side;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The request-only CTR model: the request side runs once per request unit and is broadcast to the
 * unit's impressions (arXiv 2508.05640's layout), the impression side once per impression.
 *
 * <pre>
 *   e_r(u)  = pooled request embeddings, one block per feature      once per unit
 *   e_i(i)  = pooled impression embeddings, one block per feature   once per impression
 *   r(u)    = request tower   (MLP over [e_r(u), dense(u)])          once per unit
 *   v(i)    = impression tower(MLP over [e_i(i), dense(i)])
 *   base(i) = b + Σ_f wide(f of u and i) + w·dense(u) + w'·dense(i)     (wide, linear part: a
 *                                                                        mean-pooled feature's
 *                                                                        ids add their mean, with
 *                                                                        model.wide-pooling:
 *                                                                        per-feature; each, sum)
 *             [+ Σ_f Σ_g wide(id_f(u) × id_g(i))                       with model.wide-crosses,
 *                  each · w'_fg with field-weighted]
 *             + Σ_f Σ_g w_fg e_r,f(u) · e_i,g(i)                       (factorised cross, a weight
 *                                                                        per feature pair)
 *               [or Σ_f e_r,f(u) · Σ_g e_i,g(i)                        with model.factorised-cross:
 *                                                                        sum]
 *             + r(u) · v(i)                                             (two-tower dot)
 *   logit_l(i) = base(i) + head_l([r(u), v(i), r(u)⊙v(i)])           one head output per label
 * </pre>
 *
 * The wide weights let a brand-new id matter within a few events; the factorised cross learns every
 * request×impression feature pair from the first batches; the towers and the head learn the
 * interactions a dot product cannot express. With {@link ModelConfig.Towers#NONE} only {@code base}
 * remains: the wide-and-factorised model.
 *
 * <p>Embedding and wide rows learn by row-wise Adagrad, fused per batch, in place in the hot slab;
 * every dense weight sits in one parameter vector ({@link #parameterCount}) that the trainer's Adam
 * updates; its named slices are the published dense blocks ({@link #blocks}).
 *
 * <p>Every step is a batched {@link ComputeBackend} operation on buffers in the backend's memory:
 * the batch's ids, offsets and dense values are uploaded once, and only the predictions come back.
 * {@link #setRequestOnly(boolean) setRequestOnly(false)} runs the request tower once per impression
 * instead (same model, same values up to summation order) to measure what the layout saves.
 */
public final class RequestOnlyModel {
  /** Dense block: bias and dense-feature weights. */
  public static final String LINEAR_BLOCK = "linear";

  public static final String REQUEST_TOWER_BLOCK = "request_tower";
  public static final String IMPRESSION_TOWER_BLOCK = "impression_tower";
  public static final String HEAD_BLOCK = "head";

  /**
   * Dense block of {@link ModelConfig.DenseNormalization#RUNNING}: the running statistics of the
   * dense inputs, {@code [n_request, n_impression, mean × (r + i), var × (r + i)]} (request
   * features, then impression features). Part of the parameter vector so that it is saved, restored
   * and published with the weights, but never learnt: its gradient is zero, and the trainer
   * replaces it after each trained batch ({@link #updateNormalization}).
   */
  public static final String NORMALIZATION_BLOCK = "dense_normalization";

  /**
   * Dense block of {@link ModelConfig.FactorisedCross#FIELD_WEIGHTED}: the weight of each pair of a
   * request feature and an impression feature in the factorised cross, request-major ({@code w[f ×
   * impression features + g]}, features in declaration order on each side), starting at 1.
   */
  public static final String FIELD_PAIRS_BLOCK = "field_pairs";

  /**
   * Dense block of {@link ModelConfig.WideCrosses#FIELD_WEIGHTED}: the weight of each pair of a
   * request feature and an impression feature on the pair's wide crosses, laid out as {@value
   * #FIELD_PAIRS_BLOCK}, starting at 1.
   */
  public static final String WIDE_CROSS_PAIRS_BLOCK = "wide_cross_pairs";

  /** The variance guard of the normalisation: {@code (x - mean) / sqrt(var + eps)}. */
  static final float NORMALIZATION_EPS = 1e-2f;

  /**
   * The running statistics' horizon, in values per feature: up to this many they are the exact mean
   * and variance of every value seen (Welford's merge, batch by batch); beyond it each batch of
   * {@code n} values weighs {@code n / horizon}, an exponentially weighted mean and variance.
   */
  static final int NORMALIZATION_HORIZON = 100_000;

  /**
   * Seed of the dense weights' initial values, with {@link ModelConfig#initSeed()} 0: a fixed
   * start, so training is reproducible (another {@code initSeed} is mixed into it).
   */
  private static final long INIT_SEED = 0x5eed_5eedL;

  private final ComputeBackend backend;
  private final ModelConfig config;
  private final int dim;
  private final int labels;
  private final int linearSize;
  private final boolean deep;
  private final Mlp requestTower;
  private final Mlp impressionTower;
  private final Mlp head;
  private final int out;
  private final int parameterCount;

  /** Column of each categorical feature's block in its side's tower input. */
  private final int[] featureColumn;

  private final int requestDenseColumn;
  private final int impressionDenseColumn;

  /** Offset of the {@value #NORMALIZATION_BLOCK} block, or -1 without normalisation. */
  private final int normOffset;

  private final int normSize;

  /** Offset of the {@value #FIELD_PAIRS_BLOCK} block, or -1 with the plain sum. */
  private final int pairOffset;

  /** Offset of the {@value #WIDE_CROSS_PAIRS_BLOCK} block, or -1 without weighted crosses. */
  private final int crossPairOffset;

  /** Request and impression categorical features: the two sides of the factorised cross. */
  private final int reqFields, impFields;

  private final int nr;
  private final int nd;

  /** Each label's loss weight in the labels' order, or null when every label weighs 1. */
  private final float[] labelWeights;

  private boolean requestOnly = true;

  public RequestOnlyModel(ModelConfig config, ComputeBackend backend) {
    this.backend = backend;
    this.config = config;
    this.dim = config.embeddingDim();
    this.labels = config.features().labels().size();
    this.labelWeights = config.labelWeightsInOrder();
    this.linearSize = linearSize(config);
    this.deep = config.towers().enabled();
    var cat = config.features().categorical();
    this.featureColumn = new int[cat.size()];
    int rc = 0, ic = 0;
    for (int f = 0; f < cat.size(); f++) {
      if (cat.get(f).side() == Side.REQUEST) {
        featureColumn[f] = rc;
        rc += dim;
      } else {
        featureColumn[f] = ic;
        ic += dim;
      }
    }
    this.reqFields = rc / dim;
    this.impFields = ic / dim;
    this.requestDenseColumn = rc;
    this.impressionDenseColumn = ic;
    this.nr = config.features().dense(Side.REQUEST).size();
    this.nd = config.features().dense(Side.IMPRESSION).size();
    int inR = rc + nr;
    int inI = ic + nd;
    int trainable;
    if (deep) {
      ModelConfig.Towers t = config.towers();
      this.out = t.outputWidth();
      this.requestTower = new Mlp(inR, t.request(), linearSize);
      this.impressionTower =
          new Mlp(inI, t.impression(), requestTower.offset + requestTower.paramCount());
      List<Integer> headLayers = new ArrayList<>(t.head());
      headLayers.add(labels);
      this.head =
          new Mlp(3 * out, headLayers, impressionTower.offset + impressionTower.paramCount());
      trainable = head.offset + head.paramCount();
    } else {
      this.out = 0;
      this.requestTower = null;
      this.impressionTower = null;
      this.head = null;
      trainable = linearSize;
    }
    if (config.factorisedCross() == ModelConfig.FactorisedCross.FIELD_WEIGHTED) {
      this.pairOffset = trainable;
      trainable += reqFields * impFields;
    } else {
      this.pairOffset = -1;
    }
    if (config.wideCrosses() == ModelConfig.WideCrosses.FIELD_WEIGHTED) {
      this.crossPairOffset = trainable;
      trainable += reqFields * impFields;
    } else {
      this.crossPairOffset = -1;
    }
    boolean normalize =
        config.denseNormalization() == ModelConfig.DenseNormalization.RUNNING && nr + nd > 0;
    this.normOffset = normalize ? trainable : -1;
    this.normSize = normalize ? 2 + 2 * (nr + nd) : 0;
    this.parameterCount = trainable + normSize;
  }

  /** Size of the {@value #LINEAR_BLOCK} block: bias + request dense + impression dense weights. */
  public static int linearSize(ModelConfig config) {
    return 1
        + config.features().dense(Side.REQUEST).size()
        + config.features().dense(Side.IMPRESSION).size();
  }

  /** Number of dense parameters (every block together). */
  public int parameterCount() {
    return parameterCount;
  }

  /**
   * The towers' layer sizes, in words ({@code request [in, ..., out]; impression [...]; head
   * [...]}, or {@code none} for a model without them): what a saved state is checked against, since
   * towers of other sizes may hold the same number of parameters.
   */
  public String towerShapes() {
    if (!deep) {
      return "none";
    }
    return "request "
        + java.util.Arrays.toString(requestTower.sizes)
        + "; impression "
        + java.util.Arrays.toString(impressionTower.sizes)
        + "; head "
        + java.util.Arrays.toString(head.sizes);
  }

  /** The dense blocks, by name: {offset, length} in the parameter vector, in publish order. */
  public Map<String, int[]> blocks() {
    Map<String, int[]> b = new LinkedHashMap<>();
    b.put(LINEAR_BLOCK, new int[] {0, linearSize});
    if (deep) {
      b.put(REQUEST_TOWER_BLOCK, new int[] {requestTower.offset, requestTower.paramCount()});
      b.put(
          IMPRESSION_TOWER_BLOCK, new int[] {impressionTower.offset, impressionTower.paramCount()});
      b.put(HEAD_BLOCK, new int[] {head.offset, head.paramCount()});
    }
    if (pairOffset >= 0) {
      b.put(FIELD_PAIRS_BLOCK, new int[] {pairOffset, reqFields * impFields});
    }
    if (crossPairOffset >= 0) {
      b.put(WIDE_CROSS_PAIRS_BLOCK, new int[] {crossPairOffset, reqFields * impFields});
    }
    if (normOffset >= 0) {
      b.put(NORMALIZATION_BLOCK, new int[] {normOffset, normSize});
    }
    return b;
  }

  /**
   * The initial dense parameters: zero linear weights, Glorot towers, a zero last head layer, field
   * pair weights of 1 (of the factorised cross and of the wide crosses).
   */
  public float[] initialParameters() {
    float[] p = new float[parameterCount];
    if (pairOffset >= 0) {
      java.util.Arrays.fill(p, pairOffset, pairOffset + reqFields * impFields, 1f);
    }
    if (crossPairOffset >= 0) {
      java.util.Arrays.fill(p, crossPairOffset, crossPairOffset + reqFields * impFields, 1f);
    }
    if (deep) {
      SplitMix64 rng = new SplitMix64(INIT_SEED ^ config.initSeed());
      requestTower.init(p, rng, false);
      impressionTower.init(p, rng, false);
      head.init(p, rng, true);
    }
    if (normOffset >= 0) {
      // no value seen yet: mean 0, variance 1
      java.util.Arrays.fill(p, normOffset + 2 + nr + nd, normOffset + normSize, 1f);
    }
    return p;
  }

  /**
   * {@code [offset, length]} of the {@value #NORMALIZATION_BLOCK} block in the parameter vector, or
   * null when the model does not normalise its dense inputs.
   */
  public int[] normalizationBlock() {
    return normOffset >= 0 ? new int[] {normOffset, normSize} : null;
  }

  /**
   * Merges the raw (log-squashed) dense values of {@code b} into the running statistics {@code
   * stats} (the {@value #NORMALIZATION_BLOCK} block, {@link #normalizationBlock()}'s length), in
   * place: per feature, the batch's mean and variance merged by Welford's rule with weight {@code n
   * / min(seen + n, horizon)}. Request features count units, impression features impressions. Host
   * arithmetic in a fixed order, so the same batches give the same statistics, bit for bit.
   */
  public void updateNormalization(UnitBatch b, float[] stats) {
    if (normOffset < 0) {
      throw new IllegalStateException("the model does not normalise its dense inputs");
    }
    if (stats.length != normSize) {
      throw new IllegalArgumentException(
          "normalisation statistics of " + stats.length + " values; the model has " + normSize);
    }
    merge(stats, 0, 2, nr, b.reqDense, b.nUnits);
    merge(stats, 1, 2 + nr, nd, b.impDense, b.nImps);
  }

  /**
   * Merges {@code n} rows of {@code width} values into the statistics of features {@code first..}.
   */
  private void merge(float[] stats, int countAt, int first, int width, float[] values, int n) {
    if (width == 0 || n == 0) {
      return;
    }
    double seen = stats[countAt];
    double total = Math.min(seen + n, NORMALIZATION_HORIZON);
    double w = Math.min(1.0, n / total);
    int varAt = nr + nd;
    for (int k = 0; k < width; k++) {
      double sum = 0;
      for (int r = 0; r < n; r++) {
        sum += values[r * width + k];
      }
      double batchMean = sum / n;
      double sq = 0;
      for (int r = 0; r < n; r++) {
        double d = values[r * width + k] - batchMean;
        sq += d * d;
      }
      double batchVar = sq / n;
      double mean = stats[first + k];
      double var = stats[first + k + varAt];
      double delta = batchMean - mean;
      stats[first + k] = (float) (mean + w * delta);
      stats[first + k + varAt] =
          (float) ((1 - w) * var + w * batchVar + w * (1 - w) * delta * delta);
    }
    stats[countAt] = (float) total;
  }

  /**
   * {@code values} ({@code rows × width}) standardised by the statistics of features {@code
   * first..} into {@code out}.
   */
  private void normalize(
      float[] stats, int first, int width, float[] values, int rows, float[] out) {
    int varAt = nr + nd;
    for (int k = 0; k < width; k++) {
      float mean = stats[first + k];
      float inv = (float) (1.0 / Math.sqrt((double) stats[first + k + varAt] + NORMALIZATION_EPS));
      for (int r = 0; r < rows; r++) {
        out[r * width + k] = (values[r * width + k] - mean) * inv;
      }
    }
  }

  /** Runs the request tower once per request (true, the default) or once per impression. */
  public void setRequestOnly(boolean requestOnly) {
    this.requestOnly = requestOnly;
  }

  /**
   * A workspace for this model's batches: one per trainer or scorer, reused from batch to batch.
   */
  public Workspace newWorkspace() {
    return new Workspace(this);
  }

  /**
   * The buffers of one batch in the backend's memory, each a named field: what {@link #forward}
   * uploads and computes and {@link #backward} reads, and the gradients {@link #applySparse}
   * applies. Buffers grow with the batch and are reused, so steady-state training allocates
   * nothing. There is a row-gradient buffer per embedding table and one set of activations per
   * tower, however many tables and layers the model has. Not thread-safe.
   */
  public static final class Workspace implements AutoCloseable {
    private final RequestOnlyModel model;
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * Counts forward passes: a {@link Forward} or {@link Gradients} of an earlier pass is stale.
     */
    private long pass;

    // what forward uploads
    private final ScratchInts identity;
    private final ScratchInts impUnit;
    private final ScratchInts wideReqOffsets;
    private final ScratchInts wideImpOffsets;
    private final ScratchInts wideReqMeanOffsets, wideReqMeanTargets;
    private final ScratchInts wideImpMeanOffsets, wideImpMeanTargets;

    /** Field-weighted wide crosses: their bags, values per (impression, pair), and gradients. */
    private final ScratchInts crossOffsets;

    private final ScratchFloats crossValues, crossValueGrads;

    /** Per categorical feature: its bags' offsets into the batch's id list. */
    private final ScratchInts[] featureOffsets;

    private final ScratchFloats reqDense;
    private final ScratchFloats impDense;

    /**
     * With normalisation: the statistics and the batch's standardised dense values, on the host.
     */
    private float[] hostStats = new float[0];

    private float[] hostReqDense = new float[0];
    private float[] hostImpDense = new float[0];
    private final ScratchFloats labelValues;
    private final ScratchFloats labelWeightValues;
    // what forward computes
    private final ScratchFloats reqVec;
    private final ScratchFloats impVec;

    /**
     * With the field-weighted cross and no towers: the request features' pooled embeddings side by
     * side (units × request fields·dim), the impression features' (impressions × impression
     * fields·dim), and their gradients. With towers the cross reads the towers' inputs, which hold
     * the same blocks at the same columns, so each feature is pooled once.
     */
    private final ScratchFloats reqFields, impFields, reqFieldGrads, impFieldGrads;

    /** With the field-weighted cross: every pair's dot (impressions × pairs), and its gradient. */
    private final ScratchFloats pairDots, pairGrad;

    private final ScratchFloats towerInputReq;
    private final ScratchFloats towerInputImp;
    private final ScratchFloats towerInputReqPerImp;
    private final ScratchFloats unitScalar;
    private final ScratchFloats base;
    private final ScratchFloats tmp;
    private final ScratchFloats headInput;
    private final ScratchFloats logits;
    private final ScratchFloats ones;
    private final ScratchFloats prob;
    private final Mlp.Activations requestTower;
    private final Mlp.Activations impressionTower;
    private final Mlp.Activations head;
    // what loss and backward compute
    private final ScratchFloats logitGrad;
    private final ScratchFloats baseGrad;
    private final ScratchFloats requestOutGradFromHead;
    private final ScratchFloats impressionOutGrad;
    private final ScratchFloats requestOutGrad;
    private final ScratchFloats towerInputReqGradPerUnit;
    private final ScratchFloats reqVecGrad;
    private final ScratchFloats impVecGrad;
    private final ScratchFloats unitGrad;
    private final ScratchFloats wideGrad;

    /** Per embedding table: the gradient of each of the batch's distinct rows. */
    private final ScratchFloats[] rowGrads;

    /** The predictions of the primary label of the last loss, on the host. */
    private float[] hostProb = new float[0];

    private float[] hostProbAll = new float[0];
    private float[] hostLogits = new float[0];

    private Workspace(RequestOnlyModel model) {
      this.model = model;
      ComputeBackend be = model.backend;
      boolean ok = false;
      try {
        identity = ints(be);
        impUnit = ints(be);
        wideReqOffsets = ints(be);
        wideImpOffsets = ints(be);
        wideReqMeanOffsets = ints(be);
        wideReqMeanTargets = ints(be);
        wideImpMeanOffsets = ints(be);
        wideImpMeanTargets = ints(be);
        crossOffsets = ints(be);
        crossValues = floats(be);
        crossValueGrads = floats(be);
        featureOffsets = new ScratchInts[model.config.features().categorical().size()];
        for (int f = 0; f < featureOffsets.length; f++) {
          featureOffsets[f] = ints(be);
        }
        reqDense = floats(be);
        impDense = floats(be);
        labelValues = floats(be);
        labelWeightValues = floats(be);
        if (model.labelWeights != null) {
          // the same for every batch: on the device once
          labelWeightValues.upload(model.labelWeights, model.labels);
        }
        reqVec = floats(be);
        impVec = floats(be);
        reqFields = floats(be);
        impFields = floats(be);
        reqFieldGrads = floats(be);
        impFieldGrads = floats(be);
        pairDots = floats(be);
        pairGrad = floats(be);
        towerInputReq = floats(be);
        towerInputImp = floats(be);
        towerInputReqPerImp = floats(be);
        unitScalar = floats(be);
        base = floats(be);
        tmp = floats(be);
        headInput = floats(be);
        logits = floats(be);
        ones = floats(be);
        prob = floats(be);
        requestTower = model.deep ? own(model.requestTower.newActivations(be)) : null;
        impressionTower = model.deep ? own(model.impressionTower.newActivations(be)) : null;
        head = model.deep ? own(model.head.newActivations(be)) : null;
        logitGrad = floats(be);
        baseGrad = floats(be);
        requestOutGradFromHead = floats(be);
        impressionOutGrad = floats(be);
        requestOutGrad = floats(be);
        towerInputReqGradPerUnit = floats(be);
        reqVecGrad = floats(be);
        impVecGrad = floats(be);
        unitGrad = floats(be);
        wideGrad = floats(be);
        rowGrads = new ScratchFloats[model.config.features().tables().size()];
        for (int t = 0; t < rowGrads.length; t++) {
          rowGrads[t] = floats(be);
        }
        ok = true;
      } finally {
        if (!ok) {
          close();
        }
      }
    }

    private <T extends AutoCloseable> T own(T resource) {
      owned.add(resource);
      return resource;
    }

    private ScratchFloats floats(ComputeBackend be) {
      return own(new ScratchFloats(be));
    }

    private ScratchInts ints(ComputeBackend be) {
      return own(new ScratchInts(be));
    }

    @Override
    public void close() {
      for (int k = owned.size() - 1; k >= 0; k--) {
        try {
          owned.get(k).close();
        } catch (Exception e) {
          throw new IllegalStateException("cannot free a workspace buffer", e);
        }
      }
      owned.clear();
    }
  }

  /**
   * What {@link #forward} computed for one batch, which {@link #loss} and {@link #backward} take:
   * the batch, its rows, the parameters, and (in the workspace) the activations. Valid until the
   * next forward pass on the same workspace; a stale one is refused.
   */
  public static final class Forward {
    private final Workspace ws;
    private final long pass;
    private final UnitBatch batch;
    private final TableRows[] rows;
    private final TableRows wide;
    private final Floats params;
    private boolean lossDone;

    private Forward(
        Workspace ws, UnitBatch batch, TableRows[] rows, TableRows wide, Floats params) {
      this.ws = ws;
      this.pass = ws.pass;
      this.batch = batch;
      this.rows = rows;
      this.wide = wide;
      this.params = params;
    }

    private void checkCurrent() {
      if (pass != ws.pass) {
        throw new IllegalStateException(
            "a later forward pass on the same workspace replaced this one");
      }
    }

    /**
     * The logits of this pass ({@code impressions × labels}, row-major), in the backend's memory.
     */
    public Floats logits() {
      checkCurrent();
      return ws.logits.current();
    }
  }

  /**
   * The row gradients {@link #backward} left for {@link #applySparse}, with the rows they belong
   * to. Valid until the next forward pass on the same workspace.
   */
  public static final class Gradients {
    private final Workspace ws;
    private final long pass;
    private final TableRows[] rows;
    private final TableRows wide;
    private boolean finite;
    private boolean applied;

    private Gradients(Forward fw) {
      this.ws = fw.ws;
      this.pass = fw.pass;
      this.rows = fw.rows;
      this.wide = fw.wide;
    }

    /** False when a gradient was not finite: nothing may be applied, the batch is skipped. */
    public boolean finite() {
      return finite;
    }

    private void checkCurrent() {
      if (pass != ws.pass) {
        throw new IllegalStateException(
            "a later forward pass on the same workspace replaced these gradients");
      }
    }
  }

  private void checkWorkspace(Workspace ws) {
    if (ws.model != this) {
      throw new IllegalArgumentException("the workspace belongs to another model");
    }
  }

  /**
   * Computes the logits of the batch's impressions ({@code ni × labels}, row-major). {@code
   * rows[t]} holds the rows of embedding table {@code t}, {@code wide} those of the wide table;
   * {@code params} is the dense parameter vector.
   */
  public Forward forward(
      UnitBatch b, TableRows[] rows, TableRows wide, Floats params, Workspace ws) {
    checkWorkspace(ws);
    if (rows.length != ws.rowGrads.length) {
      throw new IllegalArgumentException(
          "rows of " + rows.length + " tables; the model has " + ws.rowGrads.length);
    }
    ws.pass++;
    Forward fw = new Forward(ws, b, rows, wide, params);
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity =
        ws.identity.upload(b.identity, Math.max(Math.max(nu, ni), ni * b.crossPairs) + 1);
    Ints impUnit = ws.impUnit.upload(b.impUnit, ni);
    // the sides' summed embeddings: the plain factorised cross reads them, the field-weighted one
    // reads each feature's own, side by side (in the towers' inputs where there are towers)
    Floats reqVec = pairOffset < 0 ? ws.reqVec.zeros(nu * dim) : null;
    Floats impVec = pairOffset < 0 ? ws.impVec.zeros(ni * dim) : null;
    int inR = deep ? requestTower.in() : 0, inI = deep ? impressionTower.in() : 0;
    Floats xr = deep ? ws.towerInputReq.zeros(nu * inR) : null;
    Floats xi = deep ? ws.towerInputImp.zeros(ni * inI) : null;
    boolean ownFields = pairOffset >= 0 && !deep;
    Floats reqFieldsOut = ownFields ? ws.reqFields.zeros(nu * reqFields * dim) : null;
    Floats impFieldsOut = ownFields ? ws.impFields.zeros(ni * impFields * dim) : null;
    for (int f = 0; f < b.features.length; f++) {
      TableRows r = rows[b.featureTable[f]];
      boolean request = b.features[f].side() == Side.REQUEST;
      int bags = request ? nu : ni;
      Ints offsets = ws.featureOffsets[f].upload(b.featureOffsets[f], bags + 1);
      if (pairOffset < 0 || ownFields) {
        pool(
            r,
            dim,
            offsets,
            bags,
            identity,
            b.featureMean[f],
            pairOffset < 0 ? (request ? reqVec : impVec) : (request ? reqFieldsOut : impFieldsOut),
            crossStride(request),
            crossColumn(f));
      }
      if (deep) {
        pool(
            r,
            dim,
            offsets,
            bags,
            identity,
            b.featureMean[f],
            request ? xr : xi,
            request ? inR : inI,
            featureColumn[f]);
      }
    }
    Floats unitScalar = ws.unitScalar.zeros(nu);
    Floats base = ws.base.zeros(ni);
    Ints wideReq = ws.wideReqOffsets.upload(b.wideReqOffsets, nu + 1);
    Ints wideImp = ws.wideImpOffsets.upload(b.wideImpOffsets, ni + 1);
    pool(wide, 1, wideReq, nu, identity, false, unitScalar, 1, 0);
    pool(wide, 1, wideImp, ni, identity, false, base, 1, 0);
    // per-feature wide pooling: each multi-valued mean-pooled feature adds its values' mean
    poolMeanBags(wide, b.wideReqMean, ws.wideReqMeanOffsets, ws.wideReqMeanTargets, unitScalar);
    poolMeanBags(wide, b.wideImpMean, ws.wideImpMeanOffsets, ws.wideImpMeanTargets, base);
    int crossPairs = b.crossPairs;
    if (crossPairs > 0) {
      // base += Σ_p w_p · (the pair's cross weight): each (impression, pair) bag pooled, then one
      // product with the pairs' weights
      int bags = ni * crossPairs;
      Ints crossOffs = ws.crossOffsets.upload(b.crossOffsets, bags + 1);
      Floats values = ws.crossValues.zeros(bags);
      pool(wide, 1, crossOffs, bags, identity, false, values, 1, 0);
      weighPairs(values, ni, crossPairs, params, crossPairOffset, base);
    }
    float[] reqValues = b.reqDense, impValues = b.impDense;
    if (normOffset >= 0) {
      if (ws.hostStats.length != normSize) {
        ws.hostStats = new float[normSize];
      }
      backend.download(params, normOffset, ws.hostStats, 0, normSize);
      if (ws.hostReqDense.length < nu * nr) {
        ws.hostReqDense = new float[Math.max(nu * nr, 2 * ws.hostReqDense.length)];
      }
      if (ws.hostImpDense.length < ni * nd) {
        ws.hostImpDense = new float[Math.max(ni * nd, 2 * ws.hostImpDense.length)];
      }
      normalize(ws.hostStats, 2, nr, b.reqDense, nu, ws.hostReqDense);
      normalize(ws.hostStats, 2 + nr, nd, b.impDense, ni, ws.hostImpDense);
      reqValues = ws.hostReqDense;
      impValues = ws.hostImpDense;
    }
    if (nr > 0) {
      Floats reqDense = ws.reqDense.upload(reqValues, nu * nr);
      backend.gemm(
          false, false, nu, 1, nr, 1f, reqDense, 0, nr, params, 1, 1, 1f, unitScalar, 0, 1);
      if (deep) {
        backend.copy2d(reqDense, nr, 0, xr, inR, requestDenseColumn, nu, nr);
      }
    }
    if (nd > 0) {
      Floats impDense = ws.impDense.upload(impValues, ni * nd);
      backend.gemm(false, false, ni, 1, nd, 1f, impDense, 0, nd, params, 1 + nr, 1, 1f, base, 0, 1);
      if (deep) {
        backend.copy2d(impDense, nd, 0, xi, inI, impressionDenseColumn, ni, nd);
      }
    }
    Floats tmp = ws.tmp.get(ni);
    backend.gatherIndexed(unitScalar, 1, impUnit, ni, tmp, 1, 0);
    backend.axpy(ni, 1f, tmp, 0, base, 0);
    backend.addBias(base, ni, 1, params, 0);
    if (pairOffset < 0) {
      backend.broadcastDot(reqVec, impUnit, impVec, ni, dim, base);
    } else if (reqFields > 0 && impFields > 0) {
      // base += Σ_f Σ_g w_fg · (e_r,f · e_i,g): every pair's dot, then one product with the weights
      int pairs = reqFields * impFields;
      Floats dots = ws.pairDots.get(ni * pairs);
      backend.fieldDots(requestFields(ws), impUnit, impressionFields(ws), ni, dim, dots);
      weighPairs(dots, ni, pairs, params, pairOffset, base);
    }

    Floats logits = ws.logits.get(ni * labels);
    Floats ones = ones(ws);
    float beta = 0f;
    if (deep) {
      Ints towerIndex = requestOnly ? impUnit : identity;
      Floats r;
      if (requestOnly) {
        r = requestTower.forward(backend, ws.requestTower, xr, nu, params);
      } else {
        Floats xrImp = ws.towerInputReqPerImp.get(ni * inR);
        backend.gatherIndexed(xr, inR, impUnit, ni, xrImp, inR, 0);
        r = requestTower.forward(backend, ws.requestTower, xrImp, ni, params);
      }
      Floats v = impressionTower.forward(backend, ws.impressionTower, xi, ni, params);
      Floats z = ws.headInput.get(ni * 3 * out);
      backend.gatherIndexed(r, out, towerIndex, ni, z, 3 * out, 0);
      backend.copy2d(v, out, 0, z, 3 * out, out, ni, out);
      backend.mul2d(z, 3 * out, 0, z, 3 * out, out, z, 3 * out, 2 * out, ni, out, false);
      backend.broadcastDot(r, towerIndex, v, ni, out, base);
      Floats h = head.forward(backend, ws.head, z, ni, params);
      backend.copy(h, 0, logits, 0, ni * labels);
      beta = 1f;
    }
    // logits[i, l] (+)= base[i]
    backend.gemm(
        false, false, ni, labels, 1, 1f, base, 0, 1, ones, 0, labels, beta, logits, 0, labels);
    return fw;
  }

  private Floats ones(Workspace ws) {
    Floats ones = ws.ones.get(labels);
    backend.fill(ones, 0, labels, 1f);
    return ones;
  }

  /**
   * Sigmoid + log loss on the logits of {@code fw}: keeps the logit gradients for the backward
   * pass, downloads the predictions ({@link #predictions}) and returns the loss summed over
   * impressions and labels.
   */
  public double loss(Forward fw) {
    fw.checkCurrent();
    Workspace ws = fw.ws;
    UnitBatch b = fw.batch;
    int n = b.nImps * labels;
    Floats y = ws.labelValues.upload(b.labels, n);
    Floats prob = ws.prob.get(n);
    double loss = backend.sigmoidBce(ws.logits.get(n), y, n, 1f, prob, ws.logitGrad.get(n));
    if (labelWeights != null) {
      loss = weighLabels(ws, b, n);
    }
    if (ws.hostProbAll.length < n) {
      ws.hostProbAll = new float[Math.max(n, ws.hostProbAll.length * 2)];
    }
    if (ws.hostProb.length < b.nImps) {
      ws.hostProb = new float[Math.max(b.nImps, ws.hostProb.length * 2)];
    }
    backend.download(prob, 0, ws.hostProbAll, 0, n);
    for (int i = 0; i < b.nImps; i++) {
      ws.hostProb[i] = ws.hostProbAll[i * labels];
    }
    fw.lossDone = true;
    return loss;
  }

  /**
   * Pools bags of {@code rows} (the first {@code width} columns of each row) into {@code out} at
   * {@code stride}, {@code col}: {@link ComputeBackend#poolBags} on the rows where they sit.
   */
  private void pool(
      TableRows rows,
      int width,
      Ints offsets,
      int bags,
      Ints target,
      boolean mean,
      Floats out,
      int stride,
      int col) {
    backend.poolBags(
        rows.slab(),
        rows.rowWidth(),
        0,
        width,
        rows.slots(),
        offsets,
        bags,
        target,
        mean,
        out,
        stride,
        col);
  }

  /** {@code out[target] +=} the mean of each bag's wide weights; nothing when there is none. */
  private void poolMeanBags(
      TableRows wide,
      UnitBatch.MeanBags bags,
      ScratchInts offsets,
      ScratchInts targets,
      Floats out) {
    if (bags.count == 0) {
      return;
    }
    pool(
        wide,
        1,
        offsets.upload(bags.offsets, bags.count + 1),
        bags.count,
        targets.upload(bags.targets, bags.count),
        true,
        out,
        1,
        0);
  }

  /** The backward of {@link #poolMeanBags}, with the buffers its forward uploaded. */
  private void poolMeanBagsBackward(
      TableRows wide,
      UnitBatch.MeanBags bags,
      ScratchInts offsets,
      ScratchInts targets,
      Floats grad,
      Floats wideGrad) {
    if (bags.count == 0) {
      return;
    }
    poolBackward(
        wide, 1, offsets.current(), bags.count, targets.current(), true, grad, 1, 0, wideGrad);
  }

  /**
   * The backward of {@link #pool}: {@code grad}'s bags into the rows' gradients {@code rowGrad}.
   */
  private void poolBackward(
      TableRows rows,
      int width,
      Ints offsets,
      int bags,
      Ints target,
      boolean mean,
      Floats grad,
      int stride,
      int col,
      Floats rowGrad) {
    backend.poolBagsBackward(
        rows.rowIndex(), offsets, bags, target, mean, grad, stride, col, width, rowGrad);
  }

  /**
   * {@code base += values · w}: each impression's {@code pairs} values ({@code ni × pairs},
   * row-major) weighed by the pair weights at {@code params[offset ..]}.
   */
  private void weighPairs(
      Floats values, int ni, int pairs, Floats params, int offset, Floats base) {
    backend.gemm(
        false, false, ni, 1, pairs, 1f, values, 0, pairs, params, offset, 1, 1f, base, 0, 1);
  }

  /**
   * The backward of {@link #weighPairs} given {@code gBase}: {@code d w += valuesᵀ · gBase} into
   * {@code gradParams[offset ..]}, and {@code dValues = gBase · wᵀ}.
   */
  private void weighPairsBackward(
      Floats values,
      Floats gBase,
      int ni,
      int pairs,
      Floats params,
      int offset,
      Floats gradParams,
      Floats dValues) {
    backend.gemm(
        true, false, pairs, 1, ni, 1f, values, 0, pairs, gBase, 0, 1, 1f, gradParams, offset, 1);
    backend.gemm(
        false, false, ni, pairs, 1, 1f, gBase, 0, 1, params, offset, pairs, 0f, dValues, 0, pairs);
  }

  /**
   * Row stride of the buffer a side's features are pooled into for the factorised cross: the sum of
   * the side's features ({@code dim}), or each feature's own block side by side.
   */
  private int crossStride(boolean request) {
    return pairOffset < 0 ? dim : (request ? reqFields : impFields) * dim;
  }

  /** Column of feature {@code f}'s block in that buffer ({@link #crossStride}). */
  private int crossColumn(int f) {
    return pairOffset < 0 ? 0 : featureColumn[f];
  }

  /**
   * The request features' pooled blocks that the field-weighted cross reads, one per feature side
   * by side: the first columns of the request tower's input with towers, a buffer of their own
   * without; their gradients take the same layout.
   */
  private FieldBlocks requestFields(Workspace ws) {
    return deep
        ? new FieldBlocks(ws.towerInputReq.current(), requestTower.in(), 0, reqFields)
        : new FieldBlocks(ws.reqFields.current(), reqFields * dim, 0, reqFields);
  }

  /** The impression features' pooled blocks, as {@link #requestFields}. */
  private FieldBlocks impressionFields(Workspace ws) {
    return deep
        ? new FieldBlocks(ws.towerInputImp.current(), impressionTower.in(), 0, impFields)
        : new FieldBlocks(ws.impFields.current(), impFields * dim, 0, impFields);
  }

  /**
   * The primary label's click probabilities of the last {@link #loss}, on the host; {@code ni}
   * valid.
   */
  public static float[] predictions(Workspace ws) {
    return ws.hostProb;
  }

  /**
   * Every label's probabilities of the last {@link #loss} ({@code ni × labels}, row-major), on the
   * host.
   */
  static float[] predictionsAllLabels(Workspace ws) {
    return ws.hostProbAll;
  }

  public int labels() {
    return labels;
  }

  /**
   * Scales each label's column of the logit gradient by its weight ({@code model.label-weights}),
   * and returns the weighted loss that gradient is of: {@code Σ w[l]·bce(z, y)} over the batch's
   * {@code n = impressions × labels} logits.
   */
  private double weighLabels(Workspace ws, UnitBatch b, int n) {
    Floats g = ws.logitGrad.current();
    Floats w = ws.labelWeightValues.current();
    backend.mul2d(g, labels, 0, w, 0, 0, g, labels, 0, b.nImps, labels, false);
    if (ws.hostLogits.length < n) {
      ws.hostLogits = new float[Math.max(n, ws.hostLogits.length * 2)];
    }
    float[] z = ws.hostLogits;
    backend.download(ws.logits.current(), 0, z, 0, n);
    double loss = 0;
    for (int k = 0; k < n; k++) {
      float y = b.labels[k];
      loss +=
          labelWeights[k % labels]
              * (Math.log1p(Math.exp(-Math.abs(z[k]))) + Math.max(z[k], 0f) - z[k] * y);
    }
    return loss;
  }

  /**
   * The backward pass of {@code fw} (after its {@link #loss}): the mean gradient of the dense
   * parameters into {@code gradParams} (clipped to the configured norm), the row gradients of every
   * table into the workspace. {@link Gradients#finite()} is false, and nothing but the workspace
   * changed, when a gradient is not finite.
   */
  public Gradients backward(Forward fw, Floats gradParams) {
    fw.checkCurrent();
    if (!fw.lossDone) {
      throw new IllegalStateException("backward needs the loss of its forward pass first");
    }
    Workspace ws = fw.ws;
    UnitBatch b = fw.batch;
    TableRows[] rows = fw.rows;
    TableRows wide = fw.wide;
    Floats params = fw.params;
    Gradients g = new Gradients(fw);
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity = ws.identity.current();
    Ints impUnit = ws.impUnit.current();
    Floats grad = ws.logitGrad.current();
    Floats gBase = ws.baseGrad.get(ni);
    backend.gemm(false, false, ni, 1, labels, 1f, grad, 0, labels, ones(ws), 0, 1, 0f, gBase, 0, 1);
    backend.fill(gradParams, 0, parameterCount, 0f);

    Floats dxr = null, dxi = null;
    if (deep) {
      Ints towerIndex = requestOnly ? impUnit : identity;
      int rRows = requestOnly ? nu : ni;
      Floats z = ws.headInput.current();
      Floats dz = head.backward(backend, ws.head, grad, ni, params, gradParams, true);
      Floats dRb = ws.requestOutGradFromHead.get(ni * out);
      Floats dV = ws.impressionOutGrad.get(ni * out);
      backend.copy2d(dz, 3 * out, 0, dRb, out, 0, ni, out);
      backend.mul2d(dz, 3 * out, 2 * out, z, 3 * out, out, dRb, out, 0, ni, out, true);
      backend.copy2d(dz, 3 * out, out, dV, out, 0, ni, out);
      backend.mul2d(dz, 3 * out, 2 * out, z, 3 * out, 0, dV, out, 0, ni, out, true);
      Floats dR = ws.requestOutGrad.zeros(rRows * out);
      backend.broadcastDotBackward(
          requestTower.output(ws.requestTower),
          towerIndex,
          impressionTower.output(ws.impressionTower),
          ni,
          out,
          gBase,
          dR,
          dV);
      backend.scatterAddIndexed(dRb, out, 0, out, towerIndex, ni, dR);
      dxi = impressionTower.backward(backend, ws.impressionTower, dV, ni, params, gradParams, true);
      dxr = requestTower.backward(backend, ws.requestTower, dR, rRows, params, gradParams, true);
      if (!requestOnly) {
        int inR = requestTower.in();
        Floats units = ws.towerInputReqGradPerUnit.zeros(nu * inR);
        backend.scatterAddIndexed(dxr, inR, 0, inR, impUnit, ni, units);
        dxr = units;
      }
    }

    Floats gradReq = null, gradImp = null;
    if (pairOffset < 0) {
      gradReq = ws.reqVecGrad.zeros(nu * dim);
      gradImp = ws.impVecGrad.zeros(ni * dim);
      backend.broadcastDotBackward(
          ws.reqVec.current(), impUnit, ws.impVec.current(), ni, dim, gBase, gradReq, gradImp);
    } else {
      // d w = dotsᵀ · dBase; d(dots) = dBase · wᵀ; then the fields' gradients, into the towers'
      // input gradients where there are towers (their pooling backward takes both at once)
      Floats reqFieldGrad = deep ? dxr : ws.reqFieldGrads.zeros(nu * reqFields * dim);
      Floats impFieldGrad = deep ? dxi : ws.impFieldGrads.zeros(ni * impFields * dim);
      int pairs = reqFields * impFields;
      if (pairs > 0) {
        Floats dDots = ws.pairGrad.get(ni * pairs);
        weighPairsBackward(
            ws.pairDots.current(), gBase, ni, pairs, params, pairOffset, gradParams, dDots);
        backend.fieldDotsBackward(
            requestFields(ws),
            impUnit,
            impressionFields(ws),
            ni,
            dim,
            dDots,
            reqFieldGrad,
            impFieldGrad);
      }
    }
    for (int t = 0; t < rows.length; t++) {
      ws.rowGrads[t].zeros(rows[t].distinct() * dim);
    }
    for (int f = 0; f < b.features.length; f++) {
      int t = b.featureTable[f];
      boolean request = b.features[f].side() == Side.REQUEST;
      Floats rowGrad = ws.rowGrads[t].current();
      Ints offsets = ws.featureOffsets[f].current();
      int bags = request ? nu : ni;
      if (pairOffset < 0 || !deep) { // with towers the field-weighted cross's share is in dxr, dxi
        poolBackward(
            rows[t],
            dim,
            offsets,
            bags,
            identity,
            b.featureMean[f],
            pairOffset < 0
                ? (request ? gradReq : gradImp)
                : (request ? ws.reqFieldGrads : ws.impFieldGrads).current(),
            crossStride(request),
            crossColumn(f),
            rowGrad);
      }
      if (deep) {
        poolBackward(
            rows[t],
            dim,
            offsets,
            bags,
            identity,
            b.featureMean[f],
            request ? dxr : dxi,
            request ? requestTower.in() : impressionTower.in(),
            featureColumn[f],
            rowGrad);
      }
    }

    Floats unitGrad = ws.unitGrad.zeros(nu);
    backend.scatterAddIndexed(gBase, 1, 0, 1, impUnit, ni, unitGrad);
    Floats wideGrad = ws.wideGrad.zeros(wide.distinct());
    poolBackward(
        wide, 1, ws.wideReqOffsets.current(), nu, identity, false, unitGrad, 1, 0, wideGrad);
    poolBackward(wide, 1, ws.wideImpOffsets.current(), ni, identity, false, gBase, 1, 0, wideGrad);
    poolMeanBagsBackward(
        wide, b.wideReqMean, ws.wideReqMeanOffsets, ws.wideReqMeanTargets, unitGrad, wideGrad);
    poolMeanBagsBackward(
        wide, b.wideImpMean, ws.wideImpMeanOffsets, ws.wideImpMeanTargets, gBase, wideGrad);
    int crossPairs = b.crossPairs;
    if (crossPairs > 0) {
      // the pair weights' gradients, then the crosses' values' into their rows
      Floats dValues = ws.crossValueGrads.get(ni * crossPairs);
      weighPairsBackward(
          ws.crossValues.current(),
          gBase,
          ni,
          crossPairs,
          params,
          crossPairOffset,
          gradParams,
          dValues);
      poolBackward(
          wide,
          1,
          ws.crossOffsets.current(),
          ni * crossPairs,
          identity,
          false,
          dValues,
          1,
          0,
          wideGrad);
    }

    backend.biasGrad(gBase, ni, 1, gradParams, 0);
    if (nr > 0) {
      backend.gemm(
          true,
          false,
          nr,
          1,
          nu,
          1f,
          ws.reqDense.current(),
          0,
          nr,
          unitGrad,
          0,
          1,
          1f,
          gradParams,
          1,
          1);
    }
    if (nd > 0) {
      backend.gemm(
          true,
          false,
          nd,
          1,
          ni,
          1f,
          ws.impDense.current(),
          0,
          nd,
          gBase,
          0,
          1,
          1f,
          gradParams,
          1 + nr,
          1);
    }
    if (ni > 0) {
      backend.scale(gradParams, 0, parameterCount, 1f / ni);
    }
    float clip = config.clipNorm() > 0 ? config.clipNorm() : Float.MAX_VALUE;
    if (!Double.isFinite(backend.clipNorm(gradParams, parameterCount, clip))) {
      return g;
    }
    for (int t = 0; t < rows.length; t++) {
      if (!Double.isFinite(
          backend.clipNorm(ws.rowGrads[t].current(), rows[t].distinct() * dim, Float.MAX_VALUE))) {
        return g;
      }
    }
    g.finite = Double.isFinite(backend.clipNorm(wideGrad, wide.distinct(), Float.MAX_VALUE));
    return g;
  }

  /**
   * The fused sparse update of {@code g}: row-wise Adagrad on every distinct embedding row of its
   * batch and, as {@link ModelConfig#wideOptimizer} says, Adagrad or FTRL-Proximal on every
   * distinct wide row, in place in their slabs. Once per backward pass, and only with finite
   * gradients. Each step is {@code lr · g / sqrt(acc + eps)}: an Adagrad whose accumulators start
   * at {@code eps} ({@link ModelConfig#adagradInitialAccumulator}).
   */
  public void applySparse(Gradients g, String[] tableNames, float eps) {
    Workspace ws = g.ws;
    g.checkCurrent();
    if (!g.finite) {
      throw new IllegalStateException("non-finite gradients are never applied");
    }
    if (g.applied) {
      throw new IllegalStateException("these gradients were applied already");
    }
    g.applied = true;
    TableRows[] rows = g.rows;
    for (int t = 0; t < rows.length; t++) {
      TableRows r = rows[t];
      backend.rowwiseAdagrad(
          r.slab(),
          r.rowWidth(),
          0,
          dim,
          dim,
          r.distinctSlots(),
          r.distinct(),
          ws.rowGrads[t].current(),
          config.learningRate(tableNames[t]),
          eps);
    }
    TableRows wide = g.wide;
    ModelConfig.WideOptimizer w = config.wideOptimizer();
    float wideLr = config.learningRate(ModelConfig.WIDE_TABLE);
    if (w.kind() == ModelConfig.WideOptimizer.Kind.FTRL) {
      backend.ftrlProximal(
          wide.slab(),
          wide.rowWidth(),
          0,
          1,
          1,
          wide.distinctSlots(),
          wide.distinct(),
          ws.wideGrad.current(),
          wideLr,
          w.beta(),
          w.l1(),
          w.l2());
    } else {
      backend.rowwiseAdagrad(
          wide.slab(),
          wide.rowWidth(),
          0,
          1,
          1,
          wide.distinctSlots(),
          wide.distinct(),
          ws.wideGrad.current(),
          wideLr,
          eps);
    }
  }

  /** Table {@code table}'s row gradients of {@code g} (distinct rows × dim), for tests. */
  Floats rowGradients(Gradients g, int table) {
    g.checkCurrent();
    return g.ws.rowGrads[table].current();
  }

  /** The wide table's row gradients of {@code g} (one per distinct row), for tests. */
  Floats wideGradients(Gradients g) {
    g.checkCurrent();
    return g.ws.wideGrad.current();
  }
}
