package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every {@link ComputeBackend} meets: each operation against a float64 reference
 * written here, on fresh random inputs that are never zero. Outputs an operation overwrites are
 * poisoned with NaN first; outputs it accumulates into are pre-filled with random values, so a
 * backend that overwrites instead of adding fails. Subclass once per backend.
 */
abstract class ComputeBackendContractTest {
  /**
   * Float32 against float64: the error allowed is this fraction of the sum of the magnitudes of the
   * terms that made a value (rounding grows with that sum, not with the result).
   */
  static final double RELATIVE_TOLERANCE = 1e-5;

  /** Probabilities and their gradients live in [-1, 1]: float32 resolves them to about 1e-7. */
  static final double PROBABILITY_TOLERANCE = 1e-6;

  protected ComputeBackend backend;

  /**
   * The operations on host arrays: inputs uploaded, the operation run, every operand downloaded
   * back.
   */
  protected ArrayOps ops;

  private final Random rnd = new Random(20260101);

  protected abstract ComputeBackend createBackend();

  @BeforeEach
  void open() {
    backend = createBackend();
    ops = new ArrayOps(backend);
  }

  @AfterEach
  void close() {
    if (backend != null) { // null where createBackend skipped the test
      backend.close();
    }
  }

  // ---- poolBags -------------------------------------------------------------------------------

  @ParameterizedTest(name = "mean={0}")
  @ValueSource(booleans = {false, true})
  void poolBagsAddsEachBagsSumOrMeanIntoItsTarget(boolean mean) {
    int rows = 20, rowWidth = 7, col = 2, width = 4;
    float[] slab = randomFloats(rows * rowWidth);
    float[] slabBefore = slab.clone();
    int[] bagSizes = {3, 0, 1, 5, 0, 2, 4};
    int[] bagOffsets = offsets(bagSizes);
    int nBags = bagSizes.length;
    int[] slots = randomInts(bagOffsets[nBags], rows); // repeats allowed
    int[] bagTarget = {0, 1, 1, 3, 2, 4, 0}; // two bags land on targets 0 and 1
    int outRows = 5, outStride = 11, outCol = 3;
    float[] out = randomFloats(outRows * outStride);
    float[] outBefore = out.clone();

    ops.poolBags(
        slab,
        rowWidth,
        col,
        width,
        slots,
        bagOffsets,
        nBags,
        bagTarget,
        mean,
        out,
        outStride,
        outCol);

    double[] expected = toDouble(outBefore);
    double[] magnitude = abs(outBefore);
    for (int b = 0; b < nBags; b++) {
      int n = bagOffsets[b + 1] - bagOffsets[b];
      for (int k = bagOffsets[b]; k < bagOffsets[b + 1]; k++) {
        for (int j = 0; j < width; j++) {
          double x = (double) slab[slots[k] * rowWidth + col + j] / (mean ? n : 1);
          expected[bagTarget[b] * outStride + outCol + j] += x;
          magnitude[bagTarget[b] * outStride + outCol + j] += Math.abs(x);
        }
      }
    }
    assertClose(out, expected, magnitude, "out");
    assertThat(slab).containsExactly(slabBefore);
  }

  @Test
  void poolBagsWithOnlyEmptyBagsLeavesTheOutputAlone() {
    float[] slab = randomFloats(4 * 3);
    float[] out = randomFloats(2 * 3);
    float[] before = out.clone();

    ops.poolBags(
        slab, 3, 0, 3, new int[0], new int[] {0, 0, 0}, 2, new int[] {0, 1}, true, out, 3, 0);

    assertThat(out).containsExactly(before);
  }

  @ParameterizedTest(name = "mean={0}")
  @ValueSource(booleans = {false, true})
  void poolBagsBackwardAddsEachBagsGradientToItsRows(boolean mean) {
    int distinctRows = 6, width = 5;
    int[] bagSizes = {2, 0, 4, 1, 3};
    int[] bagOffsets = offsets(bagSizes);
    int nBags = bagSizes.length;
    int[] rowIndex = randomInts(bagOffsets[nBags], distinctRows);
    int[] bagTarget = {2, 0, 1, 1, 3};
    int gradStride = 9, gradCol = 1;
    float[] grad = randomFloats(4 * gradStride);
    float[] gradBefore = grad.clone();
    float[] rowGrad = randomFloats(distinctRows * width);
    float[] rowGradBefore = rowGrad.clone();

    ops.poolBagsBackward(
        rowIndex, bagOffsets, nBags, bagTarget, mean, grad, gradStride, gradCol, width, rowGrad);

    double[] expected = toDouble(rowGradBefore);
    double[] magnitude = abs(rowGradBefore);
    for (int b = 0; b < nBags; b++) {
      int n = bagOffsets[b + 1] - bagOffsets[b];
      for (int k = bagOffsets[b]; k < bagOffsets[b + 1]; k++) {
        for (int j = 0; j < width; j++) {
          double g = (double) grad[bagTarget[b] * gradStride + gradCol + j] / (mean ? n : 1);
          expected[rowIndex[k] * width + j] += g;
          magnitude[rowIndex[k] * width + j] += Math.abs(g);
        }
      }
    }
    assertClose(rowGrad, expected, magnitude, "rowGrad");
    assertThat(grad).containsExactly(gradBefore);
  }

  // ---- rowwiseAdagrad -------------------------------------------------------------------------

  @Test
  void rowwiseAdagradUpdatesOnlyTheGivenRowsByTheDocumentedFormula() {
    checkRowwiseAdagrad(10, 8, 1, 5, 7, new int[] {7, 2, 9, 4});
  }

  @Test
  void rowwiseAdagradAppliesTheUpdatesOfARepeatedSlotInTurn() {
    // many rows on few slots: one launch of them all would have warps race on each slot
    int rows = 16;
    checkRowwiseAdagrad(rows, 6, 0, 5, 5, randomInts(512, rows));
  }

