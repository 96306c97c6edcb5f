package io.streamrec.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.streamrec.model.ModelConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;

/**
 * The model's configuration keys. Feature names are the user's: these keys say which names are
 * request-side or impression-side, categorical or dense. The defaults match the JSON interchange
 * example ({@code user_id, country, recent_items / item_id, item_cat; hour / position; click}).
 */
public final class ModelOptions {
  private ModelOptions() {}

  public static final ConfigOption<List<String>> REQUEST_CATEGORICAL =
      key("model.features.request.categorical")
          .stringType()
          .asList()
          .defaultValues("user_id", "country", "recent_items")
          .withDescription(
              "Categorical features of the request (user and context), each a list of strings.");
  public static final ConfigOption<List<String>> IMPRESSION_CATEGORICAL =
      key("model.features.impression.categorical")
          .stringType()
          .asList()
          .defaultValues("item_id", "item_cat")
          .withDescription("Categorical features of an impression (the item shown).");
  public static final ConfigOption<List<String>> REQUEST_DENSE =
      key("model.features.request.dense")
          .stringType()
          .asList()
          .defaultValues("hour")
          .withDescription("Dense features of the request.");
  public static final ConfigOption<List<String>> IMPRESSION_DENSE =
      key("model.features.impression.dense")
          .stringType()
          .asList()
          .defaultValues("position")
          .withDescription("Dense features of an impression.");
  public static final ConfigOption<Map<String, String>> SHARED_VOCABULARY =
      key("model.features.shared-vocabulary")
          .mapType()
          .defaultValue(Map.of("recent_items", "item_id"))
          .withDescription(
              "feature:other pairs: the feature's values share rows (table and ids) with the other feature.");
  public static final ConfigOption<List<String>> LABELS =
      key("model.labels")
          .stringType()
          .asList()
          .defaultValues("click")
          .withDescription(
              "Label names, each with an output of its own of the head (the rest of the model"
                  + " shared, each label's loss weighing as model.label-weights says; several need"
                  + " model.deep) and"
                  + " scored by /score; each label has its progressive metrics (the report's"
                  + " by_label, the metrics' label subgroup), and those without a label follow"
                  + " the first.");

  public static final ConfigOption<Integer> EMBEDDING_DIM =
      key("model.embedding-dim")
          .intType()
          .defaultValue(16)
          .withDescription("Width of every embedding row.");
  public static final ConfigOption<Integer> HOT_CAPACITY_ROWS =
      key("model.hot-capacity-rows")
          .intType()
          .defaultValue(1 << 20)
          .withDescription(
              "Rows each embedding table keeps hot. At most nine tenths of what one slab of"
                  + " 2^31 floats holds: rows × (model.embedding-dim + 1) ≤ 0.9 × 2^31 (14.98 million"
                  + " rows at dim 128); the job refuses more, naming the table.");
  public static final ConfigOption<Integer> ADMISSION_THRESHOLD =
      key("model.admission-threshold")
          .intType()
          .defaultValue(1)
          .withDescription("Times an id must be seen before it gets a row (1 = at once).");
  public static final ConfigOption<Duration> TTL =
      key("model.ttl")
          .durationType()
          .defaultValue(Duration.ZERO)
          .withDescription(
              "Rows not seen for this long in event time expire and are tombstoned (0 = never).");
  public static final ConfigOption<Float> INIT_SCALE =
      key("model.init-scale")
          .floatType()
          .defaultValue(0.05f)
          .withDescription("Embedding rows start uniform in ±this, seeded by the id.");
  public static final ConfigOption<Float> EMBEDDING_LR =
      key("model.embedding-learning-rate")
          .floatType()
          .defaultValue(0.1f)
          .withDescription("Row-wise Adagrad learning rate of the embedding tables.");
  public static final ConfigOption<Float> WIDE_LR =
      key("model.wide-learning-rate")
          .floatType()
          .defaultValue(0.05f)
          .withDescription("Row-wise Adagrad learning rate of the wide per-id weights.");
  public static final ConfigOption<Float> DENSE_LR =
      key("model.dense-learning-rate")
          .floatType()
          .defaultValue(0.005f)
          .withDescription("Adam learning rate of the dense weights.");

