package io.streamrec.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POST /score scored a misspelt feature ("skuu") as absent and answered as if all were well: the
 * answer now names the features the model does not read.
 */
class IgnoredFeaturesTest {
  @Test
  void featuresTheModelDoesNotReadAreNamedBySideOnce() {
    RequestEvent request =
        JsonEvents.parseRequest(
            "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"user_id\":[\"u1\"],"
                + "\"usr\":[\"u1\"]},\"dense\":{\"hour\":1,\"hours\":2}}");
    List<ImpressionEvent> impressions =
        List.of(
            JsonEvents.parseImpression(
                "{\"impressionId\":\"0\",\"requestId\":\"r1\",\"timestampMs\":1,"
                    + "\"features\":{\"item_id\":[\"i\"],\"skuu\":[\"s\"]}}"),
            JsonEvents.parseImpression(
                "{\"impressionId\":\"1\",\"requestId\":\"r1\",\"timestampMs\":1,"
                    + "\"features\":{\"skuu\":[\"t\"],\"user_id\":[\"u\"]}}"));
    assertThat(ScoringServer.ignoredFeatures(ModelConfig.defaults(), request, impressions))
        .containsExactly("request.usr", "request.hours", "impressions.skuu", "impressions.user_id");
    assertThat(
            ScoringServer.ignoredFeatures(
                ModelConfig.defaults(), request, List.of(impressions.get(0)).subList(0, 0)))
        .containsExactly("request.usr", "request.hours");
    assertThat(ScoringServer.ignoredFeatures(null, request, impressions)).isEmpty();
    // a label the model does not have ("clik") was taken in silence
    assertThat(
            ScoringServer.ignoredFeatures(
                ModelConfig.defaults(),
                request,
                List.of(
                    JsonEvents.parseImpression(
                        "{\"impressionId\":\"0\",\"requestId\":\"r1\",\"timestampMs\":1,"
                            + "\"features\":{\"item_id\":[\"i\"]},\"labels\":{\"clik\":1,"
                            + "\"click\":0,\"Click\":1,\"views\":5}}"))))
        .containsExactly(
            "request.usr",
            "request.hours",
            "impressions.labels.clik (not a label of the model: 'click' meant?)",
            "impressions.labels.Click (not a label of the model: 'click' meant?)",
            "impressions.labels.views (not a label of the model)");
    // declared, but sent as the other kind: read as absent too
    RequestEvent swapped =
        JsonEvents.parseRequest(
            "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{\"hour\":[\"13\"]},"
                + "\"dense\":{\"country\":3}}");
    assertThat(ScoringServer.ignoredFeatures(ModelConfig.defaults(), swapped, List.of()))
        .containsExactly(
            "request.hour (a dense feature, sent under \"features\")",
            "request.country (a categorical feature, sent under \"dense\")");
  }

  /**
   * A misspelt field of the request or an impression ({@code featurs}, {@code Dense}) was scored as
   * no features at all, answered 200 with nothing to say so: the answer's {@code ignored_fields}
   * names it, with the field probably meant.
   */
  @Test
  void fieldsAnEventDoesNotHaveAreNamedWithTheFieldMeant() throws Exception {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    com.fasterxml.jackson.databind.node.ObjectNode request =
        object("{\"featurs\":{\"user_id\":[\"u42\"]},\"Dense\":{},\"traceId\":\"x\"}");
    ScoringServer.unknownFields(out, "request", request, JsonEvents.REQUEST_FIELDS);
    com.fasterxml.jackson.databind.node.ObjectNode impression =
        object("{\"feature\":{},\"labels\":{},\"impressionId\":\"0\"}");
    ScoringServer.unknownFields(out, "impressions", impression, JsonEvents.IMPRESSION_FIELDS);
    assertThat(out)
        .containsExactly(
            "request.featurs ('features' meant?)",
            "request.Dense ('dense' meant?)",
            "request.traceId",
            "impressions.feature ('features' meant?)");
  }

  private static com.fasterxml.jackson.databind.node.ObjectNode object(String json)
      throws java.io.IOException {
    return (com.fasterxml.jackson.databind.node.ObjectNode)
        JsonEvents.readTree(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
