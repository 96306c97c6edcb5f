package io.streamrec.model;

import io.streamrec.embedding.EmbeddingStore;
import io.streamrec.embedding.PreparedKeys;
import io.streamrec.embedding.StoreBatch;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import io.streamrec.model.metrics.ProgressiveMetrics;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.RequestUnit;
import java.util.List;
import java.util.Map;

/**
 * Trains the model on minibatches of request units, one call per batch:
 *
 * <ol>
 *   <li>lay the units out ({@link UnitBatch}): their ids, hashed before the trainer, grouped by
 *       table, request features once per unit;
 *   <li>{@link EmbeddingStore#beginBatch} and prepare every table's keys: a hot slot per key,
 *       pinned;
 *   <li>forward and loss; every impression's prediction enters the progressive metrics
 *       <em>before</em> the model learns from it;
 *   <li>backward with fused row-wise Adagrad on the batch's rows, Adam on the dense block;
 *   <li>with {@code model.dense-normalization: running}, the batch's dense values merged into the
 *       running statistics (a dense block Adam never moves, see {@link
 *       RequestOnlyModel#NORMALIZATION_BLOCK}), which standardise the next batch's;
 *   <li>mark the rows dirty and close the batch, which unpins them.
 * </ol>
 *
 * A batch whose loss is not finite is skipped whole (no row or weight changes) and counted, so a
 * non-finite value never reaches a published weight through it.
 *
 * <p>{@link #publish} drains what changed since the last publish to a {@link DeltaSink}. The
 * trainer is single-threaded and deterministic: the same batches in the same order give the same
 * model, bit for bit, on the CPU backend.
 */
public final class MiniBatchTrainer implements AutoCloseable {
  /** Adam's first-moment decay (Kingma & Ba defaults). */
  private static final float BETA1 = 0.9f;

  /** Adam's second-moment decay. */
  private static final float BETA2 = 0.999f;

  /** Adam's denominator guard. */
  private static final float ADAM_EPS = 1e-8f;

  /** Impressions in the progressive-metrics window. */
  public static final int DEFAULT_METRICS_WINDOW = 100_000;

  /**
   * Layout version of {@link #saveState}: 2 adds the progressive metrics' lifetime AUC bins, 3 the
   * model's factorised cross (its {@code model.factorised-cross} value) before the parameters, 4
   * its wide rows' optimizer ({@code model.wide-optimizer}) after it, 5 its wide pooling ({@code
   * model.wide-pooling}) after that, 6 the features' layout ({@link #layoutOf}) after that, 7 the
   * progressive metrics of every label but the first at the end (their count, then each), 8 the
   * towers' shapes ({@link RequestOnlyModel#towerShapes}) after the features' layout and, at the
   * end, every label's values for the calibration ({@link ProgressiveMetrics#writeLabelsTo}, then
   * their byte count). Format-1 to -7 states still restore (a format-1 state's lifetime AUC
   * restarts from the metrics window; the other labels' metrics of a state before format 7 start
   * afresh; the towers of a state before format 8 are checked by the parameter count alone, and its
   * labels taken as their classes, exact for labels of 0 and 1).
   */
  private static final int STATE_FORMAT = 8;

  /**
   * The layout before the towers' shapes were saved (after the features' layout), which {@link
   * #restoreState} still reads: its towers are checked by the parameter count alone.
   */
  private static final int STATE_FORMAT_NO_TOWERS = 7;

  /**
   * The layout before the other labels' progressive metrics were saved (after the first label's),
   * which {@link #restoreState} still reads: those metrics start afresh.
   */
  private static final int STATE_FORMAT_NO_LABEL_METRICS = 6;

  /**
   * The layout before the features' layout was saved (after the wide pooling), which {@link
   * #restoreState} still reads without checking the layout.
   */
  private static final int STATE_FORMAT_NO_LAYOUT = 5;

