package io.streamrec.job.trainer;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.model.DeltaSink;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The first version a restored trainer publishes after training again the versions the topic
 * already held: every row of the model (the trainer marks them all), and a tombstone for every row
 * the topic holds of this model that the trainer no longer does.
 *
 * <p>The versions trained again are not published twice, so what they changed reaches the topic
 * only if it is what the first run published. With another configuration since the checkpoint (a
 * shorter TTL, another admission threshold) it is not: rows the first run kept and the restored one
 * expired stayed on the topic for good, and replicas served rows the trainer no longer had. After
 * this version the topic holds exactly the trainer's rows, whatever the versions trained again did.
 */
final class WholeModelPublish implements DeltaSink {
  private final DeltaSink out;
  private final Map<String, LongIntHashMap> onTopic = new TreeMap<>();

  /** Publishes to {@code out}; {@code topic}: the rows of this model the topic holds. */
  WholeModelPublish(DeltaSink out, ModelTopicHead.Rows topic) {
    this.out = out;
    topic
        .byTable()
        .forEach(
            (table, ids) -> {
              LongIntHashMap set = new LongIntHashMap(Math.max(16, ids.length));
              for (long id : ids) {
                set.put(id, 0);
              }
              onTopic.put(table, set);
            });
  }

  @Override
  public void row(String table, long id, float[] values, int offset, int dim) {
    held(table, id);
    out.row(table, id, values, offset, dim);
  }

  @Override
  public void tombstone(String table, long id) {
    held(table, id);
    out.tombstone(table, id);
  }

  @Override
  public void dense(String block, float[] values) {
    out.dense(block, values);
  }

  private void held(String table, long id) {
    LongIntHashMap ids = onTopic.get(table);
    if (ids != null) {
      ids.remove(id);
    }
  }

  /**
   * Tombstones the rows the topic holds that this publish neither sent nor tombstoned, each table's
   * in ascending id order; returns how many.
   */
  int finish() {
    int n = 0;
    for (Map.Entry<String, LongIntHashMap> e : onTopic.entrySet()) {
      long[] gone = e.getValue().keys();
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
