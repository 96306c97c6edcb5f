package io.streamrec.cli.kafka;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How often each name was seen, and where first, for a load's warnings: the first {@link #KEPT}
 * names only, then a count of the times other names were seen. Names can be data (one-hot columns
 * such as {@code word_<i>}, a field name in a message), and a load of millions of lines kept every
 * one of them, with its first place, until it ran out of memory, to name a handful in a warning.
 */
final class NameCounts {
  /** How many distinct names are kept. */
  static final int KEPT = 500;

  private final int kept;
  private final Map<String, long[]> counts = new LinkedHashMap<>();
  private final Map<String, String> firstAt = new LinkedHashMap<>();
  private long others;

  NameCounts() {
    this(KEPT);
  }

  /** For tests: keeps {@code kept} names. */
  NameCounts(int kept) {
    this.kept = kept;
  }

  /** Counts {@code name}, first seen at {@code place} (asked for only for a new name kept). */
  void add(String name, Supplier<String> place) {
    long[] count = counts.get(name);
    if (count != null) {
      count[0]++;
    } else if (counts.size() < kept) {
      counts.put(name, new long[] {1});
      firstAt.put(name, place.get());
    } else {
      others++;
    }
  }

  boolean isEmpty() {
    return counts.isEmpty();
  }

  /** The names kept, in the order first seen, with their counts. */
  Map<String, long[]> counts() {
    return counts;
  }

  /** How often names past the first {@link #KEPT} were seen. */
  long others() {
    return others;
  }

  /** Where {@code name} was first seen. */
  String firstAt(String name) {
    return firstAt.get(name);
  }

  /**
   * What follows the first {@code named} names in a warning: how many more were kept, and how often
   * names past the first {@link #KEPT} were seen, which are not told apart; empty when nothing
   * more.
   */
  String more(int named) {
    String more = counts.size() > named ? " and " + (counts.size() - named) + " more" : "";
    return others == 0
        ? more
        : more
            + String.format(
                Locale.ROOT,
                " (and %,d more time(s) names past the first %,d, which are not told apart)",
                others,
                kept);
  }
}
