package io.streamrec.model.bench;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.baseline.FactorizationMachine;
import io.streamrec.model.baseline.FtrlLogisticRegression;
import io.streamrec.model.baseline.HashedLogisticRegression;
import io.streamrec.model.baseline.OnlineLearner;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Model quality on real streams, a generated one and one of your own, every model in the same run,
 * on the same stream, under the same protocol ({@link TestThenTrain}: minibatches of whole units,
 * each scored before it is learnt from): hashed logistic regression with per-coordinate Adagrad,
 * the same with FTRL-Proximal, a hashed factorization machine over every field, and the reference
 * model (the job's trainer with the stream's features declared). Each model reads the same
 * features; the baselines get no crosses. The streams:
 *
 * <ul>
 *   <li>{@code bank}: the UCI Bank Marketing calls as requests ({@link BankMarketingStream}), read
 *       from the mahout-examples jar given by {@code --bank-jar};
 *   <li>{@code movielens}: the MovieLens ratings of {@code ml-latest-small} as users' rating
 *       sessions ({@link MovieLensStream}), read from the extracted Debian package {@code
 *       r-cran-dslabs} at {@code --movielens};
 *   <li>your own ({@code --name}, "yours" by default): the two JSONL files {@code streamrec
 *       produce} loads ({@code --requests}, {@code --impressions}) with the features of {@code
 *       --features} ({@link EventFilesStream});
 *   <li>{@code generated}: the traffic generator's world as {@code TrainBench} draws it (seed 7,
 *       20,000 users, 5,000 items), {@code --gen-units} units: users' recent clicks and item
 *       popularity move as the stream goes on.
 * </ul>
 *
 * <p>Prints one {@code QUALITY} line per stream and model: {@code stream | model | impressions |
 * lifetime AUC | last-window AUC | lifetime log loss | last-window log loss | lifetime calibration
 * | last-window calibration | impressions/s} (on the generated stream first a row of the
 * generator's true click probabilities, the oracle); the last window is the last {@code
 * --last-frac} of the stream's impressions. With {@code --out DIR} it writes each stream's units
 * ({@code STREAM.units.jsonl}) and its features ({@code STREAM.spec.json}) for {@code
 * scripts/torch_bench.py}, which prints the same line for the model in PyTorch; with {@code
 * --events DIR} the bank stream as events in the interchange shape, in the two files {@code
 * streamrec produce} loads ({@code DIR/bank.requests.jsonl}, {@code DIR/bank.impressions.jsonl}).
 * With {@code --ablations} it also runs the reference model without its deep part (wide and
 * factorised parts alone), with wide crosses ({@code model.wide-crosses: request-impression}) and
 * weighed per field pair ({@code model.wide-crosses: field-weighted}), with FTRL-Proximal for the
 * wide rows ({@code model.wide-optimizer: ftrl}), without and with the weighted crosses, with every
 * field pair of the factorised cross weighing 1 ({@code model.factorised-cross: sum}), with Adagrad
 * accumulators starting at 1e-6 (as before {@code model.adagrad-initial-accumulator}), with Adam's
 * full rate in batches of any size ({@code model.dense-rate-impressions: 0}) and with its dense
 * inputs standardised by running statistics ({@code model.dense-normalization: running}), and with
 * its wide weights summed ({@code model.wide-pooling: sum}, as before per-feature pooling). With
 * {@code --seeds N} it runs the reference model (and with {@code --ablations} every ablation) again
 * from N other draws of its towers' initial weights ({@code model.init-seed} 1 to N), a row each.
 * Run by {@code scripts/bench-quality.sh}.
 */
public final class QualityBench {
  private static final long T0 = 1_767_225_600_000L;

  private QualityBench() {}

  /**
   * A stream whose label is never 1, or never 0, has no AUC and no calibration: the table filled
   * with nan and inf, and the target's check called it a miss, with the positive rate the only
   * clue.
   */
  static void requireBothClasses(String name, List<RequestUnit> units, String label, Path spec) {
    long imps = 0, carrying = 0, positive = 0;
    for (RequestUnit u : units) {
      for (var i : u.getImpressions()) {
        imps++;
        Float v = i.getLabels().get(label);
        if (v != null) {
          carrying++;
          positive += v > 0.5f ? 1 : 0;
        }
      }
    }
    if (imps == 0) {
      throw new IllegalArgumentException("stream " + name + ": no unit to score");
    }
    if (carrying == 0) {
      throw new IllegalArgumentException(
          "stream "
              + name
              + ": none of its "
              + imps
              + " impressions carries the label '"
              + label
              + "' that "
              + spec
              + " names: check 'label' against the impressions' \"labels\"");
    }
    if (positive == 0 || positive == imps) {
      throw new IllegalArgumentException(
          "stream "
              + name
              + ": the label '"
              + label
              + "' is "
              + (positive == 0 ? "0" : "1")
              + " on every one of its "
              + imps
              + " impressions, so no AUC or calibration can be measured on it");
    }
  }

