package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.schemas.RowEncoding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelUpdateKeysTest {

  @ParameterizedTest
  @ValueSource(
      longs = {
        0L,
        1L,
        42L,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        -1L,
        0x8000_0000_0000_0001L,
        0xd3a39d817ab121d8L
      })
  void rowKeysRoundTripEveryId(long id) {
    String key = new String(ModelUpdateKeys.row("user_id", id), StandardCharsets.UTF_8);

    assertThat(ModelUpdateKeys.isRow(key)).isTrue();
    assertThat(ModelUpdateKeys.rowTable(key)).isEqualTo("user_id");
    assertThat(ModelUpdateKeys.rowId(key)).isEqualTo(id);
  }

  @Test
  void rowKeysWriteIdsAsUnsignedDecimal() {
    assertThat(text(ModelUpdateKeys.row("item_id", 42L))).isEqualTo("row/item_id/42");
    assertThat(text(ModelUpdateKeys.row("item_id", -1L)))
        .isEqualTo("row/item_id/18446744073709551615");
    assertThat(text(ModelUpdateKeys.row("item_id", Long.MIN_VALUE)))
        .isEqualTo("row/item_id/9223372036854775808");
  }

  @Test
  void rowKeysRoundTripRandomIdsAndAwkwardTableNames() {
    Random rnd = new Random(5);
    for (String table : new String[] {"t", "user/profile", "städte-東京", "row"}) {
      for (int i = 0; i < 1_000; i++) {
        long id = rnd.nextLong();
        String key = text(ModelUpdateKeys.row(table, id));
        assertThat(ModelUpdateKeys.isRow(key)).isTrue();
        assertThat(ModelUpdateKeys.rowTable(key)).isEqualTo(table);
        assertThat(ModelUpdateKeys.rowId(key)).isEqualTo(id);
      }
    }
  }

  /**
   * Ids spelled otherwise than the writer spells them ("042", "+42", other scripts' digits) parsed
   * as the same row; Kafka compacts them as other keys, so a later value or tombstone of the row
   * never replaced them and a stale row came back on every bootstrap. They are refused now, as any
   * key the protocol does not allow.
   */
  @Test
  void rowKeysWhoseIdIsNotItsOwnUnsignedDecimalAreRefused() {
    for (String key :
        new String[] {
          "row/user/042", "row/user/+42", "row/user/\u0664\u0662", "row/user/00", "row/user/ 42"
        }) {
      assertThatThrownBy(() -> ModelUpdateKeys.rowId(key))
          .as(key)
          .isInstanceOf(NumberFormatException.class);
    }
    assertThat(ModelUpdateKeys.rowId("row/user/0")).isZero();

    List<ModelUpdateRecord> out = new ArrayList<>();
    new ModelUpdateEncoder(9, 1, 0, RowEncoding.FLOAT32, out::add)
        .row("user", 42, new float[] {1f, 2f}, 0, 2);
    byte[] value = out.get(0).value; // user/42 as the trainer writes it
    assertThat(ModelUpdateDecoder.decode(ModelUpdateKeys.row("user", 42), value))
        .isInstanceOf(ModelUpdate.Row.class);
    for (String key : new String[] {"row/user/042", "row/user/+42", "row/user/\u0664\u0662"}) {
      for (byte[] v : new byte[][] {value, null}) {
        assertThatThrownBy(() -> ModelUpdateDecoder.decode(key.getBytes(StandardCharsets.UTF_8), v))
            .as("%s, %s", key, v == null ? "tombstone" : "row")
            .isInstanceOf(MalformedModelUpdateException.class)
            .hasMessageContaining("a row key that is not row/<table>/<unsigned id>");
      }
    }
  }

  @Test
  void denseAndVersionKeysAreNotRowKeys() {
    String dense = text(ModelUpdateKeys.dense("mlp/0"));
    String version = text(ModelUpdateKeys.version());

    assertThat(dense).isEqualTo("dense/mlp/0");
    assertThat(version).isEqualTo(ModelUpdateKeys.VERSION).isEqualTo("version");
    assertThat(ModelUpdateKeys.isRow(dense)).isFalse();
    assertThat(ModelUpdateKeys.isRow(version)).isFalse();
    assertThat(ModelUpdateKeys.isRow(text(ModelUpdateKeys.dense("row")))).isFalse();
  }

  private static String text(byte[] key) {
    return new String(key, StandardCharsets.UTF_8);
  }
}
