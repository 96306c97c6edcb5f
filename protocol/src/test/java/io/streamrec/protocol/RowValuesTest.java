package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ModelDelta;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class RowValuesTest {

  @Test
  void aRowWrittenWithTheFirstModelDeltaSchemaReadsAsFloat32() throws Exception {
    // A compacted model-updates topic keeps rows written by older releases (no encoding field).
    Schema v1;
    try (InputStream in = AvroCodec.class.getResourceAsStream("history/ModelDelta-1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    GenericData.Record old = new GenericData.Record(v1);
    old.put("version", 4L);
    old.put("kind", new GenericData.EnumSymbol(v1.getField("kind").schema(), "ROW"));
    old.put("table", "user");
    old.put("id", -7L);
    old.put("values", List.of(0.25f, -1f, 3f));
    ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old);
    byte[] bytes = new byte[buf.remaining()];
    buf.get(bytes);

    assertThat(RowValues.get(AvroCodec.decode(bytes, ModelDelta.class)))
        .containsExactly(0.25f, -1f, 3f);
  }
}
