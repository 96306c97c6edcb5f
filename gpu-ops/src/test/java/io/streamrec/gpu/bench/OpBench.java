package io.streamrec.gpu.bench;

import io.streamrec.gpu.BackendMode;
import io.streamrec.gpu.Backends;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CudaBackend;
import io.streamrec.gpu.FieldBlocks;
import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Achieved memory bandwidth of each {@link io.streamrec.gpu.ComputeBackend} operation, against the
 * backend's own copy bandwidth ({@code copy} of a 256 MiB buffer: device-to-device memcpy on CUDA,
 * {@code System.arraycopy} on the CPU). Each operation's bytes are the least it must move (every
 * input read once, every output written once; gathered rows counted once per use), so the ratio
 * says how close the kernel runs to the memory system's limit. Workload: an embedding slab of 512K
 * rows of 64 values + state, batches of 256K rows / 64K bags of 8, dense vectors of 16M floats, a
 * gemm of 8192x256x256.
 *
 * <p>Run (after {@code mvn -B -q -o install -DskipTests -pl gpu-ops}): {@code
 * scripts/gpu-check.sh}, or
 *
 * <pre>
 *   mvn -B -q -o -pl gpu-ops test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp gpu-ops/target/test-classes:gpu-ops/target/classes:$(cat gpu-ops/target/cp.txt) \
 *     io.streamrec.gpu.bench.OpBench --backend cuda
 * </pre>
 *
 * Prints one {@code OP} line per operation (name, ms, GB/s, fraction of copy bandwidth).
 */
public final class OpBench {
  private static final int DIM = 64;
  private static final int ROW_WIDTH = DIM + 2;
  private static final int SLAB_ROWS = 512 * 1024;
  private static final int BATCH_ROWS = 256 * 1024;
  private static final int BAGS = 64 * 1024;
  private static final int BAG_SIZE = 8;
  private static final int DENSE = 16 << 20;
  private static final int COPY_FLOATS = 64 << 20;

  private OpBench() {}

  private record Row(String op, double ms, double gbs, String note) {}

