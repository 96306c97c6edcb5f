package io.streamrec.model;

import io.streamrec.embedding.TableConfig;
import io.streamrec.model.features.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything that defines the model and how it learns. Immutable; validated on construction with
 * messages that name the bad setting. The job builds it from its configuration keys ({@code
 * model.*}); the model-update topic carries it (as JSON) so a replica needs nothing but the topic.
 *
 * @param features which features the model reads
 * @param embeddingDim width of every embedding row (the request and impression vectors meet in a dot product)
 * @param hotCapacityRows rows each table keeps hot
 * @param admissionThreshold sightings before an id gets a row
 * @param ttlMs event-time milliseconds after which an unseen row expires (0 = never)
 * @param initScale embedding rows start uniform in ±initScale (wide weights start at 0)
 * @param embeddingLr row-wise Adagrad learning rate of the embedding tables
 * @param wideLr row-wise Adagrad learning rate of the wide (per-id linear) weights
 * @param denseLr Adam learning rate of the dense weights
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
    float denseLr) implements java.io.Serializable {

  /** The table that holds one weight per id of every feature (the wide, linear part). */
  public static final String WIDE_TABLE = "wide";
  /** Optimizer-state floats per row: one row-wise Adagrad accumulator. */
  public static final int ROW_STATE_WIDTH = 1;

  public ModelConfig {
    Objects.requireNonNull(features, "features");
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
    if (features.tables().contains(WIDE_TABLE)) {
      throw new IllegalArgumentException(
          "table name '" + WIDE_TABLE + "' is reserved for the wide weights; rename that feature's table");
    }
  }

  public static ModelConfig defaults() {
    return new ModelConfig(FeatureSpec.defaults(), 16, 1 << 20, 1, 0L, 0.05f, 0.1f, 0.05f, 0.005f);
  }

  /** The embedding tables (one per distinct feature table) followed by the wide table. */
  public List<TableConfig> tableConfigs() {
    List<TableConfig> out = new ArrayList<>();
    for (String t : features.tables()) {
      out.add(new TableConfig(t, embeddingDim, ROW_STATE_WIDTH, hotCapacityRows, admissionThreshold, ttlMs, initScale));
    }
    out.add(new TableConfig(WIDE_TABLE, 1, ROW_STATE_WIDTH, hotCapacityRows, admissionThreshold, ttlMs, 0f));
    return out;
  }

  private static void positive(int v, String key) {
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }
  }

  private static void finitePositive(float v, String key, boolean zeroOk) {
    if (!Float.isFinite(v) || v < 0 || (!zeroOk && v == 0)) {
      throw new IllegalArgumentException(key + " must be a finite number " + (zeroOk ? ">= 0" : "> 0") + ", got " + v);
    }
  }
}
