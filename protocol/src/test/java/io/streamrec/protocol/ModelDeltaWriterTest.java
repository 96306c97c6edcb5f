package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeltaKind;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RowEncoding;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-written deltas are the bytes Avro writes for the same records, key included. */
class ModelDeltaWriterTest {
  private static final float[] SPECIAL = {
    0f,
    -0f,
    Float.NaN,
    Float.POSITIVE_INFINITY,
    Float.NEGATIVE_INFINITY,
    Float.MIN_VALUE,
    Float.MAX_VALUE,
    65504f,
    1e-8f,
    -3.25f
  };

  private static float[] values(SplittableRandom rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] =
          rnd.nextInt(8) == 0
              ? SPECIAL[rnd.nextInt(SPECIAL.length)]
              : (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
    }
    return v;
  }

  @Test
  void rowsOfEveryEncodingAreAvrosBytes() {
    SplittableRandom rnd = new SplittableRandom(17);
    long model = rnd.nextLong() & Long.MAX_VALUE;
    ModelDeltaWriter w = new ModelDeltaWriter(model);
    String[] tables = {"user_id", "item_id", "ü-table", "wide"};
    for (int k = 0; k < 3_000; k++) {
      RowEncoding enc = RowEncoding.values()[rnd.nextInt(3)];
      String table = tables[rnd.nextInt(tables.length)];
      long id = rnd.nextLong();
      long version = rnd.nextInt(3) == 0 ? rnd.nextLong(1L << 40) : 1 + rnd.nextInt(1000);
      int dim = rnd.nextInt(40);
      int offset = rnd.nextInt(5);
      float[] v = values(rnd, offset + dim + rnd.nextInt(3));
      ModelDelta d =
          RowValues.set(
                  ModelDelta.newBuilder()
                      .setVersion(version)
                      .setKind(DeltaKind.ROW)
                      .setTable(table)
                      .setId(id)
                      .setModel(model),
                  enc,
                  v,
                  offset,
                  dim)
              .build();
      assertThat(w.row(version, table, id, enc, v, offset, dim))
          .as("%s row of %d values", enc, dim)
          .isEqualTo(AvroCodec.encode(d));
      assertThat(w.rowKey(table, id)).isEqualTo(ModelUpdateKeys.row(table, id));
    }
  }

  @Test
  void denseBlocksAreAvrosBytes() {
    SplittableRandom rnd = new SplittableRandom(3);
    ModelDeltaWriter w = new ModelDeltaWriter(5);
    for (int n : new int[] {0, 1, 7, 4_577}) {
      float[] v = values(rnd, n);
      List<Float> boxed = new ArrayList<>();
      for (float x : v) {
        boxed.add(x);
      }
      ModelDelta d =
          ModelDelta.newBuilder()
              .setVersion(12)
              .setKind(DeltaKind.DENSE)
              .setTable("request_tower")
              .setId(0)
              .setValues(boxed)
              .setEncoding(RowEncoding.FLOAT32)
              .setModel(5)
              .build();
      assertThat(w.dense(12, "request_tower", v)).isEqualTo(AvroCodec.encode(d));
    }
  }
}