  public static final ConfigOption<List<Integer>> REQUEST_TOWER =
      key("model.towers.request")
          .intType()
          .asList()
          .defaultValues(32, 16)
          .withDescription(
              "Request tower: hidden layer sizes, then its output size (runs once per request).");
  public static final ConfigOption<List<Integer>> IMPRESSION_TOWER =
      key("model.towers.impression")
          .intType()
          .asList()
          .defaultValues(32, 16)
          .withDescription(
              "Impression tower: hidden layer sizes, then its output size (the request tower's).");
  public static final ConfigOption<List<Integer>> HEAD =
      key("model.towers.head")
          .intType()
          .asList()
          .defaultValues(16)
          .withDescription(
              "Hidden layer sizes of the head over [r, v, r*v]; it ends in one logit per label.");
  public static final ConfigOption<Boolean> DEEP =
      key("model.deep")
          .booleanType()
          .defaultValue(true)
          .withDescription(
              "false: no towers and head, the wide-and-factorised model alone, of one label (the"
                  + " labels differ only in their outputs of the head).");
  public static final ConfigOption<Float> CLIP_NORM =
      key("model.clip-norm")
          .floatType()
          .defaultValue(10f)
          .withDescription("The dense gradient's L2 norm is clipped to this per batch (0 = off).");
  public static final ConfigOption<String> DENSE_NORMALIZATION =
      key("model.dense-normalization")
          .stringType()
          .defaultValue("none")
          .withDescription(
              "What the model does to each dense input after sign(x)*log1p(|x|): none, or running"
                  + " ((x - mean) / sqrt(var + 0.01) with a running mean and variance per feature,"
                  + " learnt from the trained batches and published with the dense weights).");
  public static final ConfigOption<Float> ADAGRAD_INITIAL_ACCUMULATOR =
      key("model.adagrad-initial-accumulator")
          .floatType()
          .defaultValue(ModelConfig.DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR)
          .withDescription(
              "Where every embedding and wide row's Adagrad accumulator starts (> 0): a new id's"
                  + " first steps are lr*g/sqrt(this + g^2) instead of a whole learning rate.");
  public static final ConfigOption<Integer> DENSE_RATE_IMPRESSIONS =
      key("model.dense-rate-impressions")
          .intType()
          .defaultValue(ModelConfig.DEFAULT_DENSE_RATE_IMPRESSIONS)
          .withDescription(
              "Impressions a batch needs for the full model.dense-learning-rate: a batch of n fewer"
                  + " steps Adam at the rate times sqrt(n / this), so sparse traffic does not move"
                  + " the dense weights as far as a full batch (0: always the full rate).");
  public static final ConfigOption<String> WIDE_CROSSES =
      key("model.wide-crosses")
          .stringType()
          .defaultValue("none")
          .withDescription(
              "none, or request-impression: a wide weight of its own for every pair of a"
                  + " single-valued request feature's id and a single-valued impression feature's"
                  + " id (r x i more wide rows per impression; published and served like the"
                  + " others); or field-weighted: those weights, and a learnt weight per pair of a"
                  + " request feature and an impression feature on their crosses (r x i more"
                  + " dense weights), so that the crosses of a pair that adds only noise weigh"
                  + " less.");
  public static final ConfigOption<String> FACTORISED_CROSS =
      key("model.factorised-cross")
          .stringType()
          .defaultValue("field-weighted")
          .withDescription(
              "field-weighted: a learnt weight for every pair of a request feature and an"
                  + " impression feature in the factorised cross (a field-weighted FM; request x"
                  + " impression features more dense weights, one dot product per pair and"
                  + " impression); or sum: every pair weighing 1, one dot product of the sides'"
                  + " summed embeddings, as models before this option were.");
  public static final ConfigOption<String> WIDE_OPTIMIZER =
      key("model.wide-optimizer")
          .stringType()
          .defaultValue("adagrad")
          .withDescription(
              "How the wide rows (each id's weight, and the wide crosses) learn: adagrad (row-wise,"
                  + " at the wide learning rate, as the embedding rows), or ftrl: FTRL-Proximal per"
                  + " weight with the wide learning rate as its alpha and model.ftrl.* (two floats"
                  + " of state per wide row instead of one; a checkpoint resumes only with the"
                  + " optimizer it was trained with).");
  public static final ConfigOption<Float> FTRL_BETA =
      key("model.ftrl.beta")
          .floatType()
          .defaultValue(ModelConfig.WideOptimizer.DEFAULT_BETA)
          .withDescription(
              "FTRL-Proximal's beta (>= 0; > 0 unless model.ftrl.l2 is), with"
                  + " model.wide-optimizer: ftrl: a weight's rate starts at alpha / beta.");
  public static final ConfigOption<Float> FTRL_L1 =
      key("model.ftrl.l1")
          .floatType()
          .defaultValue(ModelConfig.WideOptimizer.DEFAULT_L1)
          .withDescription(
              "FTRL-Proximal's L1 strength (>= 0), with model.wide-optimizer: ftrl: a wide weight"
                  + " stays exactly 0 until its summed gradient evidence passes this.");
  public static final ConfigOption<Float> FTRL_L2 =
      key("model.ftrl.l2")
          .floatType()
          .defaultValue(ModelConfig.WideOptimizer.DEFAULT_L2)
          .withDescription("FTRL-Proximal's L2 strength (>= 0), with model.wide-optimizer: ftrl.");
  public static final ConfigOption<String> WIDE_POOLING =
      key("model.wide-pooling")
          .stringType()
          .defaultValue("per-feature")
          .withDescription(
              "How the wide weights of a multi-valued feature's values add to the logit: sum (each"
                  + " value's weight a term of its own, as in a logistic regression: a history of"
                  + " ten items moves the logit ten times as far as one id), or per-feature (pooled"
                  + " as the feature's embedding rows are, so a mean-pooled history adds the mean"
                  + " of its items' weights). Single-valued features add their one weight either"
                  + " way. A checkpoint of either restores into the other, its weights as they"
                  + " are.");
  public static final ConfigOption<Long> INIT_SEED =
      key("model.init-seed")
          .longType()
          .defaultValue(0L)
          .withDescription(
              "Which draw of the deep part's initial weights the trainer starts from: 0 is the"
                  + " draw of every earlier release; another seed is an equally good start (to see"
                  + " how far a figure moves with it). Embedding and wide rows start from their"
                  + " table and id alone whatever the seed, and replicas score with the published"
                  + " weights, so they need nothing of it. It matters only to a trainer that starts"
                  + " without a checkpoint.");
  public static final ConfigOption<Map<String, String>> LABEL_WEIGHTS =
      key("model.label-weights")
          .mapType()
          .defaultValue(Map.of())
          .withDescription(
              "label:weight pairs (e.g. like:0.3,purchase:0.1; weights from 0.000001 to 1000, for"
                  + " a model of two labels or more): what each label's loss weighs in training; a"
                  + " label not named weighs 1. Every label trains the embedding rows"
                  + " and towers the labels share, so a second label at weight 1 slows the first"
                  + " label's learning; a lower weight keeps the other labels from pulling the"
                  + " shared parts their way (a label's own head output learns at any weight)."
                  + " Scoring does not depend on it, and it may change across restarts.");
  public static final ConfigOption<Map<String, String>> TABLE_HOT_CAPACITY =
      key("model.table.hot-capacity-rows")
          .mapType()
          .defaultValue(Map.of())
          .withDescription("table:rows pairs overriding model.hot-capacity-rows per table.");
  public static final ConfigOption<Map<String, String>> TABLE_ADMISSION =
      key("model.table.admission-threshold")
          .mapType()
          .defaultValue(Map.of())
          .withDescription("table:count pairs overriding model.admission-threshold per table.");
  public static final ConfigOption<Map<String, String>> TABLE_TTL =
      key("model.table.ttl")
          .mapType()
          .defaultValue(Map.of())
          .withDescription(
              "table:duration pairs (e.g. item_id:7d) overriding model.ttl per table.");
  public static final ConfigOption<Map<String, String>> TABLE_LR =
      key("model.table.learning-rate")
          .mapType()
          .defaultValue(Map.of())
          .withDescription(
              "table:rate pairs overriding the embedding (or, for 'wide', the wide) learning rate.");
}
