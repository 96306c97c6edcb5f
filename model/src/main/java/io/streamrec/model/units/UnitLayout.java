package io.streamrec.model.units;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each feature of a {@link FeatureSpec} sits in a {@link CompactUnit}: the request's
 * categorical features first (one bag each, in the spec's order), then, impression by impression,
 * the impression's categorical features (one bag each, in the spec's order); dense values and
 * labels in the spec's order. A feature whose vocabulary is not its own name (it shares rows with
 * another feature) hashes its values twice: with its vocabulary for the embedding rows, with its
 * own name for the wide weights; the others' two ids are the same.
 *
 * <p>The layout's {@link #fingerprint()} goes with every unit: a unit encoded under another feature
 * spec is recognised and refused rather than trained on with its ids in the wrong places.
 */
public final class UnitLayout {
  private final FeatureSpec spec;
  private final CategoricalFeature[] requestFeatures;
  private final CategoricalFeature[] impressionFeatures;
  private final int[] requestSpecIndex;
  private final int[] impressionSpecIndex;
  private final String[] requestDense;
  private final String[] impressionDense;
  private final String[] labels;
  private final long fingerprint;

  public UnitLayout(FeatureSpec spec) {
    this.spec = spec;
    List<CategoricalFeature> cat = spec.categorical();
    List<Integer> req = new ArrayList<>(), imp = new ArrayList<>();
    for (int f = 0; f < cat.size(); f++) {
      (cat.get(f).side() == Side.REQUEST ? req : imp).add(f);
    }
    this.requestSpecIndex = req.stream().mapToInt(Integer::intValue).toArray();
    this.impressionSpecIndex = imp.stream().mapToInt(Integer::intValue).toArray();
    this.requestFeatures = req.stream().map(cat::get).toArray(CategoricalFeature[]::new);
    this.impressionFeatures = imp.stream().map(cat::get).toArray(CategoricalFeature[]::new);
    this.requestDense =
        spec.dense(Side.REQUEST).stream().map(DenseFeature::name).toArray(String[]::new);
    this.impressionDense =
        spec.dense(Side.IMPRESSION).stream().map(DenseFeature::name).toArray(String[]::new);
    this.labels = spec.labels().toArray(new String[0]);
    this.fingerprint = fingerprintOf(spec);
  }

  /**
   * A 64-bit hash of everything that decides where a value lands: every categorical feature's name,
   * side, vocabulary (what its ids hash with), the dense features and the labels, in order.
   */
  static long fingerprintOf(FeatureSpec spec) {
    StringBuilder b = new StringBuilder("streamrec-unit-layout/1");
    for (CategoricalFeature f : spec.categorical()) {
      b.append("|c:")
          .append(f.side())
          .append(':')
          .append(f.name())
          .append(':')
          .append(f.vocabulary());
    }
    for (DenseFeature f : spec.dense()) {
      b.append("|d:").append(f.side()).append(':').append(f.name());
    }
    for (String l : spec.labels()) {
      b.append("|l:").append(l);
    }
    return FeatureIds.of("unit-layout", b.toString());
  }

  public FeatureSpec spec() {
    return spec;
  }

  public long fingerprint() {
    return fingerprint;
  }

  /**
   * The layout in words: each side's categorical features in order (with the vocabulary where it is
   * not the feature's own), each side's dense features and the labels, in order.
   */
  public String describe() {
    return "request features "
        + names(requestFeatures)
        + "; impression features "
        + names(impressionFeatures)
        + "; request dense features "
        + List.of(requestDense)
        + "; impression dense features "
        + List.of(impressionDense)
        + "; labels "
        + List.of(labels);
  }

  private static List<String> names(CategoricalFeature[] features) {
    List<String> out = new ArrayList<>();
    for (CategoricalFeature f : features) {
      out.add(f.name().equals(f.vocabulary()) ? f.name() : f.name() + " (" + f.vocabulary() + ")");
    }
    return out;
  }

  /** Categorical features of the request, in layout (and spec) order. */
  public CategoricalFeature requestFeature(int k) {
    return requestFeatures[k];
  }

  public int requestFeatures() {
    return requestFeatures.length;
  }

  /** The spec index (into {@link FeatureSpec#categorical()}) of request feature {@code k}. */
  public int requestSpecIndex(int k) {
    return requestSpecIndex[k];
  }

  public CategoricalFeature impressionFeature(int k) {
    return impressionFeatures[k];
  }

  public int impressionFeatures() {
    return impressionFeatures.length;
  }

  public int impressionSpecIndex(int k) {
    return impressionSpecIndex[k];
  }

  public String requestDense(int k) {
    return requestDense[k];
  }

  public int requestDenseCount() {
    return requestDense.length;
  }

  public String impressionDense(int k) {
    return impressionDense[k];
  }

  public int impressionDenseCount() {
    return impressionDense.length;
  }

  public String label(int k) {
    return labels[k];
  }

  public int labelCount() {
    return labels.length;
  }
}
