package io.streamrec.model;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import io.streamrec.model.features.Side;

/**
 * The model of the walking skeleton: a wide-and-factorised CTR model in the request-only layout.
 *
 * <pre>
 *   r(u)   = Σ_f pool_f(emb rows of request feature f)          once per request unit
 *   v(i)   = Σ_f pool_f(emb rows of impression feature f)       once per impression
 *   logit  = b + Σ wide(request ids) + Σ wide(impression ids)
 *            + w_r · dense(u) + w_i · dense(i) + r(u(i)) · v(i)
 * </pre>
 *
 * The dot product crosses every request feature with every impression feature (a two-tower
 * factorisation machine, Rendle 2010); the wide weights let a brand-new id matter after a few
 * events. Embedding and wide rows learn by row-wise Adagrad, fused per batch; the dense weights
 * (block {@value #LINEAR_BLOCK}: bias, request weights, impression weights) by Adam.
 *
 * <p>Every step is a batched {@link ComputeBackend} operation on buffers in the backend's memory:
 * the batch's ids, offsets and dense values are uploaded once, and only the predictions come back.
 * Activations and gradients live in a {@link Workspace} reused from batch to batch.
 */
public final class DotModel {
  /** Name of the dense block holding bias and dense-feature weights. */
  public static final String LINEAR_BLOCK = "linear";

  // float scratch slots
  private static final int F_REQ = 0;
  private static final int F_IMP = 1;
  private static final int F_UNIT_SCALAR = 2;
  private static final int F_LOGITS = 3;
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
  private static final int F_ROW_GRAD = 14; // + table
  // int scratch slots
  private static final int I_IDENTITY = 0;
  private static final int I_IMP_UNIT = 1;
  private static final int I_WIDE_REQ = 2;
  private static final int I_WIDE_IMP = 3;
  private static final int I_FEATURE = 4; // + feature

  private final ComputeBackend backend;
  private final int dim;

  public DotModel(ModelConfig config, ComputeBackend backend) {
    this.backend = backend;
    this.dim = config.embeddingDim();
  }

  /** Size of the {@value #LINEAR_BLOCK} block: bias + request dense + impression dense weights. */
  public static int linearSize(ModelConfig config) {
    return 1 + config.features().dense(Side.REQUEST).size() + config.features().dense(Side.IMPRESSION).size();
  }

  /** Scratch space of one batch, reused: activations kept for the backward pass, row gradients. */
  public static final class Workspace implements AutoCloseable {
    final Scratch s;
    /** The predictions of the last forward pass, on the host. */
    float[] prob = new float[0];

    public Workspace(ComputeBackend backend) {
      this.s = new Scratch(backend);
    }

    @Override
    public void close() {
      s.close();
    }
  }

