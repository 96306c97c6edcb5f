package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InMemoryEmbeddingStoreTest {
  static final int DIM = 4;
  static final int STATE = 2;
  static final float INIT_SCALE = 0.05f;

  static TableConfig table(String name, int admissionThreshold, long ttlMs) {
    return new TableConfig(name, DIM, STATE, 1_000, admissionThreshold, ttlMs, INIT_SCALE);
  }

  static InMemoryEmbeddingStore store(TableConfig... tables) {
    return new InMemoryEmbeddingStore(List.of(tables));
  }

  // ---- prepare --------------------------------------------------------------------------------

  @Test
  void prepareDeduplicatesKeysAndMapsEveryKeyToItsRow() {
    InMemoryEmbeddingStore s = store(table("user", 1, 0));
    long[] keys = {5, 7, 5, 9, 7, 5, -3, 0};

    PreparedKeys p = OpenBatches.of(s).prepare(0, keys, 6); // only the first six count

    assertThat(p.distinctCount()).isEqualTo(3);
    assertThat(Arrays.copyOf(p.distinctKeys(), 3)).containsExactlyInAnyOrder(5L, 7L, 9L);
    assertThat(Arrays.stream(p.distinctSlots(), 0, 3).distinct().count()).isEqualTo(3);
    for (int i = 0; i < 6; i++) {
      assertThat(p.distinctKeys()[p.rowIndex()[i]]).as("key of entry %d", i).isEqualTo(keys[i]);
      assertThat(p.slots()[i])
          .as("slot of entry %d", i)
          .isEqualTo(p.distinctSlots()[p.rowIndex()[i]]);
    }
  }

  @Test
  void anAdmittedKeyKeepsItsSlotAcrossBatches() {
    InMemoryEmbeddingStore s = store(table("user", 1, 0));
    int first = OpenBatches.of(s).prepare(0, new long[] {11, 12}, 2).slots()[0];
    OpenBatches.close(s);

    PreparedKeys again = OpenBatches.of(s).prepare(0, new long[] {13, 11}, 2);

    assertThat(again.slots()[1]).isEqualTo(first);
    assertThat(again.slots()[0]).isNotEqualTo(first);
  }

  @Test
  void newRowsStartFromTheirInitialValues() {
    TableConfig user = table("user", 1, 0);
    InMemoryEmbeddingStore s = store(user);
    long[] keys = {1, 2, 3, Long.MIN_VALUE, -1};

    PreparedKeys p = OpenBatches.of(s).prepare(0, keys, keys.length);

    float[] slab = s.hostSlab(0);
    for (int i = 0; i < keys.length; i++) {
      float[] row =
          Arrays.copyOfRange(
              slab, p.slots()[i] * user.rowWidth(), (p.slots()[i] + 1) * user.rowWidth());
      assertThat(row).as("row of %d", keys[i]).containsExactly(initial(user, keys[i]));
      assertThat(Arrays.copyOfRange(row, DIM, DIM + STATE)).containsOnly(0f);
    }
  }

  // ---- RowInitializer -------------------------------------------------------------------------

  @Test
  void initialValuesAreAPureFunctionOfTableAndId() {
    TableConfig user = table("user", 1, 0);
    TableConfig item = table("item", 1, 0);

    assertThat(initial(user, 42)).containsExactly(initial(table("user", 3, 99), 42));
    assertThat(initial(user, 42)).isNotEqualTo(initial(user, 43));
    assertThat(initial(user, 42)).isNotEqualTo(initial(item, 42));
  }

  @Test
  void initialValuesAreSpreadOverPlusMinusInitScaleAndStateStartsAtZero() {
    TableConfig user = new TableConfig("user", 16, 3, 10, 1, 0, 0.25f);
    double sum = 0;
    float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
    int count = 0;
    for (long id = 0; id < 5_000; id++) {
      float[] row = new float[user.rowWidth() + 2];
      Arrays.fill(row, Float.NaN);
      RowInitializer.init(user, id * 0x9E3779B97F4A7C15L, row, 1);
      assertThat(row[0]).isNaN();
      assertThat(row[row.length - 1]).isNaN();
      for (int j = 0; j < 16; j++) {
        float v = row[1 + j];
        assertThat(v).isBetween(-0.25f, 0.25f);
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
        count++;
      }
      assertThat(Arrays.copyOfRange(row, 17, 20)).containsOnly(0f);
    }
    assertThat(sum / count).isBetween(-0.005, 0.005);
    assertThat(min).isLessThan(-0.245f);
    assertThat(max).isGreaterThan(0.245f);
  }

  // ---- updates and admission ------------------------------------------------------------------

  @Test
  void updatesToAnAdmittedRowPersistAcrossBatches() {
    TableConfig user = table("user", 1, 0);
    InMemoryEmbeddingStore s = store(user);
    PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {8}, 1);
    float[] written = {0.5f, -0.25f, 1.5f, 2f, 0.125f, 9f};
    System.arraycopy(written, 0, s.hostSlab(0), p.slots()[0] * user.rowWidth(), user.rowWidth());
    OpenBatches.of(s).markUpdated(0, p);
    OpenBatches.close(s);

    PreparedKeys again = OpenBatches.of(s).prepare(0, new long[] {8}, 1);

    float[] slab = s.hostSlab(0);
    assertThat(
            Arrays.copyOfRange(
                slab, again.slots()[0] * user.rowWidth(), (again.slots()[0] + 1) * user.rowWidth()))
        .containsExactly(written);
    assertThat(read(s, 0, 8)).containsExactly(written);
  }

  @Test
  void aKeySeenFewerThanTheThresholdIsNotStoredAndItsUpdatesAreDropped() {
    TableConfig user = table("user", 3, 0);
    InMemoryEmbeddingStore s = store(user);
    for (int sighting = 1; sighting <= 2; sighting++) {
      PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {77}, 1);
      float[] slab = s.hostSlab(0);
      assertThat(row(slab, user, p.slots()[0]))
          .as("sighting %d starts fresh", sighting)
          .containsExactly(initial(user, 77));
      Arrays.fill(slab, p.slots()[0] * user.rowWidth(), (p.slots()[0] + 1) * user.rowWidth(), 3f);
      OpenBatches.of(s).markUpdated(0, p);
      OpenBatches.close(s);

      assertThat(read(s, 0, 77)).containsExactly(initial(user, 77));
      assertThat(drainAll(s, 0)).isEmpty();
    }
    assertThat(s.stats().rowsHot()).isZero();
    assertThat(s.stats().admitted()).isZero();
  }

  @Test
  void aKeyIsStoredFromItsNthSighting() {
    TableConfig user = table("user", 3, 0);
    InMemoryEmbeddingStore s = store(user);
    for (int sighting = 1; sighting <= 2; sighting++) {
      OpenBatches.of(s).prepare(0, new long[] {77, 78}, 2);
      OpenBatches.close(s);
    }

    PreparedKeys third = OpenBatches.of(s).prepare(0, new long[] {77}, 1);
    float[] slab = s.hostSlab(0);
    assertThat(row(slab, user, third.slots()[0])).containsExactly(initial(user, 77));
    Arrays.fill(
        slab, third.slots()[0] * user.rowWidth(), (third.slots()[0] + 1) * user.rowWidth(), 3f);
    OpenBatches.of(s).markUpdated(0, third);
    OpenBatches.close(s);

    assertThat(read(s, 0, 77)).containsOnly(3f);
    assertThat(read(s, 0, 78)).containsExactly(initial(user, 78));
    assertThat(drainAll(s, 0)).containsOnlyKeys(77L);
    assertThat(s.stats().rowsHot()).isEqualTo(1);
    assertThat(s.stats().admitted()).isEqualTo(1);
  }

  @Test
  void rowsKeepTheirValuesWhenTheSlabGrows() {
    TableConfig user = table("user", 1, 0);
    InMemoryEmbeddingStore s = store(user);
    PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {1, 2, 3}, 3);
    for (int i = 0; i < 3; i++) {
      Arrays.fill(
          s.hostSlab(0),
          p.slots()[i] * user.rowWidth(),
          (p.slots()[i] + 1) * user.rowWidth(),
          i + 10f);
    }
    OpenBatches.of(s).markUpdated(0, p);
    OpenBatches.close(s);
    long[] many = new long[5_000];
    for (int i = 0; i < many.length; i++) {
      many[i] = 1_000 + i;
    }

    OpenBatches.of(s).prepare(0, many, many.length);
    OpenBatches.close(s);

    for (int i = 0; i < 3; i++) {
      assertThat(read(s, 0, i + 1)).containsOnly(i + 10f);
    }
    assertThat(read(s, 0, 4_999 + 1_000)).containsExactly(initial(user, 5_999));
    assertThat(s.stats().rowsHot()).isEqualTo(5_003);
  }

  // ---- dirty rows -----------------------------------------------------------------------------

  @Test
  void drainDirtyHandsEachChangedAdmittedRowOnce() {
    TableConfig user = table("user", 1, 0);
    InMemoryEmbeddingStore s = store(user);
    OpenBatches.of(s).prepare(0, new long[] {1, 2, 3, 4, 5, 6}, 6);
    OpenBatches.close(s);
    PreparedKeys changed = OpenBatches.of(s).prepare(0, new long[] {2, 5, 2, 6}, 4);
    for (int i = 0; i < changed.distinctCount(); i++) {
      Arrays.fill(
          s.hostSlab(0),
          changed.distinctSlots()[i] * user.rowWidth(),
          (changed.distinctSlots()[i] + 1) * user.rowWidth(),
          changed.distinctKeys()[i] * 0.5f);
    }
    OpenBatches.of(s).markUpdated(0, changed);
    OpenBatches.close(s);

    Map<Long, float[]> drained = drainAll(s, 0);

    assertThat(drained).containsOnlyKeys(2L, 5L, 6L);
    drained.forEach((id, values) -> assertThat(values).hasSize(DIM).containsOnly(id * 0.5f));
    assertThat(drainAll(s, 0)).isEmpty();
  }

  @Test
  void aRowUpdatedAgainAfterADrainIsDirtyAgain() {
    TableConfig user = table("user", 1, 0);
    InMemoryEmbeddingStore s = store(user);
    OpenBatches.of(s).markUpdated(0, OpenBatches.of(s).prepare(0, new long[] {1, 2}, 2));
    OpenBatches.close(s);
    assertThat(drainAll(s, 0)).containsOnlyKeys(1L, 2L);

    OpenBatches.of(s).markUpdated(0, OpenBatches.of(s).prepare(0, new long[] {2}, 1));
    OpenBatches.close(s);

    assertThat(drainAll(s, 0)).containsOnlyKeys(2L);
  }

  @Test
  void drainDirtyRespectsMaxRowsAcrossCalls() {
    InMemoryEmbeddingStore s = store(table("user", 1, 0));
    long[] keys = new long[10];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = 100 + i;
    }
    OpenBatches.of(s).markUpdated(0, OpenBatches.of(s).prepare(0, keys, keys.length));
    OpenBatches.close(s);

    List<Long> seen = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (int call = 0; call < 4; call++) {
      counts.add(s.drainDirty(0, 4, (id, values, offset, dim) -> seen.add(id)));
    }

    assertThat(counts).containsExactly(4, 4, 2, 0);
    assertThat(seen)
        .doesNotHaveDuplicates()
        .containsExactlyInAnyOrder(Arrays.stream(keys).boxed().toArray(Long[]::new));
    assertThat(s.drainDirty(0, 0, (id, values, offset, dim) -> seen.add(id))).isZero();
  }

  @Test
  void tablesAreIndependent() {
    TableConfig user = table("user", 1, 0);
    TableConfig item = table("item", 1, 0);
    InMemoryEmbeddingStore s = store(user, item);
    PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {42}, 1);
    Arrays.fill(
        s.hostSlab(0), p.slots()[0] * user.rowWidth(), (p.slots()[0] + 1) * user.rowWidth(), 7f);
    OpenBatches.of(s).markUpdated(0, p);
    OpenBatches.close(s);

    assertThat(read(s, 0, 42)).containsOnly(7f);
    assertThat(read(s, 1, 42)).containsExactly(initial(item, 42));
    assertThat(drainAll(s, 1)).isEmpty();
    assertThat(drainAll(s, 0)).containsOnlyKeys(42L);
  }

  // ---- expiry ---------------------------------------------------------------------------------

  @Test
  void rowsNotSeenForTheTtlExpireAndTheRestStay() {
    TableConfig user = table("user", 1, 1_000);
    InMemoryEmbeddingStore s = store(user);
    s.advanceTo(10_000);
    PreparedKeys old = OpenBatches.of(s).prepare(0, new long[] {30, 10, 20, 40}, 4);
    fill(s, user, old, 5f);
    OpenBatches.of(s).markUpdated(0, old);
    OpenBatches.close(s);
    s.advanceTo(10_600);
    PreparedKeys fresh = OpenBatches.of(s).prepare(0, new long[] {40}, 1);
    fill(s, user, fresh, 6f);
    OpenBatches.of(s).markUpdated(0, fresh);
    OpenBatches.close(s);
    s.advanceTo(11_200);

    List<Long> expired = new ArrayList<>();
    int n = s.drainExpired(0, expired::add);

    assertThat(expired).containsExactly(10L, 20L, 30L);
    assertThat(n).isEqualTo(3);
    for (long id : new long[] {10, 20, 30}) {
      assertThat(read(s, 0, id)).as("expired %d", id).containsExactly(initial(user, id));
    }
    assertThat(read(s, 0, 40)).containsOnly(6f);
    assertThat(drainAll(s, 0)).containsOnlyKeys(40L);
    assertThat(s.drainExpired(0, expired::add)).isZero();
    assertThat(s.stats().expired()).isEqualTo(3);
    assertThat(s.stats().rowsHot()).isEqualTo(1);
  }

  @Test
  void anExpiredKeyComesBackAsANewRow() {
    TableConfig user = table("user", 2, 1_000);
    InMemoryEmbeddingStore s = store(user);
    s.advanceTo(0);
    for (int i = 0; i < 2; i++) {
      OpenBatches.of(s).prepare(0, new long[] {9}, 1);
      OpenBatches.close(s);
    }
    fillAndMark(s, user, 9, 4f);
    s.advanceTo(5_000);
    assertThat(collectExpired(s, 0)).containsExactly(9L);

    OpenBatches.of(s).prepare(0, new long[] {9}, 1);
    OpenBatches.close(s);

    assertThat(read(s, 0, 9))
        .as("seen once since it expired: not stored yet")
        .containsExactly(initial(user, 9));
    assertThat(s.stats().rowsHot()).isZero();
  }

  @Test
  void aTtlOfZeroNeverExpires() {
    InMemoryEmbeddingStore s = store(table("user", 1, 0));
    s.advanceTo(0);
    OpenBatches.of(s).prepare(0, new long[] {1, 2}, 2);
    OpenBatches.close(s);
    s.advanceTo(Long.MAX_VALUE / 2);

    assertThat(collectExpired(s, 0)).isEmpty();
    assertThat(s.stats().rowsHot()).isEqualTo(2);
  }

  @Test
  void theClockNeverMovesBack() {
    InMemoryEmbeddingStore s = store(table("user", 1, 1_000));
    s.advanceTo(0);
    OpenBatches.of(s).prepare(0, new long[] {1}, 1);
    OpenBatches.close(s);
    s.advanceTo(2_000);
    s.advanceTo(500);

    assertThat(collectExpired(s, 0)).containsExactly(1L);
  }

  @Test
  void rowsSeenBeforeTheClockStartsExpireOnceItHasRunForTheTtl() {
    InMemoryEmbeddingStore s = store(table("user", 1, 1_000));
    OpenBatches.of(s).prepare(0, new long[] {1, 2}, 2);
    OpenBatches.close(s);
    s.advanceTo(50_000);
    assertThat(collectExpired(s, 0)).as("just seen, as far as the store can tell").isEmpty();

    s.advanceTo(51_001);

    assertThat(collectExpired(s, 0)).containsExactly(1L, 2L);
  }

  // ---- stats and tables -----------------------------------------------------------------------

  @Test
  void statsCountOneLookupPerDistinctKeyPerBatch() {
    InMemoryEmbeddingStore s = store(table("user", 1, 1_000), table("item", 2, 0));
    s.advanceTo(0);
    OpenBatches.of(s).prepare(0, new long[] {1, 2, 2, 3}, 4); // 3 lookups, 3 admitted
    OpenBatches.of(s).prepare(1, new long[] {1, 1}, 2); // 1 lookup, seen once
    OpenBatches.close(s);
    OpenBatches.of(s).prepare(0, new long[] {1, 2, 4}, 3); // 3 lookups, 2 hits, 1 admitted
    OpenBatches.of(s).prepare(1, new long[] {1, 5}, 2); // 2 lookups, 1 admitted (1), 5 seen once
    OpenBatches.close(s);
    OpenBatches.of(s).prepare(1, new long[] {1}, 1); // 1 lookup, 1 hit
    OpenBatches.close(s);
    s.advanceTo(1_001);
    OpenBatches.of(s).prepare(0, new long[] {4}, 1); // 1 lookup, 1 hit
    OpenBatches.close(s);
    s.advanceTo(2_000); // 1, 2, 3 were last seen at 0
    s.drainExpired(0, id -> {});

    StoreStats stats = s.stats();

    assertThat(stats.lookups()).isEqualTo(3 + 1 + 3 + 2 + 1 + 1);
    assertThat(stats.hits()).isEqualTo(2 + 1 + 1);
    assertThat(stats.admitted()).isEqualTo(3 + 1 + 1);
    assertThat(stats.expired()).isEqualTo(3);
    assertThat(stats.rowsHot()).isEqualTo(2); // user 4, item 1
    assertThat(stats.hitRate()).isEqualTo(4.0 / 11);
  }

  @Test
  void tableIndexFindsTablesByName() {
    InMemoryEmbeddingStore s = store(table("user", 1, 0), table("item", 1, 0));

    assertThat(s.tableIndex("user")).isZero();
    assertThat(s.tableIndex("item")).isEqualTo(1);
    assertThat(s.tables()).extracting(TableConfig::name).containsExactly("user", "item");
    assertThatThrownBy(() -> s.tableIndex("query"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'query'");
  }

  // ---- helpers --------------------------------------------------------------------------------

  static float[] initial(TableConfig t, long id) {
    float[] out = new float[t.rowWidth()];
    RowInitializer.init(t, id, out, 0);
    return out;
  }

  static float[] read(EmbeddingStore s, int table, long id) {
    float[] out = new float[s.tables().get(table).rowWidth()];
    s.read(table, id, out);
    return out;
  }

  static float[] row(float[] slab, TableConfig t, int slot) {
    return Arrays.copyOfRange(slab, slot * t.rowWidth(), (slot + 1) * t.rowWidth());
  }

  static Map<Long, float[]> drainAll(EmbeddingStore s, int table) {
    Map<Long, float[]> out = new HashMap<>();
    s.drainDirty(
        table,
        Integer.MAX_VALUE,
        (id, values, offset, dim) -> {
          assertThat(out).doesNotContainKey(id);
          out.put(id, Arrays.copyOfRange(values, offset, offset + dim));
        });
    return out;
  }

  static List<Long> collectExpired(EmbeddingStore s, int table) {
    List<Long> out = new ArrayList<>();
    s.drainExpired(table, out::add);
    return out;
  }

  private static void fill(EmbeddingStore s, TableConfig t, PreparedKeys p, float value) {
    for (int i = 0; i < p.distinctCount(); i++) {
      Arrays.fill(
          io.streamrec.gpu.CpuBackend.array(OpenBatches.of(s).slab(0)),
          p.distinctSlots()[i] * t.rowWidth(),
          (p.distinctSlots()[i] + 1) * t.rowWidth(),
          value);
    }
  }

  private static void fillAndMark(EmbeddingStore s, TableConfig t, long id, float value) {
    PreparedKeys p = OpenBatches.of(s).prepare(0, new long[] {id}, 1);
    fill(s, t, p, value);
    OpenBatches.of(s).markUpdated(0, p);
    OpenBatches.close(s);
  }
}
