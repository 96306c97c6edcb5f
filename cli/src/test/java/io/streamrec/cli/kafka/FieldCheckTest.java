package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.JsonEvents;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A misspelt field ("featurs", "Dense") sent events without their features, and impressions loaded
 * as requests (the two files swapped) went out as requests, with produce saying only "100 requests
 * sent". Both are now said, with the field, how often, where first and what was probably meant.
 */
class FieldCheckTest {
  /** A line as the load hands it on: parsed, once. */
  private static void onLine(
      FieldCheck check, String json, boolean request, Path file, long lineNumber) {
    check.onLine(JsonEvents.parseObject(json), request, file, lineNumber);
  }

  private static final Path REQUESTS = Path.of("data", "requests.jsonl");

  @Test
  void fieldsAnEventDoesNotHaveAreSummedUpWithWhatWasMeant() {
    FieldCheck check = new FieldCheck(JsonlProducer.loggingListener());
    onLine(
        check,
        "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{},\"dense\":{}}",
        true,
        REQUESTS,
        1);
    assertThat(check.warnings()).isEmpty();
    onLine(
        check,
        "{\"requestId\":\"r2\",\"timestampMs\":1,\"featurs\":{\"u\":\"1\"}}",
        true,
        REQUESTS,
        2);
    onLine(
        check,
        "{\"requestId\":\"r3\",\"timestampMs\":1,\"featurs\":{},\"Dense\":{}}",
        true,
        REQUESTS,
        5);
    assertThat(check.warnings())
        .containsExactly(
            "events sent as requests carry fields a request does not have, which no reader reads:"
                + " 'featurs' in 2 (first at requests.jsonl:2; misspelt 'features'?), 'Dense' in 1"
                + " (first at requests.jsonl:5; misspelt 'dense'?). A request has requestId,"
                + " timestampMs, features, dense");
  }

  @Test
  void impressionsSentAsRequestsAreSaidToBeTheOtherFile() {
    FieldCheck check = new FieldCheck(JsonlProducer.loggingListener());
    onLine(
        check,
        "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1,\"labels\":{\"click\":1}}",
        true,
        REQUESTS,
        1);
    assertThat(check.warnings())
        .singleElement()
        .asString()
        .contains("'impressionId' in 1 (first at requests.jsonl:1)")
        .contains("'labels' in 1")
        .endsWith("Those are an impression's fields: are --requests and --impressions swapped?");
  }

  /**
   * A feature declared on the other side, or as the other kind, or not at all, was read as absent;
   * the job's own check speaks only after 1,000 events, and of the feature missing, not of where it
   * came.
   */
  @Test
  void featuresTheModelDoesNotReadWhereTheyAreAreNamedWithWhereItDeclaresThem() {
    FieldCheck check =
        new FieldCheck(
            JsonlProducer.loggingListener(), io.streamrec.model.features.FeatureSpec.defaults());
    onLine(
        check,
        "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"user_id\":\"u\","
            + "\"item_id\":\"i\"},\"dense\":{\"hour\":1,\"country\":2,\"odd\":3}}",
        true,
        REQUESTS,
        1);
    onLine(
        check,
        "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1,"
            + "\"features\":{\"item_id\":\"i\"},\"dense\":{\"position\":0}}",
        false,
        Path.of("impressions.jsonl"),
        1);
    assertThat(check.warnings())
        .containsExactly(
            "events carry features the model does not read where they are: request"
                + " features.item_id in 1 (first at requests.jsonl:1; the model declares it on the"
                + " impression side, as categorical), request dense.country in 1 (first at"
                + " requests.jsonl:1; the model declares it on the request side, as categorical),"
                + " request dense.odd in 1 (first at requests.jsonl:1). The job reads a feature"
                + " only on the side and under the field the configuration declares it"
                + " (model.features.request.categorical, ...); others are ignored");
  }

  /**
   * A request id reused 15 min later was trained by a live job and dead-lettered by a backfill of
   * the same records (conflicting_duplicate, its impressions late or orphans), with nothing said.
   */
  @Test
  void requestIdsUsedTwiceAreSaidToBeDuplicates() {
    FieldCheck check = new FieldCheck(JsonlProducer.loggingListener());
    for (String[] r : new String[][] {{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}, {"b", "5"}}) {
      onLine(
          check,
          "{\"requestId\":\"" + r[0] + "\",\"timestampMs\":1}",
          true,
          REQUESTS,
          Long.parseLong(r[1]));
    }
    assertThat(check.warnings())
        .singleElement()
        .asString()
        .startsWith(
            "2 of 5 requests reuse the id of an earlier request (first at requests.jsonl:3,"
                + " 'a')")
        .endsWith("Give each request an id of its own");
  }

  /**
   * Ids read from a float column ("user_id": 351.0) hash as the text "351.0", another id than
   * "351", and a load of 500 such requests said nothing.
   */
  @Test
  void idsWrittenAsNumbersWithAFractionAreSaidToBeOtherIds() {
    FieldCheck check = new FieldCheck(JsonlProducer.loggingListener());
    onLine(
        check,
        "{\"requestId\":\"a\",\"timestampMs\":1,\"features\":{\"user_id\":351,\"tags\":[\"x\"]}}",
        true,
        REQUESTS,
        1);
    assertThat(check.warnings()).isEmpty();
    onLine(
        check,
        "{\"requestId\":\"b\",\"timestampMs\":1,\"features\":{\"user_id\":351.0,\"tags\":[2e3,\"y\"]}}",
        true,
        REQUESTS,
        2);
    assertThat(check.warnings())
        .singleElement()
        .asString()
        .startsWith(
            "categorical values written as numbers with a fraction or an exponent: request"
                + " features.user_id in 1 (first at requests.jsonl:2, 351.0), request features.tags"
                + " in 1 (first at requests.jsonl:2, 2000.0)")
        .endsWith("write ids as integers or strings");
  }

  /**
   * Feature and field names that are data (one-hot columns, {@code word_<i>}) were each kept, with
   * the place first seen, to name five in a warning: a load of millions of such lines ran out of
   * memory. Only the first {@link NameCounts#KEPT} are kept now, and the warning says so.
   */
  @Test
  void namesPastTheFirstKeptAreCountedNotKept() {
    FieldCheck check =
        new FieldCheck(
            JsonlProducer.loggingListener(), io.streamrec.model.features.FeatureSpec.defaults());
    int lines = NameCounts.KEPT + 100;
    for (int i = 0; i < lines; i++) {
      onLine(
          check,
          "{\"requestId\":\"r"
              + i
              + "\",\"timestampMs\":1,\"dense\":{\"word_"
              + i
              + "\":1},\"col_"
              + i
              + "\":1}",
          true,
          REQUESTS,
          i + 1);
    }
    assertThat(check.warnings())
        .hasSize(2)
        .allSatisfy(
            w ->
                assertThat(w)
                    .contains(
                        " and "
                            + (NameCounts.KEPT - FieldCheck.NAMED)
                            + " more (and 100 more time(s) names past the first 500, which are"
                            + " not told apart)"));
  }
}
