package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeltaKind;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelUpdateDecoderTest {

  @Test
  void everyKindTheEncoderWritesDecodesToItsType() {
    List<ModelUpdateRecord> out = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(99, 7, 1_000, RowEncoding.FLOAT16, out::add);
    enc.spec("{\"dim\":2}");
    enc.row("user", -3L, new float[] {9f, 0.5f, -2f}, 1, 2);
    enc.tombstone("item", 42L);
    enc.dense("linear", new float[] {1f, 2f, 3f});
    enc.close(VersionMarker.newBuilder().setPublishedAtMs(2_000));

    List<ModelUpdate> decoded =
        out.stream().map(r -> ModelUpdateDecoder.decode(r.key, r.value)).toList();

    assertThat(decoded).hasSize(5);
    assertThat(decoded.get(0))
        .isEqualTo(
            new ModelUpdate.Spec("spec", ModelUpdateEncoder.SPEC_FORMAT, "{\"dim\":2}", 99, 7));
    ModelUpdate.Row row = (ModelUpdate.Row) decoded.get(1);
    assertThat(row.table()).isEqualTo("user");
    assertThat(row.id()).isEqualTo(-3L);
    assertThat(row.key()).isEqualTo("row/user/" + Long.toUnsignedString(-3L));
    assertThat(row.version()).isEqualTo(7);
    assertThat(row.model()).isEqualTo(99);
    assertThat(row.encoding()).isEqualTo(RowEncoding.FLOAT16);
    assertThat(row.values()).containsExactly(0.5f, -2f);
    assertThat(decoded.get(2)).isEqualTo(new ModelUpdate.Tombstone("row/item/42", "item", 42L));
    ModelUpdate.DenseBlock dense = (ModelUpdate.DenseBlock) decoded.get(3);
    assertThat(dense.block()).isEqualTo("linear");
    assertThat(dense.values()).containsExactly(1f, 2f, 3f);
    assertThat(dense.model()).isEqualTo(99);
    ModelUpdate.Version v = (ModelUpdate.Version) decoded.get(4);
    assertThat(v.version()).isEqualTo(7);
    assertThat(v.marker().getRows()).isEqualTo(2);
    assertThat(v.marker().getTombstones()).isEqualTo(1);
    assertThat(v.marker().getDenseBlocks()).isEqualTo(1);
  }

  @Test
  void recordsTheProtocolDoesNotAllowAreRefusedWithTheirKey() {
    byte[] rowValue =
        AvroCodec.encode(
            ModelDelta.newBuilder()
                .setVersion(1)
                .setKind(DeltaKind.ROW)
                .setTable("user")
                .setId(5)
                .setValues(List.of(1f))
                .setEncoding(RowEncoding.FLOAT32)
                .build());
    assertRefused("weights/x", rowValue, "an unknown key");
    assertRefused("dense/linear", null, "only rows have tombstones");
    assertRefused("version", null, "only rows have tombstones");
    assertRefused("row/user/five", rowValue, "row/<table>/<unsigned id>");
    assertRefused("row/user/6", rowValue, "under another row's key");
    assertRefused("dense/user", rowValue, "under a dense block's key");
    assertRefused("spec", new byte[] {1, 2, 3}, "'spec'");
    assertThatThrownBy(() -> ModelUpdateDecoder.decode(null, rowValue))
        .isInstanceOf(MalformedModelUpdateException.class)
        .hasMessageContaining("without a key");
  }

  private static void assertRefused(String key, byte[] value, String why) {
    assertThatThrownBy(() -> ModelUpdateDecoder.decode(key.getBytes(StandardCharsets.UTF_8), value))
        .isInstanceOf(MalformedModelUpdateException.class)
        .hasMessageContaining(why)
        .satisfies(e -> assertThat(((MalformedModelUpdateException) e).key()).isEqualTo(key));
  }
}