  /**
   * The layout before the wide pooling was saved (after the wide rows' optimizer), which {@link
   * #restoreState} still reads: every such state's model summed its wide weights.
   */
  private static final int STATE_FORMAT_NO_WIDE_POOLING = 4;

  /**
   * The features' layout the parameters are laid out by, in words ({@link UnitLayout#describe}).
   * Two models of the same parameter count may differ in it: two features of one side swapped, a
   * label renamed or the labels reordered. A state restored under another layout trains each
   * feature's weights on another feature's values, and serves the first label's head as another
   * label.
   */
  static String layoutOf(ModelConfig config) {
    return new UnitLayout(config.features()).describe();
  }

  /**
   * The layout before the wide rows' optimizer was saved (after the factorised cross), which {@link
   * #restoreState} still reads: every such state's wide rows learnt by Adagrad.
   */
  private static final int STATE_FORMAT_NO_WIDE_OPTIMIZER = 3;

  /** The layout before the factorised cross was saved, which {@link #restoreState} still reads. */
  private static final int STATE_FORMAT_NO_CROSS = 2;

  /** The layout before the lifetime AUC, which {@link #restoreState} still reads. */
  private static final int STATE_FORMAT_NO_LIFETIME_AUC = 1;

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(MiniBatchTrainer.class);

  private final ModelConfig config;
  private final EmbeddingStore store;
  private final ComputeBackend backend;
  private final RequestOnlyModel model;
  private final UnitBatch batch;
  private final RequestOnlyModel.Workspace ws;

  /** Per embedding table, then the wide table: the batch's slots, row index and distinct slots. */
  private final RowIndexBuffers[] rowBuffers;

  private final int[] storeTable;
  private final int wideTable;
  private final TableRows[] rows;
  private final String[] tableNames;
  private final int paramCount;
  private final Floats params;
  private final Floats gradParams;
  private final Floats adamM;
  private final Floats adamV;
  private long adamStep;

  /** {@code [offset, length]} of the normalisation statistics in {@link #params}, or null. */
  private final int[] normBlock;

  /** The normalisation statistics on the host, between download and upload. */
  private final float[] normStats;

  /**
   * The progressive metrics of each label, in the model's order: the first's are {@link
   * #metrics()}, which the job's figures without a label follow.
   */
  private final ProgressiveMetrics[] labelMetrics;

  private long unitsTrained;
  private long impressionsTrained;
  private long batchesTrained;
  private long batchesSkipped;
  private long impressionsSkipped;
  private long eventTimeMs = Long.MIN_VALUE;

  public MiniBatchTrainer(
      ModelConfig config, EmbeddingStore store, ComputeBackend backend, int metricsWindow) {
    this.config = config;
    this.store = store;
    this.backend = backend;
    this.model = new RequestOnlyModel(config, backend);
    this.batch = new UnitBatch(config);
    List<String> tables = config.features().tables();
    this.tableNames = tables.toArray(new String[0]);
    this.storeTable = new int[tables.size()];
    for (int t = 0; t < storeTable.length; t++) {
      storeTable[t] = store.tableIndex(tables.get(t));
      checkDim(store.tables().get(storeTable[t]), config.embeddingDim());
    }
    this.wideTable = store.tableIndex(ModelConfig.WIDE_TABLE);
    checkDim(store.tables().get(wideTable), 1);
    this.rows = new TableRows[tables.size()];
    this.ws = model.newWorkspace();
    this.rowBuffers = new RowIndexBuffers[tables.size() + 1];
    for (int t = 0; t < rowBuffers.length; t++) {
      rowBuffers[t] = new RowIndexBuffers(backend);
    }
    this.paramCount = model.parameterCount();
    this.params = backend.allocFloats(paramCount);
    backend.upload(model.initialParameters(), 0, params, 0, paramCount);
    this.gradParams = backend.allocFloats(paramCount);
    this.adamM = backend.allocFloats(paramCount);
    this.adamV = backend.allocFloats(paramCount);
    this.normBlock = model.normalizationBlock();
    this.normStats = normBlock != null ? new float[normBlock[1]] : null;
    this.labelMetrics = new ProgressiveMetrics[config.features().labels().size()];
    for (int l = 0; l < labelMetrics.length; l++) {
      labelMetrics[l] = new ProgressiveMetrics(metricsWindow);
    }
  }

