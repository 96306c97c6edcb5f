package io.streamrec.embedding;

import static io.streamrec.embedding.InMemoryEmbeddingStoreTest.collectExpired;
import static io.streamrec.embedding.InMemoryEmbeddingStoreTest.drainAll;
import static io.streamrec.embedding.InMemoryEmbeddingStoreTest.initial;
import static io.streamrec.embedding.InMemoryEmbeddingStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.gpu.CpuBackend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TieredEmbeddingStoreTest {
  static final int DIM = 4;
  static final int STATE = 2;

  @TempDir Path tmp;
  private final List<TieredEmbeddingStore> open = new ArrayList<>();

  @AfterEach
  void closeStores() {
    open.forEach(TieredEmbeddingStore::close);
  }

  static TableConfig table(String name, int capacity, int admissionThreshold, long ttlMs) {
    return new TableConfig(name, DIM, STATE, capacity, admissionThreshold, ttlMs, 0.05f);
  }

  private TieredEmbeddingStore store(TableConfig... tables) {
    return store(tmp.resolve("work"), tables);
  }

  private TieredEmbeddingStore store(Path work, TableConfig... tables) {
    TieredEmbeddingStore s =
        TieredEmbeddingStore.create(
            new TieredStoreConfig(work, 8 << 20, 4 << 20), List.of(tables), new CpuBackend());
    open.add(s);
    return s;
  }

  private TieredEmbeddingStore restore(Path work, Path snapshot, TableConfig... tables) {
    TieredEmbeddingStore s =
        TieredEmbeddingStore.open(
            new TieredStoreConfig(work, 8 << 20, 4 << 20),
            snapshot,
            List.of(tables),
            new CpuBackend());
    open.add(s);
    return s;
  }

  /**
   * Prepares {@code ids} as one batch, sets each row to {@code id * scale} everywhere, marks,
   * releases.
   */
  static void update(EmbeddingStore s, int table, float scale, long... ids) {
    PreparedKeys p = OpenBatches.of(s).prepare(table, ids, ids.length);
    int w = s.tables().get(table).rowWidth();
    float[] slab = CpuBackend.array(OpenBatches.of(s).slab(table));
    for (int d = 0; d < p.distinctCount(); d++) {
      Arrays.fill(
          slab,
          p.distinctSlots()[d] * w,
          (p.distinctSlots()[d] + 1) * w,
          p.distinctKeys()[d] * scale);
    }
    OpenBatches.of(s).markUpdated(table, p);
    OpenBatches.close(s);
  }

  static void touch(EmbeddingStore s, int table, long... ids) {
    OpenBatches.of(s).prepare(table, ids, ids.length);
    OpenBatches.close(s);
  }

  // ---- tiers ----------------------------------------------------------------------------------

  @Test
  void rowsKeepTheirValuesThroughEvictionAndPromotion() {
    TableConfig user = table("user", 3, 1, 0);
    TieredEmbeddingStore s = store(user);
    for (long id = 1; id <= 10; id++) {
      update(s, 0, 0.5f, id);
    }
    StoreStats stats = s.stats();
    assertThat(stats.rowsHot()).isEqualTo(3);
    assertThat(stats.rowsCold()).isEqualTo(7);
    assertThat(stats.evicted()).isEqualTo(7);

    for (long id = 1; id <= 10; id++) {
      assertThat(read(s, 0, id)).as("read of %d", id).containsOnly(id * 0.5f);
    }
    PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {1, 2, 11}, 3);
    float[] slab = CpuBackend.array(OpenBatches.of(s).slab(0));
    int w = user.rowWidth();
    assertThat(Arrays.copyOfRange(slab, p.slots()[0] * w, p.slots()[0] * w + w)).containsOnly(0.5f);
    assertThat(Arrays.copyOfRange(slab, p.slots()[1] * w, p.slots()[1] * w + w)).containsOnly(1f);
    assertThat(Arrays.copyOfRange(slab, p.slots()[2] * w, p.slots()[2] * w + w))
        .containsExactly(initial(user, 11));
    OpenBatches.close(s);
    assertThat(s.stats().rowsHot() + s.stats().rowsCold()).isEqualTo(11);
  }

  @Test
  void theHotSlabNeverGrowsPastTheHotCapacity() {
    // more than a new slab's 1024 rows: a slab that doubled past the capacity held 2048 rows, and
    // for a capacity of millions of wide rows the doubled size was past what one slab can hold
    TableConfig user = table("user", 1500, 1, 0);
    TieredEmbeddingStore s = store(user);
    long id = 0;
    for (int b = 0; b < 4; b++) {
      long[] ids = new long[500];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = ++id;
      }
      update(s, 0, 1f, ids);
    }

    assertThat(s.stats().rowsHot()).isEqualTo(1500);
    assertThat(s.stats().rowsCold()).isEqualTo(500);
    assertThat(OpenBatches.of(s).slab(0).length()).isEqualTo(1500 * user.rowWidth());
    OpenBatches.close(s);
    for (long k = 1; k <= id; k++) {
      assertThat(read(s, 0, k)).as("read of %d", k).containsOnly((float) k);
    }
  }

  @Test
  void aBatchLargerThanTheHotTierFailsNamingTheTableAndItsCapacity() {
    TieredEmbeddingStore s = store(table("user", 3, 1, 0));

    assertThatThrownBy(() -> OpenBatches.of(s).prepare(0, new long[] {1, 2, 3, 4}, 4))
        .isInstanceOf(HotTierFullException.class)
        .hasMessageContainingAll("'user'", "3 rows", "pinned");
  }

  @Test
  void pinnedRowsAreNeverEvicted() {
    TableConfig user = table("user", 4, 1, 0);
    TieredEmbeddingStore s = store(user);
    update(s, 0, 1f, 1, 2, 3, 4);

    // one batch, two prepares: rows 1 and 2 are pinned when 5 and 6 need room
    PreparedKeys first = OpenBatches.of(s).prepare(0, new long[] {1, 2}, 2);
    PreparedKeys second = OpenBatches.of(s).prepare(0, new long[] {5, 6}, 2);
    assertThatThrownBy(() -> OpenBatches.of(s).prepare(0, new long[] {7}, 1))
        .as("every row is pinned now")
        .isInstanceOf(HotTierFullException.class)
        .hasMessageContainingAll("'user'", "4 rows", "4 of them are pinned");

    float[] slab = CpuBackend.array(OpenBatches.of(s).slab(0));
    int w = user.rowWidth();
    assertThat(Arrays.copyOfRange(slab, first.slots()[0] * w, first.slots()[0] * w + w))
        .containsOnly(1f);
    assertThat(Arrays.copyOfRange(slab, first.slots()[1] * w, first.slots()[1] * w + w))
        .containsOnly(2f);
    assertThat(second.distinctSlots()).doesNotContain(first.slots()[0], first.slots()[1]);
    OpenBatches.close(s);

    assertThat(s.stats().evicted()).isEqualTo(2);
    assertThat(read(s, 0, 3)).containsOnly(3f);
    assertThat(read(s, 0, 4)).containsOnly(4f);
    touch(s, 0, 7);
    assertThat(s.stats().rowsHot()).isEqualTo(4);
  }

  // ---- admission ------------------------------------------------------------------------------

  @Test
  void anIdIsStoredFromItsNthSightingAndReadsAsItsInitialValueBefore() {
    TableConfig user = table("user", 10, 3, 0);
    TieredEmbeddingStore s = store(user);
    for (int sighting = 1; sighting <= 2; sighting++) {
      PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {77, 78}, 2);
      float[] slab = CpuBackend.array(OpenBatches.of(s).slab(0));
      int w = user.rowWidth();
      assertThat(Arrays.copyOfRange(slab, p.slots()[0] * w, p.slots()[0] * w + w))
          .as("sighting %d starts fresh", sighting)
          .containsExactly(initial(user, 77));
      Arrays.fill(
          slab, p.slots()[0] * w, p.slots()[0] * w + w, 3f); // the trainer writes; nothing is kept
      OpenBatches.of(s).markUpdated(0, p);
      OpenBatches.close(s);
      assertThat(read(s, 0, 77)).containsExactly(initial(user, 77));
      assertThat(drainAll(s, 0)).isEmpty();
    }
    assertThat(s.stats().admitted()).isZero();
    assertThat(s.stats().rowsHot()).isZero();

    update(s, 0, 1f, 77);

    assertThat(read(s, 0, 77)).containsOnly(77f);
    assertThat(read(s, 0, 78)).containsExactly(initial(user, 78));
    assertThat(drainAll(s, 0)).containsOnlyKeys(77L);
    assertThat(s.stats().admitted()).isEqualTo(1);
  }

  @Test
  void idsBelowTheThresholdTakeNoHotCapacity() {
    TieredEmbeddingStore s = store(table("user", 2, 100, 0));
    long[] many = new long[50];
    for (int i = 0; i < many.length; i++) {
      many[i] = 1_000 + i;
    }

    PreparedKeys p =
        OpenBatches.of(s).prepare(0, many, many.length); // 50 scratch rows on a tier of 2: fine
    OpenBatches.close(s);

    assertThat(p.distinctCount()).isEqualTo(50);
    assertThat(s.stats().rowsHot()).isZero();
    assertThat(s.stats().evicted()).isZero();
  }

  // ---- dirty rows -----------------------------------------------------------------------------

  @Test
  void rowsChangedAndEvictedBeforeTheDrainAreStillDrainedOnce() {
    TieredEmbeddingStore s = store(table("user", 2, 1, 0));
    for (long id = 1; id <= 6; id++) {
      update(s, 0, 2f, id);
    }
    assertThat(s.stats().rowsCold()).isEqualTo(4);

    List<Long> order = new ArrayList<>();
    Map<Long, float[]> drained = drainAll(s, 0);
    s.drainDirty(0, 10, (id, v, off, dim) -> order.add(id));

    assertThat(drained).containsOnlyKeys(1L, 2L, 3L, 4L, 5L, 6L);
    drained.forEach((id, v) -> assertThat(v).hasSize(DIM).containsOnly(id * 2f));
    assertThat(order).as("nothing left").isEmpty();
    touch(s, 0, 1, 2); // promoted back, unchanged
    assertThat(drainAll(s, 0)).isEmpty();
    update(s, 0, 3f, 3);
    assertThat(drainAll(s, 0)).containsOnlyKeys(3L);
  }

  @Test
  void drainsComeInIdOrderInBatchesOfMaxRows() {
    TieredEmbeddingStore s = store(table("user", 3, 1, 0));
    update(s, 0, 1f, 9, -4, 7);
    update(s, 0, 1f, 2, 5, Long.MIN_VALUE);
    List<Long> seen = new ArrayList<>();

    int a = s.drainDirty(0, 4, (id, v, off, dim) -> seen.add(id));
    int b = s.drainDirty(0, 4, (id, v, off, dim) -> seen.add(id));

    assertThat(a).isEqualTo(4);
    assertThat(b).isEqualTo(2);
    assertThat(seen).containsExactly(Long.MIN_VALUE, -4L, 2L, 5L, 7L, 9L);
  }

  // ---- expiry ---------------------------------------------------------------------------------

  @Test
  void rowsNotSeenForTheTtlExpireFromBothTiers() {
    TableConfig user = table("user", 3, 1, 1_000);
    TieredEmbeddingStore s = store(user);
    s.advanceTo(10_000);
    for (long id = 10; id <= 50; id += 10) {
      update(s, 0, 1f, id); // two of them end up cold
    }
    s.advanceTo(10_600);
    update(s, 0, 2f, 40); // seen again: stays
    touch(s, 0, 20); // seen again: stays
    s.advanceTo(11_200);
    assertThat(s.stats().rowsHot()).isEqualTo(3);
    assertThat(s.stats().rowsCold()).isEqualTo(2);

    List<Long> expired = collectExpired(s, 0);

    assertThat(expired).containsExactly(10L, 30L, 50L);
    assertThat(s.stats().rowsHot()).as("one expired from the hot tier").isEqualTo(2);
    assertThat(s.stats().rowsCold()).as("two from the cold tier").isZero();
    for (long id : new long[] {10, 30, 50}) {
      assertThat(read(s, 0, id)).as("expired %d", id).containsExactly(initial(user, id));
    }
    assertThat(read(s, 0, 40)).containsOnly(80f);
    assertThat(read(s, 0, 20)).containsOnly(20f);
    assertThat(drainAll(s, 0))
        .as("changes of expired rows are not published")
        .containsOnlyKeys(20L, 40L);
    assertThat(s.stats().expired()).isEqualTo(3);
    assertThat(s.stats().rowsHot() + s.stats().rowsCold()).isEqualTo(2);
    assertThat(collectExpired(s, 0)).isEmpty();

    s.advanceTo(20_000);
    assertThat(collectExpired(s, 0)).containsExactly(20L, 40L);
    assertThat(s.stats().rowsHot() + s.stats().rowsCold()).isZero();
  }

  @Test
  void rowsEvictedBeforeTheClockStartsExpireOnceItHasRunForTheTtl() {
    TieredEmbeddingStore s = store(table("user", 1, 1, 1_000));
    update(s, 0, 1f, 1);
    update(s, 0, 1f, 2); // 1 goes cold with no time
    s.advanceTo(50_000);
    assertThat(collectExpired(s, 0)).as("just seen, as far as the store can tell").isEmpty();

    s.advanceTo(51_001);

    assertThat(collectExpired(s, 0)).containsExactly(1L, 2L);
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /**
   * At time 1,000: rows 1..8 of table 0 (seen twice each, so admitted under a threshold of 2) set
   * to their id, and of table 1 to three times it.
   */
  private static void fillEightRows(TieredEmbeddingStore s) {
    s.advanceTo(1_000);
    for (long id = 1; id <= 8; id++) {
      update(s, 0, 1f, id);
      update(s, 0, 1f, id); // second sighting: admitted
      update(s, 1, 3f, id);
    }
  }

  @Test
  void aRestoredStoreHoldsWhatTheSnapshotHeldAndNotWhatCameAfter() {
    TableConfig user = table("user", 3, 2, 5_000);
    TableConfig item = table("item", 2, 1, 0);
    TieredEmbeddingStore s = store(user, item);
    fillEightRows(s);
    touch(s, 0, 100); // seen once: counted by the sketch
    Path snap = tmp.resolve("snap");
    s.snapshot(snap);
    StoreStats atSnapshot = s.stats();
    update(s, 0, 9f, 1, 2);
    update(s, 1, 9f, 3);

    TieredEmbeddingStore r = restore(tmp.resolve("work2"), snap, user, item);

    assertThat(r.stats()).isEqualTo(atSnapshot);
    for (long id = 1; id <= 8; id++) {
      assertThat(read(r, 0, id)).as("user %d", id).containsOnly(id * 1f);
      assertThat(read(r, 1, id)).as("item %d", id).containsOnly(id * 3f);
    }
    touch(r, 0, 100); // second sighting since the sketch remembers the first
    assertThat(r.stats().admitted()).isEqualTo(atSnapshot.admitted() + 1);
    assertThat(drainAll(r, 1)).hasSize(8);
  }

  @Test
  void incrementalSnapshotsReuseTheTableFilesOfThePreviousOne() throws IOException {
    TableConfig user = table("user", 100, 1, 0);
    TieredEmbeddingStore s = store(user);
    long[] batch = new long[100];
    for (int round = 0; round < 20; round++) {
      for (int i = 0; i < batch.length; i++) {
        batch[i] = round * 1_000L + i;
      }
      update(s, 0, 1f, batch);
    }
    StoreSnapshot first = s.snapshot(tmp.resolve("snap-1"));
    for (int i = 0; i < batch.length; i++) {
      batch[i] = 99_000L + i;
    }
    update(s, 0, 1f, batch);
    update(s, 0, 1f, 0); // evicts a batch of rows: new data in the cold tier

    StoreSnapshot second = s.snapshot(tmp.resolve("snap-2"));

    List<String> a = sstFiles(tmp.resolve("snap-1/db"));
    List<String> b = sstFiles(tmp.resolve("snap-2/db"));
    assertThat(a).isNotEmpty();
    assertThat(second.filesReused())
        .isEqualTo((int) b.stream().filter(a::contains).count())
        .isPositive();
    assertThat(b).as("the second snapshot has new table files").isNotEqualTo(a);
    for (String f : b) {
      if (a.contains(f)) {
        assertThat(
                Files.isSameFile(
                    tmp.resolve("snap-1/db").resolve(f), tmp.resolve("snap-2/db").resolve(f)))
            .as("%s is one file in both snapshots", f)
            .isTrue();
      }
    }
    assertThat(first.bytesCopied())
        .as("table files are linked, not copied")
        .isLessThan(first.bytes());
    assertThat(second.bytesCopied()).isLessThan(second.bytes());

    TieredEmbeddingStore r = restore(tmp.resolve("work2"), tmp.resolve("snap-2"), user);
    assertThat(read(r, 0, 99_050)).containsOnly(99_050f);
    assertThat(read(r, 0, 5_007)).containsOnly(5_007f);
  }

  private static List<String> sstFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".sst"))
          .sorted()
          .toList();
    }
  }

  @Test
  void snapshotsAreRefusedInsideABatchAndIntoAFullDirectory() throws IOException {
    TieredEmbeddingStore s = store(table("user", 10, 1, 0));
    OpenBatches.of(s).prepare(0, new long[] {1}, 1);
    assertThatThrownBy(() -> s.snapshot(tmp.resolve("x")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("close the batch");
    OpenBatches.close(s);
    Files.createDirectories(tmp.resolve("full"));
    Files.writeString(tmp.resolve("full/file"), "x");
    assertThatThrownBy(() -> s.snapshot(tmp.resolve("full")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not empty");
  }

  @Test
  void aSnapshotRestoresOnlyWithTheTablesItWasSavedWith() {
    TieredEmbeddingStore s = store(table("user", 10, 1, 0));
    update(s, 0, 1f, 1);
    s.snapshot(tmp.resolve("snap"));

    assertThatThrownBy(
            () ->
                restore(
                    tmp.resolve("w2"),
                    tmp.resolve("snap"),
                    new TableConfig("user", DIM, STATE, 10, 1, 0, 0.5f)))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith(
            "table 'user' was saved with initial scale 0.05, this model's 0.5;");
    assertThatThrownBy(
            () -> restore(tmp.resolve("w3"), tmp.resolve("nowhere"), table("user", 10, 1, 0)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("no store snapshot");
  }

  /** A snapshot in {@code tmp/snap} of a store of {@code table} with rows 1 to 40 updated. */
  private Path snapshotOf40Rows(TableConfig table) throws IOException {
    TieredEmbeddingStore s = store(table);
    for (long id = 1; id <= 40; id++) {
      update(s, 0, 2f, id);
    }
    Path snap = tmp.resolve("snap");
    s.snapshot(snap);
    return snap;
  }

  /**
   * A snapshot whose database had lost db/CURRENT was opened as a new, empty database; restored
   * under another hot capacity (which reloads no hot rows) it opened without error, and every row
   * read as its initial values. It is refused as damaged now.
   */
  @Test
  void aSnapshotWithoutItsDatabaseIsRefusedNotRestoredEmpty() throws IOException {
    TableConfig user = table("user", 16, 1, 0);
    Path snap = snapshotOf40Rows(user);
    Files.delete(snap.resolve("db/CURRENT"));

    for (TableConfig restoredAs : List.of(user, table("user", 32, 1, 0))) {
      assertThatThrownBy(
              () -> restore(tmp.resolve("w-" + restoredAs.hotCapacityRows()), snap, restoredAs))
          .as("restored with a hot tier of %d rows", restoredAs.hotCapacityRows())
          .isInstanceOf(StoreException.class)
          .isNotInstanceOf(StoreLayoutException.class)
          .hasMessage(
              "the store snapshot in "
                  + snap
                  + " has no cold-tier database (db/CURRENT is missing)");
    }
  }

  /**
   * A damaged count in store.meta sized an array before the file's checksum was checked: it failed
   * as NegativeArraySizeException (or OutOfMemoryError for a large one), which the trainer does not
   * report as damaged files, and every restart failed the same way. Now it is a StoreException, and
   * so is a count the file cannot hold even under a matching checksum.
   */
  @Test
  void aDamagedCountInTheMetadataIsADamagedSnapshot() throws IOException {
    TableConfig user = table("user", 16, 1, 0);
    Path snap = snapshotOf40Rows(user);
    Path meta = snap.resolve("store.meta");
    byte[] saved = Files.readAllBytes(meta);
    // magic, version, clock, seq, tables | name, dim, state, capacity, threshold, ttl, scale,
    // 7 counters, slab rows | the hot tier's high water
    int highWater = 24 + (2 + 4) + 16 + 8 + 4 + 7 * 8 + 4;
    assertThat(ByteBuffer.wrap(saved, highWater, 4).getInt()).isEqualTo(16);

    for (int count : new int[] {-5, 0x7fffff00}) {
      byte[] m = saved.clone();
      ByteBuffer.wrap(m, highWater, 4).putInt(count);
      Files.write(meta, m);
      assertThatThrownBy(() -> restore(tmp.resolve("w" + count), snap, user))
          .as("high water %d", count)
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("checksum mismatch: the file is damaged");

      CRC32 crc = new CRC32();
      crc.update(m, 0, m.length - Long.BYTES);
      ByteBuffer.wrap(m, m.length - Long.BYTES, Long.BYTES).putLong(crc.getValue());
      Files.write(meta, m);
      assertThatThrownBy(() -> restore(tmp.resolve("v" + count), snap, user))
          .as("high water %d under a matching checksum", count)
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("table 'user': a count of " + count + " hot slots");
    }
  }

  /**
   * A store saved with a hot capacity past what one slab holds (a table configured so before such a
   * capacity was refused, its slab never grown that far) restores under the lowered capacity the
   * refusal asks for: the saved capacity is only compared, never configured again.
   */
  @Test
  void aSnapshotOfAHotCapacityPastOneSlabRestoresUnderALowerOne() throws IOException {
    TableConfig user = table("user", 16, 1, 0);
    Path snap = snapshotOf40Rows(user);
    Path meta = snap.resolve("store.meta");
    byte[] m = Files.readAllBytes(meta);
    // magic, version, clock, seq, tables | name, dim, state | the hot capacity
    int capacity = 24 + (2 + 4) + 8;
    assertThat(ByteBuffer.wrap(m, capacity, 4).getInt()).isEqualTo(16);
    int past = (int) (TableConfig.MAX_HOT_FLOATS / user.rowWidth()) + 1;
    ByteBuffer.wrap(m, capacity, 4).putInt(past);
    CRC32 crc = new CRC32();
    crc.update(m, 0, m.length - Long.BYTES);
    ByteBuffer.wrap(m, m.length - Long.BYTES, Long.BYTES).putLong(crc.getValue());
    Files.write(meta, m);

    TieredEmbeddingStore r = restore(tmp.resolve("lowered"), snap, user);

    assertThat(r.stats().rows()).isEqualTo(40);
    assertThat(r.stats().rowsHot()).as("re-placed: the capacity changed").isZero();
    for (long id = 1; id <= 40; id++) {
      assertThat(read(r, 0, id)).as("user %d", id).containsOnly(2f * id);
    }
  }

  /**
   * A snapshot restores into tables of another hot capacity (larger or smaller), admission
   * threshold or non-zero TTL: the same rows with the same values and pending changes, an empty hot
   * tier that fills as batches need its rows, and the new settings in force. Before, any such
   * change was refused, and resizing a running model's hot tier meant a new model.
   */
  @Test
  void aSnapshotRestoresUnderAnotherHotTierWithTheSameRows() {
    TableConfig user = table("user", 3, 2, 5_000);
    TableConfig item = table("item", 4, 1, 0);
    TieredEmbeddingStore s = store(user, item);
    fillEightRows(s);
    drainAll(s, 0);
    drainAll(s, 1);
    update(s, 0, 2f, 8); // changed since the drain, hot
    update(s, 1, 5f, 1); // changed since the drain, evicted by the next
    update(s, 1, 5f, 2, 3, 4, 5);
    touch(s, 0, 100); // seen once: counted by the sketch
    Path snap = tmp.resolve("snap");
    s.snapshot(snap);
    StoreStats atSnapshot = s.stats();
    TieredEmbeddingStore same = restore(tmp.resolve("same"), snap, user, item);
    Map<Long, float[]> pendingUser = drainAll(same, 0);
    Map<Long, float[]> pendingItem = drainAll(same, 1);
    assertThat(pendingUser).containsOnlyKeys(8L);
    assertThat(pendingItem).containsOnlyKeys(1L, 2L, 3L, 4L, 5L);

    TableConfig userNow = table("user", 10, 3, 9_000);
    TableConfig itemNow = table("item", 2, 1, 0);
    TieredEmbeddingStore r = restore(tmp.resolve("other"), snap, userNow, itemNow);

    assertThat(r.stats().rows()).isEqualTo(atSnapshot.rows());
    assertThat(r.stats().rowsHot()).isZero();
    Map<Long, float[]> user2 = drainAll(r, 0);
    Map<Long, float[]> item2 = drainAll(r, 1);
    assertThat(user2).containsOnlyKeys(pendingUser.keySet());
    assertThat(item2).containsOnlyKeys(pendingItem.keySet());
    item2.forEach((id, v) -> assertThat(v).containsExactly(pendingItem.get(id)));
    for (long id = 1; id <= 8; id++) {
      assertThat(read(r, 0, id)).as("user %d", id).containsExactly(read(same, 0, id));
      assertThat(read(r, 1, id)).as("item %d", id).containsExactly(read(same, 1, id));
    }
    touch(r, 1, 1, 2);
    assertThat(r.stats().rowsHot()).as("rows come back hot as batches need them").isEqualTo(2);
    assertThat(read(r, 1, 1)).containsExactly(read(same, 1, 1));
    long admitted = r.stats().admitted();
    touch(r, 0, 100); // second sighting: enough under the old threshold, not under 3
    assertThat(r.stats().admitted()).isEqualTo(admitted);
    touch(r, 0, 100);
    assertThat(r.stats().admitted()).isEqualTo(admitted + 1);
    r.advanceTo(1_000 + 8_000); // past the old TTL, within the new one
    assertThat(collectExpired(r, 0)).isEmpty();

    assertThatThrownBy(
            () ->
                restore(
                    tmp.resolve("wider"),
                    snap,
                    new TableConfig("user", DIM + 1, STATE, 3, 2, 5_000, 0.05f),
                    item))
        .isInstanceOf(StoreLayoutException.class)
        .hasMessageStartingWith(
            "table 'user' was saved with rows of "
                + DIM
                + " values, this model's "
                + (DIM + 1)
                + " (the embedding dimension); a store")
        .hasMessageContaining("another hot capacity, admission threshold or TTL it takes");
    // a feature removed or added since: its table is named, where RocksDB said "column families not
    // opened" and the count a damaged snapshot's, both read as damaged files
    assertThatThrownBy(() -> restore(tmp.resolve("fewer"), snap, user))
        .isInstanceOf(StoreLayoutException.class)
        .hasMessage(
            "the store was saved with embedding tables [item, user], this model configures [user]"
                + " (table item not configured any more: a feature was added, removed or given"
                + " another vocabulary)");
    assertThatThrownBy(
            () -> restore(tmp.resolve("more"), snap, user, item, table("brand", 3, 1, 0)))
        .isInstanceOf(StoreLayoutException.class)
        .hasMessageContaining("configures [brand, item, user] (table brand new:");
    assertThatThrownBy(() -> restore(tmp.resolve("renamed"), snap, user, table("sku", 3, 1, 0)))
        .isInstanceOf(StoreLayoutException.class)
        .hasMessageContaining("(table item not configured any more; table sku new:");
    // the same tables in another order (a feature's declaration moved): it said "table 'user' was
    // saved with the name 'user', this model's 'item'"
    assertThatThrownBy(() -> restore(tmp.resolve("reordered"), snap, item, user))
        .isInstanceOf(StoreLayoutException.class)
        .hasMessageStartingWith(
            "the store was saved with its tables in another order: 'user' where this model has"
                + " 'item'");
  }

  /**
   * A TTL switched on at a restore counts every row as seen at the restored clock; switched off, no
   * row expires, and the index it kept is gone, so that switched on again later no entry of the old
   * index expires a row seen since. Before, both were refused.
   */
  @Test
  void aTtlSwitchedOnOrOffAtARestoreCountsFromThenAndLeavesNoStaleIndex() {
    TableConfig user = table("user", 3, 2, 0);
    TableConfig item = table("item", 4, 1, 5_000);
    TieredEmbeddingStore s = store(user, item);
    fillEightRows(s); // at 1,000
    s.advanceTo(3_000);
    s.snapshot(tmp.resolve("snap-1"));

    TableConfig userTtl = table("user", 3, 2, 5_000);
    TableConfig itemNoTtl = table("item", 4, 1, 0);
    TieredEmbeddingStore on = restore(tmp.resolve("on"), tmp.resolve("snap-1"), userTtl, itemNoTtl);
    on.advanceTo(7_999); // the user rows count as seen at 3,000, the restored clock
    assertThat(collectExpired(on, 0)).isEmpty();
    on.advanceTo(8_001);
    assertThat(collectExpired(on, 0)).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    on.advanceTo(100_000);
    assertThat(collectExpired(on, 1)).as("item rows, their TTL off").isEmpty();
    assertThat(on.stats().rows()).isEqualTo(8);

    // item's TTL on again, at a later clock: its old index (rows seen at 1,000) must not count
    update(on, 1, 7f, 1);
    on.snapshot(tmp.resolve("snap-2"));
    TieredEmbeddingStore again =
        restore(tmp.resolve("again"), tmp.resolve("snap-2"), userTtl, item);
    again.advanceTo(104_999);
    assertThat(collectExpired(again, 1)).isEmpty();
    assertThat(read(again, 1, 1)).containsOnly(7f);
    again.advanceTo(105_001);
    assertThat(collectExpired(again, 1)).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
  }

  @Test
  void aKilledProcessRestartsFromItsLastSnapshot() throws Exception {
    Path work = tmp.resolve("work");
    Path snap = tmp.resolve("snap");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                KilledStoreMain.class.getName(),
                work.toString(),
                snap.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isEqualTo(KilledStoreMain.HALT_STATUS);
    assertThat(Files.exists(work.resolve("db/LOCK")))
        .as("the killed store left its database behind")
        .isTrue();

    TieredEmbeddingStore r = restore(work, snap, KilledStoreMain.TABLE);

    for (long id = 1; id <= KilledStoreMain.ROWS; id++) {
      assertThat(read(r, 0, id)).as("row %d as of the snapshot", id).containsOnly(id * 1f);
    }
    assertThat(drainAll(r, 0))
        .as("changes since the last publish, as of the snapshot")
        .containsOnlyKeys(KilledStoreMain.ROWS - 1, KilledStoreMain.ROWS);
    update(r, 0, 5f, 1);
    assertThat(read(r, 0, 1)).containsOnly(5f);
  }

  /**
   * A second store created or restored in the working directory of an open one deleted the first
   * one's database before RocksDB's lock refused it: the first store's next snapshot failed on its
   * missing files, and its evicted rows were gone. The second is refused before it deletes
   * anything.
   */
  @Test
  void aSecondStoreInTheWorkingDirectoryOfAnOpenOneIsRefusedAndDeletesNothing() {
    TableConfig user = table("user", 4, 1, 0);
    Path work = tmp.resolve("work");
    TieredEmbeddingStore s = store(work, user);
    for (long id = 1; id <= 40; id++) {
      update(s, 0, 2f, id); // most of them evicted: in the cold tier only
    }
    Path snap = tmp.resolve("snap");
    s.snapshot(snap);

    assertThatThrownBy(() -> store(work, user))
        .isInstanceOf(StoreException.class)
        .hasMessage("the store's working directory " + work + " is in use by another open store");
    assertThatThrownBy(() -> restore(work, snap, user))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is in use by another open store");

    s.snapshot(tmp.resolve("snap-2"));
    for (long id = 1; id <= 40; id++) {
      assertThat(read(s, 0, id)).as("user %d", id).containsOnly(id * 2f);
    }
    s.close();
    TieredEmbeddingStore r = restore(work, tmp.resolve("snap-2"), user);
    assertThat(read(r, 0, 1)).containsOnly(2f);
  }

  @Test
  void aClosedStoreRefusesWork() {
    TieredEmbeddingStore s = store(table("user", 10, 1, 0));
    s.close();
    s.close();
    assertThatThrownBy(() -> OpenBatches.of(s).prepare(0, new long[] {1}, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}
