package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LongIntHashMapTest {

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 2, 3})
  void behavesLikeAHashMapUnderChurn(long seed) {
    Random rnd = new Random(seed);
    LongIntHashMap map = new LongIntHashMap(4);
    Map<Long, Integer> ref = new HashMap<>();
    // few distinct keys, many collisions in a small table: exercises the backward shift on removal
    long[] pool = new long[500];
    for (int i = 0; i < pool.length; i++) {
      pool[i] = i % 3 == 0 ? i : rnd.nextLong();
    }
    pool[1] = Long.MIN_VALUE;
    pool[2] = -1;
    for (int step = 0; step < 200_000; step++) {
      long k = pool[rnd.nextInt(pool.length)];
      int op = rnd.nextInt(10);
      String at = "seed " + seed + ", step " + step;
      if (op < 4) {
        int v = rnd.nextInt(1 << 20);
        Integer old = ref.put(k, v);
        assertThat(map.put(k, v)).as(at).isEqualTo(old == null ? LongIntHashMap.MISSING : old);
      } else if (op < 7) {
        Integer old = ref.remove(k);
        assertThat(map.remove(k)).as(at).isEqualTo(old == null ? LongIntHashMap.MISSING : old);
      } else if (op < 8) {
        Integer old = ref.putIfAbsent(k, 7);
        assertThat(map.putIfAbsent(k, 7))
            .as(at)
            .isEqualTo(old == null ? LongIntHashMap.MISSING : old);
      } else {
        assertThat(map.get(k)).as(at).isEqualTo(ref.getOrDefault(k, LongIntHashMap.MISSING));
      }
      assertThat(map.size()).as(at).isEqualTo(ref.size());
    }
    for (long k : pool) {
      assertThat(map.get(k)).isEqualTo(ref.getOrDefault(k, LongIntHashMap.MISSING));
    }
    assertThat(java.util.Arrays.stream(map.keys()).boxed().toList())
        .containsExactlyInAnyOrderElementsOf(ref.keySet());
    map.clear();
    assertThat(map.size()).isZero();
    assertThat(map.get(pool[0])).isEqualTo(LongIntHashMap.MISSING);
  }

  @Test
  void negativeValuesAreRejected() {
    LongIntHashMap map = new LongIntHashMap(4);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> map.put(1, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
  }

  @Test
  void aFullMapRefusesANewKeyNamingItsLimitAndKeepsEveryEntry() {
    // the largest map (2^29 slots, 8 GiB) behaves as this one of 64 slots: it doubled past its
    // array's limit at 2^28 + 1 entries and failed with NegativeArraySizeException
    LongIntHashMap map = new LongIntHashMap(4, 64);
    for (int k = 0; k < 56; k++) {
      assertThat(map.put(k * 1_000_003L, k)).isEqualTo(LongIntHashMap.MISSING);
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> map.put(-5, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("full at 56 entries")
        .hasMessageContaining("-5");
    assertThat(map.size()).isEqualTo(56);
    assertThat(map.get(-5)).isEqualTo(LongIntHashMap.MISSING);
    for (int k = 0; k < 56; k++) {
      assertThat(map.get(k * 1_000_003L)).isEqualTo(k);
    }
    assertThat(map.put(0, 99)).isZero();
    assertThat(map.remove(3_000_009L)).isEqualTo(3);
    assertThat(map.putIfAbsent(-5, 1)).isEqualTo(LongIntHashMap.MISSING);
    assertThat(map.get(-5)).isEqualTo(1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LongIntHashMap(57, 64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the most is 56");
    assertThat(LongIntHashMap.MAX_ENTRIES).isGreaterThan(1 << 28);
  }
}