  public MiniBatchTrainer(ModelConfig config, EmbeddingStore store, ComputeBackend backend) {
    this(config, store, backend, DEFAULT_METRICS_WINDOW);
  }

  private static void checkDim(TableConfig t, int dim) {
    if (t.dim() != dim || t.stateWidth() < ModelConfig.ROW_STATE_WIDTH) {
      throw new IllegalArgumentException(
          "store table '"
              + t.name()
              + "' has dim "
              + t.dim()
              + " and state width "
              + t.stateWidth()
              + "; the model needs dim "
              + dim
              + " and state width >= "
              + ModelConfig.ROW_STATE_WIDTH);
    }
  }

  /** What one {@link #train} call did. */
  public record Step(int units, int impressions, double loss, boolean skipped) {}

  /**
   * Scores every impression of {@code units} (progressive validation), then trains on them. The
   * predictions stay readable through {@link #lastPredictions()} until the next call.
   */
  public Step train(List<CompactUnit> units) {
    batch.encode(units);
    return trainEncoded(units.size());
  }

  /**
   * As {@link #train}, for units still in strings: hashes them first (in this thread). For tests,
   * tools and benchmarks; the job hands the trainer compact units made before it.
   */
  public Step trainRequestUnits(List<RequestUnit> units) {
    batch.encodeRequestUnits(units);
    return trainEncoded(units.size());
  }

  /** The encoded units of a batch as a trainer reads them: its layout. */
  public UnitLayout layout() {
    return batch.layout();
  }

  private Step trainEncoded(int unitCount) {
    int ni = batch.impressions();
    if (ni == 0) {
      return new Step(unitCount, 0, 0, false);
    }
    if (batch.maxClosedAtMs() > eventTimeMs) {
      eventTimeMs = batch.maxClosedAtMs();
      store.advanceTo(eventTimeMs);
    }
    try (StoreBatch storeBatch = store.beginBatch()) {
      PreparedKeys[] prepared = new PreparedKeys[rows.length];
      for (int t = 0; t < rows.length; t++) {
        prepared[t] = storeBatch.prepare(storeTable[t], batch.tableKeys[t], batch.tableKeyCount[t]);
      }
      PreparedKeys widePrepared = storeBatch.prepare(wideTable, batch.wideKeys, batch.wideCount);
      for (int t = 0; t < rows.length; t++) {
        rows[t] =
            rowsOf(
                t,
                storeBatch.slab(storeTable[t]),
                storeTable[t],
                prepared[t],
                batch.tableKeyCount[t]);
      }
      TableRows wide =
          rowsOf(rows.length, storeBatch.slab(wideTable), wideTable, widePrepared, batch.wideCount);
      RequestOnlyModel.Forward fw = model.forward(batch, rows, wide, params, ws);
      double loss = model.loss(fw);
      float[] prob = RequestOnlyModel.predictionsAllLabels(ws);
      int nl = labelMetrics.length;
      for (int l = 0; l < nl; l++) {
        ProgressiveMetrics m = labelMetrics[l];
        for (int i = 0; i < ni; i++) {
          m.add(prob[i * nl + l], batch.label(i, l));
        }
        m.refresh();
      }
      RequestOnlyModel.Gradients g = Double.isFinite(loss) ? model.backward(fw, gradParams) : null;
      // the batch's rows go out with the next publish, whether it learns or is skipped: the rows it
      // admitted are rows of the model now, counted in the version marker's, and a skipped batch
      // that left them out had a replica never hold as many rows as the marker said
      for (int t = 0; t < rows.length; t++) {
        storeBatch.markUpdated(storeTable[t], prepared[t]);
      }
      storeBatch.markUpdated(wideTable, widePrepared);
      if (g == null || !g.finite()) {
        batchesSkipped++;
        impressionsSkipped += ni;
        return new Step(unitCount, ni, loss, true);
      }
      model.applySparse(g, tableNames, config.adagradInitialAccumulator());
      adamStep++;
      backend.adam(
          params,
          gradParams,
          adamM,
          adamV,
          paramCount,
          adamStep,
          config.denseLr(ni),
          BETA1,
          BETA2,
          ADAM_EPS);
      if (normBlock != null) {
        backend.download(params, normBlock[0], normStats, 0, normBlock[1]);
        model.updateNormalization(batch, normStats);
        backend.upload(normStats, 0, params, normBlock[0], normBlock[1]);
      }
      batchesTrained++;
      unitsTrained += unitCount;
      impressionsTrained += ni;
      return new Step(unitCount, ni, loss, false);
    }
  }

