package io.streamrec.model;

import java.util.List;

/**
 * Every label's probability for every impression of one scored batch, from one forward pass: the
 * labels in the order of the model's spec ({@code FeatureSpec#labels}, the first being the one a
 * single score stands for), the probabilities row-major, {@code impressions × labels}, exactly as
 * the trainer holds its own predictions of every label.
 *
 * <p>The probabilities are the scorer's array, not a copy: treat them as read-only.
 */
public final class LabelScores {
  private final List<String> labels;
  private final float[] probabilities;
  private final int impressions;

  /**
   * @param labels the label names, in the spec's order; at least one
   * @param probabilities {@code impressions × labels.size()} values, row-major
   */
  public LabelScores(List<String> labels, float[] probabilities) {
    this.labels = List.copyOf(labels);
    if (this.labels.isEmpty()) {
      throw new IllegalArgumentException("a model scores at least one label");
    }
    if (probabilities.length % this.labels.size() != 0) {
      throw new IllegalArgumentException(
          probabilities.length
              + " probabilities are not a whole number of rows of "
              + this.labels.size()
              + " labels");
    }
    this.probabilities = probabilities;
    this.impressions = probabilities.length / this.labels.size();
  }

  /** The label names, in the spec's order. */
  public List<String> labels() {
    return labels;
  }

  public int impressions() {
    return impressions;
  }

  /** The probability of label {@code label} (an index into {@link #labels}) for an impression. */
  public float probability(int impression, int label) {
    if (impression < 0 || impression >= impressions) {
      throw new IndexOutOfBoundsException(
          "impression " + impression + " out of [0, " + impressions + ")");
    }
    return probabilities[impression * labels.size() + checkLabel(label)];
  }

  /** One label's probabilities, one per impression in order; label 0 is the single score. */
  public float[] ofLabel(int label) {
    int nl = labels.size(), l = checkLabel(label);
    float[] out = new float[impressions];
    for (int i = 0; i < impressions; i++) {
      out[i] = probabilities[i * nl + l];
    }
    return out;
  }

  /** The probabilities of the label named {@code name}, one per impression in order. */
  public float[] ofLabel(String name) {
    int l = labels.indexOf(name);
    if (l < 0) {
      throw new IllegalArgumentException(
          "the model has no label '" + name + "'; its labels are " + labels);
    }
    return ofLabel(l);
  }

  private int checkLabel(int label) {
    if (label < 0 || label >= labels.size()) {
      throw new IndexOutOfBoundsException(
          "label " + label + " out of [0, " + labels.size() + ") " + labels);
    }
    return label;
  }
}
