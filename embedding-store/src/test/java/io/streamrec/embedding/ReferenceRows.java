package io.streamrec.embedding;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a store must hold, as {@link EmbeddingStore} promises it, kept as plain maps beside the
 * store in randomized tests: admitted rows by id, their last-seen times, the rows changed since the
 * last drain, and the counters. Subclasses say when an id is admitted.
 */
abstract class ReferenceRows {
  final TableConfig cfg;
  final Map<Long, float[]> rows = new HashMap<>();
  final Map<Long, Long> lastSeen = new HashMap<>();
  final Set<Long> dirty = new HashSet<>();
  long now = Long.MIN_VALUE;
  long lookups, hits, admitted, expired;

  ReferenceRows(TableConfig cfg) {
    this.cfg = cfg;
  }

  /** Whether this sighting of an id without a row admits it. */
  abstract boolean admit(long id);

  float[] initial(long id) {
    float[] out = new float[cfg.rowWidth()];
    RowInitializer.init(cfg, id, out, 0);
    return out;
  }

  /** A lookup in a batch: the values the row must start the batch with. */
  float[] see(long id) {
    lookups++;
    if (rows.containsKey(id)) {
      hits++;
      lastSeen.put(id, now);
      return rows.get(id);
    }
    if (admit(id)) {
      rows.put(id, initial(id));
      lastSeen.put(id, now);
      admitted++;
    }
    return initial(id);
  }

  void advanceTo(long t) {
    if (now == Long.MIN_VALUE) {
      // rows seen before the clock started carry no time: they count as seen when it starts
      lastSeen.replaceAll((id, seen) -> seen == Long.MIN_VALUE ? t : seen);
    }
    now = Math.max(now, t);
  }

  /** The rows the TTL takes at the current time, removed, in ascending id order. */
  List<Long> expire() {
    List<Long> gone = new ArrayList<>();
    if (cfg.ttlMs() > 0 && now != Long.MIN_VALUE) {
      lastSeen.forEach(
          (id, seen) -> {
            if (now - seen > cfg.ttlMs()) {
              gone.add(id);
            }
          });
    }
    gone.sort(null);
    for (long id : gone) {
      rows.remove(id);
      lastSeen.remove(id);
      dirty.remove(id);
    }
    expired += gone.size();
    return gone;
  }
}
