package io.streamrec.model;

import io.streamrec.gpu.ComputeBackend;
import io.streamrec.model.features.Side;
import java.util.Arrays;

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
 * <p>Every operation is a batched {@link ComputeBackend} call, so the same model runs on any
 * backend. Scratch arrays live in a {@link Workspace} reused across batches.
 */
public final class DotModel {
  /** Name of the dense block holding bias and dense-feature weights. */
  public static final String LINEAR_BLOCK = "linear";

  private final ComputeBackend backend;
  private final int dim;

  public DotModel(ModelConfig config, ComputeBackend backend) {
    this.backend = backend;
    this.dim = config.embeddingDim();
  }

  /** Size of the {@value #LINEAR_BLOCK} block: bias + request dense + impression dense weights. */
  public static int linearSize(ModelConfig config) {
    return 1 + config.features().dense(Side.REQUEST).size()
        + config.features().dense(Side.IMPRESSION).size();
  }

  /** Scratch space of one batch: activations kept for the backward pass, row gradients. */
  public static final class Workspace {
    float[] reqVec = new float[0];
    float[] impVec = new float[0];
    float[] unitWide = new float[0];
    public float[] logits = new float[0];
    public float[] prob = new float[0];
    float[] grad = new float[0];
    float[] gradReq = new float[0];
    float[] gradImp = new float[0];
    float[] unitGrad = new float[0];
    float[][] rowGrad = new float[0][];
    float[] wideRowGrad = new float[0];

    void ensure(int units, int imps, int dim, int tables) {
      if (reqVec.length < units * dim) {
        reqVec = new float[units * dim * 2];
        gradReq = new float[units * dim * 2];
      }
      if (impVec.length < imps * dim) {
        impVec = new float[imps * dim * 2];
        gradImp = new float[imps * dim * 2];
      }
      if (unitWide.length < units) {
        unitWide = new float[units * 2];
        unitGrad = new float[units * 2];
      }
      if (logits.length < imps) {
        logits = new float[imps * 2];
        prob = new float[imps * 2];
        grad = new float[imps * 2];
      }
      if (rowGrad.length != tables) {
        rowGrad = new float[tables][0];
      }
    }
  }