  public static void main(String[] args) {
    String mode = "auto";
    int iters = 20;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--backend" -> mode = args[++i];
        case "--iters" -> iters = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument " + args[i] + "; use --backend auto|cpu|cuda --iters N");
      }
    }
    try (ComputeBackend b = Backends.create(BackendMode.parse(mode))) {
      String device =
          b instanceof CudaBackend c
              ? c.deviceName()
              : "cpu (1 thread"
                  + (mode.equals("auto") ? "; auto: " + CudaBackend.unavailableReason() : "")
                  + ")";
      run(b, device, iters);
    }
  }

  private static void run(ComputeBackend b, String device, int iters) {
    Random rnd = new Random(1);
    List<Row> rows = new ArrayList<>();
    Floats big1 = b.allocFloats(COPY_FLOATS), big2 = b.allocFloats(COPY_FLOATS);
    double copyMs = time(b, iters, () -> b.copy(big1, 0, big2, 0, COPY_FLOATS));
    double copyGbs = 2.0 * 4 * COPY_FLOATS / copyMs / 1e6;
    big1.close();
    big2.close();

    Floats slab = b.allocFloats(SLAB_ROWS * ROW_WIDTH);
    b.upload(randomFloats(rnd, SLAB_ROWS * ROW_WIDTH, 0.1f), 0, slab, 0, SLAB_ROWS * ROW_WIDTH);
    int[] distinct = distinctSlots(rnd, BATCH_ROWS, SLAB_ROWS);
    Ints slots = ints(b, distinct);
    Floats rowsBuf = b.allocFloats(BATCH_ROWS * ROW_WIDTH);
    long rowBytes = 4L * ROW_WIDTH * BATCH_ROWS;
    rows.add(
        row(
            "gatherRows",
            time(b, iters, () -> b.gatherRows(slab, ROW_WIDTH, slots, BATCH_ROWS, rowsBuf)),
            2 * rowBytes + 4L * BATCH_ROWS,
            BATCH_ROWS + " rows x " + ROW_WIDTH));
    rows.add(
        row(
            "scatterRows",
            time(b, iters, () -> b.scatterRows(rowsBuf, slots, BATCH_ROWS, slab, ROW_WIDTH)),
            2 * rowBytes + 4L * BATCH_ROWS,
            BATCH_ROWS + " rows x " + ROW_WIDTH));

    int entries = BAGS * BAG_SIZE;
    int[] entrySlots = new int[entries];
    int[] rowIndex = new int[entries];
    for (int k = 0; k < entries; k++) {
      rowIndex[k] = rnd.nextInt(BATCH_ROWS);
      entrySlots[k] = distinct[rowIndex[k]];
    }
    int[] offsets = new int[BAGS + 1];
    int[] target = new int[BAGS];
    for (int i = 0; i < BAGS; i++) {
      offsets[i + 1] = offsets[i] + BAG_SIZE;
      target[i] = i;
    }
    Ints eSlots = ints(b, entrySlots),
        eRows = ints(b, rowIndex),
        off = ints(b, offsets),
        tgt = ints(b, target);
    Floats pooled = b.allocFloats(BAGS * DIM);
    rows.add(
        row(
            "poolBags (mean)",
            time(
                b,
                iters,
                () ->
                    b.poolBags(
                        slab, ROW_WIDTH, 0, DIM, eSlots, off, BAGS, tgt, true, pooled, DIM, 0)),
            4L * entries * DIM + 2 * 4L * BAGS * DIM + 4L * (entries + 2 * BAGS),
            BAGS + " bags of " + BAG_SIZE));
    Floats rowGrad = b.allocFloats(BATCH_ROWS * DIM);
    rows.add(
        row(
            "poolBagsBackward",
            time(
                b,
                iters,
                () ->
                    b.poolBagsBackward(eRows, off, BAGS, tgt, true, pooled, DIM, 0, DIM, rowGrad)),
            4L * entries * DIM + 2 * 4L * BATCH_ROWS * DIM + 4L * (2 * entries + 2 * BAGS),
            "into " + BATCH_ROWS + " distinct rows"));
    b.scale(rowGrad, 0, BATCH_ROWS * DIM, 1e-3f);
    rows.add(
        row(
            "rowwiseAdagrad",
            time(
                b,
                iters,
                () ->
                    b.rowwiseAdagrad(
                        slab, ROW_WIDTH, 0, DIM, DIM, slots, BATCH_ROWS, rowGrad, 1e-3f, 1e-8f)),
            4L * BATCH_ROWS * DIM + 2 * 4L * BATCH_ROWS * (DIM + 1) + 4L * BATCH_ROWS,
            BATCH_ROWS + " rows, in place"));

    int units = BATCH_ROWS / 8;
    int[] aIndex = new int[BATCH_ROWS];
    for (int i = 0; i < BATCH_ROWS; i++) {
      aIndex[i] = i / 8;
    }
    Ints ai = ints(b, aIndex);
    Floats a = b.allocFloats(units * DIM),
        g = b.allocFloats(BATCH_ROWS),
        dots = b.allocFloats(BATCH_ROWS);
    Floats gradA = b.allocFloats(units * DIM), gradB = b.allocFloats(BATCH_ROWS * DIM);
    b.upload(randomFloats(rnd, BATCH_ROWS, 1e-3f), 0, g, 0, BATCH_ROWS);
    rows.add(
        row(
            "broadcastDot",
            time(b, iters, () -> b.broadcastDot(a, ai, rowGrad, BATCH_ROWS, DIM, dots)),
            4L * BATCH_ROWS * DIM + 4L * units * DIM + 4L * 3 * BATCH_ROWS,
            BATCH_ROWS + " x " + DIM + ", 8 per unit"));
    rows.add(
        row(
            "broadcastDotBackward",
            time(
                b,
                iters,
                () -> b.broadcastDotBackward(a, ai, rowGrad, BATCH_ROWS, DIM, g, gradA, gradB)),
            4L * BATCH_ROWS * DIM * 3 + 4L * units * DIM * 3 + 4L * 2 * BATCH_ROWS,
            BATCH_ROWS + " x " + DIM));
    // the field-weighted cross of the bank stream's shape (4 request x 8 impression fields), on a
    // sixteenth of the rows: its impression side is 8 fields wide
    int fa = 4, fb = 8, pairs = fa * fb, fn = BATCH_ROWS / 16, fu = fn / 8;
    FieldBlocks fieldsA = new FieldBlocks(b.allocFloats(fu * fa * DIM), fa * DIM, 0, fa),
        fieldsB = new FieldBlocks(b.allocFloats(fn * fb * DIM), fb * DIM, 0, fb);
    Floats pairDots = b.allocFloats(fn * pairs),
        fieldsGradA = b.allocFloats(fu * fa * DIM),
        fieldsGradB = b.allocFloats(fn * fb * DIM);
    b.upload(randomFloats(rnd, fu * fa * DIM, 1f), 0, fieldsA.data(), 0, fu * fa * DIM);
    b.upload(randomFloats(rnd, fn * fb * DIM, 1f), 0, fieldsB.data(), 0, fn * fb * DIM);
    rows.add(
        row(
            "fieldDots",
            time(b, iters, () -> b.fieldDots(fieldsA, ai, fieldsB, fn, DIM, pairDots)),
            4L * fn * fb * DIM + 4L * fu * fa * DIM + 4L * fn * (pairs + 1),
            fn + " x " + fa + " x " + fb + " pairs of " + DIM));
    rows.add(
        row(
            "fieldDotsBackward",
            time(
                b,
                iters,
                () ->
                    b.fieldDotsBackward(
                        fieldsA, ai, fieldsB, fn, DIM, pairDots, fieldsGradA, fieldsGradB)),
            4L * fn * fb * DIM * 3 + 4L * fu * fa * DIM * 3 + 4L * fn * (pairs + 1),
            fn + " x " + fa + " x " + fb + " pairs of " + DIM));
    Floats wide = b.allocFloats(BATCH_ROWS * 2 * DIM);
    rows.add(
        row(
            "gatherIndexed",
            time(b, iters, () -> b.gatherIndexed(a, DIM, ai, BATCH_ROWS, wide, 2 * DIM, DIM)),
            4L * units * DIM + 4L * BATCH_ROWS * DIM + 4L * BATCH_ROWS,
            BATCH_ROWS + " x " + DIM));
    rows.add(
        row(
            "scatterAddIndexed",
            time(
                b,
                iters,
                () -> b.scatterAddIndexed(wide, 2 * DIM, DIM, DIM, ai, BATCH_ROWS, gradA)),
            4L * BATCH_ROWS * DIM + 2 * 4L * units * DIM + 4L * BATCH_ROWS,
            BATCH_ROWS + " x " + DIM + ", 8 per unit"));

    int m = 8192, n = 256, k = 256;
    Floats ga = b.allocFloats(m * k), gb = b.allocFloats(k * n), gc = b.allocFloats(m * n);
    b.upload(randomFloats(rnd, m * k, 1f), 0, ga, 0, m * k);
    b.upload(randomFloats(rnd, k * n, 1f), 0, gb, 0, k * n);
    double gemmMs =
        time(b, iters, () -> b.gemm(false, false, m, n, k, 1f, ga, 0, k, gb, 0, n, 0f, gc, 0, n));
    rows.add(
        row(
            "gemm NN",
            gemmMs,
            4L * (m * k + k * n + m * n),
            String.format(
                Locale.ROOT, "%dx%dx%d, %.0f GFLOP/s", m, n, k, 2.0 * m * n * k / gemmMs / 1e6)));
    double gemmTnMs =
        time(b, iters, () -> b.gemm(true, false, k, n, m, 1f, ga, 0, k, gc, 0, n, 0f, gb, 0, n));
    rows.add(
        row(
            "gemm TN (weight grad)",
            gemmTnMs,
            4L * (m * k + k * n + m * n),
            String.format(
                Locale.ROOT, "%dx%dx%d, %.0f GFLOP/s", k, n, m, 2.0 * m * n * k / gemmTnMs / 1e6)));
    rows.add(
        row(
            "addBias",
            time(b, iters, () -> b.addBias(gc, m, n, gb, 0)),
            2 * 4L * m * n + 4L * n,
            m + " x " + n));
    rows.add(
        row(
            "biasGrad",
            time(b, iters, () -> b.biasGrad(gc, m, n, gb, 0)),
            4L * m * n + 2 * 4L * n,
            m + " x " + n));

    Floats w = b.allocFloats(DENSE),
        dw = b.allocFloats(DENSE),
        mm = b.allocFloats(DENSE),
        vv = b.allocFloats(DENSE);
    b.upload(randomFloats(rnd, DENSE, 1f), 0, dw, 0, DENSE);
    rows.add(
        row("relu", time(b, iters, () -> b.relu(dw, DENSE)), 2 * 4L * DENSE, DENSE + " floats"));
    rows.add(
        row(
            "reluBackward",
            time(b, iters, () -> b.reluBackward(dw, w, DENSE)),
            3 * 4L * DENSE,
            DENSE + " floats"));
    rows.add(
        row(
            "axpy",
            time(b, iters, () -> b.axpy(DENSE, 0.5f, dw, 0, w, 0)),
            3 * 4L * DENSE,
            DENSE + " floats"));
    long[] step = {0};
    rows.add(
        row(
            "adam",
            time(
                b,
                iters,
                () -> b.adam(w, dw, mm, vv, DENSE, ++step[0], 1e-3f, 0.9f, 0.999f, 1e-8f)),
            7 * 4L * DENSE,
            DENSE + " floats"));
    rows.add(
        row(
            "sigmoidBce",
            time(b, iters, () -> b.sigmoidBce(dw, w, DENSE, 1f, mm, vv)),
            4 * 4L * DENSE,
            DENSE + " floats, incl. the loss copy-back"));
    rows.add(
        row(
            "clipNorm (no clip)",
            time(b, iters, () -> b.clipNorm(dw, DENSE, Float.MAX_VALUE)),
            4L * DENSE,
            DENSE + " floats, one block"));

    System.out.printf(
        Locale.ROOT,
        "%nbackend %s on %s; copy bandwidth %.1f GB/s (copy of %d MiB, read + write)%n",
        b.name(),
        device,
        copyGbs,
        4L * COPY_FLOATS >> 20);
    System.out.printf(
        Locale.ROOT, "%-24s %10s %10s %8s  %s%n", "operation", "ms", "GB/s", "of copy", "workload");
    for (Row r : rows) {
      System.out.printf(
          Locale.ROOT,
          "OP %-21s %10.3f %10.1f %7.0f%%  %s%n",
          r.op,
          r.ms,
          r.gbs,
          100 * r.gbs / copyGbs,
          r.note);
    }
  }

  private static Row row(String op, double ms, long bytes, String note) {
    return new Row(op, ms, bytes / ms / 1e6, note);
  }

  /** Mean milliseconds per call over {@code iters} calls after 3 warm-up calls, queue drained. */
  private static double time(ComputeBackend b, int iters, Runnable op) {
    for (int i = 0; i < 3; i++) {
      op.run();
    }
    sync(b);
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      op.run();
    }
    sync(b);
    return (System.nanoTime() - t0) / 1e6 / iters;
  }

  private static void sync(ComputeBackend b) {
    if (b instanceof CudaBackend c) {
      c.synchronize();
    }
  }

  private static Ints ints(ComputeBackend b, int[] x) {
    Ints i = b.allocInts(x.length);
    b.upload(x, 0, i, 0, x.length);
    return i;
  }

  private static float[] randomFloats(Random rnd, int n, float scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (rnd.nextFloat() * 2 - 1) * scale;
    }
    return x;
  }

  /** {@code n} distinct slots of {@code [0, bound)}, shuffled. */
  private static int[] distinctSlots(Random rnd, int n, int bound) {
    int[] all = new int[bound];
    for (int i = 0; i < bound; i++) {
      all[i] = i;
    }
    for (int i = 0; i < n; i++) {
      int j = i + rnd.nextInt(bound - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return java.util.Arrays.copyOf(all, n);
  }
}
