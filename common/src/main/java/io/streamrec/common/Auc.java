package io.streamrec.common;

import java.util.Arrays;

/**
 * Exact area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann–Whitney U statistic divided by {@code P × N}).
 *
 * <p>Labels are positive when {@code > 0.5}. With no positives or no negatives the AUC is undefined
 * and {@link Double#NaN} is returned; so it is when a score is NaN, which ranks against nothing.
 */
public final class Auc {
  private Auc() {}

  public static double exact(double[] scores, float[] labels, int n) {
    if (n > scores.length || n > labels.length) {
      throw new IllegalArgumentException("n=" + n + " exceeds the arrays given");
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(scores[i])) {
        return Double.NaN;
      }
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    double rankSumPositives = 0;
    long positives = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      // ranks i+1 .. j+1 share their mean
      double meanRank = (i + j + 2) / 2.0;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] > 0.5f) {
          rankSumPositives += meanRank;
          positives++;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (rankSumPositives - positives * (positives + 1) / 2.0)
        / ((double) positives * negatives);
  }

  public static double exact(double[] scores, float[] labels) {
    return exact(scores, labels, Math.min(scores.length, labels.length));
  }
}
