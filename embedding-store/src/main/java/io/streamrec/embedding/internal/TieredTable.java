package io.streamrec.embedding.internal;

import io.streamrec.common.LongIntHashMap;
import io.streamrec.embedding.EmbeddingStore.ExpiredSink;
import io.streamrec.embedding.EmbeddingStore.RowSink;
import io.streamrec.embedding.PreparedKeys;
import io.streamrec.embedding.RowInitializer;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * One table of the tiered store: a bounded hot tier over the shared cold tier, put together from
 * its concerns: the batch's placement ({@link BatchPlacement}: the hot index, cold lookups, {@link
 * Admission}), {@link Eviction} and write-back, {@link DirtyRows}, {@link Expiry} and the table's
 * part of a snapshot ({@link TableSnapshot}). Not thread-safe.
 */
public final class TieredTable implements AutoCloseable {
  private final TableState t;
  private final Eviction eviction;
  private final BatchPlacement placement;
  private final DirtyRows dirty;
  private final Expiry expiry;
  private final TableSnapshot snapshot;

  public TieredTable(
      int index,
      TableConfig cfg,
      ComputeBackend backend,
      RocksDbColdTier cold,
      LongSupplier clock) {
    this.t = new TableState(index, cfg, backend, cold, clock);
    this.eviction = new Eviction(t);
    this.placement = new BatchPlacement(t, eviction);
    this.dirty = new DirtyRows(t);
    this.expiry = new Expiry(t);
    this.snapshot = new TableSnapshot(t);
  }

  public TableConfig config() {
    return t.cfg;
  }

  /** Prepares {@code count} keys of a batch: deduplicated, a hot slot each, pinned. */
  public PreparedKeys prepare(long[] keys, int count) {
    return placement.prepare(keys, count);
  }

  /** The hot slab (valid until the next prepare). */
  public Floats slab() {
    return t.hot.slab();
  }

  public void markUpdated(PreparedKeys prepared) {
    dirty.markUpdated(prepared);
  }

  /** Unpins the batch's rows. */
  public void release() {
    t.hot.releaseAll();
  }

  public int drainDirty(int maxRows, RowSink sink) {
    return dirty.drainDirty(maxRows, sink);
  }

  /** Marks the rows of a slice of the id space as changed ({@code EmbeddingStore#markSlice}). */
  public int markSlice(int slice, int slices) {
    return dirty.markSlice(slice, slices);
  }

  public int drainExpired(ExpiredSink sink) {
    return expiry.drainExpired(sink);
  }

  /** The clock starts at {@code now}: rows seen before it count as seen now. */
  public void stampUnseen(long now) {
    expiry.stampUnseen(now);
  }

  /** Writes every stale hot row back (before a snapshot). */
  public void flushStale() {
    eviction.flushStale();
  }

  /** Reads a row's current values (its initial values if it has no row). */
  public void read(long id, float[] out) {
    int s = t.hot.slotOf(id);
    if (s != LongIntHashMap.MISSING) {
      t.hot.readRow(s, out, 0);
      return;
    }
    byte[] v = t.coldOnly() > 0 ? t.cold.get(t.index, id) : null;
    if (v != null) {
      RocksDbColdTier.decodeValue(v, t.w, out, 0);
    } else {
      RowInitializer.init(t.cfg, id, out, 0);
    }
  }

  public void writeMetadata(DataOutputStream out) throws IOException {
    snapshot.writeMetadata(out);
  }

  /** {@code fileBytes}: the size of the file {@code in} reads, which bounds every count in it. */
  public void readMetadata(DataInputStream in, long fileBytes) throws IOException {
    snapshot.readMetadata(in, fileBytes);
  }

  public long lookups() {
    return t.lookups;
  }

  public long hits() {
    return t.hits;
  }

  public long hotRows() {
    return t.hot.resident();
  }

  public long coldOnlyRows() {
    return t.coldOnly();
  }

  public long admitted() {
    return t.admitted;
  }

  public long evicted() {
    return t.evicted;
  }

  public long expired() {
    return t.expired;
  }

  @Override
  public void close() {
    t.hot.close();
  }
}
