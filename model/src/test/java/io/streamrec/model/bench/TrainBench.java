package io.streamrec.model.bench;

import io.streamrec.common.Auc;
import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.embedding.TieredEmbeddingStore;
import io.streamrec.embedding.TieredStoreConfig;
import io.streamrec.gpu.BackendMode;
import io.streamrec.gpu.Backends;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.CudaBackend;
import io.streamrec.model.MiniBatchTrainer;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.baseline.HashedLogisticRegression;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Training throughput and quality of the reference model on one generated stream, next to its
 * variants and baselines, all in one run: the request-only deep model, the same model with the
 * summed cross, with wide crosses (unweighted and weighted per field pair), with FTRL-Proximal for
 * its wide rows, with its wide weights summed (not pooled per feature) and with its request tower
 * run once per impression, the model without its deep part, and hashed logistic regression with and
 * without the generator's true crosses. Every model sees the same minibatches in the same order and
 * scores each impression before learning from it (progressive validation). The models of the job
 * start from compact units, their values hashed before the clock starts, as the job's parallel
 * stages hash them before its trainer; the logistic regressions hash as they train. Each model runs
 * {@code --rounds} times (default 2) and its best rate is reported.
 *
 * <p>Run: {@code scripts/bench-train.sh} (which also runs the same model in PyTorch on the stream
 * this writes), or directly:
 *
 * <pre>
 *   mvn -B -q -o install -DskipTests -pl model -am &amp;&amp; mvn -B -q -o -pl model test-compile \
 *     dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp model/target/test-classes:model/target/classes:$(cat model/target/cp.txt) \
 *     io.streamrec.model.bench.TrainBench --units 150000 --jsonl /tmp/units.jsonl
 * </pre>
 *
 * With {@code --backend auto|cpu|cuda} it trains only the reference model, on that backend and on
 * the tiered store (as the job runs it), and prints its {@code RESULT} line, one per batch size of
 * {@code --batch} (a comma-separated list, e.g. {@code 128,1000,4000}), after a line saying which
 * backend runs ({@code scripts/gpu-run.sh} runs it once per backend).
 *
 * <p>Prints one {@code RESULT} line per model (name, impressions/s, progressive AUC over the last
 * 100,000 impressions) and the generator's oracle AUC over the same impressions.
 */
public final class TrainBench {
  private static final long T0 = 1_767_225_600_000L;
  private static final int WINDOW = 100_000;

  private TrainBench() {}

