package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.model.bench.MovieLensStream.Rating;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MovieLensStreamTest {
  private static final long T = 1_000_000_000L;

  private static Rating r(int user, int movie, double stars, long t) {
    return new Rating(user, movie, stars, t, "Comedy|Drama", 1994);
  }

  @Test
  void aUsersSessionsBecomeRequestsInTimeOrderCutAtAGapOrAtTheLimit() {
    long gap = MovieLensStream.SESSION_GAP_S;
    List<Rating> ratings =
        List.of(
            // given out of order: the conversion sorts by time
            r(2, 20, 5, T + 5),
            r(1, 10, 4.5, T),
            r(1, 11, 2, T + 60),
            r(1, 12, 4, T + 120), // third of the session: over the limit of 2
            r(1, 13, 3, T + 120 + gap + 1), // after a pause longer than the gap
            r(2, 21, 1, T + 5 + gap)); // exactly the gap: same session

    List<RequestUnit> units = MovieLensStream.convert(ratings, 2);

    assertThat(units)
        .extracting(u -> u.getFeatures().get("user_id").get(0) + ":" + u.getImpressions().size())
        .containsExactly("u1:2", "u2:2", "u1:1", "u1:1");
    assertThat(units).extracting(RequestUnit::getTimestampMs).isSorted();
    RequestUnit first = units.get(0);
    assertThat(first.getTimestampMs()).isEqualTo(T * 1000);
    assertThat(first.getClosedAtMs()).isEqualTo((T + 60) * 1000);
    assertThat(first.getImpressions())
        .extracting(i -> i.getFeatures().get("item_id").get(0) + "=" + i.getLabels().get("click"))
        .containsExactly("m10=1.0", "m11=0.0");
    Impression im = first.getImpressions().get(1);
    assertThat(im.getFeatures().get("genres")).containsExactly("Comedy", "Drama");
    assertThat(im.getFeatures().get("decade")).containsExactly("1990s");
    assertThat(im.getDense()).containsEntry("position", 1f);
    assertThat(im.getTimestampMs()).isEqualTo((T + 60) * 1000);
  }

  @Test
  void theHistoryHoldsOnlyMoviesLikedInEarlierRequestsMostRecentFirst() {
    List<Rating> ratings =
        List.of(
            r(1, 10, 4.5, T),
            r(1, 11, 5, T + 1), // liked, but in the same request as 10: not in its history
            r(1, 12, 3.5, T + 2), // not liked
            r(1, 13, 4, T + 3));

    List<RequestUnit> units = MovieLensStream.convert(ratings, 2);

    assertThat(units).hasSize(2);
    assertThat(units.get(0).getFeatures().get("recent_liked")).isEmpty();
    assertThat(units.get(0).getDense()).containsEntry("ratings_before", 0f);
    assertThat(units.get(1).getFeatures().get("recent_liked")).containsExactly("m11", "m10");
    assertThat(units.get(1).getDense()).containsEntry("ratings_before", 2f);
  }

  @Test
  void theHistoryKeepsTheLastTenLikedMovies() {
    List<Rating> ratings = new java.util.ArrayList<>();
    for (int m = 0; m < 15; m++) {
      ratings.add(r(1, m, 5, T + m));
    }
    ratings.add(r(1, 99, 1, T + 100));

    List<RequestUnit> units = MovieLensStream.convert(ratings, 1);

    assertThat(units.get(15).getFeatures().get("recent_liked"))
        .hasSize(MovieLensStream.HISTORY)
        .startsWith("m14")
        .endsWith("m5");
  }

  @Test
  void missingGenresAndYearBecomeNoGenreAndAnUnknownDecade() {
    List<RequestUnit> units =
        MovieLensStream.convert(
            List.of(new Rating(1, 5, 3, T, "(no genres listed)", RData.NA_INT)), 10);

    Impression im = units.get(0).getImpressions().get(0);
    assertThat(im.getFeatures().get("genres")).isEmpty();
    assertThat(im.getFeatures().get("decade")).containsExactly("unknown");
  }

  @Test
  void badArgumentsAndADirectoryWithoutThePackageAreRefused(@TempDir Path dir) {
    assertThatThrownBy(() -> MovieLensStream.convert(List.of(), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MovieLensStream.fromDslabs(dir, 10))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not an extracted r-cran-dslabs package");
  }
}
