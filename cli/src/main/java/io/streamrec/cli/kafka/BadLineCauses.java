package io.streamrec.cli.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sums a load's bad lines up by cause. Only the first bad lines are shown one by one, so a file
 * with six kinds of mistake showed twenty lines of the first and then a total: the other five
 * stayed hidden until the first was fixed. Passes everything on to {@code next}.
 */
public final class BadLineCauses extends ForwardingListener {
  /** How many causes the summary names, most frequent first. */
  static final int NAMED = 8;

  private final NameCounts causes = new NameCounts();
  private long bad;

  public BadLineCauses(JsonlProducer.Listener next) {
    super(next);
  }

  @Override
  public void onBadLine(JsonlProducer.BadLine badLine) {
    bad++;
    // the message up to its particulars ("not valid JSON: Unrecognized token 'junk0': ...")
    String message = badLine.message();
    int particulars = message.indexOf(": ");
    String cause =
        badLine.reason() + ": " + (particulars > 0 ? message.substring(0, particulars) : message);
    causes.add(cause, () -> badLine.file().getFileName() + ":" + badLine.lineNumber());
    super.onBadLine(badLine);
  }

  /** One line naming each cause with its count and first place; none without bad lines. */
  public List<String> summary() {
    if (bad == 0) {
      return List.of();
    }
    List<Map.Entry<String, long[]>> byCount = new ArrayList<>(causes.counts().entrySet());
    byCount.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    List<String> named = new ArrayList<>();
    for (Map.Entry<String, long[]> e : byCount.subList(0, Math.min(NAMED, byCount.size()))) {
      named.add(
          String.format(
              Locale.ROOT,
              "%,d × %s (first at %s)",
              e.getValue()[0],
              e.getKey(),
              causes.firstAt(e.getKey())));
    }
    return List.of(
        String.format(Locale.ROOT, "%,d bad line(s) by cause: ", bad)
            + String.join("; ", named)
            + (byCount.size() > NAMED ? "; and " + (byCount.size() - NAMED) + " other causes" : "")
            + (causes.others() > 0
                ? String.format(
                    Locale.ROOT,
                    "; and %,d bad line(s) of causes past the first %,d, not told apart",
                    causes.others(),
                    NameCounts.KEPT)
                : ""));
  }
}
