package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A misspelt field ("featurs", "Dense") sent events without their features, and impressions loaded
 * as requests (the two files swapped) went out as requests, with produce saying only "100 requests
 * sent". Both are now said, with the field, how often, where first and what was probably meant.
 */
class FieldCheckTest {
  private static final Path REQUESTS = Path.of("data", "requests.jsonl");

  @Test
  void fieldsAnEventDoesNotHaveAreSummedUpWithWhatWasMeant() {
    FieldCheck check = new FieldCheck(JsonlProducer.loggingListener());
    check.onLine(
        "{\"requestId\":\"r1\",\"timestampMs\":1,\"features\":{},\"dense\":{}}", true, REQUESTS, 1);
    assertThat(check.warnings()).isEmpty();
    check.onLine(
        "{\"requestId\":\"r2\",\"timestampMs\":1,\"featurs\":{\"u\":\"1\"}}", true, REQUESTS, 2);
    check.onLine(
        "{\"requestId\":\"r3\",\"timestampMs\":1,\"featurs\":{},\"Dense\":{}}", true, REQUESTS, 5);
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
    check.onLine(
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
}