  /**
   * Writes the logits of the batch's impressions into {@code ws.logits}. {@code rows[t]} holds the
   * rows of embedding table {@code t}, {@code wide} those of the wide table; {@code linear} is the
   * dense block.
   */
  public void forward(UnitBatch b, TableRows[] rows, TableRows wide, float[] linear, Workspace ws) {
    int nu = b.nUnits, ni = b.nImps;
    ws.ensure(nu, ni, dim, rows.length);
    Arrays.fill(ws.reqVec, 0, nu * dim, 0f);
    Arrays.fill(ws.impVec, 0, ni * dim, 0f);
    Arrays.fill(ws.unitWide, 0, nu, 0f);
    Arrays.fill(ws.logits, 0, ni, 0f);

    for (int f = 0; f < b.features.length; f++) {
      TableRows r = rows[b.featureTable[f]];
      boolean request = b.features[f].side() == Side.REQUEST;
      backend.poolBags(
          r.slab(), r.rowWidth(), 0, dim, r.slots(), b.featureOffsets[f], request ? nu : ni, b.identity,
          b.featureMean[f], request ? ws.reqVec : ws.impVec, dim, 0);
    }
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), b.wideReqOffsets, nu, b.identity,
        false, ws.unitWide, 1, 0);
    backend.poolBags(wide.slab(), wide.rowWidth(), 0, 1, wide.slots(), b.wideImpOffsets, ni, b.identity,
        false, ws.logits, 1, 0);

    int nr = b.requestDense.length, nd = b.impressionDense.length;
    for (int i = 0; i < ni; i++) {
      int u = b.impUnit[i];
      float z = linear[0] + ws.unitWide[u];
      for (int k = 0; k < nr; k++) {
        z += linear[1 + k] * b.reqDense[u * nr + k];
      }
      for (int k = 0; k < nd; k++) {
        z += linear[1 + nr + k] * b.impDense[i * nd + k];
      }
      ws.logits[i] += z;
    }
    backend.broadcastDot(ws.reqVec, b.impUnit, ws.impVec, ni, dim, ws.logits);
  }

  /**
   * Sigmoid + log loss on the logits of {@link #forward}: writes {@code ws.prob} and the logit
   * gradients; returns the summed loss.
   */
  public double loss(UnitBatch b, Workspace ws) {
    return backend.sigmoidBce(ws.logits, b.labels, b.nImps, 1f, ws.prob, ws.grad);
  }

  /**
   * Backward pass and fused sparse updates: row-wise Adagrad on every distinct embedding and wide
   * row of the batch, in place in their slabs; fills {@code gradLinear} with the mean gradient of
   * the dense block (the caller's dense optimizer applies it).
   */
  public void backwardAndUpdate(
      UnitBatch b, TableRows[] rows, TableRows wide, float[] linear, Workspace ws, float[] gradLinear,
      float embeddingLr, float wideLr, float eps) {
    int nu = b.nUnits, ni = b.nImps;
    Arrays.fill(ws.gradReq, 0, nu * dim, 0f);
    Arrays.fill(ws.gradImp, 0, ni * dim, 0f);
    backend.broadcastDotBackward(ws.reqVec, b.impUnit, ws.impVec, ni, dim, ws.grad, ws.gradReq, ws.gradImp);

    for (int t = 0; t < rows.length; t++) {
      int need = rows[t].distinct() * dim;
      if (ws.rowGrad[t].length < need) {
        ws.rowGrad[t] = new float[need * 2];
      }
      Arrays.fill(ws.rowGrad[t], 0, need, 0f);
    }
    for (int f = 0; f < b.features.length; f++) {
      int t = b.featureTable[f];
      boolean request = b.features[f].side() == Side.REQUEST;
      backend.poolBagsBackward(rows[t].rowIndex(), b.featureOffsets[f], request ? nu : ni, b.identity,
          b.featureMean[f], request ? ws.gradReq : ws.gradImp, dim, 0, dim, ws.rowGrad[t]);
    }

    Arrays.fill(ws.unitGrad, 0, nu, 0f);
    for (int i = 0; i < ni; i++) {
      ws.unitGrad[b.impUnit[i]] += ws.grad[i];
    }
    if (ws.wideRowGrad.length < wide.distinct()) {
      ws.wideRowGrad = new float[wide.distinct() * 2];
    }
    Arrays.fill(ws.wideRowGrad, 0, wide.distinct(), 0f);
    backend.poolBagsBackward(wide.rowIndex(), b.wideReqOffsets, nu, b.identity, false, ws.unitGrad, 1, 0, 1,
        ws.wideRowGrad);
    backend.poolBagsBackward(wide.rowIndex(), b.wideImpOffsets, ni, b.identity, false, ws.grad, 1, 0, 1,
        ws.wideRowGrad);

    int nr = b.requestDense.length, nd = b.impressionDense.length;
    Arrays.fill(gradLinear, 0f);
    for (int i = 0; i < ni; i++) {
      int u = b.impUnit[i];
      float g = ws.grad[i];
      gradLinear[0] += g;
      for (int k = 0; k < nr; k++) {
        gradLinear[1 + k] += g * b.reqDense[u * nr + k];
      }
      for (int k = 0; k < nd; k++) {
        gradLinear[1 + nr + k] += g * b.impDense[i * nd + k];
      }
    }
    if (ni > 0) {
      for (int k = 0; k < gradLinear.length; k++) {
        gradLinear[k] /= ni;
      }
    }

    for (int t = 0; t < rows.length; t++) {
      TableRows r = rows[t];
      backend.rowwiseAdagrad(r.slab(), r.rowWidth(), 0, dim, dim, r.distinctSlots(), r.distinct(),
          ws.rowGrad[t], embeddingLr, eps);
    }
    backend.rowwiseAdagrad(wide.slab(), wide.rowWidth(), 0, 1, 1, wide.distinctSlots(), wide.distinct(),
        ws.wideRowGrad, wideLr, eps);
  }

}
