package io.streamrec.model.features;

import java.util.Objects;

/**
 * A categorical feature: a list of string values per event, each hashed to a 64-bit id.
 *
 * @param name the feature's name in the events
 * @param side request or impression
 * @param table the embedding table its rows live in
 * @param vocabulary the namespace its values are hashed in: features that share a vocabulary (say
 *     {@code recent_items} and {@code item_id}) share rows for the same value
 * @param pooling how several values combine
 */
public record CategoricalFeature(
    String name, Side side, String table, String vocabulary, Pooling pooling)
    implements java.io.Serializable {
  public CategoricalFeature {
    requireName(name, "feature name");
    Objects.requireNonNull(side, "side");
    requireName(table, "table of feature '" + name + "'");
    requireName(vocabulary, "vocabulary of feature '" + name + "'");
    Objects.requireNonNull(pooling, "pooling");
  }

  /** A feature with its own table and vocabulary, mean-pooled. */
  public static CategoricalFeature of(String name, Side side) {
    return new CategoricalFeature(name, side, name, name, Pooling.MEAN);
  }

  static void requireName(String s, String what) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
  }
}
