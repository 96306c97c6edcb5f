package io.streamrec.job.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A label no impression carries, a dense feature that comes as categorical values, a misspelt
 * feature: the job trained on, the label as 0 and the feature as 0 or an empty bag, and nothing
 * said so (the progress line showed an AUC of "-").
 */
class FeatureCoverageTest {
  @Test
  void declaredNamesNoneOfTheFirstEventsHasAreSaidOnceWithWhereTheyAre() {
    // the defaults: request user_id, country, recent_items and hour; impression item_id, item_cat,
    // position; the label click
    FeatureCoverage requests =
        new FeatureCoverage(EventKind.REQUEST, ModelConfig.defaults().features());
    List<String> said = List.of();
    for (int i = 0; i < FeatureCoverage.SAMPLE; i++) {
      assertThat(said).isEmpty();
      assertThat(requests.wants()).isTrue();
      said =
          requests.add(
              Map.of("user_id", List.of("u"), "country", List.of("de"), "hour", List.of("3")),
              Map.of("country_code", 1f),
              null);
    }
    assertThat(said)
        .containsExactly(
            "none of the first 1,000 requests read has the dense feature 'hour'"
                + " (model.features.request.dense), which is read as 0; 1,000 of them carry it as"
                + " categorical values: declare it under model.features.request.categorical",
            "none of the first 1,000 requests read has the categorical feature 'recent_items'"
                + " (model.features.request.categorical), which is an empty bag in every unit");
    assertThat(requests.wants()).as("then one in %d", FeatureCoverage.STRIDE).isFalse();

    FeatureCoverage impressions =
        new FeatureCoverage(EventKind.IMPRESSION, ModelConfig.defaults().features());
    for (int i = 0; i < FeatureCoverage.SAMPLE; i++) {
      said =
          impressions.add(
              Map.of("item_id", List.of("i"), "item_cat", List.of("c")),
              Map.of("position", 1f),
              i == 7 ? Map.of("click", 1f) : Map.of("purchase", 0f));
    }
    assertThat(said).as("one impression with the label is enough").isEmpty();
  }

  /**
   * A producer that stopped sending the label mid-stream: its impressions trained as 0 from then
   * on, and only the first 1,000 events were ever looked at, so nothing said so.
   */
  @Test
  void aLabelThatStopsComingIsSaidOnceFromTheSpotChecks() {
    FeatureCoverage impressions =
        new FeatureCoverage(EventKind.IMPRESSION, ModelConfig.defaults().features());
    Map<String, List<String>> cat = Map.of("item_id", List.of("i"), "item_cat", List.of("c"));
    Map<String, Float> dense = Map.of("position", 1f);
    List<String> said = new ArrayList<>();
    long looked = 0;
    // 1,000 events with the label, then 300,000 without: three windows of spot checks
    for (int i = 0; i < 301_000; i++) {
      if (impressions.wants()) {
        looked++;
        said.addAll(
            impressions.add(cat, dense, i < 1_000 ? Map.of("click", 1f) : Map.of("clik", 1f)));
      }
    }
    assertThat(looked).isEqualTo(1_000 + 300_000 / FeatureCoverage.STRIDE);
    assertThat(said)
        .as("said at the first window without it, and not again")
        .singleElement()
        .asString()
        .startsWith(
            "none of 1,000 impressions sampled (one in 100) up to the 101,000th read carries the"
                + " label 'click'");
  }

  /**
   * Dense counts up to 1e8 (log1p: 18.4) cost the reference model 0.022 AUC and 0.040 log loss on a
   * user's stream against the same model with running normalisation, and nothing said so.
   */
  @Test
  void aDenseFeatureOfLargeValuesIsSaidToWantNormalisationUnlessTheModelNormalises() {
    for (boolean normalized : new boolean[] {false, true}) {
      FeatureCoverage impressions =
          new FeatureCoverage(EventKind.IMPRESSION, ModelConfig.defaults().features(), normalized);
      List<String> said = List.of();
      for (int i = 0; i < FeatureCoverage.SAMPLE; i++) {
        said =
            impressions.add(
                Map.of("item_id", List.of("i"), "item_cat", List.of("c")),
                Map.of("position", i == 3 ? 100_000_000f : 2f),
                Map.of("click", 0f));
      }
      if (normalized) {
        assertThat(said).isEmpty();
      } else {
        assertThat(said)
            .singleElement()
            .asString()
            .startsWith(
                "the dense feature 'position' reaches 100,000,000 in the first 1,000 impressions"
                    + " read: it enters the model as sign(x)*log1p(|x|) = 18.4")
            .contains("model.dense-normalization: running");
      }
    }
  }
}
