package io.streamrec.job.trainer;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.model.DeltaSink;
import io.streamrec.protocol.HalfFloats;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.RowEncoding;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The first version a restored trainer publishes after training again the versions the topic
 * already held. Those versions are not published twice, so what they changed reaches the topic only
 * where it is what the first run published. With another configuration since the checkpoint (a
 * shorter TTL, another admission threshold) it is not: rows the first run kept and the restored one
 * expired stayed on the topic for good, and replicas served rows the trainer no longer had.
 *
 * <p>The version goes out in two passes. First as any version ({@link #row} and {@link #tombstone}
 * pass everything on). Then, after {@link #onlyWhatTheTopicLacks}, over every row of the model:
 * only the rows the topic does not hold, and those it holds at another value than the trainer's
 * (compared as a reader decodes them), go out, and {@link #finish} tombstones the rows the topic
 * holds of this model that the trainer has not. Where the versions trained again did what the first
 * run did (the same configuration on the CPU: training is deterministic), the second pass sends
 * nothing and the version is the one an uninterrupted run publishes.
 */
final class ReconcilingPublish implements DeltaSink {
  private final DeltaSink out;

  /**
   * Per table: the rows the topic holds (the hash of their values {@link ModelTopicHead#rowsOf}
   * gives them) and those this version named.
   */
  private final Map<String, LongIntHashMap> onTopic = new TreeMap<>();

  private static final int NAMED = 1;

  /**
   * A row the topic holds at another value than the versions trained again left it at ({@link
   * #markTrainedAgain}). Any other mark of a row that is not {@link #NAMED} is one the topic holds
   * (the hash of its values).
   */
  private static final int TRAINED_AGAIN = 2;

  /** A row the versions trained again tombstoned ({@link #noteTrainedAgain}). */
  private static final int GONE = 3;

  private final boolean everyRow;

  /** The encoding rows are published in: the topic's values are compared as it gives them. */
  private final RowEncoding encoding;

  private boolean lacksOnly;
  private int sent;

  /**
   * Publishes to {@code out}; {@code topic}: the rows of this model the topic holds, per table a
   * set of ids ({@link ModelTopicHead#rowsOf}), which this publish takes over and empties.
   */
  ReconcilingPublish(DeltaSink out, Map<String, LongIntHashMap> topic) {
    this(out, topic, false, RowEncoding.FLOAT32);
  }

  /**
   * With {@code everyRow}, the second pass sends every row the first did not, those the topic holds
   * too: for a topic whose rows may hold older values than the trainer's (versions that never
   * reached it), so that the version makes it the trainer's model whole. Rows go out in {@code
   * encoding}.
   */
  ReconcilingPublish(
      DeltaSink out, Map<String, LongIntHashMap> topic, boolean everyRow, RowEncoding encoding) {
    this.out = out;
    this.onTopic.putAll(topic);
    this.everyRow = everyRow;
    this.encoding = encoding;
  }

  /**
   * Notes in {@code trainedAgain} (per table, id to the {@link ModelTopicHead#valueHash} of the
   * values, or {@link #GONE}) what the records of a version trained again and not published left
   * each row at; call it per such version, in order.
   */
  static void noteTrainedAgain(
      List<ModelUpdateRecord> records, Map<String, LongIntHashMap> trainedAgain) {
    for (ModelUpdateRecord r : records) {
      ModelUpdate u = ModelUpdateDecoder.decode(r.key, r.value);
      if (u instanceof ModelUpdate.Row row) {
        trainedAgain
            .computeIfAbsent(row.table(), t -> new LongIntHashMap(16))
            .put(row.id(), ModelTopicHead.valueHash(row.values()));
      } else if (u instanceof ModelUpdate.Tombstone t) {
        trainedAgain.computeIfAbsent(t.table(), x -> new LongIntHashMap(16)).put(t.id(), GONE);
      }
    }
  }

  /**
   * Marks in {@code topic} the rows whose value the versions trained again ({@code trainedAgain},
   * {@link #noteTrainedAgain}) left other than the topic holds: the second pass sends them again.
   * Those versions are those the topic holds; where the run trained again did not do what the first
   * did (another TTL, admission threshold or hot capacity since the checkpoint, or the CUDA
   * backend, which is not bit-exact), those rows on the topic kept the first run's values beside
   * the new run's dense blocks until they next changed. Rows of the same values are not sent again:
   * a restore of the same configuration on the CPU publishes what an uninterrupted run does.
   */
  static void markTrainedAgain(
      Map<String, LongIntHashMap> topic, Map<String, LongIntHashMap> trainedAgain) {
    trainedAgain.forEach(
        (table, ids) -> {
          LongIntHashMap held = topic.get(table);
          if (held == null) {
            return;
          }
          for (long id : ids.keys()) {
            int was = held.get(id), now = ids.get(id);
            if (onTopic(was) && now != GONE && now != was) {
              held.put(id, TRAINED_AGAIN);
            }
          }
        });
  }

  private static boolean onTopic(int mark) {
    return mark != LongIntHashMap.MISSING && mark != NAMED && mark != TRAINED_AGAIN;
  }

  /** From now on only rows the topic does not hold go out; no tombstones, no dense blocks. */
  void onlyWhatTheTopicLacks() {
    lacksOnly = true;
  }

  @Override
  public void row(String table, long id, float[] values, int offset, int dim) {
    int was = named(table, id);
    if (!lacksOnly) {
      out.row(table, id, values, offset, dim);
    } else if (was == LongIntHashMap.MISSING
        || was == TRAINED_AGAIN
        || onTopic(was) && (everyRow || was != publishedHash(values, offset, dim))) {
      // a row the topic holds at another value than the trainer's: the first run's, of a version
      // trained again that did not name it (a unit skipped or joined otherwise in one run), or of
      // the publish the failure cut short; left there, it is served beside this run's dense blocks
      out.row(table, id, values, offset, dim);
      sent++;
    }
  }

  /** The {@link ModelTopicHead#valueHash} of a row's values as a reader decodes them. */
  private int publishedHash(float[] values, int offset, int dim) {
    float[] v = new float[dim];
    for (int j = 0; j < dim; j++) {
      float x = values[offset + j];
      v[j] =
          switch (encoding) {
            case FLOAT32 -> x;
            case FLOAT16 -> HalfFloats.fromFloat16(HalfFloats.toFloat16(x));
            case BFLOAT16 -> HalfFloats.fromBfloat16(HalfFloats.toBfloat16(x));
          };
    }
    return ModelTopicHead.valueHash(v);
  }

  @Override
  public void tombstone(String table, long id) {
    named(table, id);
    if (!lacksOnly) {
      out.tombstone(table, id);
    }
  }

  @Override
  public void dense(String block, float[] values) {
    if (!lacksOnly) {
      out.dense(block, values);
    }
  }

  /**
   * Whether the topic holds this row (the hash of its values, or {@link #TRAINED_AGAIN}), this
   * version already named it ({@link #NAMED}) or neither ({@link LongIntHashMap#MISSING}). In the
   * first pass every row named is recorded as such (a version's changes: few); in the second, which
   * names each row of the model once, a row the topic holds is only taken off the rows {@link
   * #finish} tombstones.
   */
  private int named(String table, long id) {
    LongIntHashMap ids = onTopic.computeIfAbsent(table, t -> new LongIntHashMap(16));
    int v = ids.get(id);
    if (!lacksOnly) {
      ids.put(id, NAMED);
    } else if (onTopic(v) || v == TRAINED_AGAIN) {
      ids.remove(id);
    }
    return v;
  }

  /**
   * Rows the second pass sent: those the topic lacked or held from versions trained again (and,
   * with every row, the rest).
   */
  int rowsSent() {
    return sent;
  }

  /**
   * Tombstones the rows the topic holds that neither pass named, each table's in ascending id
   * order; returns how many.
   */
  int finish() {
    int n = 0;
    for (Map.Entry<String, LongIntHashMap> e : onTopic.entrySet()) {
      LongIntHashMap ids = e.getValue();
      long[] gone =
          Arrays.stream(ids.keys())
              .filter(id -> onTopic(ids.get(id)) || ids.get(id) == TRAINED_AGAIN)
              .toArray();
      Arrays.sort(gone);
      for (long id : gone) {
        out.tombstone(e.getKey(), id);
      }
      n += gone.length;
    }
    onTopic.clear();
    return n;
  }
}
