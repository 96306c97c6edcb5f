package io.streamrec.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.common.StreamrecException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonEventsTest {
  static final String REQUEST_LINE =
      "{\"requestId\":\"r1\",\"timestampMs\":1767225600000,"
          + "\"features\":{\"user_id\":[\"u42\"],\"country\":[\"DE\"],\"recent_items\":[\"i7\",\"i9\"]},"
          + "\"dense\":{\"hour\":13.0}}";
  static final String IMPRESSION_LINE =
      "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1767225600950,"
          + "\"features\":{\"item_id\":[\"i9\"],\"item_cat\":[\"c3\"]},"
          + "\"dense\":{\"position\":0.0},\"labels\":{\"click\":1}}";

  @Test
  void theInterchangeRequestLineParsesToItsValues() {
    RequestEvent e = JsonEvents.parseRequest(REQUEST_LINE);

    assertThat(e.getRequestId()).isEqualTo("r1");
    assertThat(e.getTimestampMs()).isEqualTo(1_767_225_600_000L);
    assertThat(e.getFeatures())
        .containsExactly(
            Map.entry("user_id", List.of("u42")),
            Map.entry("country", List.of("DE")),
            Map.entry("recent_items", List.of("i7", "i9")));
    assertThat(e.getDense()).containsExactly(Map.entry("hour", 13.0f));
  }

  @Test
  void theInterchangeImpressionLineParsesToItsValues() {
    ImpressionEvent e = JsonEvents.parseImpression(IMPRESSION_LINE);

    assertThat(e.getImpressionId()).isEqualTo("r1-0");
    assertThat(e.getRequestId()).isEqualTo("r1");
    assertThat(e.getTimestampMs()).isEqualTo(1_767_225_600_950L);
    assertThat(e.getFeatures())
        .containsExactly(Map.entry("item_id", List.of("i9")), Map.entry("item_cat", List.of("c3")));
    assertThat(e.getDense()).containsExactly(Map.entry("position", 0.0f));
    assertThat(e.getLabels()).containsExactly(Map.entry("click", 1.0f));
  }

  @Test
  void aRequestLineComesBackUnchangedFromToJson() {
    assertThat(JsonEvents.toJson(JsonEvents.parseRequest(REQUEST_LINE))).isEqualTo(REQUEST_LINE);
  }

  @Test
  void eventsRoundTripThroughToJson() {
    RequestEvent request = JsonEvents.parseRequest(REQUEST_LINE);
    ImpressionEvent impression = JsonEvents.parseImpression(IMPRESSION_LINE);

    assertThat(JsonEvents.parseRequest(JsonEvents.toJson(request))).isEqualTo(request);
    assertThat(JsonEvents.parseImpression(JsonEvents.toJson(impression))).isEqualTo(impression);
  }

  @Test
  void unicodeAndAwkwardFloatsRoundTripThroughToJson() {
    RequestEvent e =
        RequestEvent.newBuilder()
            .setRequestId("r-\"quoted\"-\\-東京-🎉")
            .setTimestampMs(0)
            .setFeatures(Map.of("städte", List.of("Zürich", "line\nbreak", "")))
            .setDense(
                Map.of(
                    "tiny",
                    Float.MIN_VALUE,
                    "huge",
                    Float.MAX_VALUE,
                    "third",
                    1f / 3,
                    "neg",
                    -0.1f))
            .build();

    String json = JsonEvents.toJson(e);

    assertThat(json).doesNotContain("\n");
    assertThat(JsonEvents.parseRequest(json)).isEqualTo(e);
  }

  /**
   * {@code "price":NaN} was skipped with Jackson's words, "enable
   * 'JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS' to allow", a parser setting no producer can change;
   * {@code "price":"NaN"} said only "must be a number".
   */
  @Test
  void aNotANumberIsSaidToHaveNoPlaceInJson() {
    String base =
        "{\"impressionId\":\"r1-0\",\"requestId\":\"r1\",\"timestampMs\":1,\"dense\":{\"price\":";
    for (String token : List.of("NaN", "Infinity", "-Infinity", "nan")) {
      assertThatThrownBy(() -> JsonEvents.parseImpression(base + token + "}}"))
          .as(token)
          .hasMessage(
              "not valid JSON: "
                  + token
                  + " is not a JSON number, and JSON has no NaN or Infinity: send a finite"
                  + " number");
    }
    assertThatThrownBy(() -> JsonEvents.parseImpression(base + "\"NaN\"}}"))
        .hasMessage(
            "field 'dense.price' must be a number: 'NaN' is text, and JSON has no NaN or"
                + " Infinity: send a finite number");
    assertThatThrownBy(() -> JsonEvents.parseImpression(base + "\"cheap\"}}"))
        .hasMessage("field 'dense.price' must be a number");
  }

  @Test
  void aBareScalarFeatureValueIsAOneElementList() {
    RequestEvent e =
        JsonEvents.parseRequest(
            "{\"requestId\":\"r1\",\"timestampMs\":5,\"features\":{\"user_id\":\"u42\",\"age_bucket\":3,\"new\":true}}");

    assertThat(e.getFeatures())
        .containsExactly(
            Map.entry("user_id", List.of("u42")),
            Map.entry("age_bucket", List.of("3")),
            Map.entry("new", List.of("true")));
  }

  @Test
  void absentOrNullFeatureMapsAreEmpty() {
    RequestEvent absent = JsonEvents.parseRequest("{\"requestId\":\"r1\",\"timestampMs\":5}");
    ImpressionEvent nulls =
        JsonEvents.parseImpression(
            "{\"impressionId\":\"i\",\"requestId\":\"r1\",\"timestampMs\":5,\"features\":null,\"dense\":null,\"labels\":null}");

    assertThat(absent.getFeatures()).isEmpty();
    assertThat(absent.getDense()).isEmpty();
    assertThat(nulls.getFeatures()).isEmpty();
    assertThat(nulls.getDense()).isEmpty();
    assertThat(nulls.getLabels()).isEmpty();
  }

  @Test
  void textThatIsNotJsonIsMalformed() {
    assertMalformed(
        JsonEvents::parseRequest, "{\"requestId\":\"r1\",", DeadLetterReasons.MALFORMED, "JSON");
    assertMalformed(JsonEvents::parseRequest, "requestId=r1", DeadLetterReasons.MALFORMED, "JSON");
  }

  @Test
  void aLineHoldingTwoObjectsIsMalformedRatherThanHalfRead() {
    String twoEvents = REQUEST_LINE + REQUEST_LINE.replace("\"r1\"", "\"r2\"");

    assertMalformed(JsonEvents::parseRequest, twoEvents, DeadLetterReasons.MALFORMED, "JSON");
    assertMalformed(
        JsonEvents::parseRequest, REQUEST_LINE + " trailing", DeadLetterReasons.MALFORMED, "JSON");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "[1, 2]", "\"r1\"", "42", "null",
      })
  void jsonThatIsNotAnObjectIsMalformed(String line) {
    assertMalformed(JsonEvents::parseRequest, line, DeadLetterReasons.MALFORMED, "object");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "missing id                | {'timestampMs':5}                                              | 'requestId'",
        "empty id                  | {'requestId':'','timestampMs':5}                               | 'requestId'",
        "numeric id                | {'requestId':7,'timestampMs':5}                                | 'requestId'",
        "missing timestamp         | {'requestId':'r1'}                                             | 'timestampMs'",
        "negative timestamp        | {'requestId':'r1','timestampMs':-1}                            | 'timestampMs'",
        "fractional timestamp      | {'requestId':'r1','timestampMs':1767225600000.5}               | 'timestampMs'",
        "timestamp as text         | {'requestId':'r1','timestampMs':'1767225600000'}               | 'timestampMs'",
        "timestamp beyond a long   | {'requestId':'r1','timestampMs':9223372036854775808}           | 'timestampMs'",
        "features not an object    | {'requestId':'r1','timestampMs':5,'features':['u42']}          | 'features'",
        "nested object as a value  | {'requestId':'r1','timestampMs':5,'features':{'user':{'id':1}}} | 'features.user'",
        "nested list as a value    | {'requestId':'r1','timestampMs':5,'features':{'user':[['u']]}} | 'features.user'",
        "null as a value           | {'requestId':'r1','timestampMs':5,'features':{'user':[null]}}  | 'features.user'",
        "dense not an object       | {'requestId':'r1','timestampMs':5,'dense':13.0}                | 'dense'",
        "dense as text             | {'requestId':'r1','timestampMs':5,'dense':{'hour':'13'}}       | 'dense.hour'",
        "dense as boolean          | {'requestId':'r1','timestampMs':5,'dense':{'hour':true}}       | 'dense.hour'",
        "dense as list             | {'requestId':'r1','timestampMs':5,'dense':{'hour':[13]}}       | 'dense.hour'",
      })
  void aBadRequestFieldIsMalformedAndNamed(String why, String line, String field) {
    assertMalformed(
        JsonEvents::parseRequest,
        line.replace('\'', '"'),
        DeadLetterReasons.MALFORMED,
        field.replace("'", ""));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "missing impression id | {'requestId':'r1','timestampMs':5}                                   | 'impressionId'",
        "missing request id    | {'impressionId':'i1','timestampMs':5}                                | 'requestId'",
        "labels not an object  | {'impressionId':'i1','requestId':'r1','timestampMs':5,'labels':[1]}  | 'labels'",
        "label as text         | {'impressionId':'i1','requestId':'r1','timestampMs':5,'labels':{'click':'yes'}} | 'labels.click'",
      })
  void aBadImpressionFieldIsMalformedAndNamed(String why, String line, String field) {
    assertMalformed(
        JsonEvents::parseImpression,
        line.replace('\'', '"'),
        DeadLetterReasons.MALFORMED,
        field.replace("'", ""));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "overflows a double        | {'requestId':'r1','timestampMs':5,'dense':{'hour':1e999}}  | dense.hour",
        "overflows a double, below | {'requestId':'r1','timestampMs':5,'dense':{'hour':-1e999}} | dense.hour",
        "overflows a float         | {'requestId':'r1','timestampMs':5,'dense':{'hour':1e39}}   | dense.hour",
      })
  void aNonFiniteDenseValueIsRejectedAndNamed(String why, String line, String field) {
    assertMalformed(
        JsonEvents::parseRequest, line.replace('\'', '"'), DeadLetterReasons.NON_FINITE, field);
  }

  /** 3.5e38 is a finite number that a 32-bit float cannot hold: said so, not "not finite". */
  @Test
  void aDenseValueBeyondAFloatIsNamedAsSuch() {
    assertMalformed(
        JsonEvents::parseRequest,
        "{\"requestId\":\"r1\",\"timestampMs\":5,\"dense\":{\"hour\":3.5e38}}",
        DeadLetterReasons.NON_FINITE,
        "field 'dense.hour' is 3.5E38, beyond what a 32-bit float holds");
  }

  /**
   * 1e309, past even a double's range, is as finite a JSON number as 3.5e38: it was said to be "not
   * finite", which JSON cannot write, so a producer looked for a NaN it had never sent.
   */
  @Test
  void aDenseValueBeyondADoubleIsNamedAsANumberBeyondAFloat() {
    assertMalformed(
        JsonEvents::parseRequest,
        "{\"requestId\":\"r1\",\"timestampMs\":5,\"dense\":{\"hour\":-1e309}}",
        DeadLetterReasons.NON_FINITE,
        "field 'dense.hour' is a number beyond what a 32-bit float holds");
  }

  /**
   * A value past a float's range under a name the model does not read cost the whole event, where
   * the job ignores a non-finite value under such a name as it ignores the name.
   */
  @Test
  void aValueBeyondAFloatUnderANameNotReadIsKeptAsInfinity() {
    ObjectNode request =
        JsonEvents.parseObject(
            "{\"requestId\":\"r1\",\"timestampMs\":5,\"dense\":{\"hour\":13,\"raw\":1e39}}");
    assertThat(JsonEvents.parseRequest(request, "hour"::equals).getDense())
        .containsEntry("hour", 13f)
        .containsEntry("raw", Float.POSITIVE_INFINITY);
    assertThatThrownBy(() -> JsonEvents.parseRequest(request, "raw"::equals))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("field 'dense.raw' is 1.0E39, beyond what a 32-bit float holds");

    ObjectNode impression =
        JsonEvents.parseObject(
            "{\"impressionId\":\"i1\",\"requestId\":\"r1\",\"timestampMs\":5,"
                + "\"dense\":{\"w\":-1e400},\"labels\":{\"click\":1,\"spend\":1e39}}");
    ImpressionEvent kept = JsonEvents.parseImpression(impression, n -> false, "click"::equals);
    assertThat(kept.getDense()).containsEntry("w", Float.NEGATIVE_INFINITY);
    assertThat(kept.getLabels()).containsEntry("spend", Float.POSITIVE_INFINITY);
    assertThatThrownBy(() -> JsonEvents.parseImpression(impression, n -> false, "spend"::equals))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("labels.spend");
  }

  /**
   * A field named twice in one object ({"requestId":"p6","requestId":"p6b"}): the last one won,
   * silently; which one the producer meant is not for the reader to guess.
   */
  @Test
  void aFieldNamedTwiceIsMalformed() {
    assertMalformed(
        JsonEvents::parseRequest,
        "{\"requestId\":\"p6\",\"requestId\":\"p6b\",\"timestampMs\":5}",
        DeadLetterReasons.MALFORMED,
        "Duplicate field 'requestId'");
    assertMalformed(
        JsonEvents::parseRequest,
        "{\"requestId\":\"p6\",\"timestampMs\":5,\"dense\":{\"hour\":1,\"hour\":2}}",
        DeadLetterReasons.MALFORMED,
        "Duplicate field 'hour'");
  }

  @Test
  void aNonFiniteLabelIsRejectedAndNamed() {
    assertMalformed(
        JsonEvents::parseImpression,
        "{\"impressionId\":\"i1\",\"requestId\":\"r1\",\"timestampMs\":5,\"labels\":{\"click\":1e999}}",
        DeadLetterReasons.NON_FINITE,
        "labels.click");
  }

  /**
   * Half of a surrogate pair written as a JSON escape was accepted, then written to the topic as
   * '?': the ids "u" + high half and "u" + low half both became "u?", two requests taken for one.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{'requestId':'u\\ud83d','timestampMs':5} | requestId | \\ud83d",
        "{'requestId':'\\udc00u','timestampMs':5} | requestId | \\udc00",
        "{'requestId':'r1','timestampMs':5,'features':{'user_id':['n\\ud83d']}} | features.user_id"
            + " | \\ud83d",
        "{'requestId':'r1','timestampMs':5,'features':{'a\\udc00':'x'}} | features.a | \\udc00",
        "{'requestId':'r1','timestampMs':5,'dense':{'h\\ud83d':1}} | dense.h | \\ud83d",
      })
  void anUnpairedSurrogateIsMalformedAndNamed(String line, String field, String escape) {
    assertMalformed(
        JsonEvents::parseRequest,
        line.replace('\'', '"'),
        DeadLetterReasons.MALFORMED,
        "field '" + field);
    assertMalformed(
        JsonEvents::parseRequest,
        line.replace('\'', '"'),
        DeadLetterReasons.MALFORMED,
        "unpaired surrogate " + escape);
  }

  @Test
  void aWholeSurrogatePairWrittenAsEscapesIsKept() {
    RequestEvent e =
        JsonEvents.parseRequest("{\"requestId\":\"u\\ud83c\\udf89\",\"timestampMs\":5}");

    assertThat(e.getRequestId()).isEqualTo("u🎉");
  }

  @Test
  void aLargeIntegralTimestampIsKept() {
    RequestEvent e =
        JsonEvents.parseRequest("{\"requestId\":\"r1\",\"timestampMs\":9223372036854775807}");

    assertThat(e.getTimestampMs()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theMalformedExceptionIsAStreamrecException() {
    assertThatThrownBy(() -> JsonEvents.parseRequest("{}")).isInstanceOf(StreamrecException.class);
  }

  private static void assertMalformed(
      Function<String, ?> parser, String line, String reason, String messageMentions) {
    MalformedRecordException e =
        catchThrowableOfType(MalformedRecordException.class, () -> parser.apply(line));
    assertThat(e).as("parsing %s", line).isNotNull();
    assertThat(e.reason()).as("reason for %s", line).isEqualTo(reason);
    assertThat(e.getMessage()).as("message for %s", line).contains(messageMentions);
  }
}