  private TableRows rowsOf(int k, Floats slab, int storeIndex, PreparedKeys p, int keys) {
    RowIndexBuffers b = rowBuffers[k];
    return new TableRows(
        slab,
        store.tables().get(storeIndex).rowWidth(),
        b.slots.upload(p.slots(), keys),
        b.rowIndex.upload(p.rowIndex(), keys),
        b.distinctSlots.upload(p.distinctSlots(), p.distinctCount()),
        p.distinctCount());
  }

  /** One table's per-batch index buffers in the backend's memory. */
  private static final class RowIndexBuffers implements AutoCloseable {
    final ScratchInts slots;
    final ScratchInts rowIndex;
    final ScratchInts distinctSlots;

    RowIndexBuffers(ComputeBackend backend) {
      slots = new ScratchInts(backend);
      rowIndex = new ScratchInts(backend);
      distinctSlots = new ScratchInts(backend);
    }

    @Override
    public void close() {
      distinctSlots.close();
      rowIndex.close();
      slots.close();
    }
  }

  /** The predictions of the last {@link #train} call, one per impression, in batch order. */
  public float[] lastPredictions() {
    return java.util.Arrays.copyOf(RequestOnlyModel.predictions(ws), batch.impressions());
  }

  /**
   * The predictions of label {@code label} (an index into the configured labels) of the last {@link
   * #train} call, one per impression; label 0 is {@link #lastPredictions()}.
   */
  public float[] lastPredictions(int label) {
    int labels = model.labels();
    if (label < 0 || label >= labels) {
      throw new IllegalArgumentException("label index " + label + " out of [0, " + labels + ")");
    }
    float[] all = RequestOnlyModel.predictionsAllLabels(ws);
    float[] out = new float[batch.impressions()];
    for (int i = 0; i < out.length; i++) {
      out[i] = all[i * labels + label];
    }
    return out;
  }

  /** What one {@link #publish} handed over. */
  public record Published(int rows, int tombstones, int denseBlocks) {
    public int total() {
      return rows + tombstones + denseBlocks;
    }
  }

  /**
   * Hands every row changed since the last publish, a tombstone for every row that expired, and the
   * dense blocks to {@code sink}; tables in model order, then the wide table.
   */
  public Published publish(DeltaSink sink) {
    int rowCount = 0, tombstones = 0;
    int[] all = new int[storeTable.length + 1];
    String[] names = new String[all.length];
    System.arraycopy(storeTable, 0, all, 0, storeTable.length);
    System.arraycopy(tableNames, 0, names, 0, tableNames.length);
    all[storeTable.length] = wideTable;
    names[storeTable.length] = ModelConfig.WIDE_TABLE;
    for (int k = 0; k < all.length; k++) {
      String name = names[k];
      tombstones += store.drainExpired(all[k], id -> sink.tombstone(name, id));
      rowCount +=
          store.drainDirty(
              all[k],
              Integer.MAX_VALUE,
              (id, values, offset, dim) -> sink.row(name, id, values, offset, dim));
    }
    float[] values = parameters();
    Map<String, int[]> blocks = model.blocks();
    for (Map.Entry<String, int[]> e : blocks.entrySet()) {
      int[] b = e.getValue();
      sink.dense(e.getKey(), java.util.Arrays.copyOfRange(values, b[0], b[0] + b[1]));
    }
    return new Published(rowCount, tombstones, blocks.size());
  }

