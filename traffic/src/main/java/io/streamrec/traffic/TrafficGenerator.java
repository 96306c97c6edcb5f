package io.streamrec.traffic;

import io.streamrec.common.SplitMix64;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Synthetic request and impression traffic drawn from a world whose click model is known exactly,
 * so that training can be judged against the best possible model (the oracle).
 *
 * <h2>The world (fixed by the seed at construction)</h2>
 *
 * <ul>
 *   <li>Users have a country (Zipf(1) over countries, so a few markets dominate) and a latent
 *       factor vector; items have a category (uniform), a bias and a latent factor vector. Factors
 *       are Gaussian, scaled so that {@code dot(user, item)} has standard deviation {@link
 *       #LATENT_LOGIT_STD} whatever {@code latentDim} is.
 *   <li>A table of country × category affinities: a true feature cross, invisible to a model that
 *       sees country and category only separately.
 *   <li>An hour-of-day × category effect: each category has a daily cosine with its own peak hour
 *       and a small amplitude.
 * </ul>
 *
 * <h2>A request</h2>
 *
 * The user is drawn with Zipf({@code userZipf}) popularity over ranks ({@code u0} the most active),
 * the size from a geometric distribution truncated to [minImpressions, maxImpressions], and the
 * distinct items shown with Zipf({@code itemZipf}) popularity ({@code i0} the most shown), all
 * through alias tables, so a draw never costs O(users) or O(items). Items are placed in the order
 * drawn, so position is independent of relevance and the position effect is exactly the one
 * configured. Each impression clicks with probability {@code sigmoid(logit)}, where
 *
 * <pre>
 * logit = globalBias + dot(userFactor, itemFactor) + itemBias
 *       + affinity[country][category] + hourEffect[hour][category] - positionBias * ln(1 + position)
 * </pre>
 *
 * and {@code globalBias} is calibrated at construction, by Monte Carlo over the same request
 * distribution with hours spread evenly, so that the mean click-through rate is {@code baseCtr}.
 *
 * <h2>Events</h2>
 *
 * <pre>
 * request:    features {user_id: [u42], country: [DE], recent_items: [i7, i9]}, dense {hour: 13.0}
 * impression: features {item_id: [i9], item_cat: [c3]}, dense {position: 0.0}, labels {click: 1.0}
 * </pre>
 *
 * {@code recent_items} is always present: the user's last clicked items, most recent first, at most
 * {@code recentItems} of them, and an empty list before the user's first click (so every request
 * has the same feature names; a model pools an empty list to zero). The clicks of a request enter
 * the user's history after the request is built. {@code hour} is the UTC hour of the request time.
 * Request ids are {@code r<seed>-<sequence>} (unique across seeds), impression ids {@code
 * <requestId>-<position>}; impression times are the request time plus a uniform delay in [0,
 * impressionDelayMaxMs], increasing with position.
 *
 * <p>Everything is drawn from {@link SplitMix64} streams derived from the seed, so the same config
 * and the same sequence of {@link #next} calls give the same events, on every JDK. Not thread-safe:
 * use one generator per thread (with different seeds).
 */
public final class TrafficGenerator {
  public static final String USER_ID = "user_id";
  public static final String COUNTRY = "country";
  public static final String RECENT_ITEMS = "recent_items";
  public static final String HOUR = "hour";
  public static final String ITEM_ID = "item_id";
  public static final String ITEM_CAT = "item_cat";
  public static final String POSITION = "position";
  public static final String LABEL_CLICK = "click";

  /** Std of dot(user, item) over random pairs: the largest true signal, as in real CTR data. */
  static final double LATENT_LOGIT_STD = 1.0;

  /** Std of the per-item bias: some items are simply better, learnable from item_id alone. */
  static final double ITEM_BIAS_STD = 0.5;

  /** Std of the country × category affinity: large enough that missing the cross costs AUC. */
  static final double CROSS_STD = 0.6;

  /** Std of each category's daily amplitude: a small, real time-of-day effect. */
  static final double HOUR_AMPLITUDE_STD = 0.2;

  /** Zipf exponent over countries: a few big markets and a long tail, as in real traffic. */
  static final double COUNTRY_ZIPF = 1.0;

  /** Request size n is drawn with weight DECAY^(n - min): most requests are small. */
  static final double REQUEST_SIZE_DECAY = 0.8;

  /** Requests simulated to calibrate the global bias: about 120k impressions at the defaults. */
  static final int CALIBRATION_REQUESTS = 30_000;

  /** A cap on the Newton steps for the global bias; the safeguarded iteration needs far fewer. */
  static final int CALIBRATION_MAX_STEPS = 60;

  /** The global bias is searched in [-BOUND, BOUND]: beyond it the sigmoid saturates in doubles. */
  static final double CALIBRATION_BIAS_BOUND = 40.0;

  /** Stop once the mean CTR is this close to the target (relative): far below sampling noise. */
  static final double CALIBRATION_RELATIVE_TOLERANCE = 1e-9;

  /**
   * Draws of an already chosen item before falling back to the next free id (extreme skew only).
   */
  static final int MAX_ITEM_REDRAWS = 64;

  static final long HOUR_MS = 3_600_000L;
  static final long DAY_MS = 24 * HOUR_MS;
  static final int HOURS_PER_DAY = 24;

  /** Common country codes first; the remaining letter pairs follow for larger worlds. */
  private static final String[] COMMON_COUNTRIES = {
    "US", "DE", "GB", "FR", "IN", "BR", "JP", "IT", "ES", "CA", "MX", "NL", "PL", "TR", "KR", "AU",
    "SE", "ID", "AR", "ZA", "NG", "EG", "PH", "VN", "TH", "CH", "AT", "BE", "PT", "IE", "NO", "DK"
  };

  // Independent random streams under one seed; changing one purpose's draws leaves the others
  // alone.
  private static final long STREAM_WORLD = 1;
  private static final long STREAM_CALIBRATION = 2;
  private static final long STREAM_TRAFFIC = 3;

  private static final Float LABEL_ONE = 1.0f;
  private static final Float LABEL_ZERO = 0.0f;

  private final TrafficConfig config;
  private final int dim;
  private final int categories;
  private final int recentCap;

  // The world.
  private final float[] userFactors; // users × dim
  private final int[] userCountry;
  private final float[] itemFactors; // items × dim
  private final float[] itemBias;
  private final int[] itemCategory;
  private final float[] crossAffinity; // countries × categories
  private final float[] hourEffect; // 24 × categories
  private final double[] positionTerm; // maxImpressions
  private final double globalBias;

  // How traffic is drawn.
  private final AliasTable userPopularity;
  private final AliasTable itemPopularity;
  private final AliasTable requestSize;

  // Interned values, so that building an event allocates little beyond the event itself.
  private final String[] countryCodes;
  private final Map<String, Integer> countryIndex;
  private final List<List<String>> countryValues;
  private final String[] itemIds;
  private final List<List<String>> itemIdValues;
  private final List<List<String>> categoryValues;
  private final Float[] hourValues;
  private final Float[] positionValues;
  private final String[] positionSuffixes;

  // Per-user click history: a ring of the last recentCap clicked items and a click count.
  private final int[] recentRing; // users × recentCap
  private final int[] clickCount;

  // Traffic state.
  private final SplitMix64 rng;
  private final String requestIdPrefix;
  private long sequence;
  private final int[] drawnItems;
  private final long[] delays;
  private final boolean[] clicked;

  public TrafficGenerator(TrafficConfig config) {
    this.config = config;
    this.dim = config.latentDim();
    this.categories = config.categories();
    this.recentCap = config.recentItems();
    int users = config.users();
    int items = config.items();
    int countries = config.countries();
    int maxN = config.maxImpressions();

    SplitMix64 world = SplitMix64.stream(config.seed(), STREAM_WORLD);
    // dot of two d-vectors with N(0, s^2) entries has variance d * s^4
    double factorStd = Math.sqrt(LATENT_LOGIT_STD / Math.sqrt(dim));
    userFactors = gaussians(world, users * dim, factorStd);
    itemFactors = gaussians(world, items * dim, factorStd);
    itemBias = gaussians(world, items, ITEM_BIAS_STD);
    AliasTable countryPopularity = AliasTable.zipf(countries, COUNTRY_ZIPF);
    userCountry = new int[users];
    for (int u = 0; u < users; u++) {
      userCountry[u] = countryPopularity.sample(world);
    }
    itemCategory = new int[items];
    for (int i = 0; i < items; i++) {
      itemCategory[i] = world.nextInt(categories);
    }
    crossAffinity = gaussians(world, countries * categories, CROSS_STD);
    hourEffect = new float[HOURS_PER_DAY * categories];
    for (int c = 0; c < categories; c++) {
      double amplitude = HOUR_AMPLITUDE_STD * world.nextGaussian();
      double peak = world.nextDouble() * HOURS_PER_DAY;
      for (int h = 0; h < HOURS_PER_DAY; h++) {
        hourEffect[h * categories + c] =
            (float) (amplitude * Math.cos(2 * Math.PI * (h - peak) / HOURS_PER_DAY));
      }
    }
    positionTerm = new double[maxN];
    for (int p = 0; p < maxN; p++) {
      positionTerm[p] = -config.positionBias() * Math.log1p(p);
    }

    userPopularity = AliasTable.zipf(users, config.userZipf());
    itemPopularity = AliasTable.zipf(items, config.itemZipf());
    double[] sizeWeights = new double[maxN - config.minImpressions() + 1];
    for (int k = 0; k < sizeWeights.length; k++) {
      sizeWeights[k] = Math.pow(REQUEST_SIZE_DECAY, k);
    }
    requestSize = new AliasTable(sizeWeights);

    countryCodes = countryCodes(countries);
    countryIndex = new HashMap<>();
    countryValues = new ArrayList<>(countries);
    for (int c = 0; c < countries; c++) {
      countryIndex.put(countryCodes[c], c);
      countryValues.add(List.of(countryCodes[c]));
    }
    itemIds = new String[items];
    itemIdValues = new ArrayList<>(items);
    for (int i = 0; i < items; i++) {
      itemIds[i] = "i" + i;
      itemIdValues.add(List.of(itemIds[i]));
    }
    categoryValues = new ArrayList<>(categories);
    for (int c = 0; c < categories; c++) {
      categoryValues.add(List.of("c" + c));
    }
    hourValues = new Float[HOURS_PER_DAY];
    for (int h = 0; h < HOURS_PER_DAY; h++) {
      hourValues[h] = (float) h;
    }
    positionValues = new Float[maxN];
    positionSuffixes = new String[maxN];
    for (int p = 0; p < maxN; p++) {
      positionValues[p] = (float) p;
      positionSuffixes[p] = "-" + p;
    }

    recentRing = new int[users * recentCap];
    clickCount = new int[users];
    drawnItems = new int[maxN];
    delays = new long[maxN];
    clicked = new boolean[maxN];
    requestIdPrefix = "r" + config.seed() + "-";
    globalBias = calibrateBias(SplitMix64.stream(config.seed(), STREAM_CALIBRATION));
    rng = SplitMix64.stream(config.seed(), STREAM_TRAFFIC);
  }

  public TrafficConfig config() {
    return config;
  }

  /** Requests generated so far; the next request's id ends in this number. */
  public long generated() {
    return sequence;
  }

  /**
   * Draws the next request, made at {@code requestTimeMs} (epoch ms, non-negative), with its
   * impressions and their true click probabilities; the user's click history is updated.
   */
  public GeneratedRequest next(long requestTimeMs) {
    if (requestTimeMs < 0) {
      throw new IllegalArgumentException(
          "requestTimeMs must be non-negative, got " + requestTimeMs);
    }
    String requestId = requestIdPrefix + sequence++;
    int user = userPopularity.sample(rng);
    int country = userCountry[user];
    int hour = (int) (Math.floorMod(requestTimeMs, DAY_MS) / HOUR_MS);
    int n = config.minImpressions() + requestSize.sample(rng);
    drawItems(rng, n, drawnItems);
    for (int p = 0; p < n; p++) {
      delays[p] = rng.nextLongInclusive(config.impressionDelayMaxMs());
    }
    Arrays.sort(delays, 0, n);

    Map<String, List<String>> requestFeatures = new LinkedHashMap<>(4);
    requestFeatures.put(USER_ID, List.of("u" + user));
    requestFeatures.put(COUNTRY, countryValues.get(country));
    requestFeatures.put(RECENT_ITEMS, recentItems(user));
    Map<String, Float> requestDense = new LinkedHashMap<>(2);
    requestDense.put(HOUR, hourValues[hour]);
    RequestEvent request = new RequestEvent();
    request.setRequestId(requestId);
    request.setTimestampMs(requestTimeMs);
    request.setFeatures(requestFeatures);
    request.setDense(requestDense);

    ImpressionEvent[] impressions = new ImpressionEvent[n];
    double[] trueCtr = new double[n];
    for (int p = 0; p < n; p++) {
      int item = drawnItems[p];
      int category = itemCategory[item];
      double ctr = sigmoid(globalBias + logitWithoutBias(user, country, item, hour, p));
      boolean click = rng.nextDouble() < ctr;
      trueCtr[p] = ctr;
      clicked[p] = click;

      Map<String, List<String>> features = new LinkedHashMap<>(4);
      features.put(ITEM_ID, itemIdValues.get(item));
      features.put(ITEM_CAT, categoryValues.get(category));
      Map<String, Float> dense = new LinkedHashMap<>(2);
      dense.put(POSITION, positionValues[p]);
      Map<String, Float> labels = new LinkedHashMap<>(2);
      labels.put(LABEL_CLICK, click ? LABEL_ONE : LABEL_ZERO);
      ImpressionEvent e = new ImpressionEvent();
      e.setImpressionId(requestId + positionSuffixes[p]);
      e.setRequestId(requestId);
      e.setTimestampMs(requestTimeMs + delays[p]);
      e.setFeatures(features);
      e.setDense(dense);
      e.setLabels(labels);
      impressions[p] = e;
    }
    for (int p = 0; p < n; p++) {
      if (clicked[p]) {
        rememberClick(user, drawnItems[p]);
      }
    }
    return new GeneratedRequest(request, List.of(impressions), trueCtr);
  }

  /** The calibrated global bias of the true logit. */
  double globalBias() {
    return globalBias;
  }

  /**
   * The country × category term of the true logit for a request's country and an impression's
   * category, as they appear in the events; lets a test build the oracle without the cross.
   */
  double crossTerm(RequestEvent request, ImpressionEvent impression) {
    Integer country = countryIndex.get(request.getFeatures().get(COUNTRY).get(0));
    if (country == null) {
      throw new IllegalArgumentException("not a country of this world: " + request.getFeatures());
    }
    int category = Integer.parseInt(impression.getFeatures().get(ITEM_CAT).get(0).substring(1));
    return crossAffinity[country * categories + category];
  }

  /** The true logit less the global bias. */
  private double logitWithoutBias(int user, int country, int item, int hour, int position) {
    int category = itemCategory[item];
    double dot = 0;
    int uo = user * dim;
    int io = item * dim;
    for (int k = 0; k < dim; k++) {
      dot += userFactors[uo + k] * itemFactors[io + k];
    }
    return dot
        + itemBias[item]
        + crossAffinity[country * categories + category]
        + hourEffect[hour * categories + category]
        + positionTerm[position];
  }

  /** Fills out[0..n) with n distinct items drawn by popularity. */
  private void drawItems(SplitMix64 random, int n, int[] out) {
    for (int p = 0; p < n; p++) {
      int item = itemPopularity.sample(random);
      int redraws = 0;
      while (contains(out, p, item)) {
        if (++redraws <= MAX_ITEM_REDRAWS) {
          item = itemPopularity.sample(random);
        } else {
          item = item + 1 == itemIds.length ? 0 : item + 1; // items >= maxImpressions, so this ends
        }
      }
      out[p] = item;
    }
  }

  private static boolean contains(int[] a, int len, int v) {
    for (int i = 0; i < len; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }

  private List<String> recentItems(int user) {
    int count = clickCount[user];
    int size = Math.min(count, recentCap);
    List<String> out = new ArrayList<>(size);
    int base = user * recentCap;
    for (int j = 1; j <= size; j++) {
      out.add(itemIds[recentRing[base + (count - j) % recentCap]]);
    }
    return out;
  }

  private void rememberClick(int user, int item) {
    if (recentCap == 0) {
      return;
    }
    int count = clickCount[user];
    recentRing[user * recentCap + count % recentCap] = item;
    // keep the count bounded so it never overflows; count % recentCap is unchanged
    clickCount[user] = count + 1 >= 2 * recentCap ? recentCap + (count + 1) % recentCap : count + 1;
  }

  /**
   * Finds the global bias whose mean click probability over simulated requests (hours uniform) is
   * baseCtr: safeguarded Newton on a monotone function of one variable.
   */
  private double calibrateBias(SplitMix64 random) {
    int maxN = config.maxImpressions();
    double[] z = new double[CALIBRATION_REQUESTS * maxN];
    int[] items = new int[maxN];
    int m = 0;
    for (int r = 0; r < CALIBRATION_REQUESTS; r++) {
      int user = userPopularity.sample(random);
      int country = userCountry[user];
      int hour = random.nextInt(HOURS_PER_DAY);
      int n = config.minImpressions() + requestSize.sample(random);
      drawItems(random, n, items);
      for (int p = 0; p < n; p++) {
        z[m++] = logitWithoutBias(user, country, items[p], hour, p);
      }
    }
    double target = config.baseCtr();
    double lo = -CALIBRATION_BIAS_BOUND;
    double hi = CALIBRATION_BIAS_BOUND;
    double b = Math.log(target / (1 - target));
    for (int step = 0; step < CALIBRATION_MAX_STEPS; step++) {
      double mean = 0;
      double slope = 0;
      for (int i = 0; i < m; i++) {
        double s = sigmoid(b + z[i]);
        mean += s;
        slope += s * (1 - s);
      }
      mean /= m;
      slope /= m;
      double gap = mean - target;
      if (Math.abs(gap) <= CALIBRATION_RELATIVE_TOLERANCE * target) {
        break;
      }
      if (gap > 0) {
        hi = b;
      } else {
        lo = b;
      }
      double next = slope > 0 ? b - gap / slope : Double.NaN;
      b = next > lo && next < hi ? next : (lo + hi) / 2;
    }
    return b;
  }

  private static double sigmoid(double x) {
    return 1.0 / (1.0 + Math.exp(-x));
  }

  private static float[] gaussians(SplitMix64 random, int n, double std) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (std * random.nextGaussian());
    }
    return out;
  }

  /** The first n two-letter codes: the common ones, then the other letter pairs in order. */
  static String[] countryCodes(int n) {
    String[] out = new String[n];
    Set<String> used = new HashSet<>();
    int k = 0;
    for (String code : COMMON_COUNTRIES) {
      if (k == n) {
        return out;
      }
      out[k++] = code;
      used.add(code);
    }
    for (char a = 'A'; a <= 'Z' && k < n; a++) {
      for (char b = 'A'; b <= 'Z' && k < n; b++) {
        String code = "" + a + b;
        if (!used.contains(code)) {
          out[k++] = code;
        }
      }
    }
    return out;
  }
}
