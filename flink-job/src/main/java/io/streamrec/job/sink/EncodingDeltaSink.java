package io.streamrec.job.sink;

import io.streamrec.model.DeltaSink;
import io.streamrec.protocol.ModelUpdateEncoder;

/**
 * Hands a trainer's publish to the model-update encoder: the trainer knows rows, tombstones and
 * dense blocks, the encoder knows the wire format, and neither module knows the other.
 */
public record EncodingDeltaSink(ModelUpdateEncoder encoder) implements DeltaSink {
  @Override
  public void row(String table, long id, float[] values, int offset, int dim) {
    encoder.row(table, id, values, offset, dim);
  }

  @Override
  public void tombstone(String table, long id) {
    encoder.tombstone(table, id);
  }

  @Override
  public void dense(String block, float[] values) {
    encoder.dense(block, values);
  }
}
