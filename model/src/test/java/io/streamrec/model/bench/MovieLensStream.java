package io.streamrec.model.bench;

import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MovieLens ratings of {@code ml-latest-small} (100,004 ratings of 9,066 movies by 671 users,
 * January 1995 – October 2016; F. Maxwell Harper and Joseph A. Konstan, "The MovieLens Datasets:
 * History and Context", ACM TiiS 5(4), 2015) turned into a time-ordered stream of request units: a
 * user's rating session as a request, the movies rated in it as its impressions, "liked" (a rating
 * of 4 stars or more) as the label. The data ships as the data frame {@code movielens} of the R
 * package dslabs, which Debian packages as {@code r-cran-dslabs} (0.7.4); {@code
 * scripts/bench-quality.sh} downloads that package at run time and this class reads the frame from
 * the package's lazy-load database with {@link RData}, without R. Nothing of the data is kept in
 * the repository: GroupLens' terms allow research use and forbid redistribution except under the
 * same terms ({@code docs/benchmarks.md}).
 *
 * <p>The ratings are put in time order (ties by user, then movie). A user's <b>session</b> is a run
 * of their ratings with no gap over {@link #SESSION_GAP_S}; a <b>request</b> is a session's ratings
 * in groups of at most {@code maxPerRequest}, in order, at its first rating's time. Its features
 * are the user ({@code user_id}) and the user's history, {@code recent_liked}: the last {@link
 * #HISTORY} movies the user rated 4 or more before this request, most recent first, in the item
 * vocabulary; as a dense value, {@code ratings_before}, how many movies the user had rated. Each
 * <b>impression</b> is one rating: the movie ({@code item_id}), its genres (several values) and its
 * decade, and its position in the request as a dense value. The label {@code click} is 1 when the
 * rating is 4 or more; a second label, {@link #LOVED}, 1 for 5 stars, is there for a model of two
 * labels ({@code LabelWeightsBench}) and read by no other. The ratings of a request enter the
 * history only after it, so no feature knows a label it is scored on.
 */
public final class MovieLensStream {
  /** Where the data frame lives in the extracted Debian package. */
  public static final String RDATA = "usr/lib/R/site-library/dslabs/data/Rdata";

  /** The data frame's name in the package. */
  public static final String OBJECT = "movielens";

  /** Ratings per request at most, as {@link BankMarketingStream#DEFAULT_MAX_CALLS}. */
  public static final int DEFAULT_MAX_PER_REQUEST = 10;

  /** A pause of more than this many seconds between two ratings of a user ends a session. */
  static final long SESSION_GAP_S = 3_600;

  /** Liked movies in a request's history at most. */
  static final int HISTORY = 10;

  /** The rating from which a movie counts as liked (the label). */
  static final double LIKED = 4.0;

  /** The second label: the movie got 5 stars. */
  public static final String LOVED = "loved";

  private MovieLensStream() {}

  /** One rating, as the data frame has it. */
  record Rating(int user, int movie, double stars, long timeS, String genres, int year) {}

  /** The features the model reads for this stream. */
  public static FeatureSpec spec() {
    List<CategoricalFeature> cat =
        List.of(
            CategoricalFeature.of("user_id", Side.REQUEST),
            new CategoricalFeature(
                "recent_liked", Side.REQUEST, "item_id", "item_id", Pooling.MEAN),
            CategoricalFeature.of("item_id", Side.IMPRESSION),
            CategoricalFeature.of("genres", Side.IMPRESSION),
            CategoricalFeature.of("decade", Side.IMPRESSION));
    List<DenseFeature> dense =
        List.of(
            new DenseFeature("ratings_before", Side.REQUEST),
            new DenseFeature("position", Side.IMPRESSION));
    return new FeatureSpec(cat, dense, List.of("click"));
  }

  /**
   * Reads the ratings from the extracted {@code r-cran-dslabs} package at {@code root} (the
   * directory {@code dpkg-deb -x} wrote) and converts them.
   */
  public static List<RequestUnit> fromDslabs(Path root, int maxPerRequest) throws IOException {
    Path base = root.resolve(RDATA);
    if (!Files.exists(base.resolveSibling("Rdata.rdx"))) {
      throw new IOException(
          root + " holds no " + RDATA + ".rdx: not an extracted r-cran-dslabs package");
    }
    Map<String, Object> c = RData.dataFrame(base, OBJECT);
    int[] user = column(c, "userId", int[].class),
        movie = column(c, "movieId", int[].class),
        year = column(c, "year", int[].class),
        time = column(c, "timestamp", int[].class);
    double[] rating = column(c, "rating", double[].class);
    String[] genres = column(c, "genres", String[].class);
    List<Rating> ratings = new ArrayList<>(user.length);
    for (int i = 0; i < user.length; i++) {
      if (user[i] == RData.NA_INT
          || movie[i] == RData.NA_INT
          || time[i] == RData.NA_INT
          || Double.isNaN(rating[i])) {
        throw new IOException(
            "row " + (i + 1) + " of " + OBJECT + " lacks a user, movie, time or rating");
      }
      ratings.add(
          new Rating(user[i], movie[i], rating[i], time[i] & 0xffffffffL, genres[i], year[i]));
    }
    return convert(ratings, maxPerRequest);
  }

  private static <T> T column(Map<String, Object> columns, String name, Class<T> type)
      throws IOException {
    Object v = columns.get(name);
    if (!type.isInstance(v)) {
      throw new IOException(
          OBJECT
              + " has no "
              + type.getSimpleName()
              + " column '"
              + name
              + "'; it has "
              + columns.keySet());
    }
    return type.cast(v);
  }

  /** Converts ratings, in any order, into request units in time order. */
  static List<RequestUnit> convert(List<Rating> ratings, int maxPerRequest) {
    if (maxPerRequest < 1) {
      throw new IllegalArgumentException("maxPerRequest must be >= 1, got " + maxPerRequest);
    }
    Rating[] sorted = ratings.toArray(new Rating[0]);
    Arrays.sort(
        sorted,
        Comparator.comparingLong(Rating::timeS)
            .thenComparingInt(Rating::user)
            .thenComparingInt(Rating::movie));
    // requests per user, each a run of the user's ratings: cut at a gap or at maxPerRequest
    Map<Integer, List<List<Rating>>> byUser = new HashMap<>();
    for (Rating r : sorted) {
      List<List<Rating>> runs = byUser.computeIfAbsent(r.user(), u -> new ArrayList<>());
      List<Rating> open = runs.isEmpty() ? null : runs.get(runs.size() - 1);
      if (open == null
          || open.size() == maxPerRequest
          || r.timeS() - open.get(open.size() - 1).timeS() > SESSION_GAP_S) {
        runs.add(open = new ArrayList<>());
      }
      open.add(r);
    }
    List<List<Rating>> requests = new ArrayList<>();
    byUser.values().forEach(requests::addAll);
    // stable in the users' own order: a user's requests keep their order when their times tie
    requests.sort(
        Comparator.comparingLong((List<Rating> q) -> q.get(0).timeS())
            .thenComparingInt(q -> q.get(0).user()));
    Map<Integer, Deque<String>> liked = new HashMap<>();
    Map<Integer, Integer> rated = new HashMap<>();
    List<RequestUnit> units = new ArrayList<>(requests.size());
    for (List<Rating> q : requests) {
      int user = q.get(0).user();
      String id = "ml-" + units.size();
      Deque<String> history = liked.computeIfAbsent(user, u -> new ArrayDeque<>());
      Map<String, List<String>> f = new LinkedHashMap<>();
      f.put("user_id", List.of("u" + user));
      f.put("recent_liked", List.copyOf(history));
      List<Impression> imps = new ArrayList<>(q.size());
      for (Rating r : q) {
        imps.add(impression(r, id + "-" + imps.size(), imps.size()));
      }
      units.add(
          RequestUnit.newBuilder()
              .setRequestId(id)
              .setTimestampMs(q.get(0).timeS() * 1000)
              .setFeatures(f)
              .setDense(Map.of("ratings_before", (float) rated.getOrDefault(user, 0)))
              .setImpressions(imps)
              .setClosedAtMs(q.get(q.size() - 1).timeS() * 1000)
              .build());
      for (Rating r : q) {
        if (r.stars() >= LIKED) {
          history.addFirst("m" + r.movie());
          if (history.size() > HISTORY) {
            history.removeLast();
          }
        }
      }
      rated.merge(user, q.size(), Integer::sum);
    }
    return units;
  }

  private static Impression impression(Rating r, String id, int position) {
    Map<String, List<String>> f = new LinkedHashMap<>();
    f.put("item_id", List.of("m" + r.movie()));
    List<String> genres = new ArrayList<>();
    if (r.genres() != null) {
      for (String g : r.genres().split("\\|")) {
        if (!g.isBlank() && !g.equals("(no genres listed)")) {
          genres.add(g);
        }
      }
    }
    f.put("genres", genres);
    f.put("decade", List.of(r.year() == RData.NA_INT ? "unknown" : (r.year() / 10 * 10) + "s"));
    return Impression.newBuilder()
        .setImpressionId(id)
        .setTimestampMs(r.timeS() * 1000)
        .setFeatures(f)
        .setDense(Map.of("position", (float) position))
        .setLabels(Map.of("click", r.stars() >= LIKED ? 1f : 0f, LOVED, r.stars() >= 5.0 ? 1f : 0f))
        .build();
  }
}