  /**
   * Marks the rows of slice {@code slice} of {@code slices} of every table, the wide one too, as
   * changed, so the next {@link #publish} hands them again; returns how many.
   */
  public long markSlice(int slice, int slices) {
    long n = 0;
    for (int t : storeTable) {
      n += store.markSlice(t, slice, slices);
    }
    return n + store.markSlice(wideTable, slice, slices);
  }

  public ModelConfig config() {
    return config;
  }

  /** The progressive metrics of the first label. */
  public ProgressiveMetrics metrics() {
    return labelMetrics[0];
  }

  /** The progressive metrics of label {@code label}, by its place in the model's labels. */
  public ProgressiveMetrics metrics(int label) {
    return labelMetrics[label];
  }

  public long unitsTrained() {
    return unitsTrained;
  }

  public long impressionsTrained() {
    return impressionsTrained;
  }

  public long batchesTrained() {
    return batchesTrained;
  }

  public long batchesSkipped() {
    return batchesSkipped;
  }

  public long impressionsSkipped() {
    return impressionsSkipped;
  }

  /** The latest event time trained on. */
  public long eventTimeMs() {
    return eventTimeMs;
  }

  /**
   * A copy of every dense parameter (the dense blocks, concatenated; see {@link
   * RequestOnlyModel#blocks}).
   */
  public float[] parameters() {
    float[] out = new float[paramCount];
    backend.download(params, 0, out, 0, paramCount);
    return out;
  }

  /** The model this trainer trains. */
  public RequestOnlyModel model() {
    return model;
  }

  /**
   * Runs the request tower once per request (the default) or once per impression (to measure the
   * saving).
   */
  public void setRequestOnly(boolean requestOnly) {
    model.setRequestOnly(requestOnly);
  }

