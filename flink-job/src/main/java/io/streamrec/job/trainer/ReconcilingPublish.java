package io.streamrec.job.trainer;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.model.DeltaSink;
import java.util.Arrays;
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
 * only the rows the topic does not hold, and those it holds as the versions trained again left them
 * ({@link #trainingAgain}), go out, and {@link #finish} tombstones the rows the topic holds of this
 * model that the trainer has not. Where the versions trained again did what the first run did (the
 * same configuration on the CPU: training is deterministic), the rows sent again carry the values
 * the topic holds, and replicas end at the model an uninterrupted run publishes.
 */
final class ReconcilingPublish implements DeltaSink {
  private final DeltaSink out;

  /**
   * Per table: the rows the topic holds ({@link #ON_TOPIC}, the value {@link ModelTopicHead#rowsOf}
   * gives them) and those this version named.
   */
  private final Map<String, LongIntHashMap> onTopic = new TreeMap<>();

  private static final int ON_TOPIC = 0;
  private static final int NAMED = 1;

  /**
   * A row the topic holds that a version trained again changed ({@link #trainingAgain}): the topic
   * holds the first run's value, which the run trained again need not have come to.
   */
  private static final int TRAINED_AGAIN = 2;

  private final boolean everyRow;
  private boolean lacksOnly;
  private int sent;

  /**
   * Publishes to {@code out}; {@code topic}: the rows of this model the topic holds, per table a
   * set of ids ({@link ModelTopicHead#rowsOf}), which this publish takes over and empties.
   */
  ReconcilingPublish(DeltaSink out, Map<String, LongIntHashMap> topic) {
    this(out, topic, false);
  }

  /**
   * With {@code everyRow}, the second pass sends every row the first did not, those the topic holds
   * too: for a topic whose rows may hold older values than the trainer's (versions that never
   * reached it), so that the version makes it the trainer's model whole.
   */
  ReconcilingPublish(DeltaSink out, Map<String, LongIntHashMap> topic, boolean everyRow) {
    this.out = out;
    this.onTopic.putAll(topic);
    this.everyRow = everyRow;
  }

  /**
   * A sink for the versions trained again and not published, passing everything on to {@code out}:
   * each row they change that {@code topic} (the rows of this model the topic holds, as {@link
   * ModelTopicHead#rowsOf} gives them, before the publish that takes them over) holds is marked,
   * and the second pass sends it again. Those versions are those the topic holds; where the run
   * trained again did not do what the first did (another TTL, admission threshold or hot capacity
   * since the checkpoint, or the CUDA backend, which is not bit-exact), their rows on the topic
   * kept the first run's values beside the new run's dense blocks until they next changed.
   */
  static DeltaSink trainingAgain(DeltaSink out, Map<String, LongIntHashMap> topic) {
    return new DeltaSink() {
      @Override
      public void row(String table, long id, float[] values, int offset, int dim) {
        LongIntHashMap ids = topic.get(table);
        if (ids != null && ids.get(id) != LongIntHashMap.MISSING) {
          ids.put(id, TRAINED_AGAIN);
        }
        out.row(table, id, values, offset, dim);
      }

      @Override
      public void tombstone(String table, long id) {
        out.tombstone(table, id);
      }

      @Override
      public void dense(String block, float[] values) {
        out.dense(block, values);
      }
    };
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
        || everyRow && was == ON_TOPIC) {
      out.row(table, id, values, offset, dim);
      sent++;
    }
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
   * Whether the topic holds this row ({@link #ON_TOPIC}), this version already named it ({@link
   * #NAMED}) or neither ({@link LongIntHashMap#MISSING}). In the first pass every row named is
   * recorded as such (a version's changes: few); in the second, which names each row of the model
   * once, a row the topic holds is only taken off the rows {@link #finish} tombstones.
   */
  private int named(String table, long id) {
    LongIntHashMap ids = onTopic.computeIfAbsent(table, t -> new LongIntHashMap(16));
    int v = ids.get(id);
    if (!lacksOnly) {
      ids.put(id, NAMED);
    } else if (v == ON_TOPIC || v == TRAINED_AGAIN) {
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
              .filter(id -> ids.get(id) == ON_TOPIC || ids.get(id) == TRAINED_AGAIN)
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
