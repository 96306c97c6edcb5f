package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EditDistanceTest {
  @Test
  void editDistanceCountsSingleCharacterEdits() {
    assertThat(EditDistance.of("kitten", "sitting")).isEqualTo(3);
    assertThat(EditDistance.of("", "abc")).isEqualTo(3);
    assertThat(EditDistance.of("same", "same")).isZero();
  }

  @Test
  void nearestTakesTheFewestEditsWithinTheBoundAndTheFirstOfEquals() {
    List<String> keys = List.of("parallelism.default", "pipeline.name", "pipeline.jars");
    assertThat(EditDistance.nearest("paralelism.default", keys, 2))
        .isEqualTo("parallelism.default");
    assertThat(EditDistance.nearest("pipeline.nam", keys, 2)).isEqualTo("pipeline.name");
    assertThat(EditDistance.nearest("pipeline.nars", keys, 2)).isEqualTo("pipeline.jars");
    assertThat(EditDistance.nearest("pipeline.xxxxs", keys, 2)).isNull();
    assertThat(EditDistance.nearest("ab", List.of("ax", "ay"), 1)).isEqualTo("ax");
  }

  @Test
  void firstWithinTakesTheFirstCandidateCloseEnoughCaseAside() {
    List<String> fields = List.of("features", "dense", "labels");
    assertThat(EditDistance.firstWithin("Dense", fields, 2)).isEqualTo("dense");
    assertThat(EditDistance.firstWithin("featurs", fields, 2)).isEqualTo("features");
    assertThat(EditDistance.firstWithin("traceId", fields, 2)).isNull();
  }
}