  /**
   * Everything of the trainer but its embedding store, in a portable form: dense parameters, Adam
   * state, counters, event time and the progressive metrics. With the store's snapshot, {@link
   * #restoreState} continues training exactly where this state was taken.
   */
  public byte[] saveState() {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
      out.writeInt(STATE_FORMAT);
      out.writeUTF(config.factorisedCross().key());
      out.writeUTF(config.wideOptimizer().kind().key());
      out.writeUTF(config.widePooling().key());
      out.writeUTF(layoutOf(config));
      out.writeUTF(model.towerShapes());
      out.writeInt(paramCount);
      for (Floats f : new Floats[] {params, adamM, adamV}) {
        float[] host = new float[paramCount];
        backend.download(f, 0, host, 0, paramCount);
        for (float x : host) {
          out.writeInt(Float.floatToRawIntBits(x));
        }
      }
      out.writeLong(adamStep);
      out.writeLong(unitsTrained);
      out.writeLong(impressionsTrained);
      out.writeLong(batchesTrained);
      out.writeLong(batchesSkipped);
      out.writeLong(impressionsSkipped);
      out.writeLong(eventTimeMs);
      labelMetrics[0].writeTo(out);
      out.writeInt(labelMetrics.length - 1);
      for (int l = 1; l < labelMetrics.length; l++) {
        labelMetrics[l].writeTo(out);
      }
      // format 8: every label's values, then their byte count
      java.io.ByteArrayOutputStream labels = new java.io.ByteArrayOutputStream();
      try (java.io.DataOutputStream l = new java.io.DataOutputStream(labels)) {
        for (ProgressiveMetrics m : labelMetrics) {
          m.writeLabelsTo(l);
        }
      }
      labels.writeTo(out);
      out.writeInt(labels.size());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * What a saved state says of its model before the parameters: its format, its factorised cross
   * (null before format 3, which did not say), its wide rows' optimizer (Adagrad before format 4,
   * the only one there was) and its wide pooling (the sum before format 5).
   */
  private record StateHeader(
      int format,
      ModelConfig.FactorisedCross cross,
      ModelConfig.WideOptimizer.Kind wideOptimizer,
      ModelConfig.WidePooling widePooling,
      String layout,
      String towers) {
    static StateHeader read(java.io.DataInputStream in) throws java.io.IOException {
      int format = in.readInt();
      if (format > STATE_FORMAT) {
        throw new NewerStateFormatException(format, STATE_FORMAT);
      }
      if (format != STATE_FORMAT
          && format != STATE_FORMAT_NO_TOWERS
          && format != STATE_FORMAT_NO_LABEL_METRICS
          && format != STATE_FORMAT_NO_LAYOUT
          && format != STATE_FORMAT_NO_WIDE_POOLING
          && format != STATE_FORMAT_NO_WIDE_OPTIMIZER
          && format != STATE_FORMAT_NO_CROSS
          && format != STATE_FORMAT_NO_LIFETIME_AUC) {
        throw new IllegalArgumentException(
            "trainer state has format " + format + "; this build reads " + STATE_FORMAT);
      }
      ModelConfig.FactorisedCross cross =
          format >= STATE_FORMAT_NO_WIDE_OPTIMIZER
              ? ModelConfig.FactorisedCross.of(in.readUTF())
              : null;
      ModelConfig.WideOptimizer.Kind wide =
          format >= STATE_FORMAT_NO_WIDE_POOLING
              ? ModelConfig.WideOptimizer.Kind.of(in.readUTF())
              : ModelConfig.WideOptimizer.Kind.ADAGRAD;
      ModelConfig.WidePooling pooling =
          format >= STATE_FORMAT_NO_LAYOUT
              ? ModelConfig.WidePooling.of(in.readUTF())
              : ModelConfig.WidePooling.SUM;
      String layout = format >= STATE_FORMAT_NO_LABEL_METRICS ? in.readUTF() : null;
      String towers = format > STATE_FORMAT_NO_TOWERS ? in.readUTF() : null;
      return new StateHeader(format, cross, wide, pooling, layout, towers);
    }

    /**
     * Refuses the state when its towers are not shaped as {@code ours} ({@link
     * RequestOnlyModel#towerShapes}): towers of other layer sizes may have the same parameter count
     * (a request tower of [7, 16] and an impression tower of [65, 16] have the default's), and the
     * weights restored into them would lie across other layers' boundaries, a scrambled model
     * trained and published on. A state from before format 8 does not say.
     */
    void requireTowersOf(String ours) {
      if (towers != null && !towers.equals(ours)) {
        throw new IllegalArgumentException(
            "trainer state is of a model with other towers: its "
                + towers
                + ", this job's "
                + ours
                + " (model.towers.* changed since the checkpoint: set them back to resume this"
                + " model)");
      }
    }

    /**
     * Refuses the state when its features' layout is not {@code config}'s ({@link #layoutOf}),
     * naming the parts that differ. A state from before format 6 does not say.
     */
    void requireLayoutOf(ModelConfig config) {
      String ours = layoutOf(config);
      if (layout == null || layout.equals(ours)) {
        return;
      }
      String[] was = layout.split("; ");
      String[] now = ours.split("; ");
      List<String> differ = new java.util.ArrayList<>();
      for (int i = 0; i < Math.max(was.length, now.length); i++) {
        String a = i < was.length ? was[i] : "";
        String b = i < now.length ? now[i] : "";
        if (!a.equals(b)) {
          differ.add("its " + a + ", this job's " + b.substring(Math.max(0, b.indexOf('['))));
        }
      }
      throw new IllegalArgumentException(
          "trainer state is of a model with other features or labels, or another order of them: "
              + String.join("; ", differ)
              + ". A feature's or label's place decides which weights it trains and which head"
              + " scores it, so the model cannot go on under another");
    }

    /**
     * Refuses the state when its wide rows learnt under another optimizer than {@code config}'s: a
     * wide row holds one Adagrad accumulator or FTRL's {@code z} and {@code n}, and the rows of one
     * do not restore into the other.
     */
    void requireWideOptimizerOf(ModelConfig config) {
      if (wideOptimizer != config.wideOptimizer().kind()) {
        throw new IllegalArgumentException(
            "trainer state is of a model with model.wide-optimizer: "
                + wideOptimizer.key()
                + "; this job's is "
                + config.wideOptimizer().kind().key()
                + " (set it to "
                + wideOptimizer.key()
                + " to resume this model: the wide rows keep the optimizer they were trained"
                + " with)");
      }
    }
  }

