package io.streamrec.model;

import io.streamrec.embedding.TableConfig;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.Side;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.EventPart;
import java.io.Serializable;
import java.util.List;

/**
 * The rows a unit takes in each embedding table, against the rows each table keeps hot: a batch is
 * trained with all its rows hot at once, so no table may need more rows for one batch than it
 * keeps. Each id of a feature takes at most one row of that feature's table, and one of the wide
 * table (with the wide crosses, one more per cross), so counting ids per table bounds the rows.
 *
 * <p>Each table is held to its own capacity: a table configured small for a small vocabulary (40
 * categories, 40 rows) bounds only the ids of its own features, not a unit's ids of every table.
 */
public final class TableCapacities implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String[] names;
  private final long[] capacity;
  private final int[] requestBagTable;
  private final int[] impressionBagTable;
  private final int wide;

  private TableCapacities(ModelConfig config) {
    List<TableConfig> tables = config.tableConfigs();
    names = new String[tables.size()];
    capacity = new long[tables.size()];
    for (int t = 0; t < names.length; t++) {
      names[t] = tables.get(t).name();
      capacity[t] = tables.get(t).hotCapacityRows();
    }
    wide = names.length - 1;
    List<String> featureTables = config.features().tables();
    requestBagTable = bagTables(config.features().categorical(Side.REQUEST), featureTables);
    impressionBagTable = bagTables(config.features().categorical(Side.IMPRESSION), featureTables);
  }

  /** The tables of {@code config}, each with its hot capacity. */
  public static TableCapacities of(ModelConfig config) {
    return new TableCapacities(config);
  }

  private static int[] bagTables(List<CategoricalFeature> features, List<String> tables) {
    int[] out = new int[features.size()];
    for (int b = 0; b < out.length; b++) {
      out[b] = tables.indexOf(features.get(b).table());
    }
    return out;
  }

  /** A count per table, all zero. */
  public long[] counts() {
    return new long[names.length];
  }

  /** Adds the rows an event's ids take to {@code counts}: its bags' tables, and the wide table. */
  public void add(EventPart e, long[] counts) {
    int[] tables = e.isRequest() ? requestBagTable : impressionBagTable;
    int start = 0;
    for (int b = 0; b < e.bags() && b < tables.length; b++) {
      int end = e.bagEnd(b);
      counts[tables[b]] += end - start;
      start = end;
    }
    counts[wide] += e.ids().length;
  }

  /**
   * Adds the rows {@code unit} takes to {@code counts}: each bag's ids to its feature's table, and
   * {@code wideRows} ({@link UnitBatch#rows}: its ids and wide crosses) to the wide table.
   */
  public void add(CompactUnit unit, long wideRows, long[] counts) {
    int nrf = requestBagTable.length;
    int nif = impressionBagTable.length;
    for (int b = 0; b < unit.bags(); b++) {
      int table = b < nrf ? requestBagTable[b] : impressionBagTable[(b - nrf) % nif];
      counts[table] += unit.bagEnd(b) - unit.bagStart(b);
    }
    counts[wide] += wideRows;
  }

  /** Whether {@code a} and {@code b} together fit every table. */
  public boolean fit(long[] a, long[] b) {
    for (int t = 0; t < capacity.length; t++) {
      if (a[t] + b[t] > capacity[t]) {
        return false;
      }
    }
    return true;
  }

  /** Adds {@code more} to {@code used}, table by table. */
  public void addTo(long[] used, long[] more) {
    for (int t = 0; t < used.length; t++) {
      used[t] += more[t];
    }
  }

  /** Says which table {@code used} and {@code more} together take more rows of than it keeps. */
  public String describeOver(long[] used, long[] more) {
    long[] both = used.clone();
    addTo(both, more);
    return describe(over(both), both);
  }

  /** The first table {@code counts} takes more rows of than it keeps hot; -1 when none. */
  public int over(long[] counts) {
    for (int t = 0; t < capacity.length; t++) {
      if (counts[t] > capacity[t]) {
        return t;
      }
    }
    return -1;
  }

  /** Says that {@code counts} is over table {@code t}'s capacity, naming the options. */
  public String describe(int t, long[] counts) {
    return counts[t]
        + " rows of table '"
        + names[t]
        + "', which keeps "
        + capacity[t]
        + " hot (model.table.hot-capacity-rows, model.hot-capacity-rows)";
  }
}
