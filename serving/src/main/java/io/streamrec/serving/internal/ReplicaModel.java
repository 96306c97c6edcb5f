package io.streamrec.serving.internal;

import io.streamrec.model.LabelScores;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelScorer;
import io.streamrec.model.ParameterView;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.VersionMarker;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model a replica holds: rows by table and id, dense blocks, the spec, and the version they
 * make up, all of one lineage (the first marker applied sets it; entries of another lineage are
 * dropped). It changes only by whole versions ({@link #apply}); the replica decides when readers
 * see it. It is <i>complete</i> when it has its lineage's spec and, when the newest marker tells
 * the trainer's row count, at least that many rows. Not thread-safe: the replica guards it with its
 * lock.
 */
public final class ReplicaModel implements ParameterView {
  private final Map<String, RowTable> rows = new HashMap<>();
  private final Map<String, float[]> dense = new HashMap<>();
  private ModelConfig config;

  /**
   * Scorers not in use: a score takes one (or makes one when none is free) and gives it back, so a
   * model has as many as scores ever ran on it at once, the server's scoring threads, and not one
   * per thread that ever scored (a thread per connection); each holds two copies of the dense
   * parameters. Null without a configuration.
   */
  private ConcurrentLinkedDeque<ModelScorer> idleScorers;

  private final AtomicInteger scorersMade = new AtomicInteger();
  private long version;
  private VersionMarker marker;
  private long lineage;
  private long configLineage = -1;

  /**
   * Rows held over all tables, as of the last version applied: read by the figures and the probes
   * without the replica's lock, which a large version's apply holds for a while.
   */
  private volatile long rowCount;

  /**
   * Values per row of each table the configuration names ({@code embeddingDim}, 1 for the wide
   * table): what the scorer reads of a row. Empty while there is no configuration.
   */
  private Map<String, Integer> widths = Map.of();

  /**
   * Values of each dense block the configuration names: what the scorer reads of a block, which
   * refused to score at all with one of another length. Empty while there is no configuration.
   */
  private Map<String, Integer> blockSizes = Map.of();

  /** The model's configuration, from the topic's spec record; scoring needs it. */
  public void setConfig(ModelConfig c) {
    config = c;
    idleScorers = new ConcurrentLinkedDeque<>();
    Map<String, Integer> w = new HashMap<>();
    for (String t : c.features().tables()) {
      w.put(t, c.embeddingDim());
    }
    w.put(ModelConfig.WIDE_TABLE, 1);
    widths = w;
    ModelScorer first = newScorer();
    blockSizes = first.denseBlockSizes();
    idleScorers.push(first);
  }

  /** The configuration from the spec of lineage {@code model}. */
  public void setConfig(ModelConfig c, long model) {
    setConfig(c);
    configLineage = model;
  }

  /** Forgets the configuration: the model cannot score, and is not complete, until it has one. */
  public void clearConfig() {
    config = null;
    idleScorers = null;
    configLineage = -1;
    widths = Map.of();
    blockSizes = Map.of();
  }

  /** The lineage whose spec gave the configuration; -1 when none (or set without a lineage). */
  public long configLineage() {
    return configLineage;
  }

  /**
   * Applies a version's pending records of the marker's lineage (tombstones whatever their
   * lineage); the first marker applied sets the model's lineage, and a marker of another lineage is
   * refused (the replica starts a fresh model for it). A row is refused (and counted) when its
   * width is not its table's: the spec's for a table the spec names, else the first row's; a row of
   * no values never is one. So is a dense block of another length than the spec's, which keeps the
   * values it had. The version's spec is set before it applies.
   */
  PendingVersion.Applied apply(PendingVersion pending, VersionMarker m) {
    if (version > 0 && m.getModel() != lineage) {
      throw new IllegalStateException(
          "a marker of lineage "
              + Long.toHexString(m.getModel())
              + " applied to a model of lineage "
              + Long.toHexString(lineage));
    }
    long model = m.getModel();
    int refused = 0;
    int refusedBlocks = 0;
    int foreign = 0;
    for (PendingVersion.RowChange c : pending.rows()) {
      if (c.values() == null) {
        RowTable t = rows.get(c.table());
        if (t != null) {
          t.remove(c.id());
        }
      } else if (c.model() != model) {
        foreign++;
      } else {
        float[] v = c.values();
        RowTable t = table(c.table(), v.length);
        if (t != null && v.length == t.width()) {
          t.put(c.id(), v);
        } else {
          refused++;
        }
      }
    }
    for (Map.Entry<String, PendingVersion.DenseChange> d : pending.dense().entrySet()) {
      if (d.getValue().model() == model) {
        Integer size = blockSizes.get(d.getKey());
        if (size == null || size == d.getValue().values().length) {
          dense.put(d.getKey(), d.getValue().values());
        } else {
          refusedBlocks++;
        }
      } else {
        foreign++;
      }
    }
    lineage = model;
    version = m.getVersion();
    marker = m;
    long n = 0;
    for (RowTable t : rows.values()) {
      n += t.size();
    }
    rowCount = n;
    return new PendingVersion.Applied(refused, refusedBlocks, foreign);
  }

  /**
   * Rows the model would hold once {@code pending} is applied with marker {@code m}, without
   * applying it: each tombstone of a row held takes one away, each row of the marker's lineage that
   * it does not hold yet adds one. A row the apply will refuse (of another width: a bad record,
   * counted as such) counts as held: a model short of rows for bad records is not one that reading
   * the topic again would make whole, and is served as before.
   */
  long rowsAfter(PendingVersion pending, VersionMarker m) {
    long n = rowCount;
    for (PendingVersion.RowChange c : pending.rows()) {
      RowTable t = rows.get(c.table());
      boolean held = t != null && t.contains(c.id());
      if (c.values() == null) {
        n -= held ? 1 : 0;
      } else if (c.model() == m.getModel() && !held) {
        n++;
      }
    }
    return n;
  }

  /**
   * The table a row of {@code rowWidth} values goes to, made when it has none yet, or null when no
   * table can take it (a row of no values in a table not made yet). A table of another width than
   * the spec now gives (a spec changed within a lineage) starts again empty: its rows are not what
   * the scorer reads.
   */
  private RowTable table(String name, int rowWidth) {
    Integer specified = widths.get(name);
    RowTable t = rows.get(name);
    if (t != null && (specified == null || t.width() == specified)) {
      return t;
    }
    int width = specified != null ? specified : rowWidth;
    if (width < 1) {
      return null;
    }
    t = new RowTable(width);
    rows.put(name, t);
    return t;
  }

  /** The lineage of the versions applied (0: written before lineages, or none applied yet). */
  public long lineage() {
    return lineage;
  }

  /**
   * Rows the newest marker says the trainer's model holds and this one does not: 0 when it holds at
   * least as many, -1 when the marker does not tell (or no marker was applied).
   */
  public long missingRows() {
    if (marker == null || marker.getLiveRows() < 0) {
      return -1;
    }
    return Math.max(0, marker.getLiveRows() - rowCount());
  }

  /**
   * Dense blocks of the spec the model holds fewer than the newest marker's {@code denseBlocks}: 0
   * when it holds as many (or no marker was applied). A block refused for its length (another
   * producer's) in the model's first version leaves it short, where it would score with the block's
   * initial values, a model the trainer never had.
   */
  public int missingDenseBlocks() {
    if (marker == null) {
      return 0;
    }
    int held = 0;
    for (String name : dense.keySet()) {
      if (blockSizes.isEmpty() || blockSizes.containsKey(name)) {
        held++;
      }
    }
    return Math.max(0, marker.getDenseBlocks() - held);
  }

  /**
   * True when the model has a version, the spec of its lineage, every row the newest marker says
   * the trainer holds and as many dense blocks as it carried (docs/model-updates.md §6).
   */
  public boolean complete() {
    return version > 0
        && canScore()
        && configLineage == lineage
        && missingRows() <= 0
        && missingDenseBlocks() == 0;
  }

  /** True once a spec was read: the model can score. */
  public boolean canScore() {
    return idleScorers != null;
  }

  /**
   * The first label's (click) probabilities of every impression of {@code units}, by this model.
   */
  public float[] score(List<RequestUnit> units) {
    ModelScorer s = takeScorer();
    try {
      return s.score(units, this);
    } finally {
      idleScorers.push(s);
    }
  }

  /** Every label's probabilities of every impression of {@code units}, from one forward pass. */
  public LabelScores scoreAllLabels(List<RequestUnit> units) {
    ModelScorer s = takeScorer();
    try {
      return s.scoreAllLabels(units, this);
    } finally {
      idleScorers.push(s);
    }
  }

  /** A free scorer of the configuration, the one used last when there is one (its memory warm). */
  private ModelScorer takeScorer() {
    ModelScorer s = idleScorers.poll();
    return s != null ? s : newScorer();
  }

  /** A scorer of the configuration, counted. */
  private ModelScorer newScorer() {
    scorersMade.incrementAndGet();
    return new ModelScorer(config);
  }

  /** Scorers made since the model was made (a new configuration makes them again). */
  int scorersMade() {
    return scorersMade.get();
  }

  public ModelConfig config() {
    return config;
  }

  public long version() {
    return version;
  }

  public VersionMarker marker() {
    return marker;
  }

  /** Rows held over all tables, as of the last version applied; any thread, without the lock. */
  public long rowCount() {
    return rowCount;
  }

  /** A copy of a row's values, or null. */
  public float[] row(String table, long id) {
    RowTable t = rows.get(table);
    return t == null ? null : t.get(id);
  }

  @Override
  public boolean readRow(String table, long id, float[] out, int offset) {
    RowTable t = rows.get(table);
    return t != null && t.read(id, out, offset);
  }

  @Override
  public float[] dense(String block) {
    return dense.get(block);
  }
}
