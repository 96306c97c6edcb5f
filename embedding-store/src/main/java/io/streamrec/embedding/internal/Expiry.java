package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.EmbeddingStore.ExpiredSink;
import java.util.Arrays;
import org.rocksdb.RocksDBException;

/**
 * TTL expiry: hot rows are checked by a scan of the slot metadata (a few bytes per slot); cold rows
 * through the last-seen index (a column family of (time, id) keys maintained with every
 * write-back), of which a drain reads exactly the entries older than the cutoff, so its cost is
 * proportional to what expires, never to the size of the cold tier. Also stamps the rows seen
 * before the store's clock started.
 */
final class Expiry {
  private final TableState t;

  Expiry(TableState t) {
    this.t = t;
  }

  int drainExpired(ExpiredSink sink) {
    if (!t.ttl || t.now() == Long.MIN_VALUE || t.now() < Long.MIN_VALUE + t.cfg.ttlMs()) {
      return 0;
    }
    long cutoff = t.now() - t.cfg.ttlMs(); // expired: last seen before the cutoff
    int[] hotGone = new int[16];
    int nh = 0;
    for (int s = 0; s < t.hot.highWater(); s++) {
      if ((t.hot.flags(s) & HotTier.RESIDENT) != 0 && t.hot.lastSeen(s) < cutoff) {
        if (nh == hotGone.length) {
          hotGone = Arrays.copyOf(hotGone, nh * 2);
        }
        hotGone[nh++] = s;
      }
    }
    ColdExpiry coldGone = new ColdExpiry();
    t.cold.scanSeen(
        t.index,
        t.seenFloor,
        cutoff,
        (seen, id) -> {
          // index entries of hot rows may be older than the row: the hot scan above decides for
          // them
          if (t.hot.slotOf(id) == LongIntHashMap.MISSING) {
            coldGone.add(id, seen);
          }
        });
    int total = nh + coldGone.n;
    long[] ids = new long[total];
    try (RocksDbColdTier.Batch b = t.cold.batch()) {
      for (int i = 0; i < nh; i++) {
        int s = hotGone[i];
        long id = t.hot.keyOf(s);
        ids[i] = id;
        if ((t.hot.flags(s) & HotTier.IN_COLD) != 0) {
          b.deleteRow(t.index, id);
          b.deleteSeen(t.index, t.hot.coldSeen(s), id);
          t.coldCount--;
        }
        t.hot.remove(s);
      }
      for (int i = 0; i < coldGone.n; i++) {
        long id = coldGone.ids[i];
        ids[nh + i] = id;
        b.deleteRow(t.index, id);
        b.deleteSeen(t.index, coldGone.times[i], id);
        t.coldCount--;
        t.changedCold.remove(id);
      }
      t.cold.write(b);
    } catch (RocksDBException e) {
      throw RocksDbColdTier.failed("delete expired rows of table '" + t.cfg.name() + "'", e);
    }
    t.seenFloor = cutoff;
    t.expired += total;
    Arrays.sort(ids);
    for (long id : ids) {
      sink.accept(id);
    }
    return total;
  }

  /** The clock starts: rows seen before it count as seen now. */
  void stampUnseen(long startMs) {
    for (int s = 0; s < t.hot.highWater(); s++) {
      if ((t.hot.flags(s) & HotTier.RESIDENT) != 0 && t.hot.lastSeen(s) == Long.MIN_VALUE) {
        t.hot.touchTime(s, startMs, t.ttl);
      }
    }
    if (!t.ttl) {
      return;
    }
    LongIntHashMap unseen = new LongIntHashMap(64);
    t.cold.scanSeen(
        t.index,
        Long.MIN_VALUE,
        Long.MIN_VALUE + 1,
        (seen, id) -> {
          if (t.hot.slotOf(id) == LongIntHashMap.MISSING) {
            unseen.put(id, 0);
          }
        });
    long[] ids = unseen.keys();
    Arrays.sort(ids);
    try (RocksDbColdTier.Batch b = t.cold.batch()) {
      for (long id : ids) {
        byte[] v = t.cold.get(t.index, id);
        RocksDbColdTier.restamp(v, t.w, startMs);
        b.putRow(t.index, id, v);
        b.deleteSeen(t.index, Long.MIN_VALUE, id);
        b.putSeen(t.index, startMs, id);
      }
      t.cold.write(b);
    } catch (RocksDBException e) {
      throw RocksDbColdTier.failed("start the clock of table '" + t.cfg.name() + "'", e);
    }
  }

  /** Cold rows found expired by one index scan. */
  private static final class ColdExpiry {
    long[] ids = new long[16];
    long[] times = new long[16];
    int n;

    void add(long id, long time) {
      if (n == ids.length) {
        ids = Arrays.copyOf(ids, n * 2);
        times = Arrays.copyOf(times, n * 2);
      }
      ids[n] = id;
      times[n++] = time;
    }
  }
}