  /**
   * Row-wise Adagrad on {@code slots} of a random slab, against the formula in float64, applied row
   * after row (so a repeated slot's updates build on each other).
   */
  private void checkRowwiseAdagrad(
      int rows, int rowWidth, int col, int width, int stateCol, int[] slots) {
    float[] slab = randomFloats(rows * rowWidth);
    for (int r = 0; r < rows; r++) {
      slab[r * rowWidth + stateCol] =
          Math.abs(slab[r * rowWidth + stateCol]); // accumulators are >= 0
    }
    float[] before = slab.clone();
    int nRows = slots.length;
    float[] rowGrad = randomFloats(nRows * width);
    float lr = 0.05f, eps = 1e-6f;

    ops.rowwiseAdagrad(slab, rowWidth, col, width, stateCol, slots, nRows, rowGrad, lr, eps);

    double[] expected = toDouble(before);
    double[] magnitude = abs(before);
    for (int r = 0; r < nRows; r++) {
      int base = slots[r] * rowWidth;
      double meanSquare = 0;
      for (int j = 0; j < width; j++) {
        meanSquare += (double) rowGrad[r * width + j] * rowGrad[r * width + j] / width;
      }
      double acc = expected[base + stateCol] + meanSquare;
      expected[base + stateCol] = acc;
      magnitude[base + stateCol] = acc;
      for (int j = 0; j < width; j++) {
        double step = lr * rowGrad[r * width + j] / Math.sqrt(acc + eps);
        expected[base + col + j] -= step;
        magnitude[base + col + j] += Math.abs(step);
      }
    }
    assertClose(slab, expected, magnitude, "slab");
  }

  // ---- ftrlProximal ---------------------------------------------------------------------------

  @Test
  void ftrlProximalUpdatesOnlyTheGivenRowsByTheDocumentedFormula() {
    checkFtrlProximal(10, 9, 1, 2, 4, new int[] {7, 2, 9, 4}, 0.5f);
  }

  @Test
  void ftrlProximalAppliesTheUpdatesOfARepeatedSlotInTurn() {
    // many rows on few slots: one launch of them all would have threads race on each slot
    int rows = 16;
    checkFtrlProximal(rows, 3, 0, 1, 1, randomInts(512, rows), 0.5f);
  }

  @Test
  void ftrlProximalKeepsACoordinateAtZeroUntilItsEvidencePassesL1() {
    // small gradients on fresh rows: |z| stays under l1, so every value is exactly 0
    int rows = 6, rowWidth = 3;
    float[] slab = new float[rows * rowWidth];
    int[] slots = {0, 1, 2, 3, 4, 5, 0, 1};
    float[] rowGrad = new float[slots.length];
    for (int r = 0; r < rowGrad.length; r++) {
      rowGrad[r] = 0.4f * (rnd.nextBoolean() ? 1 : -1);
    }
    ops.ftrlProximal(slab, rowWidth, 0, 1, 1, slots, slots.length, rowGrad, 0.05f, 1f, 1f, 1f);
    for (int r = 0; r < rows; r++) {
      assertThat(slab[r * rowWidth]).as("value of row %d", r).isZero();
      assertThat(slab[r * rowWidth + 2]).as("n of row %d", r).isPositive();
    }
  }

