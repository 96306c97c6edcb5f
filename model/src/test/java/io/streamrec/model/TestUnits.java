package io.streamrec.model;

import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small synthetic request units with a planted rule: a click is likely when the request's country
 * and the item's category agree (a cross only a model that combines both sides can learn), and
 * likelier for a few "good" items.
 */
final class TestUnits {
  static final String[] COUNTRIES = {"DE", "FR", "US", "JP"};

  private final SplittableRandom rnd;
  private int next;

  TestUnits(long seed) {
    this.rnd = new SplittableRandom(seed);
  }

  /** The true click probability of (country index, item). */
  static double truth(int country, int item) {
    int cat = item % COUNTRIES.length;
    double logit = -2.0 + (cat == country ? 2.5 : 0) + (item % 10 == 0 ? 1.0 : 0);
    return 1 / (1 + Math.exp(-logit));
  }

  RequestUnit next(long timeMs) {
    int country = rnd.nextInt(COUNTRIES.length);
    int user = rnd.nextInt(200);
    String rid = "r" + next++;
    int n = 1 + rnd.nextInt(6);
    List<Impression> imps = new ArrayList<>();
    for (int p = 0; p < n; p++) {
      int item = rnd.nextInt(100);
      float click = rnd.nextDouble() < truth(country, item) ? 1f : 0f;
      imps.add(
          Impression.newBuilder()
              .setImpressionId(rid + "-" + p)
              .setTimestampMs(timeMs + p)
              .setFeatures(
                  Map.of(
                      "item_id",
                      List.of("i" + item),
                      "item_cat",
                      List.of("c" + item % COUNTRIES.length)))
              .setDense(Map.of("position", (float) p))
              .setLabels(Map.of("click", click))
              .build());
    }
    return RequestUnit.newBuilder()
        .setRequestId(rid)
        .setTimestampMs(timeMs)
        .setClosedAtMs(timeMs + 1000)
        .setFeatures(
            Map.of(
                "user_id", List.of("u" + user),
                "country", List.of(COUNTRIES[country]),
                "recent_items", List.of("i" + rnd.nextInt(100), "i" + rnd.nextInt(100))))
        .setDense(Map.of("hour", (float) rnd.nextInt(24)))
        .setImpressions(imps)
        .build();
  }

  List<RequestUnit> batch(int units, long timeMs) {
    List<RequestUnit> out = new ArrayList<>(units);
    for (int i = 0; i < units; i++) {
      out.add(next(timeMs + i));
    }
    return out;
  }
}
