package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * produce says when impressions lack a label the model trains, or carry one it does not: the job
 * trains a missing label as 0 and ignores an unknown one, so a label misspelt in the data trained
 * every impression as a negative while produce reported nothing.
 */
class LabelCheckTest {
  private static final Path FILE = Path.of("data", "impressions.jsonl");

  private static final class Recording implements JsonlProducer.Listener {
    final List<String> seen = new ArrayList<>();

    @Override
    public void onBadLine(JsonlProducer.BadLine badLine) {
      seen.add("bad " + badLine.lineNumber());
    }

    @Override
    public void onProgress(JsonlProducer.Progress progress) {
      seen.add("progress");
    }

    @Override
    public void onImpression(ImpressionEvent impression, Path file, long lineNumber) {
      seen.add("impression " + lineNumber);
    }
  }

  private static ImpressionEvent impression(String labels) {
    return JsonEvents.parseImpression(
        "{\"impressionId\":\"i\",\"requestId\":\"r\",\"timestampMs\":1" + labels + "}");
  }

  @Test
  void impressionsWithTheModelsLabelsAreNotRemarked() {
    Recording next = new Recording();
    LabelCheck check = new LabelCheck(List.of("click", "purchase"), next);

    check.onImpression(impression(",\"labels\":{\"click\":1,\"purchase\":0}"), FILE, 1);
    check.onImpression(impression(",\"labels\":{\"purchase\":1,\"click\":0}"), FILE, 2);

    assertThat(check.warnings()).isEmpty();
    assertThat(next.seen).containsExactly("impression 1", "impression 2");
  }

  /** A label of 2 or -1 (a count, a rating) was sent in silence and dead-lettered as bad_label. */
  @Test
  void labelsOutsideZeroToOneAreSaidToBeDeadLettered() {
    LabelCheck check = new LabelCheck(List.of("play", "complete"), new Recording());
    check.onImpression(impression(",\"labels\":{\"play\":1,\"complete\":0.5}"), FILE, 1);
    check.onImpression(impression(",\"labels\":{\"play\":2,\"complete\":-1}"), FILE, 2);
    check.onImpression(impression(",\"labels\":{\"play\":3,\"complete\":1}"), FILE, 3);
    assertThat(check.warnings())
        .containsExactly(
            "2 impressions have a 'play' label outside [0, 1], which the model's loss cannot take:"
                + " the job dead-letters them as bad_label (first at impressions.jsonl:2). A count"
                + " or a rating is not a label: map it to 0 or 1 (or a probability) first",
            "1 impression has a 'complete' label outside [0, 1], which the model's loss cannot"
                + " take: the job dead-letters it as bad_label (first at impressions.jsonl:2). A"
                + " count or a rating is not a label: map it to 0 or 1 (or a probability) first");
  }

  @Test
  void missingAndUnknownLabelsAreSummedUpWithWhereTheyFirstCame() {
    LabelCheck check = new LabelCheck(List.of("click"), new Recording());

    check.onImpression(impression(",\"labels\":{\"click\":1}"), FILE, 1);
    check.onImpression(impression(""), FILE, 2);
    check.onImpression(impression(",\"labels\":{}"), FILE, 3);
    check.onImpression(impression(",\"labels\":{\"clicked\":1}"), FILE, 5);
    check.onImpression(impression(",\"labels\":{\"clicked\":0,\"click\":0}"), FILE, 8);

    assertThat(check.warnings())
        .containsExactly(
            "3 of 5 impressions have no 'click' label and train as click = 0 (first at"
                + " impressions.jsonl:2)",
            "2 impressions carry a label 'clicked' the model does not train (model.labels: click;"
                + " first at impressions.jsonl:5)");
  }
}
