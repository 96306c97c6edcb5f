package io.streamrec.traffic;

/**
 * What {@link TrafficGenerator} simulates: the size of the world, how skewed its popularity is, how
 * big requests are, and how clicks depend on position. Immutable; validated on construction, with a
 * message that names the field and the bad value. Start from {@link #defaults()} and change fields
 * with the {@code with…} methods.
 *
 * <p>Memory: about {@code 4 × (latentDim + recentItems) + 24} bytes per user and {@code 4 ×
 * latentDim + 100} per item (its id strings included), so about 10 MB at the defaults; construction
 * is linear in users plus items (under 0.1 s at the defaults).
 *
 * @param seed fixes the whole world (factors, affinities, countries) and the traffic drawn from it;
 *     also part of every request id, so generators with different seeds never share a request id.
 *     Default 1.
 * @param users number of users ({@code u0} … {@code u<users-1>}); {@code u0} makes the most
 *     requests. Default 100 000.
 * @param items number of items ({@code i0} …); {@code i0} is shown most often. At least
 *     maxImpressions, since one request shows distinct items. Default 20 000.
 * @param categories number of item categories ({@code c0} …); every item has one, drawn uniformly.
 *     Default 40.
 * @param countries number of countries (two-letter codes, the most common first: US, DE, GB, …);
 *     every user lives in one, drawn with Zipf(1) popularity. At most 676. Default 20.
 * @param latentDim dimension of the true user and item factors. Default 8.
 * @param userZipf Zipf exponent of how often each user makes a request (0 = uniform). Default 1.05.
 * @param itemZipf Zipf exponent of how often each item is shown (0 = uniform). Default 1.05.
 * @param minImpressions fewest impressions in one request, at least 1. Default 1.
 * @param maxImpressions most impressions in one request, at most 1000. Sizes in between are
 *     geometrically skewed toward the small end (mean about 4.1 at the defaults). Default 12.
 * @param positionBias strength of the position effect: the true logit falls by {@code positionBias
 *     × ln(1 + position)}, so at 0.35 a click at position 5 is about half as likely as at position
 *     0. Default 0.35.
 * @param baseCtr the mean click-through rate to aim for, in (0, 1); the global bias is calibrated
 *     at construction so the realised mean lands near it (for request times spread evenly over the
 *     hours of the day). Default 0.06.
 * @param impressionDelayMaxMs impressions follow their request by a uniform 0..this many
 *     milliseconds; at most one day. Must stay below the job's join window. Default 1000.
 * @param recentItems how many of the user's last clicked items the request's {@code recent_items}
 *     feature carries (0..100; 0 keeps it always empty). Default 5.
 */
