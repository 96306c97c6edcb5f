package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.RequestUnit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventFilesStreamTest {
  @TempDir Path dir;

  private static String req(String id, long t) {
    return "{\"requestId\":\""
        + id
        + "\",\"timestampMs\":"
        + t
        + ",\"features\":{\"user_id\":[\"u1\"]},\"dense\":{\"hour\":3}}\n";
  }

  private static String imp(String id, String request, long t, int click) {
    return "{\"impressionId\":\""
        + id
        + "\",\"requestId\":\""
        + request
        + "\",\"timestampMs\":"
        + t
        + ",\"features\":{\"item_id\":[\"i1\"]},\"dense\":{},\"labels\":{\"click\":"
        + click
        + "}}\n";
  }

  @Test
  void joinsImpressionsToTheirRequestsInTimeOrderAndCountsWhatItLeavesOut() throws Exception {
    Path requests = dir.resolve("requests.jsonl"), impressions = dir.resolve("impressions.jsonl");
    Files.writeString(
        requests,
        req("b", 200)
            + req("a", 100)
            + "{not an event\n"
            + req("c", 200) // same time as b: file order
            + req("a", 999) // a repeated id: the first counts
            + req("lonely", 50)); // no impression
    Files.writeString(
        impressions,
        imp("c-0", "c", 260, 0)
            + imp("a-0", "a", 150, 1)
            + imp("x-0", "x", 10, 1) // its request is not in the file
            + imp("b-0", "b", 210, 0)
            + imp("a-1", "a", 120, 0) // after a-0 in the file, earlier in time: file order
            + imp("a-0", "a", 151, 0) // a producer's retry of a-0: the first counts, as in the job
            + "\n");

    EventFilesStream.Loaded s = EventFilesStream.read(requests, impressions);

    assertThat(s.units()).extracting(RequestUnit::getRequestId).containsExactly("a", "b", "c");
    RequestUnit a = s.units().get(0);
    assertThat(a.getTimestampMs()).isEqualTo(100);
    assertThat(a.getClosedAtMs()).isEqualTo(150);
    assertThat(a.getImpressions())
        .extracting(i -> i.getImpressionId() + "=" + i.getLabels().get("click"))
        .containsExactly("a-0=1.0", "a-1=0.0");
    assertThat(a.getDense()).containsEntry("hour", 3f);
    assertThat(s.badLines()).isEqualTo(1);
    assertThat(s.orphanImpressions()).isEqualTo(1);
    assertThat(s.repeatedRequests()).isEqualTo(1);
    assertThat(s.repeatedImpressions()).isEqualTo(1);
    assertThat(s.requestsWithoutImpressions()).isEqualTo(1);
    assertThat(s.summary("mine")).contains("3 units", "1 bad lines", "1 repeated impression ids");
  }

  @Test
  void aBadLineIsReportedWithItsFileLineAndWhatIsWrong() throws Exception {
    Path requests = dir.resolve("requests.jsonl"), impressions = dir.resolve("impressions.jsonl");
    Files.writeString(requests, req("a", 100) + "{\"requestId\":\"b\",\"timestampMs\":\"soon\"}\n");
    StringBuilder imps = new StringBuilder(imp("a-0", "a", 150, 1));
    for (int k = 0; k < 12; k++) {
      imps.append("{not an event\n");
    }
    Files.writeString(impressions, imps.toString());

    String summary = EventFilesStream.read(requests, impressions).summary("mine");

    assertThat(summary)
        .contains("13 bad lines")
        .contains(requests + ":2: ")
        .contains("timestampMs")
        .contains(impressions + ":2: ")
        .contains(impressions + ":3: ")
        .doesNotContain(impressions + ":13: ") // a few of each file, not thousands of lines
        .contains("and 7 more");
  }

  /**
   * {@code --name bank} for a stream of one's own overwrote the bank stream's units file, which
   * PyTorch then trained on as "bank", and the table mixed the two streams under one heading.
   */
  @Test
  void aStreamOfYourOwnCannotTakeABuiltInStreamsName() {
    for (String taken : List.of("bank", "MovieLens", "generated")) {
      assertThatThrownBy(() -> EventFilesStream.requireOwnName(taken))
          .hasMessageContaining("is the name of a stream of the benchmark's own");
    }
    assertThatThrownBy(() -> EventFilesStream.requireOwnName("../x"))
        .hasMessageContaining("letters, digits");
    assertThat(EventFilesStream.requireOwnName("shop-2026")).isEqualTo("shop-2026");
  }

  @Test
  void readsTheFeaturesAsQualityBenchWritesThemForEveryStream() throws Exception {
    FeatureSpec written = MovieLensStream.spec();
    Path json = dir.resolve("spec.json");
    Files.writeString(json, QualityBench.specJson(written));

    FeatureSpec read = EventFilesStream.spec(json);

    assertThat(read.dense()).isEqualTo(written.dense());
    assertThat(read.labels()).isEqualTo(written.labels());
    assertThat(read.categorical())
        .extracting(CategoricalFeature::name, CategoricalFeature::side, CategoricalFeature::table)
        .containsExactlyElementsOf(
            written.categorical().stream()
                .map(f -> org.assertj.core.groups.Tuple.tuple(f.name(), f.side(), f.table()))
                .toList());
    assertThat(read.categorical().get(1).vocabulary()).isEqualTo("item_id");
    assertThat(read.categorical().get(1).side()).isEqualTo(Side.REQUEST);
  }

  /**
   * A stream whose label is 0 everywhere (or that no impression carries) gave a table of nan and
   * inf and a target "missed"; it is refused before any model trains.
   */
  @Test
  void aStreamOfOneLabelValueOrWithoutTheLabelIsRefused() throws Exception {
    Path req = dir.resolve("r.jsonl");
    Path imp = dir.resolve("i.jsonl");
    Files.writeString(
        req, "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"u\":[\"a\"]}}\n");
    Files.writeString(
        imp,
        "{\"impressionId\":\"i1\",\"requestId\":\"r1\",\"timestampMs\":2,\"features\":{},"
            + "\"labels\":{\"click\":0}}\n");
    var units = EventFilesStream.read(req, imp).units();
    Path spec = dir.resolve("spec.json");
    assertThatThrownBy(() -> QualityBench.requireBothClasses("mine", units, "click", spec))
        .hasMessage(
            "stream mine: the label 'click' is 0 on every one of its 1 impressions, so no AUC or"
                + " calibration can be measured on it");
    assertThatThrownBy(() -> QualityBench.requireBothClasses("mine", units, "purchase", spec))
        .hasMessageStartingWith(
            "stream mine: none of its 1 impressions carries the label 'purchase' that " + spec);
  }

  @Test
  void aMalformedFeaturesFileIsRefusedWithWhatIsWrong() throws Exception {
    Path json = dir.resolve("spec.json");
    for (List<String> c :
        List.of(
            List.of("{\"request\":[\"user_id\"],\"label\":\"click\"}", "[name, table]"),
            List.of(
                "{\"request\":[[\"u\",\"u\"]],\"request_dense\":[1],\"label\":\"click\"}",
                "a name"),
            List.of("{\"request\":{},\"label\":\"click\"}", "must be a list"),
            List.of("{\"request\":[[\"u\",\"u\"]]}", "'label'"),
            // a misspelt key dropped its features without a word; a list of labels, the same
            List.of(
                "{\"request\":[[\"u\",\"u\"]],\"requset_dense\":[\"hour\"],\"label\":\"click\"}",
                "unknown key 'requset_dense'; the keys are request, request_dense, impression,"),
            List.of("{\"request\":[[\"u\",\"u\"]],\"labels\":[\"click\"]}", "unknown key 'labels'"),
            List.of("{\"request\": [", "not JSON"),
            List.of("[1]", "must be a JSON object"))) {
      Files.writeString(json, c.get(0));
      assertThatThrownBy(() -> EventFilesStream.spec(json))
          .as(c.get(0))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(c.get(1));
    }
  }
}
