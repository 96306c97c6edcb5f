package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LabelScoresTest {
  @Test
  void rowsAreImpressionsAndColumnsAreLabelsInTheSpecsOrder() {
    // impression i, label l holds 10·i + l
    LabelScores s =
        new LabelScores(List.of("click", "good", "share"), new float[] {0, 1, 2, 10, 11, 12});
    assertThat(s.impressions()).isEqualTo(2);
    assertThat(s.labels()).containsExactly("click", "good", "share");
    assertThat(s.ofLabel(0)).containsExactly(0f, 10f);
    assertThat(s.ofLabel("good")).containsExactly(1f, 11f);
    assertThat(s.ofLabel(2)).containsExactly(2f, 12f);
    assertThat(s.probability(1, 1)).isEqualTo(11f);
  }

  @Test
  void aMissingLabelOrAnIncompleteRowIsRefusedByName() {
    LabelScores s = new LabelScores(List.of("click", "good"), new float[4]);
    assertThatThrownBy(() -> s.ofLabel("like"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'like'")
        .hasMessageContaining("[click, good]");
    assertThatThrownBy(() -> s.ofLabel(2)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> s.probability(2, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> new LabelScores(List.of("click", "good"), new float[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 probabilities");
  }
}
