package io.streamrec.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.streamrec.schemas.JsonEvents;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A 400 for a body that is not JSON quoted the reader's advice to its programmer ("enable
 * `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"), which a client cannot act on.
 */
class JsonProblemTest {
  private static String problem(String body) {
    try {
      JsonEvents.readTree(body.getBytes(StandardCharsets.UTF_8));
      throw new AssertionError("read: " + body);
    } catch (JsonProcessingException e) {
      return ScoringServer.jsonProblem(e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theReadersAdviceToItsProgrammerIsLeftOut() {
    assertThat(problem("{\"x\": NaN}"))
        .isEqualTo(
            "NaN is not a JSON number, and JSON has no NaN or Infinity: send a finite number");
    assertThat(problem("{\"x\": nan}")).startsWith("nan is not a JSON number");
    assertThat(problem("{\"x\": Infinity}")).doesNotContain("enable").doesNotContain("`");
    assertThat(problem("[".repeat(1_200) + "]".repeat(1_200)))
        .contains("nesting depth")
        .doesNotContain("StreamReadConstraints");
    assertThat(ScoringServer.jsonProblem(null)).isEqualTo("unreadable");
  }
}
