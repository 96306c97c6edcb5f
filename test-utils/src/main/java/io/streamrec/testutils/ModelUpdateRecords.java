package io.streamrec.testutils;

import io.streamrec.common.StreamrecException;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.schemas.VersionMarker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Assertions on a model-updates topic read back, through the protocol's own decoder: every record
 * must decode (a record the protocol does not allow fails the test, naming its offset).
 */
public final class ModelUpdateRecords {
  private ModelUpdateRecords() {}

  /** Each record decoded, in topic order. */
  public static List<ModelUpdate> decodeAll(List<ConsumerRecord<byte[], byte[]>> records) {
    List<ModelUpdate> out = new ArrayList<>(records.size());
    for (ConsumerRecord<byte[], byte[]> r : records) {
      out.add(decode(r));
    }
    return out;
  }

  /** The version numbers of the markers, in topic order. */
  public static List<Long> versions(List<ConsumerRecord<byte[], byte[]>> records) {
    List<Long> v = new ArrayList<>();
    for (ModelUpdate u : decodeAll(records)) {
      if (u instanceof ModelUpdate.Version m) {
        v.add(m.version());
      }
    }
    return v;
  }

  /**
   * A record as text for comparing runs: its key and value, a marker without its wall-clock publish
   * time (the one field two identical runs differ in). Not the record's timestamp: the topic's
   * broker stamps it when it writes the record ({@code message.timestamp.type=LogAppendTime}); a
   * version's event time is in its marker.
   */
  public static String text(ConsumerRecord<byte[], byte[]> r) {
    return key(r) + " = " + valueText(r);
  }

  /** The compacted view: the latest value under each key, as {@link #text} writes values. */
  public static Map<String, String> latest(List<ConsumerRecord<byte[], byte[]>> records) {
    Map<String, String> m = new TreeMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      m.put(key(r), valueText(r));
    }
    return m;
  }

  private static String valueText(ConsumerRecord<byte[], byte[]> r) {
    ModelUpdate u = decode(r);
    if (u instanceof ModelUpdate.Version v) {
      VersionMarker m = VersionMarker.newBuilder(v.marker()).setPublishedAtMs(0).build();
      return m.toString();
    }
    return r.value() == null ? "tombstone" : Arrays.toString(r.value());
  }

  private static String key(ConsumerRecord<byte[], byte[]> r) {
    return r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
  }

  private static ModelUpdate decode(ConsumerRecord<byte[], byte[]> r) {
    try {
      return ModelUpdateDecoder.decode(r.key(), r.value());
    } catch (StreamrecException e) {
      throw new AssertionError(
          "model-updates offset " + r.offset() + " does not decode: " + e.getMessage(), e);
    }
  }
}