public record TrafficConfig(
    long seed,
    int users,
    int items,
    int categories,
    int countries,
    int latentDim,
    double userZipf,
    double itemZipf,
    int minImpressions,
    int maxImpressions,
    double positionBias,
    double baseCtr,
    long impressionDelayMaxMs,
    int recentItems) {

  /** Two letters per code give 676 distinct codes. */
  static final int MAX_COUNTRIES = 26 * 26;

  /** A request of more than this many impressions is a page dump, not a recommendation. */
  static final int MAX_IMPRESSIONS_LIMIT = 1000;

  /** Beyond this the latent term is a dense model of its own, and memory grows with it. */
  static final int MAX_LATENT_DIM = 256;

  /** An impression a day after its request no longer belongs to the same unit. */
  static final long MAX_IMPRESSION_DELAY_MS = 86_400_000L;

  /** recent_items is a short feature list, not a user history. */
  static final int MAX_RECENT_ITEMS = 100;

  /**
   * Exponents above this put essentially all traffic on rank 0; nothing useful is left to learn.
   */
  static final double MAX_ZIPF_EXPONENT = 10.0;

  /**
   * Per-user and per-item tables are flat Java arrays, whose length is an int (less a VM margin).
   */
  static final long MAX_TABLE_LENGTH = Integer.MAX_VALUE - 8;

  public TrafficConfig {
    atLeast("users", users, 1);
    atLeast("categories", categories, 1);
    between("countries", countries, 1, MAX_COUNTRIES);
    between("latentDim", latentDim, 1, MAX_LATENT_DIM);
    zipf("userZipf", userZipf);
    zipf("itemZipf", itemZipf);
    between("minImpressions", minImpressions, 1, MAX_IMPRESSIONS_LIMIT);
    between("maxImpressions", maxImpressions, minImpressions, MAX_IMPRESSIONS_LIMIT);
    if (items < maxImpressions) {
      throw new IllegalArgumentException(
          "TrafficConfig.items must be at least maxImpressions ("
              + maxImpressions
              + ") so that one request shows distinct items, got "
              + items);
    }
    if (!(positionBias >= 0) || Double.isInfinite(positionBias)) {
      throw new IllegalArgumentException(
          "TrafficConfig.positionBias must be finite and >= 0, got " + positionBias);
    }
    if (!(baseCtr > 0 && baseCtr < 1)) {
      throw new IllegalArgumentException(
          "TrafficConfig.baseCtr must be strictly between 0 and 1, got " + baseCtr);
    }
    if (impressionDelayMaxMs < 0 || impressionDelayMaxMs > MAX_IMPRESSION_DELAY_MS) {
      throw new IllegalArgumentException(
          "TrafficConfig.impressionDelayMaxMs must be in [0, "
              + MAX_IMPRESSION_DELAY_MS
              + "], got "
              + impressionDelayMaxMs);
    }
    between("recentItems", recentItems, 0, MAX_RECENT_ITEMS);
    if ((long) users * Math.max(latentDim, recentItems) > MAX_TABLE_LENGTH
        || (long) items * latentDim > MAX_TABLE_LENGTH) {
      throw new IllegalArgumentException(
          "TrafficConfig.users ("
              + users
              + ") or items ("
              + items
              + ") times latentDim ("
              + latentDim
              + ") or recentItems ("
              + recentItems
              + ") exceeds "
              + MAX_TABLE_LENGTH
              + " table entries");
    }
  }

  /** The defaults documented on each field. */
  public static TrafficConfig defaults() {
    return new TrafficConfig(
        1L, 100_000, 20_000, 40, 20, 8, 1.05, 1.05, 1, 12, 0.35, 0.06, 1_000L, 5);
  }

  public TrafficConfig withSeed(long v) {
    return new TrafficConfig(
        v,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withUsers(int v) {
    return new TrafficConfig(
        seed,
        v,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withItems(int v) {
    return new TrafficConfig(
        seed,
        users,
        v,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withCategories(int v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        v,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withCountries(int v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        v,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withLatentDim(int v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        v,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withUserZipf(double v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        v,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withItemZipf(double v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        v,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  /** Sets both bounds of the request size at once, since each constrains the other. */
  public TrafficConfig withImpressions(int min, int max) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        min,
        max,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withPositionBias(double v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        v,
        baseCtr,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withBaseCtr(double v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        v,
        impressionDelayMaxMs,
        recentItems);
  }

  public TrafficConfig withImpressionDelayMaxMs(long v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        v,
        recentItems);
  }

  public TrafficConfig withRecentItems(int v) {
    return new TrafficConfig(
        seed,
        users,
        items,
        categories,
        countries,
        latentDim,
        userZipf,
        itemZipf,
        minImpressions,
        maxImpressions,
        positionBias,
        baseCtr,
        impressionDelayMaxMs,
        v);
  }

  private static void atLeast(String field, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(
          "TrafficConfig." + field + " must be at least " + min + ", got " + value);
    }
  }

  private static void between(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          "TrafficConfig." + field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }

  private static void zipf(String field, double value) {
    if (!(value >= 0 && value <= MAX_ZIPF_EXPONENT)) {
      throw new IllegalArgumentException(
          "TrafficConfig." + field + " must be in [0, " + MAX_ZIPF_EXPONENT + "], got " + value);
    }
  }
}
