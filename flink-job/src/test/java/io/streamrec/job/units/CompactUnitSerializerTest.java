package io.streamrec.job.units;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class CompactUnitSerializerTest {
  /** What the committed files of serializer version 1 hold: these units, in this order. */
  private static final long RESOURCE_SEED = 2026;

  private static final int RESOURCE_UNITS = 25;

  static List<CompactUnit> units(int n, long seed) {
    TrafficGenerator g =
        new TrafficGenerator(TrafficConfig.defaults().withSeed(seed).withUsers(400).withItems(300));
    UnitEncoder enc = new UnitEncoder(new UnitLayout(ModelConfig.defaults().features()));
    List<CompactUnit> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      GeneratedRequest r = g.next(1_000L * i);
      out.add(enc.encode(RequestUnits.of(r.request(), r.impressions(), 1_000L * i + 10_000)));
    }
    return out;
  }

  private static byte[] serialize(TypeSerializer<CompactUnit> s, List<CompactUnit> units)
      throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(1024);
    for (CompactUnit u : units) {
      s.serialize(u, out);
    }
    return out.getCopyOfBuffer();
  }

  private static void assertSame(List<CompactUnit> expected, List<CompactUnit> actual) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(CompactUnitCodec.encode(actual.get(i)))
          .as("unit %d", i)
          .isEqualTo(CompactUnitCodec.encode(expected.get(i)));
    }
  }

  @Test
  void unitsRoundTripAndCopyAsBytes() throws IOException {
    List<CompactUnit> us = units(200, 1);
    byte[] bytes = serialize(CompactUnitSerializer.INSTANCE, us);
    DataInputDeserializer in = new DataInputDeserializer(bytes);
    List<CompactUnit> back = new ArrayList<>();
    for (int i = 0; i < us.size(); i++) {
      back.add(CompactUnitSerializer.INSTANCE.deserialize(in));
    }
    assertThat(in.available()).isZero();
    assertSame(us, back);

    DataOutputSerializer copied = new DataOutputSerializer(bytes.length);
    DataInputDeserializer src = new DataInputDeserializer(bytes);
    for (int i = 0; i < us.size(); i++) {
      CompactUnitSerializer.INSTANCE.copy(src, copied);
    }
    assertThat(copied.getCopyOfBuffer()).isEqualTo(bytes);
    assertThat(CompactUnitSerializer.INSTANCE.copy(us.get(0))).isSameAs(us.get(0));
  }

  @Test
  void corruptInputIsRefusedWithAClearError() throws IOException {
    byte[] bytes = serialize(CompactUnitSerializer.INSTANCE, units(1, 2));
    byte[] badLength = bytes.clone();
    badLength[0] = (byte) 0x7f;
    assertThatThrownBy(
            () -> CompactUnitSerializer.INSTANCE.deserialize(new DataInputDeserializer(badLength)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("corrupt stream");
    byte[] badBody = bytes.clone();
    badBody[4] = 7; // the codec's format byte
    assertThatThrownBy(
            () -> CompactUnitSerializer.INSTANCE.deserialize(new DataInputDeserializer(badBody)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unit format 7");
  }

  @Test
  void theSnapshotRestoresACompatibleSerializer() throws IOException {
    TypeSerializerSnapshot<CompactUnit> snap =
        CompactUnitSerializer.INSTANCE.snapshotConfiguration();
    DataOutputSerializer out = new DataOutputSerializer(64);
    TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
    TypeSerializerSnapshot<CompactUnit> read =
        TypeSerializerSnapshot.readVersionedSnapshot(
            new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
    TypeSerializerSchemaCompatibility<CompactUnit> c =
        CompactUnitSerializer.INSTANCE.snapshotConfiguration().resolveSchemaCompatibility(read);
    assertThat(c.isCompatibleAsIs()).isTrue();
    assertThat(read.restoreSerializer()).isSameAs(CompactUnitSerializer.INSTANCE);
  }

  /**
   * The snapshot and units written by version 1 of the serializer, committed in {@code
   * src/test/resources/compact-unit-serializer-1/}: a checkpoint of that release restores, and its
   * units read back as they were. ({@code main} below wrote them.)
   */
  @Test
  void aCheckpointWrittenByVersion1Restores() throws IOException {
    TypeSerializerSnapshot<CompactUnit> snap;
    try (InputStream in = resource("snapshot")) {
      snap =
          TypeSerializerSnapshot.readVersionedSnapshot(
              new DataInputViewStreamWrapper(in), getClass().getClassLoader());
    }
    assertThat(
            CompactUnitSerializer.INSTANCE
                .snapshotConfiguration()
                .resolveSchemaCompatibility(snap)
                .isCompatibleAsIs())
        .isTrue();
    TypeSerializer<CompactUnit> restored = snap.restoreSerializer();
    byte[] data;
    try (InputStream in = resource("data")) {
      data = in.readAllBytes();
    }
    DataInputDeserializer in = new DataInputDeserializer(data);
    List<CompactUnit> back = new ArrayList<>();
    while (in.available() > 0) {
      back.add(restored.deserialize(in));
    }
    assertSame(units(RESOURCE_UNITS, RESOURCE_SEED), back);
  }

  private InputStream resource(String name) {
    InputStream in = getClass().getResourceAsStream("/compact-unit-serializer-1/" + name);
    assertThat(in).as(name).isNotNull();
    return in;
  }

  /** Writes the version-1 resources (run once, when version 1 was current). */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    DataOutputSerializer snap = new DataOutputSerializer(64);
    TypeSerializerSnapshot.writeVersionedSnapshot(
        snap, CompactUnitSerializer.INSTANCE.snapshotConfiguration());
    Files.write(dir.resolve("snapshot"), snap.getCopyOfBuffer());
    Files.write(
        dir.resolve("data"),
        serialize(CompactUnitSerializer.INSTANCE, units(RESOURCE_UNITS, RESOURCE_SEED)));
  }
}
