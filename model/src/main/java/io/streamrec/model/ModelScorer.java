package io.streamrec.model;

import io.streamrec.embedding.RowInitializer;
import io.streamrec.embedding.TableConfig;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.gpu.Ints;
import io.streamrec.schemas.RequestUnit;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores request units with a published model, through the very forward pass the trainer runs
 * ({@link RequestOnlyModel#forward}): the batch's rows are gathered from a {@link ParameterView}
 * into a small slab, and an id the model has no row for reads as its initial values, exactly as the
 * trainer reads an id it has not admitted. So a replica at version {@code v} scores an impression
 * as the trainer did when it published {@code v}.
 *
 * <p>Not thread-safe: use one scorer per thread.
 */
public final class ModelScorer {
  private final ModelConfig config;
  private final RequestOnlyModel model;
  private final UnitBatch batch;
  private final ComputeBackend backend;
  private final RequestOnlyModel.Workspace ws;

  /**
   * Per embedding table, then the wide table: the gathered rows, their slots and distinct slots.
   */
  private final GatheredRows[] gathered;

  private final ScratchFloats paramBuffer;
  private final List<TableConfig> tableConfigs;
  private final float[] initialParams;
  private final float[] params;

  public ModelScorer(ModelConfig config, ComputeBackend backend) {
    this.config = config;
    this.backend = backend;
    this.model = new RequestOnlyModel(config, backend);
    this.batch = new UnitBatch(config);
    this.ws = model.newWorkspace();
    this.tableConfigs = config.tableConfigs();
    this.gathered = new GatheredRows[tableConfigs.size()];
    for (int t = 0; t < gathered.length; t++) {
      gathered[t] = new GatheredRows(backend);
    }
    this.paramBuffer = new ScratchFloats(backend);
    this.initialParams = model.initialParameters();
    this.params = new float[initialParams.length];
  }

  public ModelScorer(ModelConfig config) {
    this(config, new CpuBackend());
  }

  public ModelConfig config() {
    return config;
  }

  /** How many values each dense block of the configuration holds, by name. */
  public Map<String, Integer> denseBlockSizes() {
    Map<String, Integer> sizes = new java.util.LinkedHashMap<>();
    model.blocks().forEach((name, b) -> sizes.put(name, b[1]));
    return sizes;
  }

  /**
   * The first label's (click) probabilities of every impression of {@code units}, in order: column
   * 0 of {@link #scoreAllLabels}, at the cost of one forward pass.
   */
  public float[] score(List<RequestUnit> units, ParameterView params) {
    float[] logits = logits(units, params);
    int labels = model.labels();
    float[] out = new float[logits.length / labels];
    for (int i = 0; i < out.length; i++) {
      out[i] = CpuBackend.sigmoid(logits[i * labels]);
    }
    return out;
  }

  /**
   * Every label's probabilities of every impression of {@code units}, from one forward pass: the
   * sigmoid of each head's logit, as the trainer's loss computes its predictions of every label
   * ({@link MiniBatchTrainer#lastPredictions(int)}).
   */
  public LabelScores scoreAllLabels(List<RequestUnit> units, ParameterView params) {
    float[] p = logits(units, params);
    for (int k = 0; k < p.length; k++) {
      p[k] = CpuBackend.sigmoid(p[k]);
    }
    return new LabelScores(config.features().labels(), p);
  }

  /** The forward pass: {@code impressions × labels} logits, row-major, on the host. */
  private float[] logits(List<RequestUnit> units, ParameterView params) {
    batch.encodeRequestUnits(units);
    int nt = config.features().tables().size();
    TableRows[] rows = new TableRows[nt];
    for (int t = 0; t < nt; t++) {
      rows[t] = gather(t, tableConfigs.get(t), batch.tableKeys[t], batch.tableKeyCount[t], params);
    }
    TableRows wide = gather(nt, tableConfigs.get(nt), batch.wideKeys, batch.wideCount, params);
    for (Map.Entry<String, int[]> e : model.blocks().entrySet()) {
      int[] b = e.getValue();
      float[] block = params.dense(e.getKey());
      if (block == null) {
        System.arraycopy(initialParams, b[0], this.params, b[0], b[1]);
      } else if (block.length != b[1]) {
        throw new IllegalStateException(
            "dense block '"
                + e.getKey()
                + "' has "
                + block.length
                + " values; this model config needs "
                + b[1]);
      } else {
        System.arraycopy(block, 0, this.params, b[0], b[1]);
      }
    }
    RequestOnlyModel.Forward fw =
        model.forward(batch, rows, wide, paramBuffer.upload(this.params, this.params.length), ws);
    int ni = batch.impressions(), labels = model.labels();
    float[] logits = new float[ni * labels];
    backend.download(fw.logits(), 0, logits, 0, ni * labels);
    return logits;
  }

  private TableRows gather(int t, TableConfig table, long[] keys, int count, ParameterView params) {
    int width = table.rowWidth();
    Map<Long, Integer> index = new HashMap<>();
    int[] slots = new int[count];
    long[] distinct = new long[count];
    int n = 0;
    for (int k = 0; k < count; k++) {
      Integer s = index.putIfAbsent(keys[k], n);
      if (s == null) {
        distinct[n] = keys[k];
        s = n++;
      }
      slots[k] = s;
    }
    float[] slab = new float[Math.max(1, n) * width];
    for (int r = 0; r < n; r++) {
      if (!params.readRow(table.name(), distinct[r], slab, r * width)) {
        RowInitializer.init(table, distinct[r], slab, r * width);
      }
    }
    int[] distinctSlots = new int[n];
    Arrays.setAll(distinctSlots, r -> r);
    GatheredRows g = gathered[t];
    Ints slotBuffer = g.slots.upload(slots, count);
    return new TableRows(
        g.slab.upload(slab, slab.length),
        width,
        slotBuffer,
        slotBuffer,
        g.distinctSlots.upload(distinctSlots, n),
        n);
  }

  /** One table's rows of a batch, gathered into a small slab, with their index buffers. */
  private static final class GatheredRows {
    final ScratchFloats slab;
    final ScratchInts slots;
    final ScratchInts distinctSlots;

    GatheredRows(ComputeBackend backend) {
      slab = new ScratchFloats(backend);
      slots = new ScratchInts(backend);
      distinctSlots = new ScratchInts(backend);
    }
  }
}
