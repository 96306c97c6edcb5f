package io.streamrec.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AvroCodecTest {
  private static final int HEADER_BYTES = 10;

  static RequestEvent request() {
    Map<String, List<String>> features = new LinkedHashMap<>();
    features.put("user_id", List.of("u42"));
    features.put("recent_items", List.of("i7", "i9"));
    features.put("städte", List.of("Zürich", "東京", "🎉"));
    return RequestEvent.newBuilder()
        .setRequestId("r1-ünïcödé")
        .setTimestampMs(1_767_225_600_000L)
        .setFeatures(features)
        .setDense(Map.of("hour", 13.0f, "tz_offset", -2.5f))
        .build();
  }

  static ImpressionEvent impression() {
    return ImpressionEvent.newBuilder()
        .setImpressionId("r1-0")
        .setRequestId("r1")
        .setTimestampMs(1_767_225_600_950L)
        .setFeatures(Map.of("item_id", List.of("i9"), "item_cat", List.of("c3")))
        .setDense(Map.of("position", 0.0f))
        .setLabels(Map.of("click", 1.0f))
        .build();
  }

  static RequestUnit unitWithImpressions() {
    List<Impression> impressions = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      impressions.add(
          Impression.newBuilder()
              .setImpressionId("r1-" + i)
              .setTimestampMs(1_767_225_600_950L + i)
              .setFeatures(Map.of("item_id", List.of("i" + i)))
              .setDense(Map.of("position", (float) i))
              .setLabels(Map.of("click", i == 1 ? 1f : 0f))
              .build());
    }
    return RequestUnit.newBuilder()
        .setRequestId("r1")
        .setTimestampMs(1_767_225_600_000L)
        .setClosedAtMs(1_767_225_660_000L)
        .setFeatures(Map.of("user_id", List.of("u42")))
        .setDense(Map.of("hour", 13f))
        .setImpressions(impressions)
        .build();
  }

  static ModelDelta rowDelta() {
    return ModelDelta.newBuilder()
        .setVersion(7)
        .setKind(DeltaKind.ROW)
        .setTable("user_id")
        .setId(0x8000_0000_0000_0001L)
        .setValues(List.of(0.25f, -1.5f, Float.MIN_VALUE, Float.MAX_VALUE))
        .build();
  }

  static VersionMarker marker() {
    return VersionMarker.newBuilder()
        .setVersion(7)
        .setEventTimeMs(1_767_225_700_000L)
        .setRows(1234)
        .setDenseBlocks(3)
        .setTombstones(17)
        .setPublishedAtMs(1_767_225_701_234L)
        .setTrainedImpressions(987_654_321L)
        .setTrainedUnits(12_345_678L)
        .setProgressiveAuc(0.7531)
        .setProgressiveLogLoss(0.4123)
        .setSkippedBatches(2)
        .build();
  }

  static DeadLetter deadLetter() {
    return DeadLetter.newBuilder()
        .setReason(DeadLetterReasons.LATE)
        .setSourceTopic("impressions")
        .setDetail("window closed at 1767225660000, event at 1767225600950 — spät")
        .setKey("r1")
        .setTimestampMs(1_767_225_700_000L)
        .setPayload(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xC3, (byte) 0xFF}))
        .build();
  }

  static Stream<SpecificRecord> everyRecordType() {
    return Stream.of(
        request(), impression(), unitWithImpressions(), rowDelta(), marker(), deadLetter());
  }

  static Stream<SpecificRecord> recordsWithEmptyMapsAndLists() {
    return Stream.of(
        RequestEvent.newBuilder()
            .setRequestId("r")
            .setTimestampMs(0)
            .setFeatures(Map.of())
            .setDense(Map.of())
            .build(),
        ImpressionEvent.newBuilder()
            .setImpressionId("i")
            .setRequestId("r")
            .setTimestampMs(0)
            .setFeatures(Map.of("empty_list", List.of()))
            .setDense(Map.of())
            .setLabels(Map.of())
            .build(),
        RequestUnit.newBuilder()
            .setRequestId("r")
            .setTimestampMs(0)
            .setFeatures(Map.of())
            .setDense(Map.of())
            .setImpressions(List.of())
            .build(),
        ModelDelta.newBuilder()
            .setVersion(1)
            .setKind(DeltaKind.DENSE)
            .setTable("tower/0")
            .setValues(List.of())
            .build(),
        DeadLetter.newBuilder()
            .setReason(DeadLetterReasons.MALFORMED)
            .setSourceTopic("")
            .setDetail("")
            .setKey(null)
            .setTimestampMs(-1)
            .setPayload(ByteBuffer.allocate(0))
            .build());
  }

  @ParameterizedTest
  @MethodSource("everyRecordType")
  void everyRecordTypeRoundTripsThroughDecode(SpecificRecord record) {
    byte[] bytes = AvroCodec.encode(record);

    @SuppressWarnings("unchecked")
    Class<SpecificRecord> type = (Class<SpecificRecord>) record.getClass();
    assertThat(AvroCodec.decode(bytes, type)).isEqualTo(record);
  }

  @ParameterizedTest
  @MethodSource("everyRecordType")
  void decodeAnyReturnsTheTypeNamedByTheFingerprint(SpecificRecord record) {
    SpecificRecord decoded = AvroCodec.decodeAny(AvroCodec.encode(record));

    assertThat(decoded).isExactlyInstanceOf(record.getClass()).isEqualTo(record);
  }

  @ParameterizedTest
  @MethodSource("recordsWithEmptyMapsAndLists")
  void emptyMapsListsAndNullsRoundTrip(SpecificRecord record) {
    assertThat(AvroCodec.decodeAny(AvroCodec.encode(record))).isEqualTo(record);
  }

  @Test
  void messagesStartWithTheSingleObjectMarkerAndTheSchemaFingerprint() {
    byte[] bytes = AvroCodec.encode(rowDelta());

    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    long fingerprint =
        ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(fingerprint)
        .isEqualTo(
            org.apache.avro.SchemaNormalization.parsingFingerprint64(ModelDelta.getClassSchema()));
  }

  /**
   * Nothing held the input schemas' fingerprints still: an edit of RequestEvent.avsc or
   * ImpressionEvent.avsc that changed their parsing canonical form (a field, a type, a name; not a
   * doc or a default) passed every test, and every producer's records became unknown_schema.
   */
  @Test
  void theInputSchemasKeepTheirFingerprints() {
    String why =
        "the %s schema's fingerprint changed: every producer writes records of the old one, and"
            + " the job would dead-letter them all as unknown_schema. Keep the schema as it was, or"
            + " keep the old one readable as well (a history/ schema in AvroCodec.EARLIER) and tell"
            + " every producer";
    assertThat(
            String.format(
                "%016x",
                org.apache.avro.SchemaNormalization.parsingFingerprint64(
                    RequestEvent.getClassSchema())))
        .as(why, "RequestEvent")
        .isEqualTo("b8fd2d774ffad877");
    assertThat(
            String.format(
                "%016x",
                org.apache.avro.SchemaNormalization.parsingFingerprint64(
                    ImpressionEvent.getClassSchema())))
        .as(why, "ImpressionEvent")
        .isEqualTo("440115532fb2fa61");
  }

  @Test
  void largeArraysRoundTrip() {
    Random rnd = new Random(11);
    List<Float> values = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) {
      values.add(rnd.nextFloat() * 2 - 1);
    }
    ModelDelta dense =
        ModelDelta.newBuilder()
            .setVersion(3)
            .setKind(DeltaKind.DENSE)
            .setTable("mlp/0")
            .setValues(values)
            .build();
    List<String> history = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      history.add("item-" + i);
    }
    RequestEvent longHistory =
        RequestEvent.newBuilder(request()).setFeatures(Map.of("recent_items", history)).build();
    List<Impression> impressions = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      impressions.add(
          Impression.newBuilder()
              .setImpressionId("r1-" + i)
              .setTimestampMs(i)
              .setFeatures(Map.of("item_id", List.of("i" + i)))
              .setDense(Map.of())
              .setLabels(Map.of("click", i % 7 == 0 ? 1f : 0f))
              .build());
    }
    RequestUnit bigUnit =
        RequestUnit.newBuilder(unitWithImpressions()).setImpressions(impressions).build();

    ModelDelta decodedDense = AvroCodec.decode(AvroCodec.encode(dense), ModelDelta.class);
    assertThat(decodedDense.getValues()).hasSize(200_000).containsExactlyElementsOf(values);
    assertThat(AvroCodec.decode(AvroCodec.encode(longHistory), RequestEvent.class))
        .isEqualTo(longHistory);
    RequestUnit decodedUnit = AvroCodec.decode(AvroCodec.encode(bigUnit), RequestUnit.class);
    assertThat(decodedUnit.getImpressions()).hasSize(2_000);
    assertThat(decodedUnit).isEqualTo(bigUnit);
  }

  @Test
  void decodeAsTheWrongTypeIsAnUnknownSchema() {
    byte[] bytes = AvroCodec.encode(impression());

    MalformedRecordException e =
        catchThrowableOfType(
            MalformedRecordException.class, () -> AvroCodec.decode(bytes, RequestEvent.class));

    assertThat(e.reason()).isEqualTo(DeadLetterReasons.UNKNOWN_SCHEMA);
    assertThat(e.getMessage()).contains("RequestEvent").contains("ImpressionEvent");
  }

  @Test
  void nullBytesAreMalformed() {
    assertReason(null, DeadLetterReasons.MALFORMED);
  }

  /** A null value and an empty one read differently (a dead letter's detail said the same). */
  @Test
  void aNullAndAnEmptyValueAreToldApart() {
    assertThatThrownBy(() -> AvroCodec.decodeAny(null)).hasMessageContaining("no value (null)");
    assertThatThrownBy(() -> AvroCodec.decodeAny(new byte[0])).hasMessageContaining("no bytes");
  }

  @Test
  void messagesShorterThanTheHeaderAreMalformed() {
    byte[] valid = AvroCodec.encode(marker());
    for (int length = 0; length < HEADER_BYTES; length++) {
      assertReason(Arrays.copyOf(valid, length), DeadLetterReasons.MALFORMED);
    }
  }

  @Test
  void aWrongMarkerIsMalformed() {
    byte[] firstByte = AvroCodec.encode(request());
    firstByte[0] = (byte) 0xC4;
    byte[] secondByte = AvroCodec.encode(request());
    secondByte[1] = 0x02;

    assertReason(firstByte, DeadLetterReasons.MALFORMED);
    assertReason(secondByte, DeadLetterReasons.MALFORMED);
  }

  @Test
  void anUnknownFingerprintIsAnUnknownSchema() {
    byte[] bytes = AvroCodec.encode(request());
    bytes[5] ^= 0x40;

    assertReason(bytes, DeadLetterReasons.UNKNOWN_SCHEMA);
  }

  @Test
  void aSchemaThatIsNotOnAnyTopicIsAnUnknownSchema() {
    InputEnvelope envelope =
        InputEnvelope.newBuilder().setTimestampMs(5).setRequest(request()).build();

    assertReason(AvroCodec.encode(envelope), DeadLetterReasons.UNKNOWN_SCHEMA);
  }

  @ParameterizedTest
  @MethodSource("everyRecordType")
  void everyTruncationOfTheBodyIsMalformed(SpecificRecord record) {
    byte[] bytes = AvroCodec.encode(record);
    for (int length = HEADER_BYTES; length < bytes.length; length++) {
      assertReason(Arrays.copyOf(bytes, length), DeadLetterReasons.MALFORMED);
    }
  }

  /**
   * A whole record with bytes after it (seven zero bytes, another record glued on) decoded as the
   * record alone: Avro stops where the record ends. Such a message is not what its producer meant.
   */
  @ParameterizedTest
  @MethodSource("everyRecordType")
  void bytesAfterTheEndOfTheBodyAreMalformed(SpecificRecord record) {
    byte[] bytes = AvroCodec.encode(record);
    byte[] padded = Arrays.copyOf(bytes, bytes.length + 7);
    byte[] glued = Arrays.copyOf(bytes, 2 * bytes.length);
    System.arraycopy(bytes, 0, glued, bytes.length, bytes.length);

    assertReason(padded, DeadLetterReasons.MALFORMED);
    assertThatThrownBy(() -> AvroCodec.decodeAny(padded))
        .hasMessageContaining("7 byte(s) after the end of the " + record.getSchema().getName());
    assertReason(glued, DeadLetterReasons.MALFORMED);
  }

  @Test
  void anUnknownFingerprintIsNamedInSixteenHexDigits() {
    byte[] bytes = requestUnderFingerprint(0x0807060504030201L);

    assertThatThrownBy(() -> AvroCodec.decodeAny(bytes))
        .hasMessageContaining("unknown schema fingerprint 0807060504030201");
  }

  /**
   * A producer's schema with one optional field added made every event an unknown schema, and the
   * dead letter named only the fingerprint: nothing said which schema the topic takes, or that a
   * compatible change is not accepted.
   */
  @Test
  void anUnknownSchemaSaysWhatTheTopicTakes() {
    byte[] bytes = requestUnderFingerprint(0x6fcfd610f1a3b138L);
    long expected =
        org.apache.avro.SchemaNormalization.parsingFingerprint64(RequestEvent.getClassSchema());
    assertThatThrownBy(() -> AvroCodec.decode(bytes, RequestEvent.class))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("unknown schema fingerprint 6fcfd610f1a3b138")
        .hasMessageContaining("a field added too")
        .hasMessageContaining(
            String.format(
                "this topic takes RequestEvent messages, of fingerprint %016x", expected));
  }

  /** A schema registry's framing read as "bad or missing header", which said nothing of it. */
  @Test
  void aSchemaRegistrysMessageIsNamedAsOne() {
    byte[] framed = {0, 0, 0, 0, 42, 2, 'r', '1'};
    assertReason(framed, DeadLetterReasons.MALFORMED);
    assertThatThrownBy(() -> AvroCodec.decodeAny(framed))
        .hasMessageContaining("a schema registry's message (magic byte 0, schema id 42)");
  }

  @Test
  void aNegativeStringLengthIsMalformed() {
    byte[] body = concat(varLong(-5), "r1".getBytes(StandardCharsets.UTF_8));

    assertReason(withHeaderOf(request(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void aStringLongerThanTheMessageIsMalformed() {
    byte[] body = concat(varLong(1_000_000), "r1".getBytes(StandardCharsets.UTF_8));

    assertReason(withHeaderOf(request(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void anImpossiblyLargeStringLengthIsMalformed() {
    byte[] body = concat(varLong(3_000_000_000L), "r1".getBytes(StandardCharsets.UTF_8));

    assertReason(withHeaderOf(request(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void anImpossiblyLargeMapCountIsMalformed() {
    // requestId "r", timestampMs 5, then a features map claiming 2^40 entries
    byte[] body =
        concat(varLong(1), new byte[] {'r'}, varLong(5), varLong(1L << 40), new byte[] {0, 0});

    assertReason(withHeaderOf(request(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void anImpossiblyLargeArrayCountIsMalformed() {
    // version 1, kind ROW, table "t", id 9, then a values array claiming 3e9 floats
    byte[] body =
        concat(
            varLong(1),
            varLong(0),
            varLong(1),
            new byte[] {'t'},
            varLong(9),
            varLong(3_000_000_000L));

    assertReason(withHeaderOf(rowDelta(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void aHugeCountOfRecordsIsMalformedWithoutRunningTheHeapOut() {
    // requestId "r", timestampMs 5, closedAtMs 0, no features, no dense, then 2e9 impressions
    byte[] body =
        concat(
            varLong(1),
            new byte[] {'r'},
            varLong(5),
            varLong(0),
            varLong(0),
            varLong(0),
            varLong(2_000_000_000L),
            new byte[] {2, 'i', 2});

    assertReason(withHeaderOf(unitWithImpressions(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void aHugeCountOfStringsIsMalformedWithoutRunningTheHeapOut() {
    // requestId "r", timestampMs 5, a features map of one entry "u" whose list claims 2e9 strings
    byte[] body =
        concat(
            varLong(1),
            new byte[] {'r'},
            varLong(5),
            varLong(1),
            varLong(1),
            new byte[] {'u'},
            varLong(2_000_000_000L),
            varLong(1),
            new byte[] {'x'});

    assertReason(withHeaderOf(request(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void blocksWithANegativeCountAndAByteSizeDecode() {
    // The spec lets a writer give a block as -count followed by its size in bytes.
    byte[] body =
        concat(
            varLong(1),
            varLong(0),
            varLong(1),
            new byte[] {'t'},
            varLong(9),
            varLong(-2),
            varLong(8),
            floats(1.5f, -2f),
            varLong(0),
            varLong(0),
            varLong(0),
            varLong(0));

    ModelDelta decoded = AvroCodec.decode(withHeaderOf(rowDelta(), body), ModelDelta.class);

    assertThat(decoded.getTable()).isEqualTo("t");
    assertThat(decoded.getId()).isEqualTo(9);
    assertThat(decoded.getValues()).containsExactly(1.5f, -2f);
  }

  /** The schema of an earlier release, from the codec's history resources. */
  private static org.apache.avro.Schema earlier(String resource) throws Exception {
    try (var in = AvroCodec.class.getResourceAsStream(resource)) {
      return new org.apache.avro.Schema.Parser().parse(in);
    }
  }

  /** {@code record} as an earlier release wrote it: a single-object message of its schema. */
  private static byte[] singleObject(org.apache.avro.generic.GenericData.Record record)
      throws Exception {
    ByteBuffer buf =
        new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
                org.apache.avro.generic.GenericData.get(), record.getSchema())
            .encode(record);
    byte[] bytes = new byte[buf.remaining()];
    buf.get(bytes);
    return bytes;
  }

  @Test
  void aRowWrittenWithTheFirstModelDeltaSchemaDecodesAsFloat32() throws Exception {
    // A compacted model-updates topic keeps rows written by older releases; they must still decode.
    org.apache.avro.Schema v1 = earlier("history/ModelDelta-1.avsc");
    var old = new org.apache.avro.generic.GenericData.Record(v1);
    old.put("version", 4L);
    old.put(
        "kind",
        new org.apache.avro.generic.GenericData.EnumSymbol(v1.getField("kind").schema(), "ROW"));
    old.put("table", "user");
    old.put("id", -7L);
    old.put("values", List.of(0.25f, -1f, 3f));
    byte[] bytes = singleObject(old);

    ModelDelta decoded = AvroCodec.decode(bytes, ModelDelta.class);

    assertThat(Arrays.copyOfRange(bytes, 2, 10))
        .isNotEqualTo(Arrays.copyOfRange(AvroCodec.encode(rowDelta()), 2, 10));
    assertThat(decoded.getVersion()).isEqualTo(4L);
    assertThat(decoded.getTable()).isEqualTo("user");
    assertThat(decoded.getId()).isEqualTo(-7L);
    assertThat(decoded.getValues()).containsExactly(0.25f, -1f, 3f);
    assertThat(decoded.getEncoding()).isEqualTo(RowEncoding.FLOAT32);
  }

  @Test
  void aDeadLetterOfTheFirstSchemaDecodesWithItsSourceUnknown() throws Exception {
    org.apache.avro.Schema v1 = earlier("history/DeadLetter-1.avsc");
    var old = new org.apache.avro.generic.GenericData.Record(v1);
    old.put("reason", "late");
    old.put("sourceTopic", "impressions");
    old.put("detail", "its unit had already closed");
    old.put("key", "r1");
    old.put("timestampMs", 42L);
    old.put("payload", ByteBuffer.wrap(new byte[] {1, 2, 3}));
    byte[] bytes = singleObject(old);

    DeadLetter d = AvroCodec.decode(bytes, DeadLetter.class);

    assertThat(d.getReason()).isEqualTo("late");
    assertThat(d.getKey()).isEqualTo("r1");
    assertThat(d.getPayload().remaining()).isEqualTo(3);
    assertThat(d.getSourcePartition()).isEqualTo(-1);
    assertThat(d.getSourceOffset()).isEqualTo(-1L);
    assertThat(d.getPayloadBytes()).isEqualTo(-1);
    assertThat(d.getPayloadSha256()).isNull();
  }

  @Test
  void anEnumIndexOutOfRangeIsMalformed() {
    byte[] body =
        concat(varLong(1), varLong(5), varLong(1), new byte[] {'t'}, varLong(9), varLong(0));

    assertReason(withHeaderOf(rowDelta(), body), DeadLetterReasons.MALFORMED);
  }

  @Test
  void randomlyCorruptedBodiesDecodeOrAreRejectedAsMalformed() {
    Random rnd = new Random(42);
    List<SpecificRecord> records = everyRecordType().toList();
    int rejected = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = AvroCodec.encode(records.get(rnd.nextInt(records.size())));
      int flips = 1 + rnd.nextInt(3);
      for (int f = 0; f < flips; f++) {
        bytes[HEADER_BYTES + rnd.nextInt(bytes.length - HEADER_BYTES)] = (byte) rnd.nextInt(256);
      }
      try {
        assertThat(AvroCodec.decodeAny(bytes)).isNotNull();
      } catch (MalformedRecordException e) {
        assertThat(e.reason()).isEqualTo(DeadLetterReasons.MALFORMED);
        rejected++;
      }
    }
    assertThat(rejected).isPositive();
  }

  private static void assertReason(byte[] bytes, String reason) {
    MalformedRecordException e =
        catchThrowableOfType(MalformedRecordException.class, () -> AvroCodec.decodeAny(bytes));
    assertThat(e).as("decodeAny(%s)", bytes == null ? null : Arrays.toString(bytes)).isNotNull();
    assertThat(e.reason()).isEqualTo(reason);
  }

  /** The header of {@code record}'s schema followed by a hand-written body. */
  private static byte[] withHeaderOf(SpecificRecord record, byte[] body) {
    return concat(Arrays.copyOf(AvroCodec.encode(record), HEADER_BYTES), body);
  }

  /** Avro's zig-zag variable-length long. */
  private static byte[] varLong(long v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  /** A request encoded, its header naming schema fingerprint {@code fingerprint} instead. */
  private static byte[] requestUnderFingerprint(long fingerprint) {
    byte[] bytes = AvroCodec.encode(request());
    ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(fingerprint);
    return bytes;
  }

  private static byte[] floats(float... values) {
    ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    return buf.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
