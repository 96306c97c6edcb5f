package io.streamrec.job.trainer;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Writes a {@link TrainerCheckpoint} into the trainer's operator list state. {@link #copy} hands
 * the same object back (Flink copies the list in the synchronous phase of a checkpoint), so the
 * work is done by {@link #serialize}, which Flink calls on its asynchronous snapshot thread: there
 * the cut's files are uploaded and its manifest written.
 */
final class TrainerCheckpointSerializer extends TypeSerializer<TrainerCheckpoint> {
  private static final long serialVersionUID = 1L;

  @Override
  public boolean isImmutableType() {
    return true;
  }

  @Override
  public TypeSerializer<TrainerCheckpoint> duplicate() {
    return this;
  }

  @Override
  public TrainerCheckpoint createInstance() {
    return null;
  }

  @Override
  public TrainerCheckpoint copy(TrainerCheckpoint from) {
    return from;
  }

  @Override
  public TrainerCheckpoint copy(TrainerCheckpoint from, TrainerCheckpoint reuse) {
    return from;
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(TrainerCheckpoint record, DataOutputView target) throws IOException {
    record.write(target);
  }

  @Override
  public TrainerCheckpoint deserialize(DataInputView source) throws IOException {
    return TrainerCheckpoint.read(source);
  }

  @Override
  public TrainerCheckpoint deserialize(TrainerCheckpoint reuse, DataInputView source)
      throws IOException {
    return deserialize(source);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) {
    throw new UnsupportedOperationException(
        "a trainer checkpoint is read into files and cut anew, never copied as bytes");
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof TrainerCheckpointSerializer;
  }

  @Override
  public int hashCode() {
    return TrainerCheckpointSerializer.class.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<TrainerCheckpoint> snapshotConfiguration() {
    return new Snapshot();
  }

  /** The serializer has no configuration; the manifest carries its own format number. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<TrainerCheckpoint> {
    public Snapshot() {
      super(TrainerCheckpointSerializer::new);
    }
  }
}
