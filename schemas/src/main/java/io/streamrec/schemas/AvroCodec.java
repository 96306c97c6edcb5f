package io.streamrec.schemas;

import io.streamrec.common.StreamrecException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding (a two-byte marker and the writer schema's CRC-64-AVRO fingerprint
 * head every message) for the records on streamrec's topics.
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

  /**
   * Earlier writer schemas of the records above, as classpath resources, each decoded into today's
   * record by Avro's schema resolution. The model-updates topic is compacted, so a row written by
   * an older release can stay on it indefinitely; a reader that skipped it would silently lose the
   * row.
   */
  private static final List<String> EARLIER =
      List.of(
          "history/ModelDelta-1.avsc",
          "history/ModelDelta-2.avsc",
          "history/VersionMarker-1.avsc",
          "history/ModelSpec-1.avsc",
          "history/DeadLetter-1.avsc");

  /** Codecs by writer-schema fingerprint, built once: fingerprinting a schema is costly. */
  private static final Map<Long, Codec> BY_FINGERPRINT = new HashMap<>();

  /** The same codecs by schema, for encoding. */
  private static final Map<Schema, Codec> BY_SCHEMA = new IdentityHashMap<>();

  /**
   * A writer schema's encoder and decoder; both are thread-safe (they keep their buffers per
   * thread). For an earlier writer schema the encoder is null and the decoder resolves to today's.
   */
  private record Codec(
      Schema schema,
      BinaryMessageEncoder<SpecificRecord> encoder,
      BinaryMessageDecoder<SpecificRecord> decoder) {}

  static {
    for (Schema schema : KNOWN) {
      Codec c =
          new Codec(
              schema,
              new BinaryMessageEncoder<>(SpecificData.get(), schema),
              new BinaryMessageDecoder<>(SpecificData.get(), schema));
      BY_FINGERPRINT.put(SchemaNormalization.parsingFingerprint64(schema), c);
      BY_SCHEMA.put(schema, c);
    }
    for (String resource : EARLIER) {
      Schema writer = earlierSchema(resource);
      Codec current =
          BY_SCHEMA.values().stream()
              .filter(k -> k.schema().getFullName().equals(writer.getFullName()))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException(resource + " names no current schema"));
      BinaryMessageDecoder<SpecificRecord> decoder =
          new BinaryMessageDecoder<>(SpecificData.get(), current.schema());
      decoder.addSchema(writer);
      BY_FINGERPRINT.put(
          SchemaNormalization.parsingFingerprint64(writer), new Codec(writer, null, decoder));
    }
  }

  private static Schema earlierSchema(String resource) {
    try (var in = AvroCodec.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing schema resource " + resource);
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read schema resource " + resource, e);
    }
  }

  private AvroCodec() {}

  /** Encodes a generated record as a single-object message. */
  public static byte[] encode(SpecificRecord record) {
    Codec c = BY_SCHEMA.get(record.getSchema());
    BinaryMessageEncoder<SpecificRecord> encoder =
        c != null
            ? c.encoder()
            : new BinaryMessageEncoder<>(SpecificData.get(), record.getSchema());
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
    SpecificRecord r;
    try {
      r = decodeAny(bytes);
    } catch (MalformedRecordException e) {
      if (!e.reason().equals(DeadLetterReasons.UNKNOWN_SCHEMA)) {
        throw e;
      }
      // name what the topic takes: a producer's schema changed even compatibly is unknown
      Schema expected = SpecificData.get().getSchema(type);
      throw new MalformedRecordException(
          DeadLetterReasons.UNKNOWN_SCHEMA,
          e.getMessage()
              + String.format(
                  "; this topic takes %s messages, of fingerprint %016x",
                  type.getSimpleName(), SchemaNormalization.parsingFingerprint64(expected)),
          e);
    }
    if (!type.isInstance(r)) {
      throw new MalformedRecordException(
          DeadLetterReasons.UNKNOWN_SCHEMA,
          "expected " + type.getSimpleName() + " but the message holds " + r.getSchema().getName());
    }
    return type.cast(r);
  }

  /** Decodes a single-object message of any schema streamrec knows. */
  public static SpecificRecord decodeAny(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "not an Avro single-object message: " + (bytes == null ? "no value (null)" : "no bytes"));
    }
    if (bytes.length >= 5 && bytes[0] == 0) {
      // a schema registry's framing: magic byte 0, then a 4-byte schema id
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "not an Avro single-object message: a schema registry's message (magic byte 0, schema id "
              + ByteBuffer.wrap(bytes, 1, 4).getInt()
              + "). The job reads Avro single-object encoding (0xC3 0x01, then the schema's"
              + " fingerprint) of its own schemas; write that, or JSON through streamrec produce");
    }
    if (bytes.length < HEADER_BYTES || bytes[0] != (byte) 0xC3 || bytes[1] != 0x01) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "not an Avro single-object message (bad or missing header)");
    }
    long fingerprint =
        ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    Codec c = BY_FINGERPRINT.get(fingerprint);
    if (c != null) {
      return decodeWith(c, bytes);
    }
    throw new MalformedRecordException(
        DeadLetterReasons.UNKNOWN_SCHEMA,
        String.format(
            "unknown schema fingerprint %016x: messages are written with the job's own schemas"
                + " (schemas/src/main/avro) exactly, and any change to one, a field added too, gives"
                + " it another fingerprint",
            fingerprint));
  }

  private static SpecificRecord decodeWith(Codec c, byte[] bytes) {
    Schema schema = c.schema();
    new BodyScan(schema, bytes).check();
    try {
      return c.decoder().decode(bytes);
    } catch (MissingSchemaException | BadHeaderException e) {
      throw new MalformedRecordException(DeadLetterReasons.UNKNOWN_SCHEMA, e.getMessage(), e);
    } catch (IOException
        | AvroRuntimeException
        | IndexOutOfBoundsException
        | NegativeArraySizeException
        | UnsupportedOperationException e) {
      // Avro throws UnsupportedOperationException for a length or count beyond what a Java array
      // can hold; BodyScan rejects those first, this keeps any that slip past typed.
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "corrupt " + schema.getName() + " body: " + e.getMessage(),
          e);
    }
  }

  /**
   * Walks a body against its writer schema without allocating anything, before Avro decodes it.
   * Avro sizes a collection from its block count before reading a single item, so a corrupt count
   * of a few billion in a 30-byte message runs the heap out (an {@link OutOfMemoryError}, not an
   * exception a caller can route to the dead letters). Here no string, bytes or collection block
   * may claim more than the bytes left in the message: each item of a block takes at least one byte
   * in every streamrec schema.
   */
  private static final class BodyScan {
    private final Schema schema;
    private final byte[] bytes;
    private int pos = HEADER_BYTES;

    BodyScan(Schema schema, byte[] bytes) {
      this.schema = schema;
      this.bytes = bytes;
    }

    void check() {
      value(schema);
      if (pos != bytes.length) {
        // Avro stops where the record ends and would take the rest for nothing: a record glued to
        // another, or padded, is not the record its producer meant
        throw new MalformedRecordException(
            DeadLetterReasons.MALFORMED,
            (bytes.length - pos)
                + " byte(s) after the end of the "
                + schema.getName()
                + " body ("
                + bytes.length
                + " bytes in all)");
      }
    }

    private void value(Schema s) {
      switch (s.getType()) {
        case NULL -> {}
        case BOOLEAN -> skip(1);
        case INT, LONG, ENUM -> varLong();
        case FLOAT -> skip(4);
        case DOUBLE -> skip(8);
        case FIXED -> skip(s.getFixedSize());
        case STRING, BYTES -> skip(varLong());
        case RECORD -> s.getFields().forEach(f -> value(f.schema()));
        case UNION -> {
          long branch = varLong();
          if (branch < 0 || branch >= s.getTypes().size()) {
            throw corrupt("union branch " + branch + " of " + s.getTypes().size());
          }
          value(s.getTypes().get((int) branch));
        }
        case ARRAY, MAP -> {
          for (long n = varLong(); n != 0; n = varLong()) {
            if (n < 0) {
              n = -n; // a negative count is followed by the block's size in bytes
              varLong();
            }
            checkFits(n);
            for (long i = 0; i < n; i++) {
              if (s.getType() == Schema.Type.MAP) {
                skip(varLong());
              }
              value(s.getType() == Schema.Type.MAP ? s.getValueType() : s.getElementType());
            }
          }
        }
      }
    }

    private void skip(long n) {
      checkFits(n);
      pos += (int) n;
    }

    private void checkFits(long n) {
      if (n < 0 || n > bytes.length - pos) {
        throw corrupt(
            "a length or count of " + n + " with " + (bytes.length - pos) + " bytes left");
      }
    }

    /** Avro's zig-zag varint, at most 10 bytes. */
    private long varLong() {
      long raw = 0;
      for (int shift = 0; shift < 70; shift += 7) {
        if (pos == bytes.length) {
          throw corrupt("truncated");
        }
        int b = bytes[pos++] & 0xff;
        raw |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return (raw >>> 1) ^ -(raw & 1);
        }
      }
      throw corrupt("a varint longer than 10 bytes");
    }

    private MalformedRecordException corrupt(String what) {
      return new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "corrupt " + schema.getName() + " body: " + what);
    }
  }
}