  /**
   * Refuses {@code state} when it is of no format this build reads, when its features' layout is
   * not {@code config}'s ({@link #layoutOf}: features or labels of another order), or when its
   * model's wide rows learnt under another optimizer than {@code config}'s ({@code
   * model.wide-optimizer}). {@link #restoreState} checks it too; a job checks it before it restores
   * the store, whose own error would name only the rows' widths.
   */
  public static void checkWideOptimizer(ModelConfig config, byte[] state) {
    StateHeader h = header(state);
    h.requireLayoutOf(config);
    h.requireWideOptimizerOf(config);
  }

  /**
   * How the model of {@code state} pooled its wide weights ({@code model.wide-pooling}): the sum
   * for a state from before format 5, which every model then did.
   */
  static ModelConfig.WidePooling savedWidePooling(byte[] state) {
    return header(state).widePooling();
  }

  /** The header of {@code state}, read on its own (before its store is restored, or for tests). */
  private static StateHeader header(byte[] state) {
    try (java.io.DataInputStream in =
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(state))) {
      return StateHeader.read(in);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("trainer state is truncated: " + e.getMessage(), e);
    }
  }

  /**
   * Restores what {@link #saveState} saved (the store is restored separately, from its snapshot). A
   * state of a model that pooled its wide weights otherwise ({@code model.wide-pooling}) restores
   * with its weights as they are, and the trainer logs it: the same rows, weighed otherwise from
   * here on, which the model relearns.
   */
  public void restoreState(byte[] state) {
    try (java.io.DataInputStream in =
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(state))) {
      StateHeader header = StateHeader.read(in);
      header.requireLayoutOf(config);
      header.requireWideOptimizerOf(config);
      header.requireTowersOf(model.towerShapes());
      int format = header.format();
      // states from before format 3 do not say; every such state of a field-weighted model has
      // this model's parameter count, and any other is checked by its count below
      ModelConfig.FactorisedCross cross = header.cross();
      int n = in.readInt();
      int[] pairs = model.blocks().get(RequestOnlyModel.FIELD_PAIRS_BLOCK);
      int[] crossPairs = model.blocks().get(RequestOnlyModel.WIDE_CROSS_PAIRS_BLOCK);
      // an older state does not say which block it lacks when this model has both
      boolean fromSum =
          pairs != null
              && pairs[1] > 0
              && n == paramCount - pairs[1]
              && (cross == ModelConfig.FactorisedCross.SUM
                  || (cross == null && crossPairs == null));
      // crosses summed unweighted (or none) are field-weighted crosses with every pair weighing 1
      boolean fromUnweightedCrosses =
          !fromSum
              && crossPairs != null
              && crossPairs[1] > 0
              && n == paramCount - crossPairs[1]
              && cross == config.factorisedCross();
      if (cross != null && cross != config.factorisedCross() && !fromSum) {
        throw new IllegalArgumentException(
            "trainer state is of a model with model.factorised-cross: "
                + cross.key()
                + "; this job's is "
                + config.factorisedCross().key()
                + " (set it to "
                + cross.key()
                + " to resume this model)");
      }
      if (n != paramCount && !fromSum && !fromUnweightedCrosses) {
        throw new IllegalArgumentException(
            "trainer state has "
                + n
                + " dense parameters; this model has "
                + paramCount
                + " (the model configuration changed since the checkpoint)");
      }
      // a summed cross is the field-weighted one with every pair weighing 1: its state restores
      // into a field-weighted model with the pair weights inserted at 1 and their Adam state at 0,
      // scoring as it did, and the weights learn from there
      // and so do unweighted wide crosses into field-weighted ones
      int[] inserted = fromSum ? pairs : fromUnweightedCrosses ? crossPairs : null;
      int from = inserted != null ? inserted[0] : paramCount;
      int gap = inserted != null ? inserted[1] : 0;
      float[] start = {1f, 0f, 0f};
      Floats[] arrays = {params, adamM, adamV};
      for (int a = 0; a < arrays.length; a++) {
        float[] host = new float[paramCount];
        for (int i = 0; i < n; i++) {
          host[i < from ? i : i + gap] = Float.intBitsToFloat(in.readInt());
        }
        java.util.Arrays.fill(host, from, from + gap, start[a]);
        backend.upload(host, 0, arrays[a], 0, paramCount);
      }
      if (fromSum) {
        LOG.warn(
            "trainer state of a model with the summed factorised cross restored into this one's"
                + " field-weighted cross (model.factorised-cross: field-weighted, the default):"
                + " its {} pair weights start at 1, so the model scores as it did, and learn from"
                + " here; set model.factorised-cross: sum to keep the summed cross",
            gap);
      }
      if (fromUnweightedCrosses) {
        LOG.warn(
            "trainer state of a model with unweighted wide crosses (or none) restored into this"
                + " one's field-weighted wide crosses (model.wide-crosses: field-weighted): its {}"
                + " pair weights start at 1, so the model scores as it did, and learn from here",
            gap);
      }
      if (header.widePooling() != config.widePooling()) {
        LOG.warn(
            "trainer state of a model with model.wide-pooling: {} restored into this one's {}: the"
                + " wide weights carry over as they are, and a multi-valued feature's weigh"
                + " otherwise from here on (a mean-pooled history's are {}), which the model"
                + " relearns; set model.wide-pooling: {} to keep how they were weighed",
            header.widePooling().key(),
            config.widePooling().key(),
            config.widePooling() == ModelConfig.WidePooling.SUM ? "summed" : "averaged",
            header.widePooling().key());
      }
      adamStep = in.readLong();
      unitsTrained = in.readLong();
      impressionsTrained = in.readLong();
      batchesTrained = in.readLong();
      batchesSkipped = in.readLong();
      impressionsSkipped = in.readLong();
      eventTimeMs = in.readLong();
      labelMetrics[0].readFrom(in, format != STATE_FORMAT_NO_LIFETIME_AUC);
      int others = format >= STATE_FORMAT_NO_TOWERS ? in.readInt() : 0;
      for (int l = 1; l < labelMetrics.length; l++) {
        if (l <= others) {
          labelMetrics[l].readFrom(in);
        } else {
          labelMetrics[l] = new ProgressiveMetrics(labelMetrics[l].window());
        }
      }
      if (format > STATE_FORMAT_NO_TOWERS) {
        for (ProgressiveMetrics m : labelMetrics) {
          m.readLabelsFrom(in);
        }
        in.readInt();
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the trainer state: " + e.getMessage(), e);
    }
  }

  public EmbeddingStore store() {
    return store;
  }

  @Override
  public void close() {
    adamV.close();
    adamM.close();
    gradParams.close();
    params.close();
    for (int t = rowBuffers.length - 1; t >= 0; t--) {
      rowBuffers[t].close();
    }
    ws.close();
    store.close();
    backend.close();
  }
}
