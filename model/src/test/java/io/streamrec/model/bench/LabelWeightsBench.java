package io.streamrec.model.bench;

import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.model.MiniBatchTrainer;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a second label costs the first, and what {@code model.label-weights} gives back, on real
 * data: the MovieLens ratings ({@link MovieLensStream}) with two labels, {@code click} (4 stars or
 * more) and {@code loved} (5 stars), under request-level test-then-train in minibatches of whole
 * units. Each row trains the reference model (the job's trainer, the stream's features) on the
 * whole stream, once per draw of the towers' initial weights ({@code model.init-seed}), and prints
 * each label's AUC over the whole stream and over its last 20%, and its log loss over the whole
 * stream, as means over the draws. Run by {@code scripts/bench-labels.sh}.
 */
public final class LabelWeightsBench {
  private LabelWeightsBench() {}

  /** One configuration of the bench: its labels and their weights. */
  record Row(String name, List<String> labels, Map<String, Float> weights) {}

  public static void main(String[] args) throws Exception {
    Path movielens = null;
    int batch = 16;
    int seeds = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--movielens" -> movielens = Path.of(args[++i]);
        case "--batch" -> batch = Integer.parseInt(args[++i]);
        case "--seeds" -> seeds = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (movielens == null) {
      throw new IllegalArgumentException("give --movielens DIR (an extracted r-cran-dslabs)");
    }
    List<RequestUnit> units =
        MovieLensStream.fromDslabs(movielens, MovieLensStream.DEFAULT_MAX_PER_REQUEST);
    String loved = MovieLensStream.LOVED;
    List<Row> rows =
        List.of(
            new Row("click alone", List.of("click"), Map.of()),
            new Row("loved alone", List.of(loved), Map.of()),
            new Row("click + loved", List.of("click", loved), Map.of()),
            new Row(
                "click + loved, loved weighs 0.3", List.of("click", loved), Map.of(loved, 0.3f)),
            new Row(
                "click + loved, loved weighs 0.1", List.of("click", loved), Map.of(loved, 0.1f)));
    System.out.printf(
        Locale.ROOT,
        "movielens, two labels (%d units, batches of %d, mean of %d draws of the initial weights)%n",
        units.size(),
        batch,
        seeds);
    System.out.printf(
        Locale.ROOT,
        "%-34s %9s %9s %8s   %9s %9s %8s%n",
        "model",
        "click all",
        "last",
        "LL all",
        "loved all",
        "last",
        "LL all");
    for (Row row : rows) {
      double[] sums = new double[6];
      for (int seed = 0; seed < seeds; seed++) {
        double[] f = run(units, row, batch, seed);
        for (int k = 0; k < 6; k++) {
          sums[k] += f[k] / seeds;
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%-34s %9s %9s %8s   %9s %9s %8s%n",
          row.name(),
          fmt(sums[0]),
          fmt(sums[1]),
          fmt(sums[2]),
          fmt(sums[3]),
          fmt(sums[4]),
          fmt(sums[5]));
    }
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  /**
   * Trains {@code row}'s model on the stream: per label click and loved (NaN where the model lacks
   * it), AUC over all, AUC over the last 20%, log loss over all.
   */
  static double[] run(List<RequestUnit> units, Row row, int batchUnits, long seed) {
    FeatureSpec base = MovieLensStream.spec();
    ModelConfig cfg =
        ModelConfig.defaults()
            .withFeatures(new FeatureSpec(base.categorical(), base.dense(), row.labels()))
            .withLabelWeights(row.weights())
            .withInitSeed(seed);
    List<String> names = List.of("click", MovieLensStream.LOVED);
    List<List<Double>> pred = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Float>> truth = List.of(new ArrayList<>(), new ArrayList<>());
    try (MiniBatchTrainer t =
        new MiniBatchTrainer(
            cfg,
            new InMemoryEmbeddingStore(cfg.tableConfigs()),
            new CpuBackend(),
            MiniBatchTrainer.DEFAULT_METRICS_WINDOW)) {
      for (int from = 0; from < units.size(); from += batchUnits) {
        List<RequestUnit> b = units.subList(from, Math.min(units.size(), from + batchUnits));
        t.trainRequestUnits(b);
        for (int n = 0; n < names.size(); n++) {
          int l = row.labels().indexOf(names.get(n));
          if (l < 0) {
            continue;
          }
          for (float p : t.lastPredictions(l)) {
            pred.get(n).add((double) p);
          }
          for (RequestUnit u : b) {
            for (Impression im : u.getImpressions()) {
              truth.get(n).add(im.getLabels().get(names.get(n)));
            }
          }
        }
      }
    }
    double[] out = new double[6];
    for (int n = 0; n < names.size(); n++) {
      List<Double> p = pred.get(n);
      if (p.isEmpty()) {
        out[3 * n] = out[3 * n + 1] = out[3 * n + 2] = Double.NaN;
        continue;
      }
      float[] y = new float[p.size()];
      for (int i = 0; i < y.length; i++) {
        y[i] = truth.get(n).get(i);
      }
      TestThenTrain.Result r =
          new TestThenTrain.Result(p.stream().mapToDouble(Double::doubleValue).toArray(), y, 0);
      out[3 * n] = r.lifetimeAuc();
      out[3 * n + 1] = r.lastAuc((int) Math.round(r.size() * 0.2)); // as QualityBench cuts it
      out[3 * n + 2] = r.logLoss(r.size());
    }
    return out;
  }
}
