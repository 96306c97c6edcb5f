package io.streamrec.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.Auc;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TrafficGeneratorTest {
  /** 2026-01-01T00:00:00Z. */
  static final long START_MS = 1_767_225_600_000L;

  /** About 55k requests a day apart by this step, so a 200k-impression sample covers every hour. */
  static final long STEP_MS = 1_571L;

  private static final int SAMPLE_IMPRESSIONS = 200_000;

  /** One large sample at the defaults, reduced to arrays that the statistical tests share. */
  private static Sample sample;

  record Sample(
      int impressions,
      int requests,
      double[] trueCtr,
      double[] crossTerm,
      float[] labels,
      int[] positions,
      int[] items,
      int[] countries,
      int[] categories,
      int[] requestUsers) {}

  @BeforeAll
  static void drawSample() {
    TrafficGenerator gen = new TrafficGenerator(TrafficConfig.defaults().withSeed(7));
    int cap = SAMPLE_IMPRESSIONS + TrafficConfig.defaults().maxImpressions();
    double[] ctr = new double[cap];
    double[] cross = new double[cap];
    float[] labels = new float[cap];
    int[] positions = new int[cap];
    int[] items = new int[cap];
    int[] countries = new int[cap];
    int[] categories = new int[cap];
    List<String> countryCodes =
        List.of(TrafficGenerator.countryCodes(TrafficConfig.defaults().countries()));
    List<Integer> users = new ArrayList<>();
    int m = 0;
    long t = START_MS;
    while (m < SAMPLE_IMPRESSIONS) {
      GeneratedRequest g = gen.next(t);
      t += STEP_MS;
      users.add(idOf(g.request().getFeatures().get(TrafficGenerator.USER_ID).get(0)));
      int country =
          countryCodes.indexOf(g.request().getFeatures().get(TrafficGenerator.COUNTRY).get(0));
      for (int p = 0; p < g.size(); p++) {
        ImpressionEvent e = g.impressions().get(p);
        ctr[m] = g.trueCtr()[p];
        cross[m] = gen.crossTerm(g.request(), e);
        labels[m] = g.click(p);
        positions[m] = (int) (float) e.getDense().get(TrafficGenerator.POSITION);
        items[m] = idOf(e.getFeatures().get(TrafficGenerator.ITEM_ID).get(0));
        countries[m] = country;
        categories[m] = idOf(e.getFeatures().get(TrafficGenerator.ITEM_CAT).get(0));
        m++;
      }
    }
    sample =
        new Sample(
            m,
            users.size(),
            ctr,
            cross,
            labels,
            positions,
            items,
            countries,
            categories,
            users.stream().mapToInt(i -> i).toArray());
  }

  static int idOf(String value) {
    return Integer.parseInt(value.substring(1));
  }

  static List<String> jsonLines(TrafficGenerator gen, int requests) {
    List<String> lines = new ArrayList<>();
    for (int r = 0; r < requests; r++) {
      GeneratedRequest g = gen.next(START_MS + r * STEP_MS);
      lines.add(JsonEvents.toJson(g.request()));
      for (ImpressionEvent e : g.impressions()) {
        lines.add(JsonEvents.toJson(e));
      }
    }
    return lines;
  }

  @Test
  void sameSeedGivesIdenticalEvents() {
    TrafficConfig config = TrafficConfig.defaults().withSeed(11);
    List<String> a = jsonLines(new TrafficGenerator(config), 3_000);
    List<String> b = jsonLines(new TrafficGenerator(config), 3_000);
    assertThat(a).hasSizeGreaterThan(3_000).isEqualTo(b);

    TrafficGenerator g1 = new TrafficGenerator(config);
    TrafficGenerator g2 = new TrafficGenerator(config);
    for (int r = 0; r < 500; r++) {
      assertThat(g1.next(START_MS + r).trueCtr()).containsExactly(g2.next(START_MS + r).trueCtr());
    }
  }

  @Test
  void differentSeedsGiveDifferentEventsAndDisjointRequestIds() {
    TrafficGenerator g1 = new TrafficGenerator(TrafficConfig.defaults().withSeed(1));
    TrafficGenerator g2 = new TrafficGenerator(TrafficConfig.defaults().withSeed(2));
    Set<String> ids1 = new HashSet<>();
    List<String> users1 = new ArrayList<>();
    List<String> users2 = new ArrayList<>();
    Set<String> ids2 = new HashSet<>();
    for (int r = 0; r < 2_000; r++) {
      GeneratedRequest a = g1.next(START_MS + r * STEP_MS);
      GeneratedRequest b = g2.next(START_MS + r * STEP_MS);
      ids1.add(a.requestId());
      ids2.add(b.requestId());
      users1.add(a.request().getFeatures().get(TrafficGenerator.USER_ID).get(0));
      users2.add(b.request().getFeatures().get(TrafficGenerator.USER_ID).get(0));
    }
    assertThat(ids1).hasSize(2_000);
    assertThat(ids2).hasSize(2_000).doesNotContainAnyElementsOf(ids1);
    assertThat(users1).isNotEqualTo(users2);
    assertThat(new TrafficGenerator(TrafficConfig.defaults().withSeed(1)).globalBias())
        .isNotEqualTo(new TrafficGenerator(TrafficConfig.defaults().withSeed(2)).globalBias());
  }

  @Test
  void itemAndUserPopularityAreZipfSkewed() {
    int items = TrafficConfig.defaults().items();
    int[] shown = new int[items];
    for (int i = 0; i < sample.impressions(); i++) {
      shown[sample.items()[i]]++;
    }
    double topShare = (double) shown[0] / sample.impressions();
    double uniformShare = 1.0 / items;
    System.out.printf("item i0 share %.4f (uniform %.6f)%n", topShare, uniformShare);
    assertThat(topShare).isGreaterThan(500 * uniformShare);
    for (int rank = 0; rank < 4; rank++) {
      assertThat(shown[rank])
          .as("item rank %d vs %d", rank, rank + 1)
          .isGreaterThan(shown[rank + 1]);
    }
    // mean count per item over rank decades decreases: [0,10) > [10,100) > [100,1000) >
    // [1000,10000)
    double previous = Double.MAX_VALUE;
    for (int lo = 1; lo < items; lo *= 10) {
      int from = lo == 1 ? 0 : lo;
      int to = Math.min(lo * 10, items);
      long sum = 0;
      for (int i = from; i < to; i++) {
        sum += shown[i];
      }
      double mean = (double) sum / (to - from);
      assertThat(mean).as("mean shows of ranks [%d, %d)", from, to).isLessThan(previous);
      previous = mean;
    }

    int users = TrafficConfig.defaults().users();
    int[] requests = new int[users];
    for (int u : sample.requestUsers()) {
      requests[u]++;
    }
    assertThat((double) requests[0] / sample.requests()).isGreaterThan(1_000.0 / users);
    assertThat(requests[0]).isGreaterThan(requests[1]).isGreaterThan(requests[10]);
  }

  @Test
  void positionZeroClicksClearlyMoreThanPositionFiveAndBeyond() {
    double[] clicks = new double[2];
    double[] truth = new double[2];
    int[] count = new int[2];
    for (int i = 0; i < sample.impressions(); i++) {
      int p = sample.positions()[i];
      int bucket = p == 0 ? 0 : p >= 5 ? 1 : -1;
      if (bucket >= 0) {
        clicks[bucket] += sample.labels()[i];
        truth[bucket] += sample.trueCtr()[i];
        count[bucket]++;
      }
    }
    double ctr0 = clicks[0] / count[0];
    double ctr5 = clicks[1] / count[1];
    double trueRatio = (truth[0] / count[0]) / (truth[1] / count[1]);
    System.out.printf(
        "CTR at position 0: %.4f (%d), at 5+: %.4f (%d), ratio %.2f (true %.2f)%n",
        ctr0, count[0], ctr5, count[1], ctr0 / ctr5, trueRatio);
    assertThat(count[1]).isGreaterThan(20_000);
    assertThat(ctr0 / ctr5).isGreaterThan(1.4).isCloseTo(trueRatio, within(0.25));
  }

  @Test
  void realisedMeanCtrIsNearBaseCtr() {
    double clicks = 0;
    double truth = 0;
    for (int i = 0; i < sample.impressions(); i++) {
      clicks += sample.labels()[i];
      truth += sample.trueCtr()[i];
    }
    double base = TrafficConfig.defaults().baseCtr();
    double meanCtr = clicks / sample.impressions();
    System.out.printf(
        "mean CTR %.4f (true %.4f, target %.4f) over %d impressions in %d requests%n",
        meanCtr, truth / sample.impressions(), base, sample.impressions(), sample.requests());
    assertThat(meanCtr).isCloseTo(base, within(0.08 * base));
    assertThat(truth / sample.impressions()).isCloseTo(base, within(0.05 * base));
  }

  @Test
  void calibrationHitsOtherTargetsToo() {
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults()
                .withSeed(3)
                .withUsers(5_000)
                .withItems(2_000)
                .withBaseCtr(0.2));
    double truth = 0;
    int n = 0;
    for (int r = 0; r < 20_000; r++) {
      GeneratedRequest g = gen.next(START_MS + r * 4_321L);
      for (double c : g.trueCtr()) {
        truth += c;
        n++;
      }
    }
    assertThat(truth / n).isCloseTo(0.2, within(0.01));
  }

  @Test
  void oracleAucIsInASaneRangeAndTheCrossTermMatters() {
    int n = sample.impressions();
    double oracle = Auc.exact(sample.trueCtr(), sample.labels(), n);
    double[] withoutCross = new double[n];
    for (int i = 0; i < n; i++) {
      double p = sample.trueCtr()[i];
      withoutCross[i] = Math.log(p / (1 - p)) - sample.crossTerm()[i];
    }
    double noCross = Auc.exact(withoutCross, sample.labels(), n);
    System.out.printf(
        "oracle AUC %.4f; without the country x category cross %.4f (%d impressions)%n",
        oracle, noCross, n);
    assertThat(oracle).isBetween(0.65, 0.90);
    assertThat(noCross).isLessThan(oracle - 0.02);
  }

  @Test
  void theCountryCategoryTermIsARealCrossThatDrivesClicks() {
    // Remove what an additive model of country and category could capture (the traffic-weighted
    // country and category means of the term); what is left is the interaction alone.
    int n = sample.impressions();
    int countries = TrafficConfig.defaults().countries();
    int categories = TrafficConfig.defaults().categories();
    double[] byCountry = new double[countries];
    double[] byCategory = new double[categories];
    int[] nCountry = new int[countries];
    int[] nCategory = new int[categories];
    double total = 0;
    for (int i = 0; i < n; i++) {
      byCountry[sample.countries()[i]] += sample.crossTerm()[i];
      nCountry[sample.countries()[i]]++;
      byCategory[sample.categories()[i]] += sample.crossTerm()[i];
      nCategory[sample.categories()[i]]++;
      total += sample.crossTerm()[i];
    }
    double[] interaction = new double[n];
    for (int i = 0; i < n; i++) {
      int c = sample.countries()[i];
      int k = sample.categories()[i];
      interaction[i] =
          sample.crossTerm()[i]
              - byCountry[c] / nCountry[c]
              - byCategory[k] / nCategory[k]
              + total / n;
    }
    double crossAlone = Auc.exact(sample.crossTerm(), sample.labels(), n);
    double interactionAlone = Auc.exact(interaction, sample.labels(), n);
    System.out.printf(
        "AUC of the cross term alone %.4f, of its pure interaction %.4f%n",
        crossAlone, interactionAlone);
    assertThat(crossAlone).isGreaterThan(0.56);
    assertThat(interactionAlone).isGreaterThan(0.55);
  }

  @Test
  void jsonLinesParseBackWithExactlyTheDocumentedFeatures() {
    TrafficGenerator gen = new TrafficGenerator(TrafficConfig.defaults().withSeed(5));
    for (int r = 0; r < 500; r++) {
      GeneratedRequest g = gen.next(START_MS + r * STEP_MS);
      String requestLine = JsonEvents.toJson(g.request());
      RequestEvent request = JsonEvents.parseRequest(requestLine);
      assertThat(request).isEqualTo(g.request());
      assertThat(JsonEvents.toJson(request)).isEqualTo(requestLine);
      assertThat(request.getFeatures()).containsOnlyKeys("user_id", "country", "recent_items");
      assertThat(request.getDense()).containsOnlyKeys("hour");
      assertThat(request.getFeatures().get("user_id")).singleElement().asString().matches("u\\d+");
      assertThat(request.getFeatures().get("country"))
          .singleElement()
          .asString()
          .matches("[A-Z]{2}");
      assertThat(request.getFeatures().get("recent_items")).allMatch(s -> s.matches("i\\d+"));
      for (ImpressionEvent original : g.impressions()) {
        String line = JsonEvents.toJson(original);
        ImpressionEvent e = JsonEvents.parseImpression(line);
        assertThat(e).isEqualTo(original);
        assertThat(e.getFeatures()).containsOnlyKeys("item_id", "item_cat");
        assertThat(e.getDense()).containsOnlyKeys("position");
        assertThat(e.getLabels()).containsOnlyKeys("click");
        assertThat(e.getLabels().get("click")).isIn(0.0f, 1.0f);
        assertThat(e.getFeatures().get("item_id")).singleElement().asString().matches("i\\d+");
        assertThat(e.getFeatures().get("item_cat")).singleElement().asString().matches("c\\d+");
      }
    }
  }

  @Test
  void idsTimesPositionsAndHoursFollowTheDocumentedShape() {
    TrafficConfig config = TrafficConfig.defaults().withSeed(9);
    TrafficGenerator gen = new TrafficGenerator(config);
    int[] sizes = new int[config.maxImpressions() + 1];
    for (int r = 0; r < 5_000; r++) {
      long t = START_MS + r * 997_000L; // steps through every hour of the day
      GeneratedRequest g = gen.next(t);
      assertThat(g.requestId()).isEqualTo("r9-" + r);
      assertThat(g.request().getTimestampMs()).isEqualTo(t);
      assertThat(g.request().getDense().get("hour")).isEqualTo((float) ((t / 3_600_000L) % 24));
      assertThat(g.size()).isBetween(config.minImpressions(), config.maxImpressions());
      sizes[g.size()]++;
      Set<String> itemsShown = new HashSet<>();
      long previous = t;
      for (int p = 0; p < g.size(); p++) {
        ImpressionEvent e = g.impressions().get(p);
        assertThat(e.getImpressionId()).isEqualTo(g.requestId() + "-" + p);
        assertThat(e.getRequestId()).isEqualTo(g.requestId());
        assertThat(e.getDense().get("position")).isEqualTo((float) p);
        assertThat(e.getTimestampMs()).isBetween(previous, t + config.impressionDelayMaxMs());
        previous = e.getTimestampMs();
        assertThat(itemsShown.add(e.getFeatures().get("item_id").get(0)))
            .as("distinct items")
            .isTrue();
        assertThat(g.trueCtr()[p]).isStrictlyBetween(0.0, 1.0);
      }
    }
    // skewed toward small requests, but every size occurs
    assertThat(sizes[1]).isGreaterThan(sizes[2]).isGreaterThan(sizes[6]);
    assertThat(sizes[config.maxImpressions()]).isPositive();
  }

  @Test
  void recentItemsAreTheUsersLastClicksMostRecentFirst() {
    TrafficConfig config =
        TrafficConfig.defaults().withSeed(13).withUsers(200).withItems(1_000).withBaseCtr(0.2);
    TrafficGenerator gen = new TrafficGenerator(config);
    Map<String, Deque<String>> history = new HashMap<>();
    int nonEmpty = 0;
    int full = 0;
    for (int r = 0; r < 5_000; r++) {
      GeneratedRequest g = gen.next(START_MS + r * STEP_MS);
      String user = g.request().getFeatures().get("user_id").get(0);
      Deque<String> clicks = history.computeIfAbsent(user, u -> new ArrayDeque<>());
      List<String> expected =
          new ArrayList<>(clicks).subList(0, Math.min(clicks.size(), config.recentItems()));
      List<String> recent = g.request().getFeatures().get("recent_items");
      assertThat(recent).isEqualTo(expected);
      nonEmpty += recent.isEmpty() ? 0 : 1;
      full += recent.size() == config.recentItems() ? 1 : 0;
      for (int p = 0; p < g.size(); p++) {
        if (g.click(p) == 1.0f) {
          clicks.addFirst(g.impressions().get(p).getFeatures().get("item_id").get(0));
        }
      }
    }
    assertThat(nonEmpty).isGreaterThan(2_500);
    assertThat(full).isGreaterThan(1_000);
  }

  @Test
  void zeroRecentItemsKeepsTheFeaturePresentAndEmpty() {
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults()
                .withUsers(10)
                .withItems(50)
                .withRecentItems(0)
                .withBaseCtr(0.5));
    for (int r = 0; r < 200; r++) {
      assertThat(gen.next(START_MS + r).request().getFeatures().get("recent_items")).isEmpty();
    }
  }

  @Test
  void extremeSkewWithFewItemsStillShowsDistinctItems() {
    TrafficGenerator gen =
        new TrafficGenerator(
            TrafficConfig.defaults().withItems(12).withItemZipf(10.0).withImpressions(12, 12));
    GeneratedRequest g = gen.next(START_MS);
    Set<String> items = new HashSet<>();
    g.impressions().forEach(e -> items.add(e.getFeatures().get("item_id").get(0)));
    assertThat(items).hasSize(12);
  }

  @Test
  void invalidConfigIsRejectedNamingTheFieldAndValue() {
    TrafficConfig d = TrafficConfig.defaults();
    assertThatThrownBy(() -> d.withUsers(0))
        .hasMessageContaining("users")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> d.withItems(5))
        .hasMessageContaining("items")
        .hasMessageContaining("maxImpressions (12)")
        .hasMessageContaining("got 5");
    assertThatThrownBy(() -> d.withBaseCtr(1.5))
        .hasMessageContaining("baseCtr")
        .hasMessageContaining("1.5");
    assertThatThrownBy(() -> d.withBaseCtr(Double.NaN))
        .hasMessageContaining("baseCtr")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> d.withImpressions(5, 3))
        .hasMessageContaining("maxImpressions")
        .hasMessageContaining("3");
    assertThatThrownBy(() -> d.withPositionBias(-1))
        .hasMessageContaining("positionBias")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> d.withCountries(677))
        .hasMessageContaining("countries")
        .hasMessageContaining("677");
    assertThatThrownBy(() -> d.withItemZipf(-0.5))
        .hasMessageContaining("itemZipf")
        .hasMessageContaining("-0.5");
    assertThatThrownBy(() -> d.withImpressionDelayMaxMs(-1))
        .hasMessageContaining("impressionDelayMaxMs")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> d.withUsers(300_000_000))
        .hasMessageContaining("users (300000000)")
        .hasMessageContaining("latentDim (8)");
    assertThatThrownBy(() -> new TrafficGenerator(d.withUsers(10).withItems(50)).next(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
  }

  @Test
  void countryCodesAreDistinctTwoLetterCodes() {
    String[] codes = TrafficGenerator.countryCodes(TrafficConfig.MAX_COUNTRIES);
    assertThat(codes).doesNotHaveDuplicates().allMatch(c -> c.matches("[A-Z]{2}"));
    assertThat(codes).startsWith("US", "DE", "GB");
  }
}
