package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JsonlProducerTest {

  @Test
  void aShortLineIsQuotedWhole() {
    assertThat(JsonlProducer.excerpt("{bad")).isEqualTo("{bad");
    String exact = "y".repeat(JsonlProducer.EXCERPT_CHARS);
    assertThat(JsonlProducer.excerpt(exact)).isEqualTo(exact);
  }

  @Test
  void aLongLineIsCut() {
    String line = "a".repeat(JsonlProducer.EXCERPT_CHARS) + "TAIL";

    assertThat(JsonlProducer.excerpt(line))
        .isEqualTo("a".repeat(JsonlProducer.EXCERPT_CHARS) + "...");
  }

  @Test
  void aCutNeverSplitsASurrogatePair() {
    String smile = new String(Character.toChars(0x1F600));
    String line = "a".repeat(JsonlProducer.EXCERPT_CHARS - 1) + smile + "tail";

    String excerpt = JsonlProducer.excerpt(line);

    assertThat(excerpt).isEqualTo("a".repeat(JsonlProducer.EXCERPT_CHARS - 1) + "...");
    assertThat(Character.isHighSurrogate(excerpt.charAt(excerpt.length() - 4))).isFalse();
  }
}
