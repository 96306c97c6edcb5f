package io.streamrec.gpu.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class GroupingTest {

  @Test
  void groupsEachKeysPositionsInAscendingOrder() {
    Random rnd = new Random(3);
    Grouping g = new Grouping();
    for (int round = 0; round < 50; round++) {
      int n = rnd.nextInt(200), from = rnd.nextInt(5), bound = 1 + rnd.nextInt(40);
      int[] keys = new int[from + n];
      TreeMap<Integer, List<Integer>> expected = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        keys[from + i] = rnd.nextInt(bound);
        expected.computeIfAbsent(keys[from + i], k -> new ArrayList<>()).add(i);
      }

      g.build(keys, from, n, bound, "keys");

      int groups = g.groups();
      int[] p = g.packed();
      assertThat(groups).isEqualTo(expected.size());
      assertThat(g.size()).isEqualTo(2 * groups + 1 + n);
      int at = 0;
      for (var e : expected.entrySet()) {
        assertThat(p[at]).as("key of group %d", at).isEqualTo(e.getKey());
        int start = p[groups + at], end = p[groups + at + 1];
        List<Integer> items = new ArrayList<>();
        for (int k = start; k < end; k++) {
          items.add(p[2 * groups + 1 + k]);
        }
        assertThat(items).as("items of key %d", e.getKey()).isEqualTo(e.getValue());
        at++;
      }
    }
  }

  @Test
  void refusesKeysOutsideTheBound() {
    assertThatThrownBy(() -> new Grouping().build(new int[] {0, 3, -1}, 0, 3, 4, "aIndex"))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("aIndex[2] = -1");
    assertThatThrownBy(() -> new Grouping().build(new int[] {0, 4}, 0, 2, 4, "aIndex"))
        .hasMessageContaining("aIndex[1] = 4 is outside [0, 4)");
  }
}
