package io.streamrec.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RowTableTest {
  private static final int WIDTH = 3;

  @Test
  void randomPutsRemovesAndReadsAgreeWithAMapAcrossChunks() {
    RowTable t = new RowTable(WIDTH);
    Map<Long, float[]> reference = new HashMap<>();
    List<Long> ids = new ArrayList<>();
    SplittableRandom rnd = new SplittableRandom(5);
    // puts of new ids outrun removals by about a quarter of the steps: the live rows fill more than
    // two chunks, while removals make freed slots get reused
    int steps = 12 * t.chunkRows();
    for (int step = 0; step < steps; step++) {
      int op = rnd.nextInt(10);
      if (op < 6 || ids.isEmpty()) {
        long id =
            rnd.nextInt(4) == 0 && !ids.isEmpty()
                ? ids.get(rnd.nextInt(ids.size()))
                : rnd.nextLong();
        float[] v = {step, -step, rnd.nextFloat()};
        if (reference.put(id, v.clone()) == null) {
          ids.add(id);
        }
        t.put(id, v);
        v[0] = Float.NaN; // the table keeps a copy, not the caller's array
      } else if (op < 8) {
        int k = rnd.nextInt(ids.size());
        long id = ids.get(k);
        ids.set(k, ids.get(ids.size() - 1));
        ids.remove(ids.size() - 1);
        reference.remove(id);
        assertThat(t.remove(id)).isTrue();
        assertThat(t.remove(id)).isFalse();
      } else {
        long id = ids.get(rnd.nextInt(ids.size()));
        float[] out = new float[WIDTH + 2];
        assertThat(t.read(id, out, 2)).isTrue();
        assertThat(out).startsWith(0f, 0f).endsWith(reference.get(id));
      }
      assertThat(t.size()).isEqualTo(reference.size());
    }
    for (Map.Entry<Long, float[]> e : reference.entrySet()) {
      assertThat(t.get(e.getKey())).containsExactly(e.getValue());
    }
    assertThat(t.get(rnd.nextLong())).isNull();
    assertThat(t.read(rnd.nextLong(), new float[WIDTH], 0)).isFalse();
    assertThat(t.chunks()).isGreaterThan(2);
  }

  @Test
  void aFreedSlotIsReusedSoChurnDoesNotGrowTheTable() {
    RowTable t = new RowTable(WIDTH);
    int n = 2 * t.chunkRows();
    for (long id = 0; id < n; id++) {
      t.put(id, new float[] {id, 0, 0});
      t.remove(id - 1);
    }
    assertThat(t.size()).isEqualTo(1);
    assertThat(t.chunks()).isEqualTo(1);
    assertThat(t.get(n - 1)).containsExactly(n - 1, 0, 0);
  }

  @Test
  void chunksHoldAPowerOfTwoOfRowsAndStayUnderAQuarterMebibyte() {
    for (int width :
        new int[] {1, 3, 16, 64, 1000, RowTable.CHUNK_FLOATS, 2 * RowTable.CHUNK_FLOATS}) {
      int rows = new RowTable(width).chunkRows();
      assertThat(Integer.bitCount(rows)).as("width %d", width).isEqualTo(1);
      assertThat((long) rows * width)
          .as("width %d", width)
          .isLessThanOrEqualTo(Math.max(RowTable.CHUNK_FLOATS, width));
    }
    assertThat(new RowTable(16).chunkRows()).isEqualTo(4096);
  }

  @Test
  void aRowOfAnotherWidthIsRefusedAndTheTableIsUnchanged() {
    RowTable t = new RowTable(WIDTH);
    t.put(7, new float[] {1, 2, 3});
    assertThatThrownBy(() -> t.put(7, new float[] {1, 2}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("width 3");
    assertThat(t.get(7)).containsExactly(1, 2, 3);
    assertThatThrownBy(() -> new RowTable(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
