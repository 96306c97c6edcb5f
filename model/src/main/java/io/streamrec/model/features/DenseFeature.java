package io.streamrec.model.features;

import java.util.Objects;

/** A dense (float) feature of a request or an impression. A missing value reads as 0. */
public record DenseFeature(String name, Side side) implements java.io.Serializable {
  public DenseFeature {
    CategoricalFeature.requireName(name, "dense feature name");
    Objects.requireNonNull(side, "side");
  }
}
