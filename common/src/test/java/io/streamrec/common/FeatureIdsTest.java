package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FeatureIdsTest {

  /**
   * Ids on the model-update topic. Each was computed once, outside FeatureIds, from the documented
   * algorithm; a change here breaks every published model and every replica.
   */
  @ParameterizedTest(name = "({0}, {1}) -> {2}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "user_id  | u42           | 49f3df47a75a246d",
        "item_id  | i9            | 16583889adcf0b0a",
        "country  | DE            | 0d6a6edabd3b283c",
        "item_cat | c3            | 1f48ef2de38b6719",
        "user_id  | ``            | 54a482fe0e112f28",
        "``       | ``            | 6168c18c5583c71b",
        "query    | grüße 東京     | 8082ba3efc6229b3",
        "item_id  | 42            | 30c235edc93798e9",
        "user_id  | 42            | d3a39d817ab121d8",
      })
  void idsArePinned(String feature, String value, String hexId) {
    long expected = Long.parseUnsignedLong(hexId, 16);

    assertThat(FeatureIds.of(nonNull(feature), nonNull(value))).isEqualTo(expected);
    assertThat(reference(nonNull(feature), nonNull(value))).isEqualTo(expected);
  }

  @Test
  void idsFollowTheDocumentedAlgorithmForArbitraryUnicode() {
    Random rnd = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      String feature = randomString(rnd);
      String value = randomString(rnd);
      assertThat(FeatureIds.of(feature, value))
          .as("(%s, %s)", feature, value)
          .isEqualTo(reference(feature, value));
    }
  }

  @Test
  void theSameValueUnderTwoFeaturesHasTwoIds() {
    assertThat(FeatureIds.of("user_id", "42")).isNotEqualTo(FeatureIds.of("item_id", "42"));
    assertThat(FeatureIds.of("user", "")).isNotEqualTo(FeatureIds.of("item", ""));
  }

  @Test
  void theSeparatorKeepsTheNameAndValueApart() {
    assertThat(FeatureIds.of("ab", "c")).isNotEqualTo(FeatureIds.of("a", "bc"));
    assertThat(FeatureIds.of("abc", "")).isNotEqualTo(FeatureIds.of("", "abc"));
  }

  @Test
  void aMillionValuesHaveAMillionIds() {
    int n = 1_000_000;
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = FeatureIds.of("item_id", "i" + i);
    }
    Arrays.sort(ids);
    int collisions = 0;
    for (int i = 1; i < n; i++) {
      if (ids[i] == ids[i - 1]) {
        collisions++;
      }
    }
    assertThat(collisions).isZero();
  }

  @Test
  void idsUseTheWholeWord() {
    Random rnd = new Random(3);
    long orBits = 0, andBits = -1;
    for (int i = 0; i < 1_000; i++) {
      long id = FeatureIds.of("user_id", "u" + rnd.nextInt());
      orBits |= id;
      andBits &= id;
    }
    assertThat(orBits).isEqualTo(-1L);
    assertThat(andBits).isZero();
  }

  /** FNV-1a 64 over the UTF-8 name, the byte 0x1f, the UTF-8 value; then SplitMix64's finaliser. */
  private static long reference(String feature, String value) {
    byte[] name = feature.getBytes(StandardCharsets.UTF_8);
    byte[] val = value.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[name.length + 1 + val.length];
    System.arraycopy(name, 0, all, 0, name.length);
    all[name.length] = 0x1f;
    System.arraycopy(val, 0, all, name.length + 1, val.length);
    long h = 0xcbf29ce484222325L;
    for (byte b : all) {
      h = (h ^ Byte.toUnsignedLong(b)) * 0x100000001b3L;
    }
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  private static String randomString(Random rnd) {
    StringBuilder sb = new StringBuilder();
    int len = rnd.nextInt(12);
    for (int i = 0; i < len; i++) {
      int cp =
          switch (rnd.nextInt(3)) {
            case 0 -> 0x20 + rnd.nextInt(0x5f);
            case 1 -> 0xa0 + rnd.nextInt(0xd000);
            default -> 0x1f300 + rnd.nextInt(0x300);
          };
      sb.appendCodePoint(cp);
    }
    return sb.toString();
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }

  @Test
  void aSeededHashOfTheBytesIsTheHashOfTheString() {
    long seed = FeatureIds.seed("item_id");
    for (String v : new String[] {"", "i42", "ü-ß", "x".repeat(300)}) {
      byte[] b = ("..." + v + "..").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int len = v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertThat(FeatureIds.of(seed, b, 3, len)).isEqualTo(FeatureIds.of("item_id", v));
    }
  }
}
