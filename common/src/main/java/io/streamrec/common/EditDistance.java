package io.streamrec.common;

import java.util.Locale;

/** Levenshtein distance: what tells a misspelt name from the one meant, wherever names are read. */
public final class EditDistance {
  private EditDistance() {}

  /** The edits (insertions, deletions, substitutions) that make {@code a} into {@code b}. */
  public static int of(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /**
   * The candidate fewest edits from {@code name}, at most {@code maxEdits}; the first in {@code
   * candidates}' order among equals; null if none is that close.
   */
  public static String nearest(String name, Iterable<String> candidates, int maxEdits) {
    String best = null;
    int bestEdits = maxEdits + 1;
    for (String c : candidates) {
      if (Math.abs(c.length() - name.length()) >= bestEdits) {
        continue; // at least that many edits apart
      }
      int d = of(name, c);
      if (d < bestEdits) {
        best = c;
        bestEdits = d;
      }
    }
    return best;
  }

  /**
   * The first of {@code candidates} at most {@code maxEdits} from {@code name}, case aside (a field
   * sent as {@code Dense} or {@code featurs}); null if none is.
   */
  public static String firstWithin(String name, Iterable<String> candidates, int maxEdits) {
    String n = name.toLowerCase(Locale.ROOT);
    for (String c : candidates) {
      if (of(c.toLowerCase(Locale.ROOT), n) <= maxEdits) {
        return c;
      }
    }
    return null;
  }
}