  public static void main(String[] args) throws IOException {
    try {
      run(args);
    } catch (IOException | java.io.UncheckedIOException | IllegalArgumentException e) {
      // a mistake in the arguments or a file of one's own: one line, not a trace
      System.err.println("QualityBench: " + e.getMessage());
      System.exit(2);
    }
  }

  private static void run(String[] args) throws IOException {
    Path bankJar = null, movieLens = null, out = null, events = null;
    Path requests = null, impressions = null, features = null;
    String name = "yours";
    int maxCalls = BankMarketingStream.DEFAULT_MAX_CALLS, genUnits = 50_000, batch = 16;
    double lastFrac = 0.2;
    boolean ablations = false;
    int seeds = 0;
    float wideLr = Float.NaN, adagradInit = ModelConfig.DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR;
    int denseRate = ModelConfig.DEFAULT_DENSE_RATE_IMPRESSIONS;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--bank-jar" -> bankJar = Path.of(args[++i]);
        case "--movielens" -> movieLens = Path.of(args[++i]);
        case "--requests" -> requests = Path.of(args[++i]);
        case "--impressions" -> impressions = Path.of(args[++i]);
        case "--features" -> features = Path.of(args[++i]);
        case "--name" -> name = EventFilesStream.requireOwnName(args[++i]);
        case "--max-calls" -> maxCalls = Integer.parseInt(args[++i]);
        case "--gen-units" -> genUnits = Integer.parseInt(args[++i]);
        case "--batch" -> batch = Integer.parseInt(args[++i]);
        case "--last-frac" -> lastFrac = Double.parseDouble(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--events" -> events = Path.of(args[++i]);
        case "--ablations" -> ablations = true;
        case "--seeds" -> seeds = Integer.parseInt(args[++i]);
        case "--wide-lr" -> wideLr = Float.parseFloat(args[++i]);
        case "--adagrad-init" -> adagradInit = Float.parseFloat(args[++i]);
        case "--dense-rate-impressions" -> denseRate = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; use --bank-jar JAR --movielens DIR --requests FILE --impressions FILE"
                    + " --features SPEC.json --name NAME --max-calls K --gen-units N --batch UNITS"
                    + " --last-frac F --out DIR --events DIR --ablations --seeds N --wide-lr RATE"
                    + " --adagrad-init A --dense-rate-impressions N");
      }
    }
    // a stream of one's own is read and checked first: a mistake in it shows at once, not after
    // the other streams have trained for minutes
    EventFilesStream.Loaded yours = null;
    FeatureSpec yourSpec = null;
    if (requests != null || impressions != null || features != null) {
      if (requests == null || impressions == null || features == null) {
        throw new IllegalArgumentException(
            "a stream of your own needs all of --requests FILE --impressions FILE --features"
                + " SPEC.json");
      }
      yourSpec = EventFilesStream.spec(features);
      for (Path f : List.of(requests, impressions)) {
        if (!Files.isRegularFile(f)) {
          throw new IllegalArgumentException(f + ": no such file");
        }
      }
      yours = EventFilesStream.read(requests, impressions);
      System.out.println(yours.summary(name));
      requireBothClasses(name, yours.units(), yourSpec.labels().get(0), features);
    }
    float lr = wideLr, init = adagradInit;
    int rate = denseRate;
    // the command line's model options, on every stream's configuration
    UnaryOperator<ModelConfig> options =
        c -> withWideLr(c.withAdagradInitialAccumulator(init).withDenseRateImpressions(rate), lr);
    if (bankJar != null) {
      List<RequestUnit> bank = BankMarketingStream.fromJar(bankJar, maxCalls);
      if (events != null) {
        List<Path> files = writeEvents(bank, events);
        System.out.println(
            "bank events: streamrec produce --requests "
                + files.get(0)
                + " --impressions "
                + files.get(1));
      }
      ModelConfig cfg =
          options.apply(
              ModelConfig.defaults()
                  .withFeatures(BankMarketingStream.spec())
                  .withHotCapacityRows(BANK_HOT_ROWS));
      runStream("bank", bank, cfg, batch, lastFrac, out, ablations, seeds);
    }
    if (movieLens != null) {
      runStream(
          "movielens",
          MovieLensStream.fromDslabs(movieLens, MovieLensStream.DEFAULT_MAX_PER_REQUEST),
          options.apply(
              ModelConfig.defaults()
                  .withFeatures(MovieLensStream.spec())
                  .withHotCapacityRows(MOVIELENS_HOT_ROWS)),
          batch,
          lastFrac,
          out,
          ablations,
          seeds);
    }
    if (yours != null) {
      runStream(
          name,
          yours.units(),
          options.apply(ModelConfig.defaults().withFeatures(yourSpec)),
          batch,
          lastFrac,
          out,
          ablations,
          seeds);
    }
    if (genUnits > 0) {
      Map<String, Double> truth = new java.util.HashMap<>();
      runStream(
          "generated",
          generated(genUnits, truth),
          options.apply(ModelConfig.defaults()),
          batch,
          lastFrac,
          out,
          ablations,
          seeds,
          new Oracle(truth));
    }
  }

  /** {@code c} with the wide rows' learning rate {@code lr} (NaN: as it is). */
  private static ModelConfig withWideLr(ModelConfig c, float lr) {
    if (Float.isNaN(lr)) {
      return c;
    }
    Map<String, ModelConfig.TableSettings> t = new java.util.TreeMap<>(c.tableSettings());
    t.put(ModelConfig.WIDE_TABLE, c.settings(ModelConfig.WIDE_TABLE).with(null, null, null, lr));
    return c.withTableSettings(t);
  }

  /** Every id of the bank stream (a few hundred values in all) fits a small hot tier. */
  private static final int BANK_HOT_ROWS = 1 << 14;

  /** The MovieLens stream's ids (about 10,000 movies and users) and their wide rows. */
  private static final int MOVIELENS_HOT_ROWS = 1 << 16;

  /** Hashed baselines' tables: 2^this rows, far more than either stream has ids. */
  private static final int LOG2_ROWS = 22;

  /** The hashed LR's Adagrad rate, as {@code TrainBench} runs it. */
  private static final float LR_ADAGRAD = 0.05f;

  /** FTRL-Proximal's usual settings (McMahan et al. 2013): α, β, λ1, λ2. */
  private static final float FTRL_ALPHA = 0.05f, FTRL_BETA = 1f, FTRL_L1 = 1f, FTRL_L2 = 1f;

  /** The FM's factors per row. */
  private static final int FM_K = 8;

  /**
   * The FM's Adagrad rates and L2 on the factors. Lower than the hashed LR's 0.05: at 0.05 the
   * factors of the dense fields (values up to ±12 after the log transform) diverge on the bank
   * stream (log loss 1.9).
   */
  private static final float FM_LR = 0.01f, FM_LR_FACTORS = 0.01f, FM_L2 = 1e-4f;

  static List<Supplier<OnlineLearner>> baselines(FeatureSpec spec) {
    int window = 1; // the harness keeps every prediction; the learners' own metrics go unused
    return List.of(
        () -> new HashedLogisticRegression(spec, List.of(), LOG2_ROWS, LR_ADAGRAD, window),
        () ->
            new FtrlLogisticRegression(
                spec, List.of(), LOG2_ROWS, FTRL_ALPHA, FTRL_BETA, FTRL_L1, FTRL_L2, window),
        () ->
            new FactorizationMachine(
                spec, List.of(), 20, FM_K, FM_LR, FM_LR_FACTORS, FM_L2, 7, window));
  }

  private static void runStream(
      String stream,
      List<RequestUnit> units,
      ModelConfig cfg,
      int batch,
      double lastFrac,
      Path out,
      boolean ablations,
      int seeds,
      OnlineLearner... references)
      throws IOException {
    String label = cfg.features().labels().get(0);
    long imps = units.stream().mapToLong(u -> u.getImpressions().size()).sum();
    long clicks =
        units.stream()
            .flatMap(u -> u.getImpressions().stream())
            .filter(i -> i.getLabels().getOrDefault(label, 0f) > 0.5f)
            .count();
    int last = (int) Math.round(imps * lastFrac);
    System.out.printf(
        Locale.ROOT,
        "stream %s: %,d units, %,d impressions (%.2f per unit), positive rate %.4f;"
            + " minibatches of %d units; last window %,d impressions%n",
        stream,
        units.size(),
        imps,
        (double) imps / units.size(),
        (double) clicks / imps,
        batch,
        last);
    if (out != null) {
      Files.createDirectories(out);
      writeUnits(units, out.resolve(stream + ".units.jsonl"));
      Files.writeString(out.resolve(stream + ".spec.json"), specJson(cfg.features()));
    }
    for (OnlineLearner r : references) {
      print(stream, r.name(), TestThenTrain.run(units, batch, label, r), last);
    }
    for (Supplier<OnlineLearner> s : baselines(cfg.features())) {
      OnlineLearner m = s.get();
      print(stream, m.name(), TestThenTrain.run(units, batch, label, m), last);
    }
    Map<String, ModelConfig> models = new java.util.LinkedHashMap<>();
    models.put("streamrec (reference model)", cfg);
    if (ablations) {
      models.put("streamrec, no deep part", cfg.withTowers(ModelConfig.Towers.NONE));
      models.put(
          "streamrec, wide crosses",
          cfg.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION));
      models.put(
          "streamrec, wide crosses weighted per field pair",
          cfg.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED));
      models.put(
          "streamrec, FTRL wide rows", cfg.withWideOptimizer(ModelConfig.WideOptimizer.FTRL));
      models.put(
          "streamrec, wide crosses weighted per field pair, FTRL wide rows",
          cfg.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)
              .withWideOptimizer(ModelConfig.WideOptimizer.FTRL));
      models.put(
          "streamrec, summed cross", cfg.withFactorisedCross(ModelConfig.FactorisedCross.SUM));
      models.put("streamrec, Adagrad from 1e-6", cfg.withAdagradInitialAccumulator(1e-6f));
      models.put("streamrec, full dense rate in small batches", cfg.withDenseRateImpressions(0));
      models.put(
          "streamrec, dense normalisation",
          cfg.withDenseNormalization(ModelConfig.DenseNormalization.RUNNING));
      models.put(
          "streamrec, wide weights summed", cfg.withWidePooling(ModelConfig.WidePooling.SUM));
    }
    // other draws of the towers' initial weights, for each model: how far its figures move with
    // them, and an ablation's effect as the difference of two means (scripts/bench-quality.sh sums
    // these rows up, and PyTorch's same model over as many seeds)
    Map<String, ModelConfig> drawn = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, ModelConfig> m : models.entrySet()) {
      for (int k = 1; k <= seeds; k++) {
        drawn.put(m.getKey() + ", seed " + k, m.getValue().withInitSeed(k));
      }
    }
    models.putAll(drawn);
    warmUp(units, batch, label, cfg);
    for (Map.Entry<String, ModelConfig> m : models.entrySet()) {
      try (TrainerLearner ours = new TrainerLearner(m.getKey(), m.getValue())) {
        print(stream, ours.name(), TestThenTrain.run(units, batch, label, ours), last);
      }
    }
  }

  /** Whether the trainer's code has been run enough for the JIT to compile it. */
  private static boolean warm;

  /**
   * Runs the reference model once over the start of the first stream, unmeasured, so that the first
   * model measured does not pay for the JIT's warm-up (its impressions/s read a third low).
   */
  private static void warmUp(List<RequestUnit> units, int batch, String label, ModelConfig cfg) {
    if (warm) {
      return;
    }
    warm = true;
    try (TrainerLearner w = new TrainerLearner("warm-up", cfg)) {
      TestThenTrain.run(units.subList(0, Math.min(units.size(), WARM_UP_UNITS)), batch, label, w);
    }
  }

  /** Units of the warm-up run. */
  private static final int WARM_UP_UNITS = 5_000;

  private static void print(String stream, String model, TestThenTrain.Result r, int last) {
    System.out.printf(
        Locale.ROOT,
        "QUALITY %s | %s | %d | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f | %.0f%n",
        stream,
        model,
        r.size(),
        r.lifetimeAuc(),
        r.lastAuc(last),
        r.logLoss(r.size()),
        r.logLoss(last),
        r.calibration(r.size()),
        r.calibration(last),
        r.size() / (r.nanos() / 1e9));
  }

  /**
   * The generator's stream as {@code TrainBench} draws it; each impression's true click probability
   * goes into {@code truth} by impression id.
   */
  static List<RequestUnit> generated(int units, Map<String, Double> truth) {
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(7).withUsers(20_000).withItems(5_000));
    List<RequestUnit> stream = new ArrayList<>(units);
    long time = T0;
    for (int u = 0; u < units; u++) {
      GeneratedRequest g = gen.next(time += 10);
      stream.add(RequestUnits.of(g.request(), g.impressions(), time + 5_000));
      for (int i = 0; i < g.size(); i++) {
        truth.put(g.impressions().get(i).getImpressionId(), g.trueCtr()[i]);
      }
    }
    return stream;
  }

  /**
   * The generator's own click probabilities, which no model can beat on average: how much room the
   * generated stream leaves. It learns nothing.
   */
  private record Oracle(Map<String, Double> truth) implements OnlineLearner {
    @Override
    public String name() {
      return "the generator's true CTR (oracle, not a model)";
    }

    @Override
    public float[] score(List<RequestUnit> units) {
      int n = units.stream().mapToInt(u -> u.getImpressions().size()).sum();
      float[] p = new float[n];
      int k = 0;
      for (RequestUnit u : units) {
        for (Impression i : u.getImpressions()) {
          p[k++] = truth.get(i.getImpressionId()).floatValue();
        }
      }
      return p;
    }

    @Override
    public void learn(List<RequestUnit> units) {}
  }

  private static RequestEvent request(RequestUnit u) {
    return RequestEvent.newBuilder()
        .setRequestId(u.getRequestId())
        .setTimestampMs(u.getTimestampMs())
        .setFeatures(u.getFeatures())
        .setDense(u.getDense())
        .build();
  }

  private static ImpressionEvent impression(RequestUnit u, Impression i) {
    return ImpressionEvent.newBuilder()
        .setImpressionId(i.getImpressionId())
        .setRequestId(u.getRequestId())
        .setTimestampMs(i.getTimestampMs())
        .setFeatures(i.getFeatures())
        .setDense(i.getDense())
        .setLabels(i.getLabels())
        .build();
  }

  /** One unit per line: {@code {"request": event, "impressions": [event, ...]}}. */
  static void writeUnits(List<RequestUnit> units, Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (RequestUnit u : units) {
        StringBuilder line =
            new StringBuilder("{\"request\":")
                .append(JsonEvents.toJson(request(u)))
                .append(",\"impressions\":[");
        List<Impression> imps = u.getImpressions();
        for (int i = 0; i < imps.size(); i++) {
          line.append(i == 0 ? "" : ",").append(JsonEvents.toJson(impression(u, imps.get(i))));
        }
        w.write(line.append("]}\n").toString());
      }
    }
  }

  /**
   * The interchange shape of the README in the two files {@code streamrec produce --requests FILE
   * --impressions FILE} loads, {@code bank.requests.jsonl} and {@code bank.impressions.jsonl} in
   * {@code dir}: produce takes each kind of event from a file of its own.
   *
   * @return the requests file and the impressions file
   */
  static List<Path> writeEvents(List<RequestUnit> units, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path requests = dir.resolve("bank.requests.jsonl");
    Path impressions = dir.resolve("bank.impressions.jsonl");
    try (BufferedWriter r = Files.newBufferedWriter(requests, StandardCharsets.UTF_8);
        BufferedWriter w = Files.newBufferedWriter(impressions, StandardCharsets.UTF_8)) {
      for (RequestUnit u : units) {
        r.write(JsonEvents.toJson(request(u)));
        r.newLine();
        for (Impression i : u.getImpressions()) {
          w.write(JsonEvents.toJson(impression(u, i)));
          w.newLine();
        }
      }
    }
    return List.of(requests, impressions);
  }

  /** The features as {@code scripts/torch_bench.py --spec} reads them. */
  static String specJson(FeatureSpec spec) {
    StringBuilder b = new StringBuilder("{");
    for (Side side : Side.values()) {
      String s = side == Side.REQUEST ? "request" : "impression";
      b.append('"').append(s).append("\":[");
      List<CategoricalFeature> cat = spec.categorical(side);
      for (int i = 0; i < cat.size(); i++) {
        b.append(i == 0 ? "" : ",")
            .append("[\"")
            .append(cat.get(i).name())
            .append("\",\"")
            .append(cat.get(i).vocabulary())
            .append("\"]");
      }
      b.append("],\"").append(s).append("_dense\":[");
      List<DenseFeature> dense = spec.dense(side);
      for (int i = 0; i < dense.size(); i++) {
        b.append(i == 0 ? "" : ",").append('"').append(dense.get(i).name()).append('"');
      }
      b.append("],");
    }
    return b.append("\"label\":\"").append(spec.labels().get(0)).append("\"}\n").toString();
  }
}
