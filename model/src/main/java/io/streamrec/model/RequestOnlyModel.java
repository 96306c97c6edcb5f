package io.streamrec.model;

import io.streamrec.common.SplitMix64;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import io.streamrec.model.features.Side;
import java.util.LinkedHashMap;
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
 *   base(i) = b + Σ wide(ids of u and i) + w·dense(u) + w'·dense(i)     (wide, linear part)
 *             + Σ_f e_r,f(u) · Σ_g e_i,g(i)                            (factorised cross of all ids)
 *             + r(u) · v(i)                                             (two-tower dot)
 *   logit_l(i) = base(i) + head_l([r(u), v(i), r(u)⊙v(i)])           one head output per label
 * </pre>
 *
 * The wide weights let a brand-new id matter within a few events; the factorised cross learns
 * every request×impression feature pair from the first batches; the towers and the head learn the
 * interactions a dot product cannot express. With {@link ModelConfig.Towers#NONE} only {@code
 * base} remains: the wide-and-factorised model.
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
  /** Seed of the dense weights' initial values: a fixed start, so training is reproducible. */
  private static final long INIT_SEED = 0x5eed_5eedL;

  // float scratch slots
  private static final int F_REQ = 0;
  private static final int F_IMP = 1;
  private static final int F_UNIT_SCALAR = 2;
  private static final int F_BASE = 3;
  private static final int F_REQ_DENSE = 4;
  private static final int F_IMP_DENSE = 5;
  private static final int F_TMP = 6;
  private static final int F_LABELS = 7;
  private static final int F_PROB = 8;
  private static final int F_GRAD = 9;
  private static final int F_GRAD_REQ = 10;
  private static final int F_GRAD_IMP = 11;
  private static final int F_UNIT_GRAD = 12;
  private static final int F_WIDE_GRAD = 13;
  private static final int F_LOGITS = 14;
  private static final int F_ONES = 15;
  private static final int F_GRAD_BASE = 16;
  private static final int F_XR = 17;
  private static final int F_XI = 18;
  private static final int F_XR_IMP = 19;
  private static final int F_Z = 20;
  private static final int F_D_RB = 21;
  private static final int F_D_V = 22;
  private static final int F_D_R = 23;
  private static final int F_DXR_UNITS = 24;
  private static final int F_ROW_GRAD = 32; // + table
  private static final int F_MLP = 64;
  // int scratch slots
  private static final int I_IDENTITY = 0;
  private static final int I_IMP_UNIT = 1;
  private static final int I_WIDE_REQ = 2;
  private static final int I_WIDE_IMP = 3;
  private static final int I_FEATURE = 4; // + feature

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
  private boolean requestOnly = true;

  public RequestOnlyModel(ModelConfig config, ComputeBackend backend) {
    this.backend = backend;
    this.config = config;
    this.dim = config.embeddingDim();
    this.labels = config.features().labels().size();
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
    this.requestDenseColumn = rc;
    this.impressionDenseColumn = ic;
    int inR = rc + config.features().dense(Side.REQUEST).size();
    int inI = ic + config.features().dense(Side.IMPRESSION).size();
    if (deep) {
      ModelConfig.Towers t = config.towers();
      this.out = t.outputWidth();
      this.requestTower = new Mlp(inR, t.request(), linearSize, F_MLP);
      this.impressionTower = new Mlp(inI, t.impression(), requestTower.offset + requestTower.paramCount(),
          F_MLP + Mlp.SLOTS);
      java.util.List<Integer> headLayers = new java.util.ArrayList<>(t.head());
      headLayers.add(labels);
      this.head = new Mlp(3 * out, headLayers, impressionTower.offset + impressionTower.paramCount(),
          F_MLP + 2 * Mlp.SLOTS);
      this.parameterCount = head.offset + head.paramCount();
    } else {
      this.out = 0;
      this.requestTower = null;
      this.impressionTower = null;
      this.head = null;
      this.parameterCount = linearSize;
    }
  }

  /** Size of the {@value #LINEAR_BLOCK} block: bias + request dense + impression dense weights. */
  public static int linearSize(ModelConfig config) {
    return 1 + config.features().dense(Side.REQUEST).size() + config.features().dense(Side.IMPRESSION).size();
  }

  /** Number of dense parameters (every block together). */
  public int parameterCount() {
    return parameterCount;
  }

  /** The dense blocks, by name: {offset, length} in the parameter vector, in publish order. */
  public Map<String, int[]> blocks() {
    Map<String, int[]> b = new LinkedHashMap<>();
    b.put(LINEAR_BLOCK, new int[] {0, linearSize});
    if (deep) {
      b.put(REQUEST_TOWER_BLOCK, new int[] {requestTower.offset, requestTower.paramCount()});
      b.put(IMPRESSION_TOWER_BLOCK, new int[] {impressionTower.offset, impressionTower.paramCount()});
      b.put(HEAD_BLOCK, new int[] {head.offset, head.paramCount()});
    }
    return b;
  }

  /** The initial dense parameters: zero linear weights, Glorot towers, a zero last head layer. */
  public float[] initialParameters() {
    float[] p = new float[parameterCount];
    if (deep) {
      SplitMix64 rng = new SplitMix64(INIT_SEED);
      requestTower.init(p, rng, false);
      impressionTower.init(p, rng, false);
      head.init(p, rng, true);
    }
    return p;
  }

  /** Runs the request tower once per request (true, the default) or once per impression. */
  public void setRequestOnly(boolean requestOnly) {
    this.requestOnly = requestOnly;
  }

  /** Scratch space of one batch, reused: activations kept for the backward pass, row gradients. */
  public static final class Workspace implements AutoCloseable {
    final Scratch s;
    /** The predictions of the primary label of the last forward pass, on the host. */
    float[] prob = new float[0];
    float[] probAll = new float[0];

    public Workspace(ComputeBackend backend) {
      this.s = new Scratch(backend);
    }

    @Override
    public void close() {
      s.close();
    }
  }

  /**
   * Computes the logits of the batch's impressions ({@code ni × labels}, row-major). {@code rows[t]}
   * holds the rows of embedding table {@code t}, {@code wide} those of the wide table; {@code
   * params} is the dense parameter vector.
   */
  public void forward(UnitBatch b, TableRows[] rows, TableRows wide, Floats params, Workspace ws) {
    Scratch s = ws.s;
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity = s.upload(I_IDENTITY, b.identity, Math.max(nu, ni) + 1);
    Ints impUnit = s.upload(I_IMP_UNIT, b.impUnit, ni);
    Floats reqVec = s.zeros(F_REQ, nu * dim);
    Floats impVec = s.zeros(F_IMP, ni * dim);
    int inR = deep ? requestTower.in() : 0, inI = deep ? impressionTower.in() : 0;
    Floats xr = deep ? s.zeros(F_XR, nu * inR) : null;
    Floats xi = deep ? s.zeros(F_XI, ni * inI) : null;
    for (int f = 0; f < b.features.length; f++) {
      TableRows r = rows[b.featureTable[f]];
      boolean request = b.features[f].side() == Side.REQUEST;
      int bags = request ? nu : ni;
      Ints offsets = s.upload(I_FEATURE + f, b.featureOffsets[f], bags + 1);
      backend.poolBags(r.slab(), r.rowWidth(), 0, dim, r.slots(), offsets, bags, identity,
          b.featureMean[f], request ? reqVec : impVec, dim, 0);
      if (deep) {
        backend.poolBags(r.slab(), r.rowWidth(), 0, dim, r.slots(), offsets, bags, identity,
            b.featureMean[f], request ? xr : xi, request ? inR : inI, featureColumn[f]);
      }
    }
    Floats unitScalar = s.zeros(F_UNIT_SCALAR, nu);
    Floats base = s.zeros(F_BASE, ni);
    Ints wideReq = s.upload(I_WIDE_REQ, b.wideReqOffsets, nu + 1);
    Ints wideImp = s.upload(I_WIDE_IMP, b.wideImpOffsets, ni + 1);
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), wideReq, nu, identity, false, unitScalar, 1, 0);
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), wideImp, ni, identity, false, base, 1, 0);
    if (nr > 0) {
      Floats reqDense = s.upload(F_REQ_DENSE, b.reqDense, nu * nr);
      backend.gemm(false, false, nu, 1, nr, 1f, reqDense, 0, nr, params, 1, 1, 1f, unitScalar, 0, 1);
      if (deep) {
        backend.copy2d(reqDense, nr, 0, xr, inR, requestDenseColumn, nu, nr);
      }
    }
    if (nd > 0) {
      Floats impDense = s.upload(F_IMP_DENSE, b.impDense, ni * nd);
      backend.gemm(false, false, ni, 1, nd, 1f, impDense, 0, nd, params, 1 + nr, 1, 1f, base, 0, 1);
      if (deep) {
        backend.copy2d(impDense, nd, 0, xi, inI, impressionDenseColumn, ni, nd);
      }
    }
    Floats tmp = s.floats(F_TMP, ni);
    backend.gatherIndexed(unitScalar, 1, impUnit, ni, tmp, 1, 0);
    backend.axpy(ni, 1f, tmp, 0, base, 0);
    backend.addBias(base, ni, 1, params, 0);
    backend.broadcastDot(reqVec, impUnit, impVec, ni, dim, base);

    Floats logits = s.floats(F_LOGITS, ni * labels);
    Floats ones = ones(s);
    float beta = 0f;
    if (deep) {
      Ints towerIndex = requestOnly ? impUnit : identity;
      Floats r;
      if (requestOnly) {
        r = requestTower.forward(backend, s, xr, nu, params);
      } else {
        Floats xrImp = s.floats(F_XR_IMP, ni * inR);
        backend.gatherIndexed(xr, inR, impUnit, ni, xrImp, inR, 0);
        r = requestTower.forward(backend, s, xrImp, ni, params);
      }
      Floats v = impressionTower.forward(backend, s, xi, ni, params);
      Floats z = s.floats(F_Z, ni * 3 * out);
      backend.gatherIndexed(r, out, towerIndex, ni, z, 3 * out, 0);
      backend.copy2d(v, out, 0, z, 3 * out, out, ni, out);
      backend.mul2d(z, 3 * out, 0, z, 3 * out, out, z, 3 * out, 2 * out, ni, out, false);
      backend.broadcastDot(r, towerIndex, v, ni, out, base);
      Floats h = head.forward(backend, s, z, ni, params);
      backend.copy(h, 0, logits, 0, ni * labels);
      beta = 1f;
    }
    // logits[i, l] (+)= base[i]
    backend.gemm(false, false, ni, labels, 1, 1f, base, 0, 1, ones, 0, labels, beta, logits, 0, labels);
  }

  private Floats ones(Scratch s) {
    Floats ones = s.floats(F_ONES, labels);
    backend.fill(ones, 0, labels, 1f);
    return ones;
  }

  /**
   * Sigmoid + log loss on the logits of {@link #forward}: keeps the logit gradients for the
   * backward pass, downloads the predictions ({@link #predictions}) and returns the loss summed
   * over impressions and labels.
   */
  public double loss(UnitBatch b, Workspace ws) {
    Scratch s = ws.s;
    int n = b.nImps * labels;
    Floats y = s.upload(F_LABELS, b.labels, n);
    Floats prob = s.floats(F_PROB, n);
    double loss = backend.sigmoidBce(s.floats(F_LOGITS, n), y, n, 1f, prob, s.floats(F_GRAD, n));
    if (ws.probAll.length < n) {
      ws.probAll = new float[Math.max(n, ws.probAll.length * 2)];
    }
    if (ws.prob.length < b.nImps) {
      ws.prob = new float[Math.max(b.nImps, ws.prob.length * 2)];
    }
    backend.download(prob, 0, ws.probAll, 0, n);
    for (int i = 0; i < b.nImps; i++) {
      ws.prob[i] = ws.probAll[i * labels];
    }
    return loss;
  }

  /** The primary label's click probabilities of the last {@link #loss}, on the host; {@code ni} valid. */
  public static float[] predictions(Workspace ws) {
    return ws.prob;
  }

  /** Every label's probabilities of the last {@link #loss} ({@code ni × labels}, row-major), on the host. */
  static float[] predictionsAllLabels(Workspace ws) {
    return ws.probAll;
  }

  /** Logits of the last {@link #forward} ({@code ni × labels}), in the backend's memory. */
  public Floats logits(Workspace ws, int ni) {
    return ws.s.floats(F_LOGITS, ni * labels);
  }

  public int labels() {
    return labels;
  }

  /**
   * The backward pass: the mean gradient of the dense parameters into {@code gradParams} (clipped
   * to the configured norm), the row gradients of every table into the workspace. Returns false,
   * having changed nothing but the workspace, when a gradient is not finite.
   */
  public boolean backward(UnitBatch b, TableRows[] rows, TableRows wide, Floats params, Floats gradParams, Workspace ws) {
    Scratch s = ws.s;
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity = s.ints(I_IDENTITY, 0);
    Ints impUnit = s.ints(I_IMP_UNIT, 0);
    Floats grad = s.floats(F_GRAD, ni * labels);
    Floats gBase = s.floats(F_GRAD_BASE, ni);
    backend.gemm(false, false, ni, 1, labels, 1f, grad, 0, labels, ones(s), 0, 1, 0f, gBase, 0, 1);
    backend.fill(gradParams, 0, parameterCount, 0f);

    Floats dxr = null, dxi = null;
    if (deep) {
      Ints towerIndex = requestOnly ? impUnit : identity;
      int rRows = requestOnly ? nu : ni;
      Floats z = s.floats(F_Z, 0);
      Floats dz = head.backward(backend, s, grad, ni, params, gradParams, true);
      Floats dRb = s.floats(F_D_RB, ni * out);
      Floats dV = s.floats(F_D_V, ni * out);
      backend.copy2d(dz, 3 * out, 0, dRb, out, 0, ni, out);
      backend.mul2d(dz, 3 * out, 2 * out, z, 3 * out, out, dRb, out, 0, ni, out, true);
      backend.copy2d(dz, 3 * out, out, dV, out, 0, ni, out);
      backend.mul2d(dz, 3 * out, 2 * out, z, 3 * out, 0, dV, out, 0, ni, out, true);
      Floats dR = s.zeros(F_D_R, rRows * out);
      // r and v are the towers' outputs, still in their scratch slots
      backend.broadcastDotBackward(lastOutput(requestTower, s, rRows), towerIndex, lastOutput(impressionTower, s, ni),
          ni, out, gBase, dR, dV);
      backend.scatterAddIndexed(dRb, out, 0, out, towerIndex, ni, dR);
      dxi = impressionTower.backward(backend, s, dV, ni, params, gradParams, true);
      dxr = requestTower.backward(backend, s, dR, rRows, params, gradParams, true);
      if (!requestOnly) {
        int inR = requestTower.in();
        Floats units = s.zeros(F_DXR_UNITS, nu * inR);
        backend.scatterAddIndexed(dxr, inR, 0, inR, impUnit, ni, units);
        dxr = units;
      }
    }

    Floats gradReq = s.zeros(F_GRAD_REQ, nu * dim);
    Floats gradImp = s.zeros(F_GRAD_IMP, ni * dim);
    backend.broadcastDotBackward(s.floats(F_REQ, 0), impUnit, s.floats(F_IMP, 0), ni, dim, gBase, gradReq, gradImp);
    for (int t = 0; t < rows.length; t++) {
      s.zeros(F_ROW_GRAD + t, rows[t].distinct() * dim);
    }
    for (int f = 0; f < b.features.length; f++) {
      int t = b.featureTable[f];
      boolean request = b.features[f].side() == Side.REQUEST;
      Floats rowGrad = s.floats(F_ROW_GRAD + t, 0);
      Ints offsets = s.ints(I_FEATURE + f, 0);
      int bags = request ? nu : ni;
      backend.poolBagsBackward(rows[t].rowIndex(), offsets, bags, identity,
          b.featureMean[f], request ? gradReq : gradImp, dim, 0, dim, rowGrad);
      if (deep) {
        backend.poolBagsBackward(rows[t].rowIndex(), offsets, bags, identity, b.featureMean[f],
            request ? dxr : dxi, request ? requestTower.in() : impressionTower.in(), featureColumn[f], dim, rowGrad);
      }
    }

    Floats unitGrad = s.zeros(F_UNIT_GRAD, nu);
    backend.scatterAddIndexed(gBase, 1, 0, 1, impUnit, ni, unitGrad);
    Floats wideGrad = s.zeros(F_WIDE_GRAD, wide.distinct());
    backend.poolBagsBackward(wide.rowIndex(), s.ints(I_WIDE_REQ, 0), nu, identity, false, unitGrad, 1, 0, 1, wideGrad);
    backend.poolBagsBackward(wide.rowIndex(), s.ints(I_WIDE_IMP, 0), ni, identity, false, gBase, 1, 0, 1, wideGrad);

    backend.biasGrad(gBase, ni, 1, gradParams, 0);
    if (nr > 0) {
      backend.gemm(true, false, nr, 1, nu, 1f, s.floats(F_REQ_DENSE, 0), 0, nr, unitGrad, 0, 1, 1f, gradParams, 1, 1);
    }
    if (nd > 0) {
      backend.gemm(true, false, nd, 1, ni, 1f, s.floats(F_IMP_DENSE, 0), 0, nd, gBase, 0, 1, 1f, gradParams, 1 + nr, 1);
    }
    if (ni > 0) {
      backend.scale(gradParams, 0, parameterCount, 1f / ni);
    }
    float clip = config.clipNorm() > 0 ? config.clipNorm() : Float.MAX_VALUE;
    if (!Double.isFinite(backend.clipNorm(gradParams, parameterCount, clip))) {
      return false;
    }
    for (int t = 0; t < rows.length; t++) {
      if (!Double.isFinite(backend.clipNorm(s.floats(F_ROW_GRAD + t, 0), rows[t].distinct() * dim, Float.MAX_VALUE))) {
        return false;
      }
    }
    return Double.isFinite(backend.clipNorm(wideGrad, wide.distinct(), Float.MAX_VALUE));
  }

  private static Floats lastOutput(Mlp m, Scratch s, int rows) {
    return m.output(s, rows);
  }

  /**
   * The fused sparse update of the last {@link #backward}: row-wise Adagrad on every distinct
   * embedding and wide row of the batch, in place in their slabs.
   */
  public void applySparse(TableRows[] rows, String[] tableNames, TableRows wide, Workspace ws, float eps) {
    Scratch s = ws.s;
    for (int t = 0; t < rows.length; t++) {
      TableRows r = rows[t];
      backend.rowwiseAdagrad(r.slab(), r.rowWidth(), 0, dim, dim, r.distinctSlots(), r.distinct(),
          s.floats(F_ROW_GRAD + t, 0), config.learningRate(tableNames[t]), eps);
    }
    backend.rowwiseAdagrad(wide.slab(), wide.rowWidth(), 0, 1, 1, wide.distinctSlots(), wide.distinct(),
        s.floats(F_WIDE_GRAD, 0), config.learningRate(ModelConfig.WIDE_TABLE), eps);
  }
}
