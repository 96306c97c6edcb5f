package io.streamrec.cli.kafka;

import io.streamrec.schemas.ImpressionEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks the labels of the impressions a load sends against the labels the model trains ({@code
 * model.labels}). The job trains an impression without one of them as a negative of that label (a
 * missing label is 0), and ignores a label it does not train: a label name misspelt in the data (or
 * the configuration) trains every impression as a negative without a word. The load still sends
 * every event; what is odd is summed up as {@link #warnings}, with the first place it was seen.
 * Passes everything on to {@code next}.
 */
public final class LabelCheck extends ForwardingListener {
  private final List<String> labels;
  private final Map<String, Seen> missing = new LinkedHashMap<>();
  private final Map<String, Seen> unknown = new TreeMap<>();
  private final Map<String, Seen> outOfRange = new LinkedHashMap<>();

  /**
   * Labels the model does not train seen past the first {@link NameCounts#KEPT} such names, which
   * are counted, not kept: label names can be data, and each kept name costs memory.
   */
  private long unknownOthers;

  private long impressions;

  /** How often, and where first. */
  private static final class Seen {
    long count;
    final String first;

    Seen(Path file, long line) {
      this.first = file.getFileName() + ":" + line;
    }
  }

  public LabelCheck(List<String> labels, JsonlProducer.Listener next) {
    super(next);
    this.labels = List.copyOf(labels);
  }

  @Override
  public void onImpression(ImpressionEvent impression, Path file, long lineNumber) {
    impressions++;
    Map<String, Float> given = impression.getLabels();
    for (String label : labels) {
      if (given == null || !given.containsKey(label)) {
        missing.computeIfAbsent(label, l -> new Seen(file, lineNumber)).count++;
      }
    }
    if (given != null) {
      for (Map.Entry<String, Float> e : given.entrySet()) {
        String label = e.getKey();
        if (!labels.contains(label)) {
          Seen seen = unknown.get(label);
          if (seen == null && unknown.size() >= NameCounts.KEPT) {
            unknownOthers++;
          } else {
            unknown.computeIfAbsent(label, l -> new Seen(file, lineNumber)).count++;
          }
        } else if (!io.streamrec.model.features.FeatureSpec.trainableLabel(e.getValue())) {
          outOfRange.computeIfAbsent(label, l -> new Seen(file, lineNumber)).count++;
        }
      }
    }
    super.onImpression(impression, file, lineNumber);
  }

  /** One line per odd label, empty when every impression carries exactly the model's labels. */
  public List<String> warnings() {
    List<String> w = new ArrayList<>();
    missing.forEach(
        (label, seen) ->
            w.add(
                String.format(
                    Locale.ROOT,
                    "%,d of %,d impressions %s no '%s' label and train%s as %s = 0 (first at %s)",
                    seen.count,
                    impressions,
                    seen.count == 1 ? "has" : "have",
                    label,
                    seen.count == 1 ? "s" : "",
                    label,
                    seen.first)));
    unknown.forEach(
        (label, seen) ->
            w.add(
                String.format(
                    Locale.ROOT,
                    "%,d %s a label '%s' the model does not train (model.labels: %s; first at"
                        + " %s)",
                    seen.count,
                    seen.count == 1 ? "impression carries" : "impressions carry",
                    label,
                    String.join(", ", labels),
                    seen.first)));
    if (unknownOthers > 0) {
      w.add(
          String.format(
              Locale.ROOT,
              "and %,d more time(s) labels the model does not train, past the first %,d such"
                  + " names, which are not told apart",
              unknownOthers,
              NameCounts.KEPT));
    }
    outOfRange.forEach(
        (label, seen) ->
            w.add(
                String.format(
                    Locale.ROOT,
                    "%,d %s a '%s' label outside [0, 1], which the model's loss cannot take: the"
                        + " job dead-letters %s as bad_label (first at %s). A count or a rating is"
                        + " not a label: map it to 0 or 1 (or a probability) first",
                    seen.count,
                    seen.count == 1 ? "impression has" : "impressions have",
                    label,
                    seen.count == 1 ? "it" : "them",
                    seen.first)));
    return w;
  }
}
