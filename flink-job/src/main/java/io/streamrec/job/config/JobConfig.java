package io.streamrec.job.config;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.gpu.BackendMode;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.RowEncoding;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The job's settings, read once from a Flink configuration and validated: a bad value fails the
 * start with a message that names the key, the value and what is allowed.
 */
public record JobConfig(
    String bootstrapServers,
    String groupId,
    String requestsTopic,
    String impressionsTopic,
    String deadLettersTopic,
    String modelUpdatesTopic,
    String requestUnitsTopic,
    SourceKind sourceKind,
    long unitsMaxOutOfOrdernessMs,
    long maxOutOfOrdernessMs,
    long idleTimeoutMs,
    int maxRecordBytes,
    int maxRecordsPerSecond,
    long joinWindowMs,
    long silentInputWaitMs,
    int maxImpressionsPerUnit,
    int assemblerParallelism,
    int batchMaxUnits,
    long batchMaxWaitMs,
    long publishIntervalMs,
    RowEncoding rowEncoding,
    int refreshVersions,
    String modelId,
    boolean replaceModel,
    BackendMode backend,
    int metricsWindow,
    boolean exactlyOnce,
    boolean requestUnitsEnabled,
    long injectFailureAfterUnits,
    ModelConfig model,
    String storeDir,
    String handoffSaveTo,
    String handoffStartFrom,
    boolean handoffContinuePublished,
    boolean resumeOnOtherCluster,
    InputLimits limits,
    KafkaClientProperties kafkaProperties)
    implements Serializable {

  public static JobConfig from(ReadableConfig c) {
    return saidAsOurs(() -> read(c));
  }

  /**
   * Refuses a duration written as a bare number other than 0, which Flink reads as milliseconds:
   * {@code assembler.join-window: 10} meant as 10 s dead-lettered nearly every impression, {@code
   * trainer.publish-interval: 5} published a version per batch, and {@code source.max-time-jump: 1}
   * took every event for a jump, each without a word.
   */
  static void requireUnits(ReadableConfig c) {
    Map<String, String> raw = c.toMap();
    for (ConfigOption<?> o : DurationOptions.ALL) {
      String v = raw.get(o.key());
      String n = v == null ? null : withoutUnit(v);
      if (n != null) {
        throw new ConfigException(
            o,
            "is '" + v + "', a number without a unit, which would be " + n + " ms",
            withItsUnit(n));
      }
      if (v != null) {
        requireMillisFit(c, o, v);
      }
    }
  }

  /** The advice for a duration {@code n} written without its unit. */
  private static String withItsUnit(String n) {
    return "write its unit, e.g. '" + n + " s', '" + n + " min' or '" + n + " ms'";
  }

  /**
   * Refuses a duration Flink parses whose milliseconds do not fit a long ({@code 999999999999 d}):
   * its reading failed the start with a bare "long overflow" that named no key. A value Flink does
   * not parse is left to the reading of the key, which says what a duration looks like.
   */
  @SuppressWarnings("unchecked")
  private static void requireMillisFit(ReadableConfig c, ConfigOption<?> o, String v) {
    try {
      c.get((ConfigOption<java.time.Duration>) o).toMillis();
    } catch (ArithmeticException e) {
      throw new ConfigException(
          o,
          "is '" + v + "', longer than a duration may be",
          "give at most " + Long.MAX_VALUE / 86_400_000L + " d");
    } catch (IllegalArgumentException notADuration) {
      // said by the key's own reading
    }
  }

  /**
   * Refuses FTRL-Proximal's settings, other than their defaults, for wide rows that another
   * optimizer trains: {@code model.ftrl.l1: 1} with the default {@code model.wide-optimizer} tuned
   * nothing, in silence. A job and its backfills share one model, so no configuration needs both.
   */
  static void requireInEffect(ReadableConfig c) {
    String optimizer = c.get(ModelOptions.WIDE_OPTIMIZER).strip();
    try {
      if (ModelConfig.WideOptimizer.Kind.of(optimizer) == ModelConfig.WideOptimizer.Kind.FTRL) {
        return;
      }
    } catch (IllegalArgumentException unknown) {
      return; // the model's own reading names the optimizers there are
    }
    for (ConfigOption<Float> o :
        List.of(ModelOptions.FTRL_BETA, ModelOptions.FTRL_L1, ModelOptions.FTRL_L2)) {
      // at its default it asks for nothing (a file that lists every key with its default)
      if (c.getOptional(o).filter(v -> !v.equals(o.defaultValue())).isPresent()) {
        throw new ConfigException(
            o,
            "is set, but model.wide-optimizer is '" + optimizer + "', which takes no FTRL setting",
            "set model.wide-optimizer: ftrl to train the wide rows with FTRL-Proximal, or remove '"
                + o.key()
                + "'");
      }
    }
  }

  /**
   * The number of a duration written without a unit other than 0 ({@code "10"}), which Flink's
   * parser reads as milliseconds; null for any other text.
   */
  public static String withoutUnit(String duration) {
    String n = duration.strip();
    return n.matches("[0-9]+") && !n.matches("0+") ? n : null;
  }

  /** The options that take a duration, asked of Flink's options once, not at every read. */
  private static final class DurationOptions {
    static final List<ConfigOption<?>> ALL =
        ConfigDocs.options().stream().filter(JobConfig::takesDuration).toList();
  }

  /** Whether {@code o} takes a duration (one without a default value too). */
  static boolean takesDuration(ConfigOption<?> o) {
    return declared(o, "getClazz") == java.time.Duration.class
            && Boolean.FALSE.equals(declared(o, "isList"))
        || o.hasDefaultValue() && o.defaultValue() instanceof java.time.Duration;
  }

  /** Whether {@code o} takes a list of values. */
  static boolean takesList(ConfigOption<?> o) {
    return Boolean.TRUE.equals(declared(o, "isList"))
        || o.hasDefaultValue() && o.defaultValue() instanceof List<?>;
  }

  /**
   * What Flink's option says of its type ({@code getClazz}, {@code isList}: declared, not public);
   * null where it cannot be asked.
   */
  private static Object declared(ConfigOption<?> o, String method) {
    try {
      java.lang.reflect.Method m = ConfigOption.class.getDeclaredMethod(method);
      m.setAccessible(true);
      return m.invoke(o);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** What {@code read} returns; a value Flink's parser refuses said as {@link #unparsable} does. */
  private static <T> T saidAsOurs(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw unparsable(e);
    }
  }

  /**
   * Flink's refusal of a value its parser does not take ("Could not parse value '-1s' for key
   * 'source.max-future'."), said as streamrec's other refusals are, with the form the key takes;
   * {@code e} itself where it is another refusal.
   */
  static RuntimeException unparsable(IllegalArgumentException e) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("Could not parse value '(.*)' for key '([^']+)'")
            .matcher(String.valueOf(e.getMessage()));
    if (!m.find()) {
      return e;
    }
    String raw = m.group(1);
    ConfigOption<?> option =
        ConfigDocs.options().stream()
            .filter(o -> o.key().equals(m.group(2)))
            .findFirst()
            .orElse(null);
    if (option == null) {
      return e;
    }
    Object d = option.hasDefaultValue() ? option.defaultValue() : null;
    boolean duration = takesDuration(option);
    if (takesList(option)) {
      String r = raw.strip();
      boolean empty = r.contains(";;") || r.startsWith(";") || r.endsWith(";");
      return new ConfigException(
          option,
          "is '"
              + raw
              + "'"
              + (empty ? ", a list with an empty value" : ", not a list of its kind"),
          "give its values separated by ';'"
              + (d instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Integer
                  ? ", each a whole number (e.g. 64;16)"
                  : ""));
    }
    String fix =
        duration
            ? "give a number and a unit, e.g. 5 s, 500 ms or 2 min"
                + (raw.strip().startsWith("-") ? "; a duration is never negative" : "")
            : d instanceof Boolean
                ? "give true or false"
                : d instanceof Integer || d instanceof Long
                    ? "give a whole number"
                    : d instanceof Double || d instanceof Float
                        ? "give a number"
                        : "see the README's configuration table for its form";
    String what =
        duration ? ", not a duration" : d instanceof Number ? ", not a number of that kind" : "";
    return new ConfigException(option, "is '" + raw + "'" + what, fix);
  }

  private static JobConfig read(ReadableConfig c) {
    requireUnits(c);
    requireInEffect(c);
    String servers =
        c.getOptional(JobOptions.BOOTSTRAP_SERVERS)
            .orElseThrow(
                () ->
                    new ConfigException(
                        JobOptions.BOOTSTRAP_SERVERS,
                        "is not set",
                        "give the broker address, e.g. --bootstrap-servers localhost:9092"));
    ModelConfig model = model(c);
    return new JobConfig(
        servers,
        nonEmpty(c, JobOptions.GROUP_ID),
        nonEmpty(c, JobOptions.REQUESTS_TOPIC),
        nonEmpty(c, JobOptions.IMPRESSIONS_TOPIC),
        nonEmpty(c, JobOptions.DEAD_LETTERS_TOPIC),
        nonEmpty(c, JobOptions.MODEL_UPDATES_TOPIC),
        nonEmpty(c, JobOptions.REQUEST_UNITS_TOPIC),
        sourceKind(c),
        c.getOptional(JobOptions.UNITS_MAX_OUT_OF_ORDERNESS).isPresent()
            ? millis(c, JobOptions.UNITS_MAX_OUT_OF_ORDERNESS, true)
            : millis(c, JobOptions.JOIN_WINDOW, false)
                + millis(c, JobOptions.MAX_OUT_OF_ORDERNESS, true),
        millis(c, JobOptions.MAX_OUT_OF_ORDERNESS, true),
        millis(c, JobOptions.IDLE_TIMEOUT, true),
        atLeast(c, JobOptions.MAX_RECORD_BYTES, 64),
        atLeast(c, JobOptions.MAX_RECORDS_PER_SECOND, 0),
        millis(c, JobOptions.JOIN_WINDOW, false),
        millis(c, JobOptions.SILENT_INPUT_WAIT, true),
        atLeast(c, JobOptions.MAX_IMPRESSIONS_PER_UNIT, 1),
        atLeast(c, JobOptions.ASSEMBLER_PARALLELISM, 1),
        atLeast(c, JobOptions.BATCH_MAX_UNITS, 1),
        millis(c, JobOptions.BATCH_MAX_WAIT, true),
        millis(c, JobOptions.PUBLISH_INTERVAL, false),
        rowEncoding(c),
        c.getOptional(JobOptions.REFRESH_VERSIONS).isPresent()
            ? atLeast(c, JobOptions.REFRESH_VERSIONS, 0)
            : -1,
        modelId(c),
        c.get(JobOptions.REPLACE_MODEL),
        backend(c),
        atLeast(c, JobOptions.METRICS_WINDOW, 100),
        guarantee(c),
        c.get(JobOptions.REQUEST_UNITS_ENABLED),
        atLeast(c, JobOptions.INJECT_FAILURE_AFTER_UNITS, 0L),
        model,
        c.get(JobOptions.STORE_DIR).trim(),
        handoffPath(c, JobOptions.HANDOFF_SAVE_TO),
        handoffPath(c, JobOptions.HANDOFF_START_FROM),
        c.get(JobOptions.HANDOFF_CONTINUE_PUBLISHED),
        c.get(JobOptions.RESUME_ON_OTHER_CLUSTER),
        InputLimits.from(c, model),
        kafkaProperties(c));
  }

  /**
   * Versions per re-publication cycle for a job that is live ({@code bounded} false) or a backfill:
   * {@code trainer.publish.refresh-versions} when set, else its default for that kind of job.
   */
  public int refreshVersions(boolean bounded) {
    return refreshVersions >= 0
        ? refreshVersions
        : bounded ? 0 : StreamrecJobDefaults.LIVE_REFRESH_VERSIONS;
  }

  /**
   * A handoff's path as every part of the job reads it: a URI as given, a local path made absolute
   * here, where the job is built (the trainer may run in another working directory).
   */
  private static String handoffPath(ReadableConfig c, ConfigOption<String> option) {
    String p = c.get(option).trim();
    if (p.isEmpty() || p.matches("^[A-Za-z][A-Za-z0-9+.-]*:/.*")) {
      return p;
    }
    try {
      return java.nio.file.Path.of(p).toAbsolutePath().normalize().toString();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ConfigException(
          option, "is not a path: " + e.getMessage(), "give a file path or URI");
    }
  }

  /**
   * The {@code properties.*} keys: Kafka client settings for every client of the job.
   *
   * @throws ConfigException for a setting Kafka's clients refuse
   */
  public static KafkaClientProperties kafkaProperties(ReadableConfig c) {
    try {
      return KafkaClientProperties.fromPrefixed(c.toMap());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("configuration: " + e.getMessage(), e);
    }
  }

  /**
   * The job's topics, as the topic tools need them ({@code partitions} for the input topics they
   * create).
   */
  public TopicsConfig topics(int partitions) {
    return new TopicsConfig(
        requestsTopic,
        impressionsTopic,
        deadLettersTopic,
        modelUpdatesTopic,
        requestUnitsTopic,
        partitions);
  }

  /** What the job trains from. */
  public enum SourceKind {
    /** The requests and impressions topics, joined into units by the assembler. */
    EVENTS,
    /** The request-units topic: units another run assembled, no join. */
    UNITS
  }

  private static SourceKind sourceKind(ReadableConfig c) {
    String v = c.get(JobOptions.SOURCE_KIND).trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "events" -> SourceKind.EVENTS;
      case "units" -> SourceKind.UNITS;
      default ->
          throw new ConfigException(
              JobOptions.SOURCE_KIND, "is '" + v + "'", "use events or units");
    };
  }

  /**
   * The names a list option gives. Flink separates a list's values with ';': given on the command
   * line as {@code -D model.labels=click,good}, the list was one label named "click,good", trained
   * on an absent label as 0 everywhere.
   */
  private static List<String> names(ReadableConfig c, ConfigOption<List<String>> option) {
    List<String> names = c.get(option);
    for (String n : names) {
      if (n.isBlank()) {
        // a label named '' was trained as 0 on every impression, with a warning at run time
        throw new ConfigException(
            option,
            "has an empty name in " + names.stream().map(x -> "'" + x + "'").toList(),
            "remove it (two ';' in a row, or one at an end)");
      }
      if (n.contains(",")) {
        throw new ConfigException(
            option,
            "names '" + n.trim() + "'",
            "separate a list's values with ';', not ',' (-D '"
                + option.key()
                + "="
                + n.trim().replaceAll("\\s*,\\s*", ";")
                + "'), or give a YAML list in the configuration file");
      }
    }
    return names;
  }

  /** The model part of the configuration alone. */
  public static ModelConfig model(ReadableConfig c) {
    return saidAsOurs(() -> readModel(c));
  }

  private static ModelConfig readModel(ReadableConfig c) {
    Map<String, String> shared = pairs(c, ModelOptions.SHARED_VOCABULARY, "recent_items:item_id");
    List<String> requestNames = names(c, ModelOptions.REQUEST_CATEGORICAL);
    List<String> impressionNames = names(c, ModelOptions.IMPRESSION_CATEGORICAL);
    // the default pair (recent_items:item_id) speaks of the default features: a model without
    // either of them has nothing to share (impression features renamed, item_id among them, were
    // refused for a pair the user never wrote), where a pair the user wrote must name features
    if (c.getOptional(ModelOptions.SHARED_VOCABULARY).isEmpty()) {
      java.util.Set<String> named = new java.util.HashSet<>();
      requestNames.forEach(n -> named.add(n.trim()));
      impressionNames.forEach(n -> named.add(n.trim()));
      shared =
          shared.entrySet().stream()
              .filter(e -> named.contains(e.getKey()) && named.contains(e.getValue()))
              .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }
    List<CategoricalFeature> cat = new ArrayList<>();
    for (String name : requestNames) {
      cat.add(categorical(name.trim(), Side.REQUEST, shared));
    }
    for (String name : impressionNames) {
      cat.add(categorical(name.trim(), Side.IMPRESSION, shared));
    }
    List<DenseFeature> dense = new ArrayList<>();
    for (String name : names(c, ModelOptions.REQUEST_DENSE)) {
      dense.add(new DenseFeature(name.trim(), Side.REQUEST));
    }
    for (String name : names(c, ModelOptions.IMPRESSION_DENSE)) {
      dense.add(new DenseFeature(name.trim(), Side.IMPRESSION));
    }
    for (Map.Entry<String, String> e : shared.entrySet()) {
      if (cat.stream().noneMatch(f -> f.name().equals(e.getKey()))) {
        // a misspelt feature here left the feature meant with a table of its own, in silence
        throw new ConfigException(
            ModelOptions.SHARED_VOCABULARY,
            "names '" + e.getKey() + "', which is not a categorical feature",
            "the left of each pair must be one of the categorical features "
                + cat.stream().map(CategoricalFeature::name).toList());
      }
      if (shared.containsKey(e.getValue())) {
        throw new ConfigException(
            ModelOptions.SHARED_VOCABULARY,
            "has '"
                + e.getKey()
                + ":"
                + e.getValue()
                + "' and '"
                + e.getValue()
                + ":"
                + shared.get(e.getValue())
                + "'",
            "a feature shares the vocabulary of a feature that has its own: name that one on"
                + " the right of every pair");
      }
    }
    for (String other : shared.values()) {
      boolean known = cat.stream().anyMatch(f -> f.name().equals(other));
      if (!known) {
        throw new ConfigException(
            ModelOptions.SHARED_VOCABULARY,
            "names '" + other + "'",
            "it must be one of the categorical features "
                + cat.stream().map(CategoricalFeature::name).toList());
      }
    }
    List<String> labels = names(c, ModelOptions.LABELS);
    refuseLabelsExportedAlike(labels);
    ModelConfig model;
    try {
      model =
          new ModelConfig(
              new FeatureSpec(cat, dense, labels),
              c.get(ModelOptions.EMBEDDING_DIM),
              c.get(ModelOptions.HOT_CAPACITY_ROWS),
              c.get(ModelOptions.ADMISSION_THRESHOLD),
              ttl(ModelOptions.TTL, "is", c.get(ModelOptions.TTL).toMillis()),
              c.get(ModelOptions.INIT_SCALE),
              c.get(ModelOptions.EMBEDDING_LR),
              c.get(ModelOptions.WIDE_LR),
              c.get(ModelOptions.DENSE_LR),
              c.get(ModelOptions.DEEP)
                  ? new ModelConfig.Towers(
                      c.get(ModelOptions.REQUEST_TOWER),
                      c.get(ModelOptions.IMPRESSION_TOWER),
                      c.get(ModelOptions.HEAD))
                  : ModelConfig.Towers.NONE,
              tableSettings(c),
              c.get(ModelOptions.CLIP_NORM),
              ModelConfig.DenseNormalization.of(c.get(ModelOptions.DENSE_NORMALIZATION)),
              c.get(ModelOptions.ADAGRAD_INITIAL_ACCUMULATOR),
              ModelConfig.WideCrosses.of(c.get(ModelOptions.WIDE_CROSSES)),
              c.get(ModelOptions.DENSE_RATE_IMPRESSIONS),
              ModelConfig.FactorisedCross.of(c.get(ModelOptions.FACTORISED_CROSS)),
              new ModelConfig.WideOptimizer(
                  ModelConfig.WideOptimizer.Kind.of(c.get(ModelOptions.WIDE_OPTIMIZER)),
                  c.get(ModelOptions.FTRL_BETA),
                  c.get(ModelOptions.FTRL_L1),
                  c.get(ModelOptions.FTRL_L2)),
              ModelConfig.WidePooling.of(c.get(ModelOptions.WIDE_POOLING)),
              c.get(ModelOptions.INIT_SEED),
              labelWeights(c, labels));
    } catch (IllegalArgumentException e) {
      if (unparsable(e) instanceof ConfigException named) {
        throw named;
      }
      throw new ConfigException("model configuration: " + e.getMessage(), e);
    }
    refuseFtrlWithoutAFloor(model.wideOptimizer());
    try {
      model.tableConfigs().forEach(io.streamrec.embedding.TableConfig::requireHotCapacityFits);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("model configuration: " + e.getMessage(), e);
    }
    return model;
  }

  /**
   * Refuses FTRL with beta and L2 both 0: a new weight's rate is then alpha over the square root of
   * its squared gradients, and a first gradient whose square underflows to 0 (a wide row of
   * impressions scored near 0, label 0) made the weight infinite, every batch with that id after it
   * skipped as a non-finite loss until the row expired, and the infinite weight published.
   */
  private static void refuseFtrlWithoutAFloor(ModelConfig.WideOptimizer w) {
    if (w.kind() == ModelConfig.WideOptimizer.Kind.FTRL && w.beta() == 0f && w.l2() == 0f) {
      throw new ConfigException(
          ModelOptions.FTRL_BETA,
          "is 0 with model.ftrl.l2 0",
          "a new weight's first update then divides by the square root of its squared gradient,"
              + " which underflows to 0 for a tiny one and makes the weight infinite; give beta > 0"
              + " (1, the default) or l2 > 0");
    }
  }

  private static Map<String, ModelConfig.TableSettings> tableSettings(ReadableConfig c) {
    Map<String, ModelConfig.TableSettings> out = new java.util.TreeMap<>();
    pairs(c, ModelOptions.TABLE_HOT_CAPACITY, "item_cat:1000,country:300")
        .forEach(
            (t, v) ->
                out.merge(
                    t.trim(),
                    new ModelConfig.TableSettings(
                        parse(ModelOptions.TABLE_HOT_CAPACITY, t, v, Integer::valueOf),
                        null,
                        null,
                        null),
                    JobConfig::merge));
    pairs(c, ModelOptions.TABLE_ADMISSION, "item_id:2,user_id:3")
        .forEach(
            (t, v) ->
                out.merge(
                    t.trim(),
                    new ModelConfig.TableSettings(
                        null,
                        parse(ModelOptions.TABLE_ADMISSION, t, v, Integer::valueOf),
                        null,
                        null),
                    JobConfig::merge));
    pairs(c, ModelOptions.TABLE_TTL, "item_id:7d,user_id:30d")
        .forEach(
            (t, v) -> {
              // Flink reads a bare number as milliseconds: item_id:86400 meant as a day expired
              // rows unseen for 86.4 s, where the same number in model.ttl is refused
              String n = withoutUnit(v);
              if (n != null) {
                String p = t.trim() + ":" + n;
                throw new ConfigException(
                    ModelOptions.TABLE_TTL,
                    "has '"
                        + v.strip()
                        + "' for table '"
                        + t.trim()
                        + "', a number without a unit, which would be "
                        + n
                        + " ms",
                    withItsUnit(p));
              }
              out.merge(
                  t.trim(),
                  new ModelConfig.TableSettings(
                      null,
                      null,
                      ttl(
                          ModelOptions.TABLE_TTL,
                          "has '" + v.trim() + "' for table '" + t.trim() + "', that is",
                          parse(
                              ModelOptions.TABLE_TTL,
                              t,
                              v,
                              x -> org.apache.flink.util.TimeUtils.parseDuration(x).toMillis())),
                      null),
                  JobConfig::merge);
            });
    pairs(c, ModelOptions.TABLE_LR, "item_id:0.05,wide:0.02")
        .forEach(
            (t, v) ->
                out.merge(
                    t.trim(),
                    new ModelConfig.TableSettings(
                        null, null, null, parse(ModelOptions.TABLE_LR, t, v, Float::valueOf)),
                    JobConfig::merge));
    return out;
  }

  /**
   * Refuses two labels that Flink's Prometheus reporter writes alike ({@code add.to.cart} and
   * {@code add-to-cart} are both {@code label="add_to_cart"}): one label's figures overwrote the
   * other's in every scrape, without a word.
   */
  private static void refuseLabelsExportedAlike(List<String> labels) {
    Map<String, String> exported = new java.util.HashMap<>();
    for (String label : labels) {
      String as = io.streamrec.job.metrics.JobMetrics.asPrometheusLabelValue(label);
      String other = exported.putIfAbsent(as, label);
      if (other != null && !other.equals(label)) {
        throw new ConfigException(
            ModelOptions.LABELS,
            "has '" + other + "' and '" + label + "'",
            "Flink's Prometheus reporter writes both as label=\""
                + as
                + "\" (every character other than a letter, a digit, _ or : as _), so one"
                + " label's metrics would overwrite the other's: rename one");
      }
    }
  }

  /** The smallest and the largest label weight taken. */
  static final double MIN_LABEL_WEIGHT = 1e-6, MAX_LABEL_WEIGHT = 1e3;

  /** A weight as written: a plain decimal number, with an exponent or not. */
  private static final java.util.regex.Pattern DECIMAL =
      java.util.regex.Pattern.compile("\\+?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  private static Map<String, Float> labelWeights(ReadableConfig c, List<String> labels) {
    Map<String, Float> out = new java.util.TreeMap<>();
    pairs(c, ModelOptions.LABEL_WEIGHTS, "like:0.3,purchase:0.1")
        .forEach(
            (label, w) -> {
              String v = w.trim();
              double weight = DECIMAL.matcher(v).matches() ? Double.parseDouble(v) : Double.NaN;
              if (!(weight >= MIN_LABEL_WEIGHT && weight <= MAX_LABEL_WEIGHT)) {
                throw new ConfigException(
                    ModelOptions.LABEL_WEIGHTS,
                    "has '" + w + "' for label '" + label.trim() + "'",
                    "give label:weight pairs with a number from 0.000001 to 1000 as the weight,"
                        + " e.g. like:0.3 (a label's weight is relative to the others', 1 where"
                        + " not named)");
              }
              out.put(label.trim(), (float) weight);
            });
    if (!out.isEmpty() && labels.size() == 1) {
      throw new ConfigException(
          ModelOptions.LABEL_WEIGHTS,
          "is set, but the model has one label " + labels,
          "label weights weigh the labels' losses against each other; to change how fast one"
              + " label learns, set the learning rates (model.embedding-learning-rate,"
              + " model.wide-learning-rate, model.dense-learning-rate), or remove"
              + " model.label-weights");
    }
    return out;
  }

  /**
   * A map option's name:value pairs. Flink's own error ("could not parse value") said what a user
   * who separated them as a list's items ({@code a:1;b:2}) could not act on.
   */
  private static Map<String, String> pairs(
      ReadableConfig c, ConfigOption<Map<String, String>> option, String example) {
    try {
      return c.get(option);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          option,
          "is not a list of name:value pairs",
          "write the pairs as one string separated by commas, each name once, e.g. "
              + example
              + " (not a YAML list, and not with ';', which separates the items of the list"
              + " options)");
    }
  }

  /**
   * A TTL in milliseconds, refused when under a second: rows would expire between two batches. A
   * number without a unit is milliseconds, which is how {@code ttl: 30} meant as 30 days got there.
   */
  private static long ttl(ConfigOption<?> option, String what, long ms) {
    if (ms > 0 && ms < 1000) {
      throw new ConfigException(
          option,
          what + " " + ms + " ms",
          "a TTL under a second expires rows between two batches; a number without a unit is"
              + " milliseconds: write 30 d, 12 h or 90 min (0 keeps rows for ever)");
    }
    return ms;
  }

  private static ModelConfig.TableSettings merge(
      ModelConfig.TableSettings a, ModelConfig.TableSettings b) {
    return a.with(b.hotCapacityRows(), b.admissionThreshold(), b.ttlMs(), b.learningRate());
  }

  private static <T> T parse(
      ConfigOption<?> option,
      String table,
      String value,
      java.util.function.Function<String, T> f) {
    try {
      return f.apply(value.trim());
    } catch (RuntimeException e) {
      throw new ConfigException(
          option,
          "has '" + value + "' for table '" + table + "'",
          "give table:value pairs with a valid value");
    }
  }

  private static CategoricalFeature categorical(
      String name, Side side, Map<String, String> shared) {
    String vocabulary = shared.getOrDefault(name, name);
    return new CategoricalFeature(name, side, vocabulary, vocabulary, Pooling.MEAN);
  }

  private static String nonEmpty(ReadableConfig c, ConfigOption<String> o) {
    String v = c.get(o);
    if (v == null || v.isBlank()) {
      throw new ConfigException(o, "is empty", "give a name");
    }
    return v.trim();
  }

  private static long millis(ReadableConfig c, ConfigOption<java.time.Duration> o, boolean zeroOk) {
    long ms = duration(c, o).toMillis();
    if (ms < 0 || (!zeroOk && ms == 0)) {
      throw new ConfigException(
          o,
          "is " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(c.get(o)),
          zeroOk ? "it must be >= 0" : "it must be > 0, e.g. 5 s");
    }
    return ms;
  }

  /** The duration {@code o} holds, or a refusal that says what a duration looks like. */
  private static java.time.Duration duration(ReadableConfig c, ConfigOption<java.time.Duration> o) {
    try {
      return c.get(o);
    } catch (IllegalArgumentException e) {
      String raw =
          c.getOptional(
                  org.apache.flink.configuration.ConfigOptions.key(o.key())
                      .stringType()
                      .noDefaultValue())
              .orElse("?");
      throw new ConfigException(
          o,
          "is '" + raw + "', not a duration",
          "give a number and a unit, e.g. 5 s, 500 ms or 2 min"
              + (raw.strip().startsWith("-") ? "; a duration is never negative" : ""));
    }
  }

  private static long atLeast(ReadableConfig c, ConfigOption<Long> o, long min) {
    long v = c.get(o);
    if (v < min) {
      throw new ConfigException(o, "is " + v, "it must be >= " + min);
    }
    return v;
  }

  private static int atLeast(ReadableConfig c, ConfigOption<Integer> o, int min) {
    int v = c.get(o);
    if (v < min) {
      throw new ConfigException(o, "is " + v, "it must be >= " + min);
    }
    return v;
  }

  private static BackendMode backend(ReadableConfig c) {
    try {
      return BackendMode.parse(c.get(JobOptions.BACKEND));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          JobOptions.BACKEND, "is '" + c.get(JobOptions.BACKEND) + "'", "use auto, cpu or cuda");
    }
  }

  private static RowEncoding rowEncoding(ReadableConfig c) {
    String e = c.get(JobOptions.ROW_ENCODING).trim().toLowerCase(Locale.ROOT);
    switch (e) {
      case "float32":
        return RowEncoding.FLOAT32;
      case "float16":
        return RowEncoding.FLOAT16;
      case "bfloat16":
        return RowEncoding.BFLOAT16;
      default:
        throw new ConfigException(
            JobOptions.ROW_ENCODING, "is '" + e + "'", "use float32, float16 or bfloat16");
    }
  }

  private static String modelId(ReadableConfig c) {
    String id = c.get(JobOptions.MODEL_ID).trim().toLowerCase(Locale.ROOT);
    if (!id.isEmpty() && !id.matches("[0-7][0-9a-f]{15}|[0-9a-f]{1,15}") || id.matches("0+")) {
      throw new ConfigException(
          JobOptions.MODEL_ID,
          "is '" + id + "'",
          "give up to 16 hex digits of a positive, non-zero 64-bit id, or leave it empty");
    }
    return id;
  }

  /**
   * Refuses an exactly-once job whose transactions time out within one checkpoint interval: a
   * sink's transaction stays open from one checkpoint to the commit after the next, so the broker
   * aborted every one before its commit, and the job failed at each checkpoint and published
   * nothing. (The brokers' {@code transaction.max.timeout.ms} bounds it from above: {@link
   * io.streamrec.job.kafka.KafkaPreflight} checks that.) The job's entry asks it again of the
   * configuration its environment runs with, where the cluster's checkpoint interval counts too.
   */
  public static void refuseATransactionTimeoutWithinTheCheckpointInterval(ReadableConfig c) {
    java.util.Optional<java.time.Duration> interval;
    try {
      interval =
          c.getOptional(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL);
    } catch (IllegalArgumentException e) {
      return; // not a duration: Flink's refusal names the key and the value
    }
    java.util.Map<String, String> user = kafkaProperties(c).asMap();
    String given = user.get("transaction.timeout.ms");
    long timeoutMs;
    try {
      timeoutMs = io.streamrec.job.sink.KafkaSinks.transactionTimeoutMs(user);
    } catch (IllegalArgumentException e) {
      return; // the sinks refuse it by name
    }
    if (interval.isPresent() && timeoutMs <= interval.get().toMillis()) {
      throw new ConfigException(
          JobOptions.DELIVERY_GUARANTEE,
          "is exactly-once with transactions that time out after "
              + org.apache.flink.util.TimeUtils.formatWithHighestUnit(
                  java.time.Duration.ofMillis(timeoutMs))
              + " (properties.transaction.timeout.ms"
              + (given == null ? ", its default" : "")
              + "), within one checkpoint interval ("
              + org.apache.flink.util.TimeUtils.formatWithHighestUnit(interval.get())
              + ")",
          "a transaction stays open from one checkpoint to the next, and the broker would abort"
              + " every one before its commit: give properties.transaction.timeout.ms well above"
              + " execution.checkpointing.interval (at most the brokers' transaction.max.timeout.ms)");
    }
  }

  private static boolean guarantee(ReadableConfig c) {
    String g = c.get(JobOptions.DELIVERY_GUARANTEE).trim().toLowerCase(Locale.ROOT);
    switch (g) {
      case "at-least-once":
        return false;
      case "exactly-once":
        refuseATransactionTimeoutWithinTheCheckpointInterval(c);
        return true;
      default:
        throw new ConfigException(
            JobOptions.DELIVERY_GUARANTEE, "is '" + g + "'", "use at-least-once or exactly-once");
    }
  }
}
