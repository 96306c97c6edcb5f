package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A load of 3,369 bad lines of six causes showed the first twenty, all of one cause, and a total:
 * the other causes stayed hidden until the first was fixed.
 */
class BadLineCausesTest {
  private static final Path FILE = Path.of("data", "requests.jsonl");

  private static JsonlProducer.BadLine bad(long line, String message) {
    return new JsonlProducer.BadLine(FILE, line, "malformed", message, "{...}");
  }

  @Test
  void everyCauseIsNamedWithItsCountMostFrequentFirst() {
    BadLineCauses causes = new BadLineCauses(JsonlProducer.loggingListener());
    assertThat(causes.summary()).isEmpty();
    for (int i = 1; i <= 30; i++) {
      causes.onBadLine(bad(i, "field 'dense.hour' must be a number"));
    }
    causes.onBadLine(bad(40, "field 'timestampMs' must be an integer"));
    causes.onBadLine(bad(41, "field 'timestampMs' must be an integer"));
    causes.onBadLine(bad(50, "field 'labels.click' must be a number"));
    // one cause, whatever the parser says of each line
    causes.onBadLine(bad(60, "not valid JSON: Unrecognized token 'junk0': was expecting (...)"));
    causes.onBadLine(bad(61, "not valid JSON: Unrecognized token 'junk1': was expecting (...)"));
    assertThat(causes.summary())
        .containsExactly(
            "35 bad line(s) by cause: 30 × malformed: field 'dense.hour' must be a number (first"
                + " at requests.jsonl:1); 2 × malformed: field 'timestampMs' must be an integer"
                + " (first at requests.jsonl:40); 2 × malformed: not valid JSON (first at"
                + " requests.jsonl:60); 1 × malformed: field 'labels.click' must be a number (first"
                + " at requests.jsonl:50)");
  }

  /**
   * A cause keeps the field's name ("field 'dense.word_7' must be a number"), so names that are
   * data made a cause per name, each kept until the load ran out of memory.
   */
  @Test
  void causesPastTheFirstKeptAreCountedNotKept() {
    BadLineCauses causes = new BadLineCauses(JsonlProducer.loggingListener());
    for (int i = 0; i < NameCounts.KEPT + 7; i++) {
      causes.onBadLine(bad(i + 1, "field 'dense.word_" + i + "' must be a number"));
    }
    assertThat(causes.summary())
        .singleElement()
        .asString()
        .endsWith(
            "; and "
                + (NameCounts.KEPT - BadLineCauses.NAMED)
                + " other causes; and 7 bad line(s) of causes past the first 500, not told apart");
  }
}