  public static void main(String[] args) throws IOException {
    int units = 150_000, batch = 128, rounds = 2;
    int[] batches = null;
    long seed = 7;
    Path jsonl = null;
    String backend = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--units" -> units = Integer.parseInt(args[++i]);
        case "--batch" -> {
          batches =
              java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
          batch = batches[0];
        }
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--jsonl" -> jsonl = Path.of(args[++i]);
        case "--backend" -> backend = args[++i];
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; use --units N --batch N[,N...] --seed N --rounds N --jsonl FILE"
                    + " --backend auto|cpu|cuda");
      }
    }
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(seed).withUsers(20_000).withItems(5_000));
    List<RequestUnit> stream = new ArrayList<>(units);
    List<double[]> oracle = new ArrayList<>();
    List<float[]> clicks = new ArrayList<>();
    long time = T0;
    BufferedWriter out =
        jsonl == null ? null : Files.newBufferedWriter(jsonl, StandardCharsets.UTF_8);
    for (int u = 0; u < units; u++) {
      GeneratedRequest g = gen.next(time += 10);
      stream.add(RequestUnits.of(g.request(), g.impressions(), time + 5_000));
      oracle.add(g.trueCtr());
      float[] c = new float[g.size()];
      for (int i = 0; i < c.length; i++) {
        c[i] = g.click(i);
      }
      clicks.add(c);
      if (out != null) {
        StringBuilder line =
            new StringBuilder("{\"request\":")
                .append(JsonEvents.toJson(g.request()))
                .append(",\"impressions\":[");
        List<ImpressionEvent> imps = g.impressions();
        for (int i = 0; i < imps.size(); i++) {
          line.append(i == 0 ? "" : ",").append(JsonEvents.toJson(imps.get(i)));
        }
        out.write(line.append("]}\n").toString());
      }
    }
    if (out != null) {
      out.close();
    }
    long imps = clicks.stream().mapToLong(c -> c.length).sum();
    System.out.printf(
        Locale.ROOT,
        "stream: %,d units, %,d impressions, minibatches of %s units; 1 training thread%n",
        units,
        imps,
        batches == null
            ? String.valueOf(batch)
            : java.util.Arrays.stream(batches)
                .mapToObj(String::valueOf)
                .collect(java.util.stream.Collectors.joining(", ")));
    System.out.printf(Locale.ROOT, "RESULT oracle - %.4f%n", oracleAuc(oracle, clicks));

    ModelConfig deep = ModelConfig.defaults();
    // the job hashes values into ids in its parallel decode and assemble stages: the trainer gets
    // compact units, so the trainer's figures start from them
    UnitEncoder encoder = new UnitEncoder(new UnitLayout(deep.features()));
    List<CompactUnit> encoded = new ArrayList<>(units);
    for (RequestUnit u : stream) {
      encoded.add(encoder.encode(u));
    }
    if (backend != null) {
      BackendMode mode = BackendMode.parse(backend);
      for (int r = 0; r < rounds; r++) {
        for (int b : batches == null ? new int[] {batch} : batches) {
          runOn(mode, encoded, b, deep, r == rounds - 1);
        }
      }
      return;
    }
    for (int r = 0; r < rounds; r++) {
      boolean last = r == rounds - 1;
      run("request-only deep model", encoded, batch, t -> {}, deep, last);
      run(
          "deep model, summed cross",
          encoded,
          batch,
          t -> {},
          deep.withFactorisedCross(ModelConfig.FactorisedCross.SUM),
          last);
      run(
          "deep model, wide crosses",
          encoded,
          batch,
          t -> {},
          deep.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION),
          last);
      run(
          "deep model, wide crosses weighted per field pair",
          encoded,
          batch,
          t -> {},
          deep.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED),
          last);
      run(
          "deep model, FTRL-Proximal wide rows",
          encoded,
          batch,
          t -> {},
          deep.withWideOptimizer(ModelConfig.WideOptimizer.FTRL),
          last);
      run(
          "deep model, wide weights summed",
          encoded,
          batch,
          t -> {},
          deep.withWidePooling(ModelConfig.WidePooling.SUM),
          last);
      run(
          "deep model, request tower per impression",
          encoded,
          batch,
          t -> t.setRequestOnly(false),
          deep,
          last);
      run(
          "wide + factorised (no deep part)",
          encoded,
          batch,
          t -> {},
          deep.withTowers(ModelConfig.Towers.NONE),
          last);
      runLr("logistic regression", stream, batch, List.of(), last);
      runLr(
          "logistic regression + country x category",
          stream,
          batch,
          List.<String[]>of(new String[] {"country", "item_cat"}),
          last);
      runLr(
          "logistic regression + country x category + user x item",
          stream,
          batch,
          List.of(new String[] {"country", "item_cat"}, new String[] {"user_id", "item_id"}),
          last);
    }
  }

  /** The best rate of each model over the rounds so far (the machine is noisy; the JIT warms). */
  private static final java.util.Map<String, Double> BEST = new java.util.HashMap<>();

  private static void run(
      String name,
      List<CompactUnit> stream,
      int batch,
      Consumer<MiniBatchTrainer> setup,
      ModelConfig cfg,
      boolean print) {
    try (MiniBatchTrainer t =
        new MiniBatchTrainer(
            cfg, new InMemoryEmbeddingStore(cfg.tableConfigs()), new CpuBackend(), WINDOW)) {
      setup.accept(t);
      settle();
      long t0 = System.nanoTime();
      for (int i = 0; i < stream.size(); i += batch) {
        t.train(stream.subList(i, Math.min(stream.size(), i + batch)));
      }
      report(name, t.impressionsTrained(), System.nanoTime() - t0, t.metrics().auc(), print);
    }
  }

  /**
   * The reference model on one backend, on the tiered store as the job runs it (hot rows in the
   * backend's memory: device memory on CUDA) in a temporary directory.
   */
  private static void runOn(
      BackendMode mode, List<CompactUnit> stream, int batch, ModelConfig cfg, boolean print)
      throws IOException {
    Path dir = Files.createTempDirectory("trainbench-store");
    ComputeBackend backend = Backends.create(mode);
    if (BEST.isEmpty()) {
      System.out.println("backend: " + describe(mode, backend));
    }
    String name =
        "request-only deep model [" + backend.name() + ", tiered store, " + batch + " units/batch]";
    try (MiniBatchTrainer t =
        new MiniBatchTrainer(
            cfg,
            TieredEmbeddingStore.create(TieredStoreConfig.of(dir), cfg.tableConfigs(), backend),
            backend,
            WINDOW)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < stream.size(); i += batch) {
        t.train(stream.subList(i, Math.min(stream.size(), i + batch)));
      }
      report(name, t.impressionsTrained(), System.nanoTime() - t0, t.metrics().auc(), print);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /**
   * Which backend runs and why: the device for CUDA; for the CPU, that it trains on one thread, and
   * under {@code auto} the reason CUDA is not used.
   */
  private static String describe(BackendMode mode, ComputeBackend backend) {
    if (backend instanceof CudaBackend c) {
      return "cuda on " + c.deviceName();
    }
    String cpu = backend.name() + " (CpuBackend is single-threaded: one core)";
    return mode == BackendMode.AUTO
        ? cpu + "; auto: " + CudaBackend.unavailableReason()
        : cpu + "; requested";
  }

  /**
   * Collects the garbage of the model before (the logistic regressions leave tables of 2^24 weights
   * behind), so that no model's time pays for another's: without it the model run after them
   * measured 15% below the same model run later in the round.
   */
  private static void settle() {
    System.gc();
  }

  private static void runLr(
      String name, List<RequestUnit> stream, int batch, List<String[]> crosses, boolean print) {
    HashedLogisticRegression lr =
        new HashedLogisticRegression(ModelConfig.defaults().features(), crosses, 24, 0.05f, WINDOW);
    settle();
    long t0 = System.nanoTime();
    for (int i = 0; i < stream.size(); i += batch) {
      lr.train(stream.subList(i, Math.min(stream.size(), i + batch)));
    }
    report(name, lr.impressions(), System.nanoTime() - t0, lr.metrics().auc(), print);
  }

  /** Keeps the model's best rate; with {@code print}, prints its RESULT line. */
  private static void report(String name, long imps, long nanos, double auc, boolean print) {
    double rate = BEST.merge(name, imps / (nanos / 1e9), Math::max);
    if (print) {
      System.out.printf(Locale.ROOT, "RESULT %s | %.0f | %.4f%n", name, rate, auc);
    }
  }

  /** The oracle's AUC over the last {@link #WINDOW} impressions: the ceiling of any model. */
  private static double oracleAuc(List<double[]> oracle, List<float[]> clicks) {
    List<Double> p = new ArrayList<>();
    List<Float> y = new ArrayList<>();
    for (int u = oracle.size() - 1; u >= 0 && p.size() < WINDOW; u--) {
      for (int i = 0; i < oracle.get(u).length; i++) {
        p.add(oracle.get(u)[i]);
        y.add(clicks.get(u)[i]);
      }
    }
    double[] pd = p.stream().mapToDouble(Double::doubleValue).toArray();
    float[] yf = new float[y.size()];
    for (int i = 0; i < yf.length; i++) {
      yf[i] = y.get(i);
    }
    return Auc.exact(pd, yf);
  }
}
