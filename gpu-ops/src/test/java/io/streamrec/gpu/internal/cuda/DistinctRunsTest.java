package io.streamrec.gpu.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The host-side guard of the row-writing kernels: the runs it launches one after the other never
 * hold a slot twice, cover the input in order, and are as long as they can be (distinct slots are
 * one launch).
 */
class DistinctRunsTest {

  @Test
  void distinctSlotsAreOneRun() {
    DistinctRuns runs = new DistinctRuns();
    runs.split(new int[] {-1, 7, 2, 9, 4, 0}, 1, 5);
    assertThat(runs.runs()).isEqualTo(1);
    assertThat(runs.start(0)).isZero();
    assertThat(runs.end(0)).isEqualTo(5);
  }

  @Test
  void aRepeatedSlotStartsTheNextRun() {
    DistinctRuns runs = new DistinctRuns();
    runs.split(new int[] {3, 1, 3, 0, 1, 3, 3}, 0, 7);
    assertThat(spans(runs)).containsExactly("[0, 2)", "[2, 5)", "[5, 6)", "[6, 7)");
  }

  @Test
  void noRowsAreNoRuns() {
    DistinctRuns runs = new DistinctRuns();
    runs.split(new int[] {5, 5}, 0, 2);
    runs.split(new int[0], 0, 0);
    assertThat(runs.runs()).isZero();
  }

  @Test
  void runsCoverTheInputInOrderWithDistinctSlotsAndAreMaximal() {
    Random rnd = new Random(11);
    DistinctRuns runs = new DistinctRuns(); // reused: stale entries of earlier calls must not count
    for (int round = 0; round < 300; round++) {
      int n = rnd.nextInt(300), from = rnd.nextInt(4);
      int bound = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 100_000);
      int[] keys = new int[from + n];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = rnd.nextInt(bound);
      }

      runs.split(keys, from, n);

      int at = 0;
      for (int r = 0; r < runs.runs(); r++) {
        assertThat(runs.start(r)).as("start of run %d", r).isEqualTo(at);
        assertThat(runs.end(r)).as("end of run %d", r).isGreaterThan(at);
        Set<Integer> seen = new HashSet<>();
        for (int i = runs.start(r); i < runs.end(r); i++) {
          assertThat(seen.add(keys[from + i]))
              .as("slot %d twice in run %d", keys[from + i], r)
              .isTrue();
        }
        if (runs.end(r) < n) {
          assertThat(seen)
              .as("run %d could not take the next row", r)
              .contains(keys[from + runs.end(r)]);
        }
        at = runs.end(r);
      }
      assertThat(at).as("rows covered").isEqualTo(n);
    }
  }

  private static List<String> spans(DistinctRuns runs) {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < runs.runs(); r++) {
      out.add("[" + runs.start(r) + ", " + runs.end(r) + ")");
    }
    return out;
  }
}
