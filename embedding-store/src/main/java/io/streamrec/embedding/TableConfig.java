package io.streamrec.embedding;

/**
 * One embedding table: its rows are {@code dim} values a model reads and publishes, followed by
 * {@code stateWidth} floats of optimizer state that stay inside the trainer.
 *
 * @param name table name; part of every model-update key of its rows
 * @param dim values per row
 * @param stateWidth optimizer-state floats per row (after the values)
 * @param hotCapacityRows rows the hot tier holds
 * @param admissionThreshold times an id must be seen before its row is created (1 = at once)
 * @param ttlMs rows not seen for this long (event time) expire; 0 = never
 * @param initScale values start uniform in [-initScale, initScale], seeded by the id
 */
public record TableConfig(
    String name,
    int dim,
    int stateWidth,
    int hotCapacityRows,
    int admissionThreshold,
    long ttlMs,
    float initScale) {

  /**
   * Floats one table's hot slab holds at most: a slab is one Java array on the CPU and a buffer of
   * an {@code int} length on a device, and a JVM allocates no array longer than this.
   */
  public static final long MAX_HOT_FLOATS = Integer.MAX_VALUE - 8;

  /**
   * The most rows a table of this width keeps hot: nine tenths of what one slab holds, the rest for
   * the scratch rows a batch's ids not yet admitted take beyond the capacity (with the slab at its
   * most and none left, such a batch failed the trainer at every restart).
   */
  public long maxHotCapacityRows() {
    return MAX_HOT_FLOATS / rowWidth() / 10 * 9;
  }

  /**
   * Refuses a hot capacity past {@link #maxHotCapacityRows}: what a trainer checks of its tables
   * before it starts. Not checked on construction: a store's snapshot and a model's spec keep the
   * capacity a model was trained with, which restores and scores under any.
   */
  public void requireHotCapacityFits() {
    if (hotCapacityRows > maxHotCapacityRows()) {
      throw new IllegalArgumentException(
          "table '"
              + name
              + "': a hot tier of "
              + hotCapacityRows
              + " rows of "
              + rowWidth()
              + " floats (dim "
              + dim
              + " + optimizer state "
              + stateWidth
              + ") does not fit one slab ("
              + MAX_HOT_FLOATS
              + " floats, a tenth of it kept for a batch's rows not yet admitted); at most "
              + maxHotCapacityRows()
              + " rows of this width: lower the table's hot capacity (hot-capacity-rows)");
    }
  }

  public TableConfig {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("table name must not be empty");
    }
    if (dim <= 0) {
      throw new IllegalArgumentException("table '" + name + "': dim must be > 0, got " + dim);
    }
    if (stateWidth < 0) {
      throw new IllegalArgumentException(
          "table '" + name + "': stateWidth must be >= 0, got " + stateWidth);
    }
    if (hotCapacityRows <= 0) {
      throw new IllegalArgumentException(
          "table '" + name + "': hot capacity must be > 0 rows, got " + hotCapacityRows);
    }
    if (admissionThreshold < 1) {
      throw new IllegalArgumentException(
          "table '" + name + "': admission threshold must be >= 1, got " + admissionThreshold);
    }
    if (ttlMs < 0) {
      throw new IllegalArgumentException("table '" + name + "': ttl must be >= 0, got " + ttlMs);
    }
    if (!Float.isFinite(initScale) || initScale < 0) {
      throw new IllegalArgumentException(
          "table '" + name + "': initScale must be finite and >= 0, got " + initScale);
    }
  }

  public int rowWidth() {
    return dim + stateWidth;
  }
}
