package io.streamrec.embedding.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CountMinSketchTest {

  @Test
  void neverCountsLessThanTheTruthAndRarelyMore() {
    CountMinSketch s = new CountMinSketch(1 << 16); // ages after 32k increments: stay below
    Map<Long, Integer> truth = new HashMap<>();
    Random rnd = new Random(5);
    for (int i = 0; i < 30_000; i++) {
      long id = rnd.nextInt(8_000) * 0x9E3779B97F4A7C15L;
      int exact = truth.merge(id, 1, Integer::sum);
      assertThat(s.increment(id)).isGreaterThanOrEqualTo(exact);
    }
    int over = 0;
    for (Map.Entry<Long, Integer> e : truth.entrySet()) {
      int est = s.estimate(e.getKey());
      assertThat(est).isGreaterThanOrEqualTo(e.getValue());
      if (est > e.getValue()) {
        over++;
      }
    }
    assertThat(over).as("ids over-counted").isLessThan(truth.size() / 50);
    int unseenAboveZero = 0;
    for (long i = 1; i <= 10_000; i++) {
      if (s.estimate(-i) > 0) {
        unseenAboveZero++;
      }
    }
    assertThat(unseenAboveZero).as("never-seen ids that read above zero").isLessThan(200);
  }

  @Test
  void countsHalveAfterWidthOverTwoIncrements() {
    CountMinSketch s = new CountMinSketch(1024);
    for (int i = 0; i < 9; i++) {
      s.increment(42);
    }
    assertThat(s.estimate(42)).isEqualTo(9);
    for (long i = 0; i < 512 - 9 - 1; i++) {
      s.increment(1_000_000 + i);
    }
    assertThat(s.estimate(42)).as("one increment before aging").isEqualTo(9);
    s.increment(7);
    assertThat(s.estimate(42)).as("halved").isEqualTo(4);
  }

  @Test
  void aRestoredSketchContinuesExactlyLikeTheOriginal() throws IOException {
    CountMinSketch a = new CountMinSketch(2048);
    Random rnd = new Random(3);
    for (int i = 0; i < 1_500; i++) {
      a.increment(rnd.nextInt(300));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    a.write(new DataOutputStream(bytes));
    CountMinSketch b =
        CountMinSketch.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));

    for (int i = 0; i < 5_000; i++) {
      long id = rnd.nextInt(300);
      assertThat(b.increment(id)).as("increment %d", i).isEqualTo(a.increment(id));
    }
    assertThat(b.width()).isEqualTo(2048);
  }

  @Test
  void widthIsAPowerOfTwoWithinBounds() {
    assertThat(new CountMinSketch(1).width()).isEqualTo(1024);
    assertThat(new CountMinSketch(3000).width()).isEqualTo(4096);
    assertThat(new CountMinSketch(Integer.MAX_VALUE).width()).isEqualTo(1 << 24);
    assertThat(CountMinSketch.forCapacity(1 << 20).width()).isEqualTo(1 << 21);
  }
}
