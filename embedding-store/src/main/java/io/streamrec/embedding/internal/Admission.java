package io.streamrec.embedding.internal;

import io.streamrec.embedding.TableConfig;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Which new ids get a row: an id seen {@code admissionThreshold} times (counted by a {@link
 * CountMinSketch} sized for the hot tier) is admitted; a younger one is served its initial values
 * for the batch and not stored. With a threshold of 1 every id is admitted and no sketch is kept.
 */
final class Admission {
  private final TableConfig cfg;
  private CountMinSketch sketch;

  Admission(TableConfig cfg) {
    this.cfg = cfg;
    this.sketch =
        cfg.admissionThreshold() > 1 ? CountMinSketch.forCapacity(cfg.hotCapacityRows()) : null;
  }

  /** Counts one more sighting of {@code id}; true when it has been seen often enough for a row. */
  boolean admits(long id) {
    return sketch == null || sketch.increment(id) >= cfg.admissionThreshold();
  }

  void write(DataOutputStream out) throws IOException {
    out.writeBoolean(sketch != null);
    if (sketch != null) {
      sketch.write(out);
    }
  }

  /**
   * Reads what {@link #write} saved. With {@code otherConfig} (a snapshot of another capacity or
   * threshold) the saved counts are kept whatever the sketch's width, a sketch is started where
   * none was saved, and dropped where this table keeps none.
   */
  void read(DataInputStream in, boolean otherConfig) throws IOException {
    boolean hasSketch = in.readBoolean();
    if (otherConfig) {
      CountMinSketch restored = hasSketch ? CountMinSketch.read(in) : null;
      if (sketch != null && restored != null) {
        sketch = restored;
      }
      return;
    }
    if (hasSketch != (sketch != null)) {
      throw new IOException(
          "table '"
              + cfg.name()
              + "': sketch present "
              + hasSketch
              + ", expected "
              + (sketch != null));
    }
    if (hasSketch) {
      CountMinSketch restored = CountMinSketch.read(in);
      if (restored.width() != sketch.width()) {
        throw new IOException(
            "table '"
                + cfg.name()
                + "': sketch of width "
                + restored.width()
                + ", expected "
                + sketch.width());
      }
      sketch = restored;
    }
  }
}