  /**
   * FTRL-Proximal on {@code slots} of a random slab, against the formula in float64, applied row
   * after row (so a repeated slot's updates build on each other). Values at the state's fixed point
   * of the previous step, as the trainer keeps them: {@code w} follows from {@code z} and {@code
   * n}.
   */
  private void checkFtrlProximal(
      int rows, int rowWidth, int col, int width, int stateCol, int[] slots, float l1) {
    float alpha = 0.05f, beta = 1f, l2 = 1f;
    float[] slab = randomFloats(rows * rowWidth);
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < width; j++) {
        int zc = r * rowWidth + stateCol + 2 * j;
        slab[zc] *= 3; // some |z| above l1, some below
        slab[zc + 1] = Math.abs(slab[zc + 1]); // n is a sum of squares
      }
    }
    float[] before = slab.clone();
    int nRows = slots.length;
    float[] rowGrad = randomFloats(nRows * width);

    ops.ftrlProximal(
        slab, rowWidth, col, width, stateCol, slots, nRows, rowGrad, alpha, beta, l1, l2);

    double[] expected = toDouble(before);
    double[] magnitude = abs(before);
    for (int r = 0; r < nRows; r++) {
      int base = slots[r] * rowWidth;
      for (int j = 0; j < width; j++) {
        double g = rowGrad[r * width + j];
        int v = base + col + j, zc = base + stateCol + 2 * j;
        double n = expected[zc + 1], n2 = n + g * g;
        double sigma = (Math.sqrt(n2) - Math.sqrt(n)) / alpha;
        double z = expected[zc] + g - sigma * expected[v];
        magnitude[zc] += Math.abs(g) + Math.abs(sigma * expected[v]);
        magnitude[zc + 1] = n2;
        expected[zc] = z;
        expected[zc + 1] = n2;
        expected[v] =
            Math.abs(z) <= l1
                ? 0
                : -(z - Math.signum(z) * l1) / ((beta + Math.sqrt(n2)) / alpha + l2);
        magnitude[v] = Math.abs(expected[v]) + magnitude[zc] / ((beta + Math.sqrt(n2)) / alpha);
      }
    }
    assertClose(slab, expected, magnitude, "slab");
  }

  // ---- broadcastDot ---------------------------------------------------------------------------

  @Test
  void broadcastDotAddsTheDotOfEachImpressionWithItsUnit() {
    int units = 3, n = 8, dim = 6;
    float[] a = randomFloats(units * dim);
    int[] aIndex = {0, 0, 2, 1, 1, 1, 2, 0};
    float[] b = randomFloats(n * dim);
    float[] out = randomFloats(n);
    float[] outBefore = out.clone();

    ops.broadcastDot(a, aIndex, b, n, dim, out);

    double[] expected = toDouble(outBefore);
    double[] magnitude = abs(outBefore);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dim; j++) {
        double p = (double) a[aIndex[i] * dim + j] * b[i * dim + j];
        expected[i] += p;
        magnitude[i] += Math.abs(p);
      }
    }
    assertClose(out, expected, magnitude, "out");
  }

  @Test
  void broadcastDotBackwardAddsBothGradients() {
    int units = 3, n = 7, dim = 5;
    float[] a = randomFloats(units * dim);
    int[] aIndex = {2, 0, 0, 1, 2, 2, 0};
    float[] b = randomFloats(n * dim);
    float[] g = randomFloats(n);
    float[] gradA = randomFloats(units * dim);
    float[] gradB = randomFloats(n * dim);
    float[] gradABefore = gradA.clone(), gradBBefore = gradB.clone();

    ops.broadcastDotBackward(a, aIndex, b, n, dim, g, gradA, gradB);

    double[] expectedA = toDouble(gradABefore), magnitudeA = abs(gradABefore);
    double[] expectedB = toDouble(gradBBefore), magnitudeB = abs(gradBBefore);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dim; j++) {
        double da = (double) g[i] * b[i * dim + j];
        double db = (double) g[i] * a[aIndex[i] * dim + j];
        expectedA[aIndex[i] * dim + j] += da;
        magnitudeA[aIndex[i] * dim + j] += Math.abs(da);
        expectedB[i * dim + j] += db;
        magnitudeB[i * dim + j] += Math.abs(db);
      }
    }
    assertClose(gradA, expectedA, magnitudeA, "gradA");
    assertClose(gradB, expectedB, magnitudeB, "gradB");
  }

  // ---- fieldDots ------------------------------------------------------------------------------

  @Test
  void fieldDotsWritesTheDotOfEveryFieldPairOfEachImpressionAndItsUnit() {
    // fields read at a column of wider rows, as the trainer reads them from the towers' inputs
    int units = 3, n = 7, dim = 5, fa = 2, fb = 3, aStride = 13, aCol = 2, bStride = 17, bCol = 1;
    float[] a = randomFloats(units * aStride);
    int[] aIndex = {2, 0, 0, 1, 2, 2, 0};
    float[] b = randomFloats(n * bStride);
    float[] out = nans(n * fa * fb);

    ops.fieldDots(a, aStride, aCol, fa, aIndex, b, bStride, bCol, fb, n, dim, out);

    double[] expected = new double[out.length], magnitude = new double[out.length];
    for (int i = 0; i < n; i++) {
      for (int f = 0; f < fa; f++) {
        for (int g = 0; g < fb; g++) {
          int o = (i * fa + f) * fb + g;
          for (int j = 0; j < dim; j++) {
            double p =
                (double) a[aIndex[i] * aStride + aCol + f * dim + j]
                    * b[i * bStride + bCol + g * dim + j];
            expected[o] += p;
            magnitude[o] += Math.abs(p);
          }
        }
      }
    }
    assertClose(out, expected, magnitude, "out");
  }

  @Test
  void fieldDotsBackwardAddsBothGradientsIntoTheFieldsOnly() {
    int units = 4, n = 9, dim = 3, fa = 3, fb = 2, aStride = 11, aCol = 1, bStride = 8, bCol = 2;
    float[] a = randomFloats(units * aStride);
    int[] aIndex = {3, 3, 0, 1, 1, 1, 3, 0, 2}; // units of several impressions, out of order
    float[] b = randomFloats(n * bStride);
    float[] g = randomFloats(n * fa * fb);
    float[] gradA = randomFloats(units * aStride);
    float[] gradB = randomFloats(n * bStride);
    float[] gradABefore = gradA.clone(), gradBBefore = gradB.clone();

    ops.fieldDotsBackward(
        a, aStride, aCol, fa, aIndex, b, bStride, bCol, fb, n, dim, g, gradA, gradB);

    double[] expectedA = toDouble(gradABefore), magnitudeA = abs(gradABefore);
    double[] expectedB = toDouble(gradBBefore), magnitudeB = abs(gradBBefore);
    for (int i = 0; i < n; i++) {
      for (int f = 0; f < fa; f++) {
        for (int e = 0; e < fb; e++) {
          double gp = g[(i * fa + f) * fb + e];
          for (int j = 0; j < dim; j++) {
            int ao = aIndex[i] * aStride + aCol + f * dim + j,
                bo = i * bStride + bCol + e * dim + j;
            double da = gp * b[bo], db = gp * a[ao];
            expectedA[ao] += da;
            magnitudeA[ao] += Math.abs(da);
            expectedB[bo] += db;
            magnitudeB[bo] += Math.abs(db);
          }
        }
      }
    }
    // the columns outside the fields must keep their values
    assertClose(gradA, expectedA, magnitudeA, "gradA");
    assertClose(gradB, expectedB, magnitudeB, "gradB");
  }

  // ---- sigmoidBce -----------------------------------------------------------------------------

  @Test
  void sigmoidBceWritesProbabilitiesScaledGradientsAndReturnsTheLoss() {
    int n = 64;
    float[] logits = randomFloats(n);
    for (int i = 0; i < n; i++) {
      logits[i] *= 8;
    }
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 5 == 4 ? 0.3f : rnd.nextInt(2);
    }
    checkSigmoidBce(logits, labels, 0.25f);
  }

  @Test
  void sigmoidBceStaysFiniteAndExactForExtremeLogits() {
    float[] logits = {100f, -100f, 100f, -100f, 40f, -40f, 88.7f, -88.7f, 1e4f, -1e4f};
    float[] labels = {1f, 0f, 0f, 1f, 1f, 0f, 0f, 1f, 0f, 1f};

    checkSigmoidBce(logits, labels, 1f);
  }

  private void checkSigmoidBce(float[] logits, float[] labels, float scale) {
    int n = logits.length;
    float[] prob = nans(n), grad = nans(n);
    float[] logitsBefore = logits.clone();

    double loss = ops.sigmoidBce(logits, labels, n, scale, prob, grad);

    double expectedLoss = 0, lossMagnitude = 0;
    for (int i = 0; i < n; i++) {
      double z = logits[i], y = labels[i];
      double p = 1 / (1 + Math.exp(-z));
      // -y log p - (1-y) log(1-p), written as softplus(z) - z y so that it stays finite
      double softplus = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
      expectedLoss += softplus - z * y;
      lossMagnitude += softplus + Math.abs(z * y);
      assertThat(prob[i]).as("prob[%d] for z=%s", i, z).isBetween(0f, 1f);
      assertThat((double) prob[i])
          .as("prob[%d] for z=%s", i, z)
          .isCloseTo(p, within(PROBABILITY_TOLERANCE));
      assertThat((double) grad[i])
          .as("grad[%d] for z=%s", i, z)
          .isCloseTo((p - y) * scale, within(PROBABILITY_TOLERANCE * Math.abs(scale)));
    }
    assertThat(loss).isFinite().isCloseTo(expectedLoss, within(RELATIVE_TOLERANCE * lossMagnitude));
    assertThat(logits).containsExactly(logitsBefore);
  }

  // ---- adam -----------------------------------------------------------------------------------

  @Test
  void adamMatchesTheBiasCorrectedUpdate() {
    int n = 50;
    float lr = 0.01f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float[] w = randomFloats(n), m = randomFloats(n), v = randomFloats(n);
    for (int i = 0; i < n; i++) {
      v[i] = v[i] * v[i];
    }
    float[] grad = randomFloats(n);
    long step = 7;
    float[] w0 = w.clone(), m0 = m.clone(), v0 = v.clone();

    ops.adam(w, grad, m, v, n, step, lr, beta1, beta2, eps);

    checkAdamStep(w0, m0, v0, grad, step, lr, beta1, beta2, eps, w, m, v);
  }

  @Test
  void adamFromZeroStateAppliesBiasCorrectionAtEveryStep() {
    int n = 20;
    float lr = 0.001f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float[] w = randomFloats(n), m = new float[n], v = new float[n];
    for (long step = 1; step <= 5; step++) {
      float[] grad = randomFloats(n);
      float[] w0 = w.clone(), m0 = m.clone(), v0 = v.clone();

      ops.adam(w, grad, m, v, n, step, lr, beta1, beta2, eps);

      checkAdamStep(w0, m0, v0, grad, step, lr, beta1, beta2, eps, w, m, v);
      if (step == 1) {
        // with bias correction the first step moves every weight by lr against its gradient's sign
        for (int i = 0; i < n; i++) {
          assertThat((double) (w0[i] - w[i]))
              .isCloseTo(lr * Math.signum(grad[i]), within(1e-3 * lr));
        }
      }
    }
  }

  private static void checkAdamStep(
      float[] w0,
      float[] m0,
      float[] v0,
      float[] grad,
      long t,
      float lr,
      float beta1,
      float beta2,
      float eps,
      float[] w,
      float[] m,
      float[] v) {
    int n = w0.length;
    double[] expectedW = new double[n], expectedM = new double[n], expectedV = new double[n];
    double[] magW = new double[n], magM = new double[n], magV = new double[n];
    for (int i = 0; i < n; i++) {
      double g = grad[i];
      expectedM[i] = beta1 * (double) m0[i] + (1 - (double) beta1) * g;
      expectedV[i] = beta2 * (double) v0[i] + (1 - (double) beta2) * g * g;
      double mHat = expectedM[i] / (1 - Math.pow(beta1, t));
      double vHat = expectedV[i] / (1 - Math.pow(beta2, t));
      double step = lr * mHat / (Math.sqrt(vHat) + eps);
      expectedW[i] = w0[i] - step;
      magM[i] = Math.abs(beta1 * m0[i]) + Math.abs((1 - beta1) * g);
      magV[i] = expectedV[i];
      magW[i] = Math.abs(w0[i]) + Math.abs(step);
    }
    assertClose(m, expectedM, magM, "m");
    assertClose(v, expectedV, magV, "v");
    assertClose(w, expectedW, magW, "w");
  }

  // ---- memory and rows ------------------------------------------------------------------------

  @Test
  void copiesFillAxpyAndScaleTouchOnlyTheirRange() {
    float[] x = randomFloats(40), y = randomFloats(40);
    Floats fx = ops.up(x), fy = ops.up(y);
    backend.axpy(10, 0.75f, fx, 3, fy, 20);
    backend.scale(fx, 30, 5, -2f);
    backend.fill(fy, 0, 4, 3.5f);
    backend.copy(fx, 0, fy, 5, 6);
    float[] gotX = new float[40], gotY = new float[40];
    backend.download(fx, 0, gotX, 0, 40);
    backend.download(fy, 0, gotY, 0, 40);

    double[] ex = toDouble(x), mx = abs(x), ey = toDouble(y), my = abs(y);
    for (int i = 0; i < 10; i++) {
      ey[20 + i] += 0.75 * x[3 + i];
      my[20 + i] += Math.abs(0.75 * x[3 + i]);
    }
    for (int i = 30; i < 35; i++) {
      ex[i] *= -2;
      mx[i] *= 2;
    }
    for (int i = 0; i < 4; i++) {
      ey[i] = 3.5;
    }
    for (int i = 0; i < 6; i++) {
      ey[5 + i] = x[i];
      my[5 + i] = Math.abs(x[i]);
    }
    assertClose(gotX, ex, mx, "x");
    assertClose(gotY, ey, my, "y");
  }

  @Test
  void gatherAndScatterRowsMoveWholeRowsBySlot() {
    int rows = 12, w = 5;
    float[] slab = randomFloats(rows * w);
    int[] slots = {7, 0, 11, 3};
    float[] out = nans(slots.length * w);
    Floats fs = ops.up(slab), fo = ops.up(out);
    Ints fi = ops.up(slots);
    backend.gatherRows(fs, w, fi, slots.length, fo);
    backend.download(fo, 0, out, 0, out.length);
    for (int k = 0; k < slots.length; k++) {
      for (int j = 0; j < w; j++) {
        assertThat(out[k * w + j]).as("out[%d, %d]", k, j).isEqualTo(slab[slots[k] * w + j]);
      }
    }

    float[] src = randomFloats(slots.length * w);
    backend.scatterRows(ops.up(src), fi, slots.length, fs, w);
    float[] got = new float[slab.length];
    backend.download(fs, 0, got, 0, got.length);
    float[] expected = slab.clone();
    for (int k = 0; k < slots.length; k++) {
      System.arraycopy(src, k * w, expected, slots[k] * w, w);
    }
    assertThat(got).containsExactly(expected);
  }

  @Test
  void scatterRowsToARepeatedSlotLeavesItsLastRow() {
    // many rows on few slots: one launch of them all would have threads race on each slot
    int rows = 16, w = 8, n = 4096;
    float[] slab = randomFloats(rows * w);
    int[] slots = randomInts(n, rows - 1); // the last row is never written
    float[] src = randomFloats(n * w);
    Floats fs = ops.up(slab);

    backend.scatterRows(ops.up(src), ops.up(slots), n, fs, w);

    float[] got = new float[slab.length];
    backend.download(fs, 0, got, 0, got.length);
    float[] expected = slab.clone();
    for (int k = 0; k < n; k++) {
      System.arraycopy(src, k * w, expected, slots[k] * w, w);
    }
    assertThat(got).containsExactly(expected);
  }

  @Test
  void gatherIndexedBroadcastsRowsAndScatterAddIndexedSumsThemBack() {
    int units = 4, cols = 3, n = 9, stride = 7, col = 2;
    float[] src = randomFloats(units * cols);
    int[] index = {3, 0, 0, 2, 3, 3, 1, 0, 2};
    float[] dst = randomFloats(n * stride);
    float[] dstBefore = dst.clone();
    Floats fd = ops.up(dst);
    Ints fi = ops.up(index);
    backend.gatherIndexed(ops.up(src), cols, fi, n, fd, stride, col);
    backend.download(fd, 0, dst, 0, dst.length);
    float[] expected = dstBefore.clone();
    for (int i = 0; i < n; i++) {
      System.arraycopy(src, index[i] * cols, expected, i * stride + col, cols);
    }
    assertThat(dst).containsExactly(expected);

    float[] acc = randomFloats(units * cols);
    float[] accBefore = acc.clone();
    Floats fa = ops.up(acc);
    backend.scatterAddIndexed(fd, stride, col, cols, fi, n, fa);
    backend.download(fa, 0, acc, 0, acc.length);
    double[] e = toDouble(accBefore), m = abs(accBefore);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < cols; j++) {
        e[index[i] * cols + j] += dst[i * stride + col + j];
        m[index[i] * cols + j] += Math.abs(dst[i * stride + col + j]);
      }
    }
    assertClose(acc, e, m, "dst");
  }

  // ---- dense layers ---------------------------------------------------------------------------

  @ParameterizedTest(name = "transA={0} transB={1}")
  @org.junit.jupiter.params.provider.CsvSource({
    "false,false",
    "false,true",
    "true,false",
    "true,true"
  })
  void gemmMatchesTheProductForEveryLayout(boolean transA, boolean transB) {
    // sizes that are not multiples of any tile, offsets and leading dimensions larger than the rows
    int m = 37, n = 45, k = 70, aOff = 3, bOff = 5, cOff = 2;
    int lda = (transA ? m : k) + 4, ldb = (transB ? k : n) + 2, ldc = n + 3;
    float[] a = randomFloats(aOff + (transA ? k : m) * lda);
    float[] b = randomFloats(bOff + (transB ? n : k) * ldb);
    for (float beta : new float[] {0f, 0.5f}) {
      float[] c = randomFloats(cOff + m * ldc);
      if (beta == 0f) {
        for (int r = 0; r < m; r++) {
          java.util.Arrays.fill(
              c, cOff + r * ldc, cOff + r * ldc + n, Float.NaN); // not read when beta == 0
        }
      }
      float[] cBefore = c.clone();
      float alpha = 1.25f;
      Floats fc = ops.up(c);
      backend.gemm(
          transA, transB, m, n, k, alpha, ops.up(a), aOff, lda, ops.up(b), bOff, ldb, beta, fc,
          cOff, ldc);
      backend.download(fc, 0, c, 0, c.length);
      double[] e = toDouble(cBefore), mag = abs(cBefore);
      for (int r = 0; r < m; r++) {
        for (int j = 0; j < n; j++) {
          double s = 0, sm = 0;
          for (int p = 0; p < k; p++) {
            double av = transA ? a[aOff + p * lda + r] : a[aOff + r * lda + p];
            double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
            s += av * bv;
            sm += Math.abs(av * bv);
          }
          int at = cOff + r * ldc + j;
          e[at] = alpha * s + (beta == 0f ? 0 : beta * cBefore[at]);
          mag[at] = Math.abs(alpha) * sm + (beta == 0f ? 0 : Math.abs(beta * cBefore[at]));
        }
      }
      assertClose(c, e, mag, "C (beta=" + beta + ")");
    }
  }

  /**
   * relu keeps a NaN, as the CPU's {@code Math.max} does, so that a tower's NaN reaches the loss
   * and its batch is skipped on every backend: the CUDA kernel's {@code fmaxf} turned it into 0,
   * and a batch the CPU skipped trained on the GPU.
   */
  @Test
  void reluKeepsANotANumberAndGivesPlusZeroForMinusZero() {
    float[] x = {Float.NaN, -1f, 2f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
    Floats fx = ops.up(x);
    backend.relu(fx, x.length);
    float[] out = new float[x.length];
    backend.download(fx, 0, out, 0, out.length);
    assertThat(out).containsExactly(Float.NaN, 0f, 2f, 0f, 0f, Float.POSITIVE_INFINITY);
    assertThat(Float.floatToRawIntBits(out[3])).as("+0 for -0").isZero();
  }

  @Test
  void biasReluAndTheirBackwardsFollowTheirFormulas() {
    int rows = 19, cols = 6;
    float[] y = randomFloats(rows * cols), bias = randomFloats(cols + 2);
    Floats fy = ops.up(y), fb = ops.up(bias);
    backend.addBias(fy, rows, cols, fb, 2);
    backend.relu(fy, rows * cols);
    float[] out = new float[y.length];
    backend.download(fy, 0, out, 0, out.length);
    for (int i = 0; i < y.length; i++) {
      assertThat(out[i])
          .as("relu(y + bias)[%d]", i)
          .isEqualTo(Math.max(y[i] + bias[2 + i % cols], 0f));
    }

    float[] dy = randomFloats(rows * cols);
    Floats fdy = ops.up(dy);
    backend.reluBackward(fy, fdy, rows * cols);
    float[] dBias = randomFloats(cols + 1), dBiasBefore = dBias.clone();
    Floats fdb = ops.up(dBias);
    backend.biasGrad(fdy, rows, cols, fdb, 1);
    float[] gotDy = new float[dy.length];
    backend.download(fdy, 0, gotDy, 0, dy.length);
    backend.download(fdb, 0, dBias, 0, dBias.length);
    double[] e = toDouble(dBiasBefore), mag = abs(dBiasBefore);
    for (int i = 0; i < dy.length; i++) {
      float expected = out[i] > 0 ? dy[i] : 0f;
      assertThat(gotDy[i]).as("dy[%d]", i).isEqualTo(expected);
      e[1 + i % cols] += expected;
      mag[1 + i % cols] += Math.abs(expected);
    }
    assertClose(dBias, e, mag, "dBias");
  }

  @ParameterizedTest(name = "accumulate={0}")
  @ValueSource(booleans = {false, true})
  void copy2dAndMul2dWorkOnStridedBlocks(boolean accumulate) {
    int rows = 6, cols = 4;
    float[] a = randomFloats(rows * 9), b = randomFloats(rows * 5), out = randomFloats(rows * 8);
    float[] outBefore = out.clone();
    Floats fo = ops.up(out);
    backend.mul2d(ops.up(a), 9, 3, ops.up(b), 5, 1, fo, 8, 2, rows, cols, accumulate);
    backend.download(fo, 0, out, 0, out.length);
    double[] e = toDouble(outBefore), mag = abs(outBefore);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double p = (double) a[r * 9 + 3 + c] * b[r * 5 + 1 + c];
        e[r * 8 + 2 + c] = accumulate ? e[r * 8 + 2 + c] + p : p;
        mag[r * 8 + 2 + c] = (accumulate ? mag[r * 8 + 2 + c] : 0) + Math.abs(p);
      }
    }
    assertClose(out, e, mag, "out");

    float[] dst = randomFloats(rows * 7), expected = dst.clone();
    Floats fd = ops.up(dst);
    backend.copy2d(ops.up(a), 9, 4, fd, 7, 3, rows, cols);
    backend.download(fd, 0, dst, 0, dst.length);
    for (int r = 0; r < rows; r++) {
      System.arraycopy(a, r * 9 + 4, expected, r * 7 + 3, cols);
    }
    assertThat(dst).containsExactly(expected);
  }

  /**
   * The label weights' use of {@code mul2d}: in place ({@code out} is {@code a}), with {@code b}
   * one row read for every row (a stride of 0), so each column is scaled by its weight.
   */
  @Test
  void mul2dScalesEachColumnInPlaceByARowOfStrideZero() {
    int rows = 1000, cols = 3;
    float[] g = randomFloats(rows * cols);
    float[] w = {2f, 0.25f, 1f};
    Floats fg = ops.up(g);
    backend.mul2d(fg, cols, 0, ops.up(w), 0, 0, fg, cols, 0, rows, cols, false);
    float[] got = new float[g.length];
    backend.download(fg, 0, got, 0, got.length);
    for (int k = 0; k < g.length; k++) {
      assertThat(got[k]).as("g[%d]", k).isEqualTo(g[k] * w[k % cols]);
    }
  }

  @Test
  void clipNormReturnsTheNormAndScalesOnlyAboveTheLimit() {
    int n = 3000;
    float[] g = randomFloats(n);
    double sq = 0;
    for (float x : g) {
      sq += (double) x * x;
    }
    double norm = Math.sqrt(sq);
    Floats fg = ops.up(g);
    assertThat(backend.clipNorm(fg, n, (float) (norm * 2)))
        .isCloseTo(norm, within(RELATIVE_TOLERANCE * norm));
    float[] same = new float[n];
    backend.download(fg, 0, same, 0, n);
    assertThat(same).containsExactly(g);

    assertThat(backend.clipNorm(fg, n, 1.5f)).isCloseTo(norm, within(RELATIVE_TOLERANCE * norm));
    float[] got = new float[n];
    backend.download(fg, 0, got, 0, n);
    double[] e = new double[n], mag = new double[n];
    for (int i = 0; i < n; i++) {
      e[i] = g[i] * 1.5 / norm;
      mag[i] = Math.abs(e[i]);
    }
    assertClose(got, e, mag, "g");
  }

  // ---- gradients of the composed model ------------------------------------------------------

  /** Central differences in float64 are exact to ~1e-9 here; the backward runs in float32. */
  static final double GRADIENT_TOLERANCE = 1e-4;

  /** Step of the central differences. */
  static final double FD_STEP = 1e-5;

  /**
   * A small two-tower model on one slab: each unit's request tower is the sum of its request bag,
   * each impression's tower the mean of its item bag, logit = dot(request tower, impression tower),
   * loss = summed BCE. The backward ops must give the gradient of that loss with respect to every
   * value in the slab, as central differences of the same loss in float64 measure it.
   */
  @Test
  void backwardOpsGiveTheGradientOfPoolDotAndBce() {
    int rows = 10, rowWidth = 6, col = 1, dim = 4;
    float[] slab = randomFloats(rows * rowWidth);
    for (int i = 0; i < slab.length; i++) {
      slab[i] *= 0.5f;
    }
    Towers m = new Towers();
    m.reqOffsets = offsets(new int[] {2, 3, 1});
    m.reqSlots = randomInts(6, rows);
    m.impOffsets = offsets(new int[] {1, 2, 0, 3, 1, 2});
    m.impSlots = randomInts(9, rows);
    m.aIndex = new int[] {0, 0, 1, 2, 2, 2};
    m.labels = new float[] {1, 0, 0, 1, 0, 1};
    int units = 3, n = 6;

    // forward on the backend
    float[] a = new float[units * dim], b = new float[n * dim], logits = new float[n];
    ops.poolBags(
        slab,
        rowWidth,
        col,
        dim,
        m.reqSlots,
        m.reqOffsets,
        units,
        identity(units),
        false,
        a,
        dim,
        0);
    ops.poolBags(
        slab, rowWidth, col, dim, m.impSlots, m.impOffsets, n, identity(n), true, b, dim, 0);
    ops.broadcastDot(a, m.aIndex, b, n, dim, logits);
    float[] prob = nans(n), g = nans(n);
    double loss = ops.sigmoidBce(logits, m.labels, n, 1f, prob, g);
    // backward on the backend; a row's index among the distinct rows is its slot here
    float[] gradA = new float[units * dim],
        gradB = new float[n * dim],
        rowGrad = new float[rows * dim];
    ops.broadcastDotBackward(a, m.aIndex, b, n, dim, g, gradA, gradB);
    ops.poolBagsBackward(
        m.reqSlots, m.reqOffsets, units, identity(units), false, gradA, dim, 0, dim, rowGrad);
    ops.poolBagsBackward(
        m.impSlots, m.impOffsets, n, identity(n), true, gradB, dim, 0, dim, rowGrad);

    double[] x = toDouble(slab);
    assertThat(loss)
        .isCloseTo(m.loss(x, rowWidth, col, dim), within(RELATIVE_TOLERANCE * Math.abs(loss)));
    double[] numeric = new double[rows * dim];
    double largest = 0;
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < dim; j++) {
        int at = r * rowWidth + col + j;
        double keep = x[at];
        x[at] = keep + FD_STEP;
        double up = m.loss(x, rowWidth, col, dim);
        x[at] = keep - FD_STEP;
        double down = m.loss(x, rowWidth, col, dim);
        x[at] = keep;
        numeric[r * dim + j] = (up - down) / (2 * FD_STEP);
        largest = Math.max(largest, Math.abs(numeric[r * dim + j]));
      }
    }
    assertThat(largest).as("the check needs a gradient to compare").isGreaterThan(0.01);
    for (int i = 0; i < numeric.length; i++) {
      assertThat((double) rowGrad[i])
          .as("d loss / d slab[row %d, col %d]", i / dim, col + i % dim)
          .isCloseTo(numeric[i], within(GRADIENT_TOLERANCE * largest));
    }
  }

  /** The composed model of the gradient check, in float64. */
  static final class Towers {
    int[] reqOffsets, reqSlots, impOffsets, impSlots, aIndex;
    float[] labels;

    double loss(double[] slab, int rowWidth, int col, int dim) {
      int units = reqOffsets.length - 1, n = impOffsets.length - 1;
      double[][] a = pool(slab, rowWidth, col, dim, reqSlots, reqOffsets, units, false);
      double[][] b = pool(slab, rowWidth, col, dim, impSlots, impOffsets, n, true);
      double loss = 0;
      for (int i = 0; i < n; i++) {
        double z = 0;
        for (int j = 0; j < dim; j++) {
          z += a[aIndex[i]][j] * b[i][j];
        }
        double p = 1 / (1 + Math.exp(-z));
        loss -= labels[i] * Math.log(p) + (1 - labels[i]) * Math.log(1 - p);
      }
      return loss;
    }

    private static double[][] pool(
        double[] slab,
        int rowWidth,
        int col,
        int dim,
        int[] slots,
        int[] offsets,
        int bags,
        boolean mean) {
      double[][] out = new double[bags][dim];
      for (int bag = 0; bag < bags; bag++) {
        int size = offsets[bag + 1] - offsets[bag];
        for (int k = offsets[bag]; k < offsets[bag + 1]; k++) {
          for (int j = 0; j < dim; j++) {
            out[bag][j] += slab[slots[k] * rowWidth + col + j] / (mean ? size : 1);
          }
        }
      }
      return out;
    }
  }

  static int[] identity(int n) {
    int[] x = new int[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
    }
    return x;
  }

  /**
   * The backend's operations over host arrays, for tests: each call uploads its operands into fresh
   * buffers of the backend, runs the operation, and downloads every float operand back into its
   * array (so an operation that writes where it must not is caught too).
   */
  static final class ArrayOps {
    private final ComputeBackend b;

    ArrayOps(ComputeBackend b) {
      this.b = b;
    }

    Floats up(float[] x) {
      Floats f = b.allocFloats(Math.max(1, x.length));
      b.upload(x, 0, f, 0, x.length);
      return f;
    }

    Ints up(int[] x) {
      Ints f = b.allocInts(Math.max(1, x.length));
      b.upload(x, 0, f, 0, x.length);
      return f;
    }

    void down(Floats f, float[] x) {
      b.download(f, 0, x, 0, x.length);
      f.close();
    }

    void poolBags(
        float[] slab,
        int rowWidth,
        int col,
        int width,
        int[] slots,
        int[] bagOffsets,
        int nBags,
        int[] bagTarget,
        boolean mean,
        float[] out,
        int outStride,
        int outCol) {
      Floats s = up(slab), o = up(out);
      b.poolBags(
          s,
          rowWidth,
          col,
          width,
          up(slots),
          up(bagOffsets),
          nBags,
          up(bagTarget),
          mean,
          o,
          outStride,
          outCol);
      down(s, slab);
      down(o, out);
    }

    void poolBagsBackward(
        int[] rowIndex,
        int[] bagOffsets,
        int nBags,
        int[] bagTarget,
        boolean mean,
        float[] grad,
        int gradStride,
        int gradCol,
        int width,
        float[] rowGrad) {
      Floats g = up(grad), r = up(rowGrad);
      b.poolBagsBackward(
          up(rowIndex),
          up(bagOffsets),
          nBags,
          up(bagTarget),
          mean,
          g,
          gradStride,
          gradCol,
          width,
          r);
      down(g, grad);
      down(r, rowGrad);
    }

    void rowwiseAdagrad(
        float[] slab,
        int rowWidth,
        int col,
        int width,
        int stateCol,
        int[] slots,
        int nRows,
        float[] rowGrad,
        float lr,
        float eps) {
      Floats s = up(slab), g = up(rowGrad);
      b.rowwiseAdagrad(s, rowWidth, col, width, stateCol, up(slots), nRows, g, lr, eps);
      down(s, slab);
      down(g, rowGrad);
    }

    void ftrlProximal(
        float[] slab,
        int rowWidth,
        int col,
        int width,
        int stateCol,
        int[] slots,
        int nRows,
        float[] rowGrad,
        float alpha,
        float beta,
        float l1,
        float l2) {
      Floats s = up(slab), g = up(rowGrad);
      b.ftrlProximal(s, rowWidth, col, width, stateCol, up(slots), nRows, g, alpha, beta, l1, l2);
      down(s, slab);
      down(g, rowGrad);
    }

    void broadcastDot(float[] a, int[] aIndex, float[] bb, int n, int dim, float[] out) {
      Floats fa = up(a), fb = up(bb), o = up(out);
      b.broadcastDot(fa, up(aIndex), fb, n, dim, o);
      down(fa, a);
      down(fb, bb);
      down(o, out);
    }

    void broadcastDotBackward(
        float[] a,
        int[] aIndex,
        float[] bb,
        int n,
        int dim,
        float[] g,
        float[] gradA,
        float[] gradB) {
      Floats fa = up(a), fb = up(bb), fg = up(g), ga = up(gradA), gb = up(gradB);
      b.broadcastDotBackward(fa, up(aIndex), fb, n, dim, fg, ga, gb);
      down(fa, a);
      down(fb, bb);
      down(fg, g);
      down(ga, gradA);
      down(gb, gradB);
    }

    void fieldDots(
        float[] a,
        int aStride,
        int aCol,
        int fa,
        int[] aIndex,
        float[] bb,
        int bStride,
        int bCol,
        int fb,
        int n,
        int dim,
        float[] out) {
      Floats fA = up(a), fB = up(bb), o = up(out);
      b.fieldDots(
          new FieldBlocks(fA, aStride, aCol, fa),
          up(aIndex),
          new FieldBlocks(fB, bStride, bCol, fb),
          n,
          dim,
          o);
      down(fA, a);
      down(fB, bb);
      down(o, out);
    }

    void fieldDotsBackward(
        float[] a,
        int aStride,
        int aCol,
        int fa,
        int[] aIndex,
        float[] bb,
        int bStride,
        int bCol,
        int fb,
        int n,
        int dim,
        float[] g,
        float[] gradA,
        float[] gradB) {
      Floats fA = up(a), fB = up(bb), fg = up(g), ga = up(gradA), gb = up(gradB);
      b.fieldDotsBackward(
          new FieldBlocks(fA, aStride, aCol, fa),
          up(aIndex),
          new FieldBlocks(fB, bStride, bCol, fb),
          n,
          dim,
          fg,
          ga,
          gb);
      down(fA, a);
      down(fB, bb);
      down(fg, g);
      down(ga, gradA);
      down(gb, gradB);
    }

    double sigmoidBce(
        float[] logits, float[] labels, int n, float scale, float[] prob, float[] grad) {
      Floats l = up(logits), y = up(labels), p = up(prob), g = up(grad);
      double loss = b.sigmoidBce(l, y, n, scale, p, g);
      down(l, logits);
      down(y, labels);
      down(p, prob);
      down(g, grad);
      return loss;
    }

    void adam(
        float[] w,
        float[] grad,
        float[] m,
        float[] v,
        int n,
        long step,
        float lr,
        float beta1,
        float beta2,
        float eps) {
      Floats fw = up(w), fg = up(grad), fm = up(m), fv = up(v);
      b.adam(fw, fg, fm, fv, n, step, lr, beta1, beta2, eps);
      down(fw, w);
      down(fg, grad);
      down(fm, m);
      down(fv, v);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Uniform in ±[0.1, 1): never zero, never tiny. */
  float[] randomFloats(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      float u = 0.1f + 0.9f * rnd.nextFloat();
      x[i] = rnd.nextBoolean() ? u : -u;
    }
    return x;
  }

  int[] randomInts(int n, int bound) {
    int[] x = new int[n];
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextInt(bound);
    }
    return x;
  }

  static int[] offsets(int[] sizes) {
    int[] o = new int[sizes.length + 1];
    for (int i = 0; i < sizes.length; i++) {
      o[i + 1] = o[i] + sizes[i];
    }
    return o;
  }

  static float[] nans(int n) {
    float[] x = new float[n];
    Arrays.fill(x, Float.NaN);
    return x;
  }

  static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }

  static double[] abs(float[] x) {
    double[] d = toDouble(x);
    for (int i = 0; i < d.length; i++) {
      d[i] = Math.abs(d[i]);
    }
    return d;
  }

  static void assertClose(float[] actual, double[] expected, double[] magnitude, String what) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < actual.length; i++) {
      assertThat((double) actual[i])
          .as("%s[%d]", what, i)
          .isCloseTo(expected[i], within(RELATIVE_TOLERANCE * magnitude[i]));
    }
  }
}