  /**
   * Computes the logits of the batch's impressions. {@code rows[t]} holds the rows of embedding
   * table {@code t}, {@code wide} those of the wide table; {@code linear} is the dense block.
   */
  public void forward(UnitBatch b, TableRows[] rows, TableRows wide, Floats linear, Workspace ws) {
    Scratch s = ws.s;
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity = s.upload(I_IDENTITY, b.identity, Math.max(nu, ni) + 1);
    Ints impUnit = s.upload(I_IMP_UNIT, b.impUnit, ni);
    Floats reqVec = s.zeros(F_REQ, nu * dim);
    Floats impVec = s.zeros(F_IMP, ni * dim);
    for (int f = 0; f < b.features.length; f++) {
      TableRows r = rows[b.featureTable[f]];
      boolean request = b.features[f].side() == Side.REQUEST;
      int bags = request ? nu : ni;
      Ints offsets = s.upload(I_FEATURE + f, b.featureOffsets[f], bags + 1);
      backend.poolBags(r.slab(), r.rowWidth(), 0, dim, r.slots(), offsets, bags, identity,
          b.featureMean[f], request ? reqVec : impVec, dim, 0);
    }
    Floats unitScalar = s.zeros(F_UNIT_SCALAR, nu);
    Floats logits = s.zeros(F_LOGITS, ni);
    Ints wideReq = s.upload(I_WIDE_REQ, b.wideReqOffsets, nu + 1);
    Ints wideImp = s.upload(I_WIDE_IMP, b.wideImpOffsets, ni + 1);
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), wideReq, nu, identity, false, unitScalar, 1, 0);
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), wideImp, ni, identity, false, logits, 1, 0);
    if (nr > 0) {
      Floats reqDense = s.upload(F_REQ_DENSE, b.reqDense, nu * nr);
      backend.gemm(false, false, nu, 1, nr, 1f, reqDense, 0, nr, linear, 1, 1, 1f, unitScalar, 0, 1);
    }
    if (nd > 0) {
      Floats impDense = s.upload(F_IMP_DENSE, b.impDense, ni * nd);
      backend.gemm(false, false, ni, 1, nd, 1f, impDense, 0, nd, linear, 1 + nr, 1, 1f, logits, 0, 1);
    }
    Floats tmp = s.floats(F_TMP, ni);
    backend.gatherIndexed(unitScalar, 1, impUnit, ni, tmp, 1, 0);
    backend.axpy(ni, 1f, tmp, 0, logits, 0);
    backend.addBias(logits, ni, 1, linear, 0);
    backend.broadcastDot(reqVec, impUnit, impVec, ni, dim, logits);
  }

  /**
   * Sigmoid + log loss on the logits of {@link #forward}: keeps the logit gradients for the
   * backward pass, downloads the predictions ({@link #predictions}) and returns the summed loss.
   */
  public double loss(UnitBatch b, Workspace ws) {
    Scratch s = ws.s;
    int ni = b.nImps;
    Floats labels = s.upload(F_LABELS, b.labels, ni);
    Floats prob = s.floats(F_PROB, ni);
    double loss = backend.sigmoidBce(s.floats(F_LOGITS, ni), labels, ni, 1f, prob, s.floats(F_GRAD, ni));
    if (ws.prob.length < ni) {
      ws.prob = new float[Math.max(ni, ws.prob.length * 2)];
    }
    backend.download(prob, 0, ws.prob, 0, ni);
    return loss;
  }

  /** The click probabilities of the last {@link #loss} call, on the host; {@code ni} of them are valid. */
  public static float[] predictions(Workspace ws) {
    return ws.prob;
  }

  /** Logits of the last {@link #forward}, in the backend's memory. */
  public static Floats logits(Workspace ws, int ni) {
    return ws.s.floats(F_LOGITS, ni);
  }

  /**
   * Backward pass and fused sparse updates: row-wise Adagrad on every distinct embedding and wide
   * row of the batch, in place in their slabs; writes into {@code gradLinear} the mean gradient of
   * the dense block (the caller's dense optimizer applies it).
   */
  public void backwardAndUpdate(
      UnitBatch b, TableRows[] rows, TableRows wide, Floats gradLinear, int linearSize, Workspace ws,
      float embeddingLr, float wideLr, float eps) {
    Scratch s = ws.s;
    int nu = b.nUnits, ni = b.nImps, nr = b.requestDense.length, nd = b.impressionDense.length;
    Ints identity = s.ints(I_IDENTITY, 0);
    Ints impUnit = s.ints(I_IMP_UNIT, 0);
    Floats grad = s.floats(F_GRAD, ni);
    Floats gradReq = s.zeros(F_GRAD_REQ, nu * dim);
    Floats gradImp = s.zeros(F_GRAD_IMP, ni * dim);
    backend.broadcastDotBackward(s.floats(F_REQ, 0), impUnit, s.floats(F_IMP, 0), ni, dim, grad, gradReq, gradImp);

    Floats[] rowGrad = new Floats[rows.length];
    for (int t = 0; t < rows.length; t++) {
      rowGrad[t] = s.zeros(F_ROW_GRAD + t, rows[t].distinct() * dim);
    }
    for (int f = 0; f < b.features.length; f++) {
      int t = b.featureTable[f];
      boolean request = b.features[f].side() == Side.REQUEST;
      backend.poolBagsBackward(rows[t].rowIndex(), s.ints(I_FEATURE + f, 0), request ? nu : ni, identity,
          b.featureMean[f], request ? gradReq : gradImp, dim, 0, dim, rowGrad[t]);
    }

    Floats unitGrad = s.zeros(F_UNIT_GRAD, nu);
    backend.scatterAddIndexed(grad, 1, 0, 1, impUnit, ni, unitGrad);
    Floats wideGrad = s.zeros(F_WIDE_GRAD, wide.distinct());
    backend.poolBagsBackward(wide.rowIndex(), s.ints(I_WIDE_REQ, 0), nu, identity, false, unitGrad, 1, 0, 1, wideGrad);
    backend.poolBagsBackward(wide.rowIndex(), s.ints(I_WIDE_IMP, 0), ni, identity, false, grad, 1, 0, 1, wideGrad);

    backend.fill(gradLinear, 0, linearSize, 0f);
    backend.biasGrad(grad, ni, 1, gradLinear, 0);
    if (nr > 0) {
      backend.gemm(true, false, nr, 1, nu, 1f, s.floats(F_REQ_DENSE, 0), 0, nr, unitGrad, 0, 1, 1f, gradLinear, 1, 1);
    }
    if (nd > 0) {
      backend.gemm(true, false, nd, 1, ni, 1f, s.floats(F_IMP_DENSE, 0), 0, nd, grad, 0, 1, 1f, gradLinear, 1 + nr, 1);
    }
    if (ni > 0) {
      backend.scale(gradLinear, 0, linearSize, 1f / ni);
    }

    for (int t = 0; t < rows.length; t++) {
      TableRows r = rows[t];
      backend.rowwiseAdagrad(r.slab(), r.rowWidth(), 0, dim, dim, r.distinctSlots(), r.distinct(),
          rowGrad[t], embeddingLr, eps);
    }
    backend.rowwiseAdagrad(wide.slab(), wide.rowWidth(), 0, 1, 1, wide.distinctSlots(), wide.distinct(),
        wideGrad, wideLr, eps);
  }
}
