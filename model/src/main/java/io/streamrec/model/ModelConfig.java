package io.streamrec.model;

import io.streamrec.embedding.TableConfig;
import io.streamrec.model.features.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything that defines the model and how it learns. Immutable; validated on construction with
 * messages that name the bad setting. The job builds it from its configuration keys ({@code
 * model.*}); the model-update topic carries it (as JSON) so a replica needs nothing but the topic.
 *
 * @param features which features the model reads
 * @param embeddingDim width of every embedding row (the pooled request and impression vectors meet
 *     in a dot product, so every table has this width)
 * @param hotCapacityRows rows each table keeps hot (unless {@code tableSettings} says otherwise)
 * @param admissionThreshold sightings before an id gets a row
 * @param ttlMs event-time milliseconds after which an unseen row expires (0 = never)
 * @param initScale embedding rows start uniform in ±initScale (wide weights start at 0)
 * @param embeddingLr row-wise Adagrad learning rate of the embedding tables
 * @param wideLr row-wise Adagrad learning rate of the wide (per-id linear) weights
 * @param denseLr Adam learning rate of the dense weights
 * @param towers layer sizes of the request tower, impression tower and head ({@link Towers#NONE}:
 *     no deep part, the wide-and-factorised model alone)
 * @param tableSettings per-table overrides of capacity, admission, TTL and learning rate, by table
 * @param clipNorm the dense gradient's L2 norm is clipped to this per batch (0 = no clipping)
 * @param denseNormalization what the model does to its dense inputs after the log transform ({@link
 *     DenseNormalization#NONE}: nothing; {@link DenseNormalization#RUNNING}: standardise each by
 *     running statistics of the trained batches)
 * @param adagradInitialAccumulator where every row's Adagrad accumulator starts: the first steps of
 *     a new id are {@code lr·g/sqrt(initial + g²)} rather than {@code lr·sign(g)}, so an id seen
 *     once does not jump by a whole learning rate (it is also the denominator's guard, so it is >
 *     0)
 * @param denseRateImpressions impressions a batch needs for Adam's full {@code denseLr}: a batch of
 *     {@code n} fewer steps at {@code denseLr · sqrt(n / denseRateImpressions)}, so that sparse
 *     traffic (a unit or two per batch) does not move the dense weights on a handful of impressions
 *     as far as a full batch would (0: always the full rate)
 * @param wideCrosses which pairs of ids get a wide weight of their own besides each id's ({@link
 *     WideCrosses#NONE}: none; {@link WideCrosses#REQUEST_IMPRESSION}: every pair of a
 *     single-valued request feature's id and a single-valued impression feature's id)
 * @param factorisedCross how the factorised cross weighs its feature pairs ({@link
 *     FactorisedCross#FIELD_WEIGHTED}, the default: a learnt weight per pair of a request feature
 *     and an impression feature; {@link FactorisedCross#SUM}: every request×impression pair alike,
 *     one dot of the sides' summed embeddings, as models before this option were)
 * @param wideOptimizer how the wide rows (each id's weight and the wide crosses) learn ({@link
 *     WideOptimizer#ADAGRAD}, the default: row-wise Adagrad at the wide learning rate, as the
 *     embedding rows; or FTRL-Proximal with the wide learning rate as its alpha)
 * @param widePooling how the wide weights of a feature's values add to the logit ({@link
 *     WidePooling#SUM}: each value's weight, as a logistic regression adds them; {@link
 *     WidePooling#PER_FEATURE}: pooled per feature as its embedding rows are, so a history of ten
 *     items is one term, their mean, and not ten)
 * @param initSeed which draw of the deep part's initial weights (the towers' Glorot values) the
 *     model starts from: 0, the default, is the draw every earlier release made; another seed is an
 *     equally good start, to see how far a figure moves with it. The embedding and wide rows start
 *     from a function of their table and id alone whatever the seed, so a replica needs nothing of
 *     it: the dense weights it scores with are published
 * @param labelWeights what each label's loss weighs in training, by label ({@code
 *     model.label-weights}); a label not named weighs 1, as every label did before the option. A
 *     label's weight scales its gradient into everything the labels share (the embedding and wide
 *     rows, the towers): a second label at weight 1 slows the first one's learning, at 0.1 it
 *     barely does. Scoring needs none of it
 */
