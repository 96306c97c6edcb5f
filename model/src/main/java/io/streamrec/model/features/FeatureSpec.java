package io.streamrec.model.features;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of the user's feature names the model reads, from which side, and how. Names not listed are
 * ignored; listed names missing from an event read as empty (categorical) or 0 (dense).
 *
 * @param categorical categorical features, in a fixed order (the order of the model's inputs)
 * @param dense dense features
 * @param labels label names, each trained with a head of its own; the first is the one the
 *     progressive metrics follow
 */
public record FeatureSpec(
    List<CategoricalFeature> categorical, List<DenseFeature> dense, List<String> labels)
    implements java.io.Serializable {

  /** Names {@code name} on {@code side} as a feature of {@code kind}; a name twice is refused. */
  private static void declare(Map<String, String> seen, Side side, String name, String kind) {
    String earlier = seen.putIfAbsent(side + "/" + name, kind);
    if (earlier != null) {
      throw new IllegalArgumentException(
          "feature '"
              + name
              + "' is listed twice on the "
              + side
              + " side"
              + (earlier.equals(kind)
                  ? " (as " + kind + ")"
                  : ", as " + earlier + " and as " + kind));
    }
  }

  public FeatureSpec {
    categorical = List.copyOf(categorical);
    dense = List.copyOf(dense);
    labels = List.copyOf(labels);
    Map<String, String> seen = new HashMap<>();
    for (CategoricalFeature f : categorical) {
      declare(seen, f.side(), f.name(), "categorical");
    }
    for (DenseFeature f : dense) {
      declare(seen, f.side(), f.name(), "dense");
    }
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("at least one label is needed");
    }
    List<String> twice = new ArrayList<>();
    Set<String> named = new HashSet<>();
    for (String l : labels) {
      if (!named.add(l) && !twice.contains(l)) {
        twice.add(l);
      }
    }
    if (!twice.isEmpty()) {
      // each label has a head and a name in every score; two of one name would be one label
      // trained twice, and a reply's "labels" could hold only one of them
      throw new IllegalArgumentException(
          "label names must differ: " + twice + " listed more than once in " + labels);
    }
    if (categorical.stream().noneMatch(f -> f.side() == Side.REQUEST)
        || categorical.stream().noneMatch(f -> f.side() == Side.IMPRESSION)) {
      throw new IllegalArgumentException(
          "the model needs at least one categorical feature on each side (request and impression)");
    }
  }

  /** The spec that matches the JSON interchange example: user/context request, item impression. */
  public static FeatureSpec defaults() {
    return new FeatureSpec(
        List.of(
            CategoricalFeature.of("user_id", Side.REQUEST),
            CategoricalFeature.of("country", Side.REQUEST),
            new CategoricalFeature(
                "recent_items", Side.REQUEST, "item_id", "item_id", Pooling.MEAN),
            CategoricalFeature.of("item_id", Side.IMPRESSION),
            CategoricalFeature.of("item_cat", Side.IMPRESSION)),
        List.of(
            new DenseFeature("hour", Side.REQUEST), new DenseFeature("position", Side.IMPRESSION)),
        List.of("click"));
  }

  public List<CategoricalFeature> categorical(Side side) {
    List<CategoricalFeature> out = new ArrayList<>();
    for (CategoricalFeature f : categorical) {
      if (f.side() == side) {
        out.add(f);
      }
    }
    return out;
  }

  public List<DenseFeature> dense(Side side) {
    List<DenseFeature> out = new ArrayList<>();
    for (DenseFeature f : dense) {
      if (f.side() == side) {
        out.add(f);
      }
    }
    return out;
  }

  /** Whether the loss (binary cross-entropy) can train on label value {@code v}: one in [0, 1]. */
  public static boolean trainableLabel(float v) {
    return v >= 0f && v <= 1f;
  }

  /**
   * Why {@code labels} (this spec's labels in order, one impression's after another's) hold a value
   * the loss cannot take, naming the impression when {@code perImpression}; null if none does.
   */
  public String untrainableLabel(float[] labels, boolean perImpression) {
    if (labels == null) {
      return null;
    }
    int n = labels().size();
    for (int i = 0; i < labels.length; i++) {
      if (!trainableLabel(labels[i])) {
        return "label "
            + labels().get(i % n)
            + (perImpression ? " of impression " + i / n : "")
            + " is "
            + labels[i]
            + "; the model's loss takes labels in [0, 1]";
      }
    }
    return null;
  }

  /**
   * How {@code side} declares the feature {@code name}: {@code "categorical"}, {@code "dense"}, or
   * null where it does not.
   */
  public String kindOf(Side side, String name) {
    for (CategoricalFeature f : categorical) {
      if (f.side() == side && f.name().equals(name)) {
        return "categorical";
      }
    }
    for (DenseFeature f : dense) {
      if (f.side() == side && f.name().equals(name)) {
        return "dense";
      }
    }
    return null;
  }

  /** Embedding tables the categorical features use, in first-use order. */
  public List<String> tables() {
    Set<String> t = new LinkedHashSet<>();
    for (CategoricalFeature f : categorical) {
      t.add(f.table());
    }
    return List.copyOf(t);
  }
}
