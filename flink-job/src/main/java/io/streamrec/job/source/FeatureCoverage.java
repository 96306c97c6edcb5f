package io.streamrec.job.source;

import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the declared features and labels are in the events at all. A label no impression carries
 * is trained as 0 everywhere (AUC undefined, a model that learns "never"), a dense feature that
 * comes as categorical values (or a misspelt name) is read as 0, a categorical one that is missing
 * is an empty bag: the job runs on, and nothing said why the model learnt nothing from it.
 *
 * <p>A reader looks at the first {@link #SAMPLE} events it decodes well and then warns of every
 * declared name none of them had, saying where the events do carry it if they do. After that it
 * looks at one event in {@link #STRIDE}, and at the end of each {@link #SAMPLE} of those warns of
 * what is newly missing: a producer that stops sending a label or a feature mid-stream trained it
 * as 0 or an empty bag from then on, and nothing said so. A name that stays missing is said once.
 */
final class FeatureCoverage {
  private static final Logger LOG = LoggerFactory.getLogger(FeatureCoverage.class);

  /** Events looked at before each verdict. */
  static final int SAMPLE = 1_000;

  /** After the first sample, one event in this many is looked at. */
  static final int STRIDE = 100;

  /** Stands for the sample's description in a finding, which differs from sample to sample. */
  private static final String SAMPLE_DESCRIPTION = "\u0000sample\u0000";

  /** Events offered ({@link #wants} asked). */
  private long offered;

  /** Verdicts given. */
  private int verdicts;

  /** What the last verdict found missing, each as its line without the sample's description. */
  private java.util.Set<String> missingBefore = java.util.Set.of();

  private final String events;
  private final Side side;
  private final List<String> categorical = new ArrayList<>();
  private final List<String> dense = new ArrayList<>();
  private final List<String> labels;
  private final long[] categoricalSeen;
  private final long[] categoricalAsDense;
  private final long[] denseSeen;
  private final long[] denseAsCategorical;
  private final long[] labelSeen;
  private final float[] denseLargest;
  private final boolean normalized;
  private int sampled;

  /**
   * A dense value this large (in magnitude) enters the model as {@code log1p} of it, 9.2 and more:
   * large against the embeddings' scale, and the towers start far from where they learn well.
   */
  static final float LARGE = 10_000f;

  FeatureCoverage(EventKind kind, FeatureSpec features) {
    this(kind, features, false);
  }

  /** As above; {@code normalized}: the model standardises its dense inputs (no word on sizes). */
  FeatureCoverage(EventKind kind, FeatureSpec features, boolean normalized) {
    this.normalized = normalized;
    side = kind == EventKind.REQUEST ? Side.REQUEST : Side.IMPRESSION;
    events = kind == EventKind.REQUEST ? "requests" : "impressions";
    for (CategoricalFeature f : features.categorical(side)) {
      categorical.add(f.name());
    }
    for (DenseFeature f : features.dense(side)) {
      dense.add(f.name());
    }
    labels = kind == EventKind.REQUEST ? List.of() : features.labels();
    categoricalSeen = new long[categorical.size()];
    categoricalAsDense = new long[categorical.size()];
    denseSeen = new long[dense.size()];
    denseAsCategorical = new long[dense.size()];
    labelSeen = new long[labels.size()];
    denseLargest = new float[dense.size()];
  }

  /**
   * Whether this event is to be looked at ({@link #add}): the first {@link #SAMPLE}, then one in
   * {@link #STRIDE}. Ask once per event.
   */
  boolean wants() {
    long n = offered++;
    return n < SAMPLE || (n - SAMPLE) % STRIDE == STRIDE - 1;
  }

  /**
   * Counts one event's names; once a sample is complete, logs what is missing (after the first,
   * what is newly missing) and returns it (empty otherwise).
   */
  List<String> add(
      Map<String, List<String>> eventFeatures,
      Map<String, Float> eventDense,
      Map<String, Float> eventLabels) {
    for (int i = 0; i < categorical.size(); i++) {
      String n = categorical.get(i);
      categoricalSeen[i] += eventFeatures.containsKey(n) ? 1 : 0;
      categoricalAsDense[i] += eventDense != null && eventDense.containsKey(n) ? 1 : 0;
    }
    for (int i = 0; i < dense.size(); i++) {
      String n = dense.get(i);
      Float v = eventDense == null ? null : eventDense.get(n);
      denseSeen[i] += v != null ? 1 : 0;
      if (v != null && Math.abs(v) > denseLargest[i]) {
        denseLargest[i] = Math.abs(v);
      }
      denseAsCategorical[i] += eventFeatures.containsKey(n) ? 1 : 0;
    }
    for (int i = 0; i < labels.size(); i++) {
      labelSeen[i] += eventLabels != null && eventLabels.containsKey(labels.get(i)) ? 1 : 0;
    }
    sampled++;
    if (sampled < SAMPLE) {
      return List.of();
    }
    String of =
        verdicts == 0
            ? String.format(Locale.ROOT, "the first %,d %s read", sampled, events)
            : String.format(
                Locale.ROOT,
                "%,d %s sampled (one in %d) up to the %,dth read",
                sampled,
                events,
                STRIDE,
                offered);
    // each finding without the sample's description: what stays missing is said once
    List<String> keys = verdict(SAMPLE_DESCRIPTION);
    List<String> missing = new ArrayList<>();
    for (String key : keys) {
      if (!missingBefore.contains(key)) {
        missing.add(key.replace(SAMPLE_DESCRIPTION, of));
      }
    }
    missingBefore = new java.util.HashSet<>(keys);
    verdicts++;
    sampled = 0;
    for (long[] counts :
        new long[][] {
          categoricalSeen, categoricalAsDense, denseSeen, denseAsCategorical, labelSeen
        }) {
      java.util.Arrays.fill(counts, 0);
    }
    java.util.Arrays.fill(denseLargest, 0);
    missing.forEach(LOG::warn);
    return missing;
  }

  private List<String> verdict(String of) {
    String key = "model.features." + side.name().toLowerCase(Locale.ROOT);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      if (labelSeen[i] == 0) {
        out.add(
            "none of "
                + of
                + " carries the label '"
                + labels.get(i)
                + "' (model.labels): it is trained as 0 on every one; check model.labels against"
                + " the impressions' \"labels\"");
      }
    }
    absent(out, of, key, dense, denseSeen, denseAsCategorical, true);
    for (int i = 0; i < dense.size() && !normalized; i++) {
      if (denseLargest[i] >= LARGE) {
        out.add(
            String.format(
                Locale.ROOT,
                "the dense feature '%s' reaches %,.0f in %s: it enters the model as"
                    + " sign(x)*log1p(|x|) = %.1f, large against the embeddings' scale, and the"
                    + " towers start far from where they learn well. Set"
                    + " model.dense-normalization: running (a running standardisation of each"
                    + " dense input), or scale it before it is sent",
                dense.get(i),
                (double) denseLargest[i],
                of,
                Math.log1p(denseLargest[i])));
      }
    }
    absent(out, of, key, categorical, categoricalSeen, categoricalAsDense, false);
    return out;
  }

  /** Adds to {@code out} a line per name of {@code names} that no sampled event had. */
  private static void absent(
      List<String> out,
      String of,
      String key,
      List<String> names,
      long[] seen,
      long[] asOtherKind,
      boolean isDense) {
    String kind = isDense ? "dense" : "categorical";
    String other = isDense ? "categorical" : "dense";
    for (int i = 0; i < names.size(); i++) {
      if (seen[i] > 0) {
        continue;
      }
      out.add(
          "none of "
              + of
              + " has the "
              + kind
              + " feature '"
              + names.get(i)
              + "' ("
              + key
              + "."
              + kind
              + "), which "
              + (isDense ? "is read as 0" : "is an empty bag in every unit")
              + (asOtherKind[i] > 0
                  ? String.format(
                      Locale.ROOT,
                      "; %,d of them carry it as %s: declare it under %s.%s",
                      asOtherKind[i],
                      isDense ? "categorical values" : "a dense value",
                      key,
                      other)
                  : ""));
    }
  }
}
