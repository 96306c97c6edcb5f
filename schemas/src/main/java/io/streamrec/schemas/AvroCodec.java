package io.streamrec.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding (a two-byte marker and the writer schema's CRC-64-AVRO fingerprint head
 * every message) for the records on streamrec's topics.
 *
 * <p>Every topic carries single-object messages, so a reader resolves any writer schema it has been
 * told about without a registry; {@link #decodeAny} dispatches on the fingerprint, which lets one
 * topic (model-updates) carry several record types.
 */
public final class AvroCodec {
  private static final int HEADER_BYTES = 10;
  private static final List<Schema> KNOWN =
      List.of(
          RequestEvent.getClassSchema(),
          ImpressionEvent.getClassSchema(),
          RequestUnit.getClassSchema(),
          ModelDelta.getClassSchema(),
          VersionMarker.getClassSchema(),
          ModelSpec.getClassSchema(),
          DeadLetter.getClassSchema());

  private AvroCodec() {}

  /** Encodes a generated record as a single-object message. */
  public static byte[] encode(SpecificRecord record) {
    BinaryMessageEncoder<SpecificRecord> encoder =
        new BinaryMessageEncoder<>(SpecificData.get(), record.getSchema());
    try {
      ByteBuffer buf = encoder.encode(record);
      byte[] out = new byte[buf.remaining()];
      buf.get(out);
      return out;
    } catch (IOException e) {
      throw new StreamrecException("cannot encode " + record.getSchema().getFullName(), e);
    }
  }

  /** Decodes a single-object message that must hold a {@code type}. */
  public static <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type) {
    SpecificRecord r = decodeAny(bytes);
    if (!type.isInstance(r)) {
      throw new MalformedRecordException(
          DeadLetterReasons.UNKNOWN_SCHEMA,
          "expected " + type.getSimpleName() + " but the message holds " + r.getSchema().getName());
    }
    return type.cast(r);
  }

  /** Decodes a single-object message of any schema streamrec knows. */
  public static SpecificRecord decodeAny(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER_BYTES || bytes[0] != (byte) 0xC3 || bytes[1] != 0x01) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "not an Avro single-object message (bad or missing header)");
    }
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    for (Schema schema : KNOWN) {
      if (SchemaNormalization.parsingFingerprint64(schema) == fingerprint) {
        return decodeWith(schema, bytes);
      }
    }
    throw new MalformedRecordException(
        DeadLetterReasons.UNKNOWN_SCHEMA,
        "unknown schema fingerprint " + Long.toHexString(fingerprint));
  }

  private static SpecificRecord decodeWith(Schema schema, byte[] bytes) {
    MessageDecoder<SpecificRecord> decoder = new BinaryMessageDecoder<>(SpecificData.get(), schema);
    try {
      return decoder.decode(bytes);
    } catch (MissingSchemaException | BadHeaderException e) {
      throw new MalformedRecordException(DeadLetterReasons.UNKNOWN_SCHEMA, e.getMessage(), e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "corrupt " + schema.getName() + " body: " + e.getMessage(), e);
    }
  }
}
