package io.streamrec.job.trainer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The trainer's part of a Flink checkpoint, written as raw operator state: the publishing position
 * (last version, open period, whether the spec went out), the trainer's dense state ({@link
 * io.streamrec.model.MiniBatchTrainer#saveState}) and the embedding store's snapshot directory,
 * file by file. Streamed into the checkpoint storage, so a large store never sits in the heap.
 *
 * <p>Layout (big-endian): format, version, open period, spec published, trainer-state length and
 * bytes, number of files, then per file its relative path, length and bytes.
 */
final class TrainerCheckpoint {
  private static final int FORMAT = 1;
  private static final int COPY_BUFFER = 1 << 16;

  final long version;
  final long openPeriod;
  final boolean specPublished;
  final byte[] trainerState;

  TrainerCheckpoint(long version, long openPeriod, boolean specPublished, byte[] trainerState) {
    this.version = version;
    this.openPeriod = openPeriod;
    this.specPublished = specPublished;
    this.trainerState = trainerState;
  }

  /** Writes this checkpoint and every file under {@code storeSnapshot} to {@code stream}. */
  void write(OutputStream stream, Path storeSnapshot) throws IOException {
    DataOutputStream out = new DataOutputStream(stream);
    out.writeInt(FORMAT);
    out.writeLong(version);
    out.writeLong(openPeriod);
    out.writeBoolean(specPublished);
    out.writeInt(trainerState.length);
    out.write(trainerState);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(storeSnapshot)) {
      files = new ArrayList<>(walk.filter(Files::isRegularFile).sorted().toList());
    }
    out.writeInt(files.size());
    byte[] buf = new byte[COPY_BUFFER];
    for (Path f : files) {
      out.writeUTF(storeSnapshot.relativize(f).toString());
      out.writeLong(Files.size(f));
      try (InputStream in = Files.newInputStream(f)) {
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
        }
      }
    }
    out.flush();
  }

  /**
   * Reads a checkpoint from {@code stream}, writing the store's files under {@code storeSnapshot}.
   */
  static TrainerCheckpoint read(InputStream stream, Path storeSnapshot) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException(
          "trainer checkpoint has format " + format + "; this build reads " + FORMAT);
    }
    long version = in.readLong();
    long openPeriod = in.readLong();
    boolean spec = in.readBoolean();
    byte[] state = new byte[in.readInt()];
    in.readFully(state);
    int files = in.readInt();
    byte[] buf = new byte[COPY_BUFFER];
    for (int i = 0; i < files; i++) {
      Path f = storeSnapshot.resolve(in.readUTF()).normalize();
      if (!f.startsWith(storeSnapshot)) {
        throw new IOException("trainer checkpoint names a file outside the snapshot: " + f);
      }
      Files.createDirectories(f.getParent());
      long left = in.readLong();
      try (OutputStream out = Files.newOutputStream(f)) {
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, left));
          if (n < 0) {
            throw new IOException("trainer checkpoint ends inside file " + f);
          }
          out.write(buf, 0, n);
          left -= n;
        }
      }
    }
    return new TrainerCheckpoint(version, openPeriod, spec, state);
  }
}