public record ModelConfig(
    FeatureSpec features,
    int embeddingDim,
    int hotCapacityRows,
    int admissionThreshold,
    long ttlMs,
    float initScale,
    float embeddingLr,
    float wideLr,
    float denseLr,
    Towers towers,
    Map<String, TableSettings> tableSettings,
    float clipNorm,
    DenseNormalization denseNormalization,
    float adagradInitialAccumulator,
    WideCrosses wideCrosses,
    int denseRateImpressions,
    FactorisedCross factorisedCross,
    WideOptimizer wideOptimizer,
    WidePooling widePooling,
    long initSeed,
    Map<String, Float> labelWeights)
    implements java.io.Serializable {

  /** The default {@code denseRateImpressions}. */
  public static final int DEFAULT_DENSE_RATE_IMPRESSIONS = 64;

  /**
   * The default {@code adagradInitialAccumulator}: 0.1, the usual starting accumulator of Adagrad
   * (TensorFlow's and Keras' default), which damps an id's first steps.
   */
  public static final float DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR = 0.1f;

  /** The table that holds one weight per id of every feature (the wide, linear part). */
  public static final String WIDE_TABLE = "wide";

  /** Optimizer-state floats per row: one row-wise Adagrad accumulator. */
  public static final int ROW_STATE_WIDTH = 1;

  /**
   * What the model does to a dense input after {@code sign(x)·log1p(|x|)} ({@code
   * model.dense-normalization}).
   */
  public enum DenseNormalization {
    /** The log-squashed value as it is. */
    NONE,
    /**
     * {@code (squash(x) - mean) / sqrt(var + eps)}, with a running mean and variance per dense
     * feature that the trainer updates from every trained batch and publishes with the dense
     * parameters (see {@link RequestOnlyModel#NORMALIZATION_BLOCK}).
     */
    RUNNING;

    /** The option's value: {@code none} or {@code running}. */
    public String key() {
      return optionKey(this);
    }

    /** The value of {@code key} ({@code none} or {@code running}, any case). */
    public static DenseNormalization of(String key) {
      return option(DenseNormalization.class, "model.dense-normalization", key);
    }
  }

  /**
   * Which pairs of ids have a wide weight of their own ({@code model.wide-crosses}). A pair's
   * weight sits in the wide table under {@link #crossKey} of the two ids' wide keys, is published,
   * expired and served like any wide row, and adds to the logit like the ids' own weights: a cross
   * that the factorised part can only approximate (its rank is the embedding width) is learnt
   * exactly, without anyone naming it.
   */
  public enum WideCrosses {
    /** Each id's own wide weight alone. */
    NONE,
    /**
     * Also a weight for every pair of one request feature's id and one impression feature's id,
     * where both features have exactly one value (multi-valued bags, such as a history, and empty
     * features take no part): {@code r × i} pairs per impression for {@code r} request and {@code
     * i} impression features.
     */
    REQUEST_IMPRESSION,
    /**
     * The same weights, and each pair of a request feature and an impression feature weighs its
     * crosses by a learnt weight ({@link RequestOnlyModel#WIDE_CROSS_PAIRS_BLOCK}, starting at 1),
     * so that the crosses of a pair that only adds noise can be weighed down.
     */
    FIELD_WEIGHTED;

    /** The option's value: {@code none}, {@code request-impression} or {@code field-weighted}. */
    public String key() {
      return optionKey(this);
    }

    /** The value of {@code key} (any case). */
    public static WideCrosses of(String key) {
      return option(WideCrosses.class, "model.wide-crosses", key);
    }
  }

  /**
   * How the wide weights of a categorical feature's values add to an impression's logit ({@code
   * model.wide-pooling}). A single-valued feature adds its one weight either way.
   */
  public enum WidePooling {
    /**
     * Every value's weight is a term of its own, as in a logistic regression over one-hot values: a
     * history of ten items adds ten weights, and moves the logit ten times as far as one id.
     */
    SUM,
    /**
     * The weights of one feature's values are pooled as the feature declares for its embedding rows
     * ({@link io.streamrec.model.features.Pooling}): a mean-pooled history adds the mean of its
     * items' weights, one term like any single-valued feature; a sum-pooled feature adds them all.
     */
    PER_FEATURE;

    /** The option's value: {@code sum} or {@code per-feature}. */
    public String key() {
      return optionKey(this);
    }

    /** The value of {@code key} (any case). */
    public static WidePooling of(String key) {
      return option(WidePooling.class, "model.wide-pooling", key);
    }
  }

  /**
   * How the factorised cross weighs the pairs of a request feature and an impression feature
   * ({@code model.factorised-cross}).
   */
  public enum FactorisedCross {
    /**
     * {@code Σ_f e_r,f · Σ_g e_i,g}: one dot product of the sides' summed embeddings, every pair of
     * a request feature f and an impression feature g weighing 1.
     */
    SUM,
    /**
     * {@code Σ_f Σ_g w_fg · (e_r,f · e_i,g)}: a learnt weight per pair (a field-weighted
     * factorisation machine, Pan et al. 2018), the dense block {@value
     * RequestOnlyModel#FIELD_PAIRS_BLOCK}, starting at 1 (the sum), so the model can weigh a pair
     * that does not help down and one that does up.
     */
    FIELD_WEIGHTED;

    /** The option's value: {@code sum} or {@code field-weighted}. */
    public String key() {
      return optionKey(this);
    }

    /** The value of {@code key} (any case). */
    public static FactorisedCross of(String key) {
      return option(FactorisedCross.class, "model.factorised-cross", key);
    }
  }

  /**
   * How the wide rows learn ({@code model.wide-optimizer}, {@code model.ftrl.*}): each id's weight
   * and each wide cross's.
   *
   * @param kind {@link Kind#ADAGRAD} or {@link Kind#FTRL}
   * @param beta FTRL's beta (its per-coordinate rate starts at {@code alpha / beta})
   * @param l1 FTRL's L1 strength: a weight stays exactly 0 until the sum of its adjusted gradients
   *     passes it, so an id or cross seen a few times with no consistent signal adds nothing
   * @param l2 FTRL's L2 strength
   */
  public record WideOptimizer(Kind kind, float beta, float l1, float l2)
      implements java.io.Serializable {
    /** FTRL's settings by default: those of the FTRL-Proximal baseline of the benchmarks. */
    public static final float DEFAULT_BETA = 1f, DEFAULT_L1 = 1f, DEFAULT_L2 = 1f;

    /** Row-wise Adagrad, as the embedding rows learn (the default). */
    public static final WideOptimizer ADAGRAD =
        new WideOptimizer(Kind.ADAGRAD, DEFAULT_BETA, DEFAULT_L1, DEFAULT_L2);

    /** FTRL-Proximal with the default beta, L1 and L2. */
    public static final WideOptimizer FTRL =
        new WideOptimizer(Kind.FTRL, DEFAULT_BETA, DEFAULT_L1, DEFAULT_L2);

    /** The optimizer of a wide row. */
    public enum Kind {
      /** Row-wise Adagrad at the wide table's learning rate: one accumulator per row. */
      ADAGRAD,
      /**
       * FTRL-Proximal (McMahan et al., KDD 2013) per coordinate, with the wide table's learning
       * rate as alpha: two floats of state ({@code z}, {@code n}) per row.
       */
      FTRL;

      /** The option's value: {@code adagrad} or {@code ftrl}. */
      public String key() {
        return optionKey(this);
      }

      /** The value of {@code key} (any case). */
      public static Kind of(String key) {
        return option(Kind.class, "model.wide-optimizer", key);
      }
    }

    public WideOptimizer {
      Objects.requireNonNull(kind, "model.wide-optimizer");
      finitePositive(beta, "model.ftrl.beta", true);
      finitePositive(l1, "model.ftrl.l1", true);
      finitePositive(l2, "model.ftrl.l2", true);
    }

    /** Optimizer-state floats of a wide row (of width 1). */
    public int stateWidth() {
      return kind == Kind.FTRL ? 2 : ROW_STATE_WIDTH;
    }
  }

  /** An option value's spelling: the constant's name in lower case, {@code _} as {@code -}. */
  private static String optionKey(Enum<?> value) {
    return value.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  /**
   * The constant of {@code type} whose {@link #optionKey} is {@code key} (any case); otherwise an
   * error naming {@code option} and every value it takes.
   */
  private static <E extends Enum<E>> E option(Class<E> type, String option, String key) {
    E[] values = type.getEnumConstants();
    for (E e : values) {
      if (optionKey(e).equalsIgnoreCase(key)) {
        return e;
      }
    }
    throw new IllegalArgumentException(
        option
            + " must be one of "
            + java.util.Arrays.stream(values)
                .map(ModelConfig::optionKey)
                .collect(java.util.stream.Collectors.joining(", "))
            + "; got '"
            + key
            + "'");
  }

  /**
   * The wide key of the pair of a request id and an impression id, from their own wide keys: {@code
   * SplitMix64.mix(request · 0x9E3779B97F4A7C15 + impression)} (64-bit wrapping arithmetic), which
   * depends on the order of the two.
   */
  public static long crossKey(long requestWideKey, long impressionWideKey) {
    return io.streamrec.common.SplitMix64.mix(
        requestWideKey * 0x9E3779B97F4A7C15L + impressionWideKey);
  }

  /**
   * Layer sizes of the deep part. The request tower maps a request's pooled embeddings and dense
   * features through {@code request} (hidden sizes, then the output size); the impression tower
   * likewise through {@code impression}; both end at the same width {@code d}. The head reads
   * {@code [r, v, r⊙v]} ({@code 3d} values) through {@code head} hidden layers to one logit per
   * label. ReLU after every layer but the last of each.
   */
  public record Towers(List<Integer> request, List<Integer> impression, List<Integer> head)
      implements java.io.Serializable {
    /** No deep part. */
    public static final Towers NONE = new Towers(List.of(), List.of(), List.of());

    public Towers {
      request = List.copyOf(request);
      impression = List.copyOf(impression);
      head = List.copyOf(head);
      String[] names = {"model.towers.request", "model.towers.impression", "model.towers.head"};
      List<List<Integer>> towers = List.of(request, impression, head);
      for (int t = 0; t < towers.size(); t++) {
        for (int s : towers.get(t)) {
          if (s <= 0) {
            throw new IllegalArgumentException(
                names[t] + ": layer sizes must be > 0, got " + towers.get(t));
          }
        }
      }
      if (request.isEmpty() != impression.isEmpty()) {
        throw new IllegalArgumentException(
            "model.towers.request and model.towers.impression must both be set or both be empty, got "
                + request
                + " and "
                + impression);
      }
      if (!request.isEmpty()
          && !request.get(request.size() - 1).equals(impression.get(impression.size() - 1))) {
        throw new IllegalArgumentException(
            "model.towers.request and model.towers.impression must end at the same"
                + " width (their outputs meet in a dot product), got "
                + request
                + " and "
                + impression);
      }
      if (request.isEmpty() && !head.isEmpty()) {
        throw new IllegalArgumentException(
            "model.towers.head needs the request and impression towers, got head "
                + head
                + " without towers");
      }
    }

    public boolean enabled() {
      return !request.isEmpty();
    }

    /** Width of either tower's output. */
    public int outputWidth() {
      return enabled() ? request.get(request.size() - 1) : 0;
    }

    /** The default deep part: two small towers and one hidden head layer. */
    public static Towers defaults() {
      return new Towers(List.of(32, 16), List.of(32, 16), List.of(16));
    }
  }

  /**
   * Per-table overrides; a null field keeps the model-wide value.
   *
   * @param hotCapacityRows rows the table keeps hot
   * @param admissionThreshold sightings before an id of this table gets a row
   * @param ttlMs expiry of this table's rows (0 = never)
   * @param learningRate row-wise Adagrad learning rate of this table
   */
  public record TableSettings(
      Integer hotCapacityRows, Integer admissionThreshold, Long ttlMs, Float learningRate)
      implements java.io.Serializable {
    public static final TableSettings NONE = new TableSettings(null, null, null, null);

    public TableSettings with(Integer hot, Integer admission, Long ttl, Float lr) {
      return new TableSettings(
          hot != null ? hot : hotCapacityRows,
          admission != null ? admission : admissionThreshold,
          ttl != null ? ttl : ttlMs,
          lr != null ? lr : learningRate);
    }
  }

  public ModelConfig {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(towers, "towers");
    Objects.requireNonNull(denseNormalization, "model.dense-normalization");
    Objects.requireNonNull(wideCrosses, "model.wide-crosses");
    Objects.requireNonNull(factorisedCross, "model.factorised-cross");
    Objects.requireNonNull(wideOptimizer, "model.wide-optimizer");
    Objects.requireNonNull(widePooling, "model.wide-pooling");
    finitePositive(adagradInitialAccumulator, "model.adagrad-initial-accumulator", false);
    if (denseRateImpressions < 0) {
      throw new IllegalArgumentException(
          "model.dense-rate-impressions must be >= 0, got " + denseRateImpressions);
    }
    tableSettings = new TreeMap<>(Objects.requireNonNull(tableSettings, "tableSettings"));
    positive(embeddingDim, "model.embedding-dim");
    positive(hotCapacityRows, "model.hot-capacity-rows");
    positive(admissionThreshold, "model.admission-threshold");
    if (ttlMs < 0) {
      throw new IllegalArgumentException("model.ttl must be >= 0, got " + ttlMs + " ms");
    }
    finitePositive(initScale, "model.init-scale", true);
    finitePositive(embeddingLr, "model.embedding-learning-rate", false);
    finitePositive(wideLr, "model.wide-learning-rate", false);
    finitePositive(denseLr, "model.dense-learning-rate", false);
    finitePositive(clipNorm, "model.clip-norm", true);
    labelWeights = new TreeMap<>(Objects.requireNonNull(labelWeights, "model.label-weights"));
    for (Map.Entry<String, Float> e : labelWeights.entrySet()) {
      if (!features.labels().contains(e.getKey())) {
        throw new IllegalArgumentException(
            "model.label-weights names '"
                + e.getKey()
                + "', which is not one of model.labels "
                + features.labels());
      }
      finitePositive(e.getValue(), "model.label-weights' weight of '" + e.getKey() + "'", false);
    }
    if (!towers.enabled() && features.labels().size() > 1) {
      // the labels differ only in their outputs of the head: without it they shared one logit,
      // trained on every label's loss, and were served alike, the first label worse for it
      throw new IllegalArgumentException(
          "model.labels has "
              + features.labels().size()
              + " labels "
              + features.labels()
              + ", but the model has no deep part (model.deep: false): its labels would share one"
              + " logit and score alike; set model.deep: true for a head output per label, or"
              + " train one label");
    }
    if (features.tables().contains(WIDE_TABLE)) {
      throw new IllegalArgumentException(
          "table name '"
              + WIDE_TABLE
              + "' is reserved for the wide weights; rename that feature's table");
    }
    for (Map.Entry<String, TableSettings> e : tableSettings.entrySet()) {
      String t = e.getKey();
      if (!features.tables().contains(t) && !t.equals(WIDE_TABLE)) {
        throw new IllegalArgumentException(
            "model.table.*: no table named '"
                + t
                + "'; the tables are "
                + features.tables()
                + " and '"
                + WIDE_TABLE
                + "'");
      }
      TableSettings s = e.getValue();
      if (s.hotCapacityRows() != null) {
        positive(s.hotCapacityRows(), "model.table.hot-capacity-rows of '" + t + "'");
      }
      if (s.admissionThreshold() != null) {
        positive(s.admissionThreshold(), "model.table.admission-threshold of '" + t + "'");
      }
      if (s.ttlMs() != null && s.ttlMs() < 0) {
        throw new IllegalArgumentException(
            "model.table.ttl of '" + t + "' must be >= 0, got " + s.ttlMs() + " ms");
      }
      if (s.learningRate() != null) {
        finitePositive(s.learningRate(), "model.table.learning-rate of '" + t + "'", false);
      }
    }
  }

  /**
   * As the canonical constructor, with no normalisation of the dense inputs, no wide crosses, the
   * default Adagrad initial accumulator and dense rate impressions, the field-weighted factorised
   * cross, Adagrad's wide rows and per-feature wide pooling.
   */
  public ModelConfig(
      FeatureSpec features,
      int embeddingDim,
      int hotCapacityRows,
      int admissionThreshold,
      long ttlMs,
      float initScale,
      float embeddingLr,
      float wideLr,
      float denseLr,
      Towers towers,
      Map<String, TableSettings> tableSettings,
      float clipNorm) {
    this(
        features,
        embeddingDim,
        hotCapacityRows,
        admissionThreshold,
        ttlMs,
        initScale,
        embeddingLr,
        wideLr,
        denseLr,
        towers,
        tableSettings,
        clipNorm,
        DenseNormalization.NONE,
        DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR,
        WideCrosses.NONE,
        DEFAULT_DENSE_RATE_IMPRESSIONS,
        FactorisedCross.FIELD_WEIGHTED,
        WideOptimizer.ADAGRAD,
        WidePooling.PER_FEATURE,
        0L,
        Map.of());
  }

  /** The wide-and-factorised model without a deep part, with no per-table overrides. */
  public ModelConfig(
      FeatureSpec features,
      int embeddingDim,
      int hotCapacityRows,
      int admissionThreshold,
      long ttlMs,
      float initScale,
      float embeddingLr,
      float wideLr,
      float denseLr) {
    this(
        features,
        embeddingDim,
        hotCapacityRows,
        admissionThreshold,
        ttlMs,
        initScale,
        embeddingLr,
        wideLr,
        denseLr,
        Towers.NONE,
        Map.of(),
        0f);
  }

  /** The default model: the default features, towers and learning rates. */
  public static ModelConfig defaults() {
    return new ModelConfig(
        FeatureSpec.defaults(),
        16,
        1 << 20,
        1,
        0L,
        0.05f,
        0.1f,
        0.05f,
        0.005f,
        Towers.defaults(),
        Map.of(),
        10f);
  }

  public ModelConfig withTowers(Towers t) {
    return copy(c -> c.towers = t);
  }

  public ModelConfig withFeatures(FeatureSpec f) {
    return copy(c -> c.features = f);
  }

  public ModelConfig withHotCapacityRows(int rows) {
    return copy(c -> c.hotCapacityRows = rows);
  }

  public ModelConfig withTtlMs(long ms) {
    return copy(c -> c.ttlMs = ms);
  }

  public ModelConfig withDenseLr(float lr) {
    return copy(c -> c.denseLr = lr);
  }

  public ModelConfig withTableSettings(Map<String, TableSettings> settings) {
    return copy(c -> c.tableSettings = settings);
  }

  public ModelConfig withDenseNormalization(DenseNormalization d) {
    return copy(c -> c.denseNormalization = d);
  }

  public ModelConfig withAdagradInitialAccumulator(float a) {
    return copy(c -> c.adagradInitialAccumulator = a);
  }

  public ModelConfig withWideCrosses(WideCrosses w) {
    return copy(c -> c.wideCrosses = w);
  }

  public ModelConfig withDenseRateImpressions(int n) {
    return copy(c -> c.denseRateImpressions = n);
  }

  public ModelConfig withFactorisedCross(FactorisedCross f) {
    return copy(c -> c.factorisedCross = f);
  }

  public ModelConfig withWideOptimizer(WideOptimizer w) {
    return copy(c -> c.wideOptimizer = w);
  }

  public ModelConfig withWidePooling(WidePooling w) {
    return copy(c -> c.widePooling = w);
  }

  public ModelConfig withInitSeed(long seed) {
    return copy(c -> c.initSeed = seed);
  }

  public ModelConfig withLabelWeights(Map<String, Float> weights) {
    return copy(c -> c.labelWeights = weights);
  }

  /**
   * Each label's weight in the model's order ({@link #labelWeights}, 1 where not named), or null
   * when every label weighs 1.
   */
  public float[] labelWeightsInOrder() {
    List<String> labels = features.labels();
    float[] w = new float[labels.size()];
    boolean any = false;
    for (int l = 0; l < w.length; l++) {
      w[l] = labelWeights.getOrDefault(labels.get(l), 1f);
      any |= w[l] != 1f;
    }
    return any ? w : null;
  }

  /** This configuration with {@code change} made to a copy of its settings, validated again. */
  private ModelConfig copy(java.util.function.Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The components of a configuration, to change some and build another. */
  private static final class Copy {
    FeatureSpec features;
    int embeddingDim;
    int hotCapacityRows;
    int admissionThreshold;
    long ttlMs;
    float initScale;
    float embeddingLr;
    float wideLr;
    float denseLr;
    Towers towers;
    Map<String, TableSettings> tableSettings;
    float clipNorm;
    DenseNormalization denseNormalization;
    float adagradInitialAccumulator;
    WideCrosses wideCrosses;
    int denseRateImpressions;
    FactorisedCross factorisedCross;
    WideOptimizer wideOptimizer;
    WidePooling widePooling;
    long initSeed;
    Map<String, Float> labelWeights;

    Copy(ModelConfig m) {
      features = m.features;
      embeddingDim = m.embeddingDim;
      hotCapacityRows = m.hotCapacityRows;
      admissionThreshold = m.admissionThreshold;
      ttlMs = m.ttlMs;
      initScale = m.initScale;
      embeddingLr = m.embeddingLr;
      wideLr = m.wideLr;
      denseLr = m.denseLr;
      towers = m.towers;
      tableSettings = m.tableSettings;
      clipNorm = m.clipNorm;
      denseNormalization = m.denseNormalization;
      adagradInitialAccumulator = m.adagradInitialAccumulator;
      wideCrosses = m.wideCrosses;
      denseRateImpressions = m.denseRateImpressions;
      factorisedCross = m.factorisedCross;
      wideOptimizer = m.wideOptimizer;
      widePooling = m.widePooling;
      initSeed = m.initSeed;
      labelWeights = m.labelWeights;
    }

    ModelConfig build() {
      return new ModelConfig(
          features,
          embeddingDim,
          hotCapacityRows,
          admissionThreshold,
          ttlMs,
          initScale,
          embeddingLr,
          wideLr,
          denseLr,
          towers,
          tableSettings,
          clipNorm,
          denseNormalization,
          adagradInitialAccumulator,
          wideCrosses,
          denseRateImpressions,
          factorisedCross,
          wideOptimizer,
          widePooling,
          initSeed,
          labelWeights);
    }
  }

  /**
   * Adam's learning rate for a batch of {@code impressions}: {@code denseLr}, times {@code
   * sqrt(impressions / denseRateImpressions)} below {@code denseRateImpressions}.
   */
  public float denseLr(int impressions) {
    if (impressions >= denseRateImpressions) {
      return denseLr;
    }
    return (float) (denseLr * Math.sqrt(impressions / (double) denseRateImpressions));
  }

  /** The settings of {@code table}: its overrides, or {@link TableSettings#NONE}. */
  public TableSettings settings(String table) {
    return tableSettings.getOrDefault(table, TableSettings.NONE);
  }

  /**
   * The learning rate of {@code table}: row-wise Adagrad's, or for the wide table under FTRL its
   * alpha.
   */
  public float learningRate(String table) {
    Float lr = settings(table).learningRate();
    return lr != null ? lr : table.equals(WIDE_TABLE) ? wideLr : embeddingLr;
  }

  /** The embedding tables (one per distinct feature table) followed by the wide table. */
  public List<TableConfig> tableConfigs() {
    List<TableConfig> out = new ArrayList<>();
    for (String t : features.tables()) {
      out.add(tableConfig(t, embeddingDim, ROW_STATE_WIDTH, initScale));
    }
    out.add(tableConfig(WIDE_TABLE, 1, wideOptimizer.stateWidth(), 0f));
    return out;
  }

  private TableConfig tableConfig(String name, int dim, int stateWidth, float scale) {
    TableSettings s = settings(name);
    return new TableConfig(
        name,
        dim,
        stateWidth,
        s.hotCapacityRows() != null ? s.hotCapacityRows() : hotCapacityRows,
        s.admissionThreshold() != null ? s.admissionThreshold() : admissionThreshold,
        s.ttlMs() != null ? s.ttlMs() : ttlMs,
        scale);
  }

  private static void positive(int v, String key) {
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }
  }

  private static void finitePositive(float v, String key, boolean zeroOk) {
    if (!Float.isFinite(v) || v < 0 || (!zeroOk && v == 0)) {
      throw new IllegalArgumentException(
          key + " must be a finite number " + (zeroOk ? ">= 0" : "> 0") + ", got " + v);
    }
  }
}
