package io.streamrec.protocol;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.ModelSpec;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import java.util.function.Consumer;

/**
 * Encodes one publish of the model as model-updates records: a {@link ModelDelta} per changed row
 * and dense block under its key, a null value (tombstone) per expired row, and, last, the {@link
 * VersionMarker} that closes the version. A replica applies a version's records only when its
 * marker arrives. Rows travel in the configured {@link RowEncoding} (float32 by default, or a
 * 16-bit float); dense blocks always as float32. The protocol is written down in
 * docs/model-updates.md.
 */
public final class ModelUpdateEncoder {
  /** Layout version of the model spec's JSON. */
  public static final String SPEC_FORMAT = "streamrec-model-spec/1";

  /**
   * The spec's format when a reader must implement more to score the model than {@link
   * #SPEC_FORMAT} asks: the JSON's {@code wideCrosses} or {@code denseNormalization} is not {@code
   * none}.
   */
  public static final String SPEC_FORMAT_2 = "streamrec-model-spec/2";

  /**
   * The spec's format when a reader must implement more to score the model than {@link
   * #SPEC_FORMAT_2} asks: the JSON's {@code factorisedCross} is not {@code sum}.
   */
  public static final String SPEC_FORMAT_3 = "streamrec-model-spec/3";

  /**
   * The spec's format when a reader must implement more to score the model than {@link
   * #SPEC_FORMAT_3} asks: the JSON's {@code wideCrosses} is {@code field-weighted}.
   */
  public static final String SPEC_FORMAT_4 = "streamrec-model-spec/4";

  /**
   * The spec's format when a reader must implement more to score the model than {@link
   * #SPEC_FORMAT_4} asks: the JSON's {@code widePooling} is {@code per-feature}.
   */
  public static final String SPEC_FORMAT_5 = "streamrec-model-spec/5";

  /** The spec formats this code reads; a reader refuses any other rather than score without it. */
  public static final java.util.Set<String> SPEC_FORMATS =
      java.util.Set.of(SPEC_FORMAT, SPEC_FORMAT_2, SPEC_FORMAT_3, SPEC_FORMAT_4, SPEC_FORMAT_5);

  private final long model;
  private final long version;
  private final long eventTimeMs;
  private final RowEncoding rowEncoding;
  private final Consumer<ModelUpdateRecord> out;
  private final ModelDeltaWriter writer;
  private int rows;
  private int tombstones;
  private int denseBlocks;

  /** An encoder of version {@code version} of the lineage {@code model}, with float32 rows. */
  public ModelUpdateEncoder(
      long model, long version, long eventTimeMs, Consumer<ModelUpdateRecord> out) {
    this(model, version, eventTimeMs, RowEncoding.FLOAT32, out);
  }

  /**
   * An encoder of version {@code version} of the lineage {@code model} (a non-zero id, {@link
   * ModelLineage}), rows in {@code rowEncoding}.
   */
  public ModelUpdateEncoder(
      long model,
      long version,
      long eventTimeMs,
      RowEncoding rowEncoding,
      Consumer<ModelUpdateRecord> out) {
    this.model = model;
    this.writer = new ModelDeltaWriter(model);
    this.version = version;
    this.eventTimeMs = eventTimeMs;
    this.rowEncoding = rowEncoding;
    this.out = out;
  }

  /**
   * The record carrying the model spec (the model's configuration as JSON) of this lineage, in this
   * version's publish.
   */
  public void spec(String json) {
    spec(SPEC_FORMAT, json);
  }

  /** As {@link #spec(String)}, in {@code format} (one of {@link #SPEC_FORMATS}). */
  public void spec(String format, String json) {
    ModelSpec s =
        ModelSpec.newBuilder()
            .setFormat(format)
            .setJson(json)
            .setModel(model)
            .setVersion(version)
            .build();
    out.accept(new ModelUpdateRecord(ModelUpdateKeys.spec(), AvroCodec.encode(s), eventTimeMs));
  }

  /** A row's current values: {@code dim} floats of {@code values} from {@code offset}. */
  public void row(String table, long id, float[] values, int offset, int dim) {
    out.accept(
        new ModelUpdateRecord(
            writer.rowKey(table, id),
            writer.row(version, table, id, rowEncoding, values, offset, dim),
            eventTimeMs));
    rows++;
  }

  /** The row of {@code id} expired and is gone from the model: a null value under its key. */
  public void tombstone(String table, long id) {
    out.accept(new ModelUpdateRecord(writer.rowKey(table, id), null, eventTimeMs));
    tombstones++;
  }

  /** A dense block's current values, always float32. */
  public void dense(String block, float[] values) {
    out.accept(
        new ModelUpdateRecord(
            ModelUpdateKeys.dense(block), writer.dense(version, block, values), eventTimeMs));
    denseBlocks++;
  }

  /**
   * Emits the marker that closes this version; {@code marker} has the training figures filled in.
   */
  public void close(VersionMarker.Builder marker) {
    VersionMarker m =
        marker
            .setModel(model)
            .setVersion(version)
            .setEventTimeMs(eventTimeMs)
            .setRows(rows + tombstones)
            .setTombstones(tombstones)
            .setDenseBlocks(denseBlocks)
            .build();
    out.accept(new ModelUpdateRecord(ModelUpdateKeys.version(), AvroCodec.encode(m), eventTimeMs));
  }

  /** Records emitted so far, marker excluded. */
  public int emitted() {
    return rows + tombstones + denseBlocks;
  }
}
