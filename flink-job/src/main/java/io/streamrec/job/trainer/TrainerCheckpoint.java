package io.streamrec.job.trainer;

import io.streamrec.common.Directories;
import io.streamrec.common.LockedDirectory;
import io.streamrec.job.trainer.SharedStoreFiles.SharedFile;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.runtime.state.CheckpointStateOutputStream;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.CheckpointedStateScope;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.runtime.state.filesystem.FileStateHandle;

/**
 * The trainer's part of a Flink checkpoint: the publishing position (last version, open period,
 * whether the spec went out), the trainer's dense state ({@link
 * io.streamrec.model.MiniBatchTrainer#saveState}) and the embedding store's snapshot, as a manifest
 * of files.
 *
 * <p><b>Two phases.</b> The task thread takes the consistent cut ({@link #cut}): the store writes
 * its stale hot rows back, flushes RocksDB and takes a RocksDB checkpoint (hard links) plus its own
 * metadata into a local directory; the dense state becomes bytes. Nothing leaves the machine then.
 * The cut is the one element of a managed operator list state whose serializer ({@link
 * TrainerCheckpointSerializer}) calls {@link #write}: Flink's operator state backend copies the
 * list in the synchronous phase (our copy is the same object) and serializes it in the asynchronous
 * phase, on its own thread, and acknowledges the checkpoint only after that finished. So the upload
 * runs off the trainer thread, and a checkpoint whose upload failed is declined, never completed.
 *
 * <p><b>Incremental.</b> {@link #write} puts each immutable table file ({@code *.sst}) that no
 * earlier checkpoint uploaded into the checkpoint storage's shared directory through a {@link
 * CheckpointedStateScope#SHARED} stream (Flink's file system API and its random file names), and
 * names the ones already there ({@link SharedStoreFiles}); the mutable files (RocksDB's MANIFEST
 * and CURRENT, the store's metadata) go inline. A checkpoint therefore writes the files created
 * since the previous one: the rows changed, flushed into new table files, plus whatever RocksDB's
 * compactions rewrote. Where the storage keeps no files (the JobManager's memory) and for
 * savepoints, which must stand alone, every file goes inline, still asynchronously.
 *
 * <p><b>Layout</b> (big-endian), format 2: format, checkpoint id, version, open period, spec
 * published, trainer-state length and bytes, number of files, then per file its relative path, kind
 * (0 inline, 1 shared) and length, followed by its bytes (inline) or its shared path's URI. Format
 * 1, raw operator state with every file inline, is what earlier releases wrote: {@link #readLegacy}
 * still restores it.
 */
final class TrainerCheckpoint {
  /** Earlier releases: raw operator state, every file inline. */
  static final int LEGACY_FORMAT = 1;

  static final int FORMAT = 2;
  private static final byte INLINE = 0;
  private static final byte SHARED = 1;
  private static final int COPY_BUFFER = 1 << 16;

  final long checkpointId;
  final long version;
  final long openPeriod;
  final boolean specPublished;
  final byte[] trainerState;

  /** Write side: the cut waiting for its upload; null once restored. */
  private final Cut cut;

  /** Read side: the local directory the store's files are restored into; null on the write side. */
  final Path storeDir;

  /** Read side: the files still in the shared directory, by relative path. */
  final Map<String, SharedFile> sharedFiles;

  /**
   * Read side: the locked temporary directory that is {@link #storeDir} while the checkpoint is
   * read before its trainer has a working directory (Flink deserializes operator state first); null
   * once {@link #relocate relocated}, or where the reader named the directory.
   */
  private final LockedDirectory staging;

  /** What a cut's {@link #write} needs: its local files, and where shared files go (or null). */
  private record Cut(Path localDir, SharedStoreFiles shared, CheckpointStreamFactory factory) {}

  /** What {@link #write} did, for the benchmark and the logs. */
  record Written(int files, int uploaded, int referenced, long bytesUploaded, long bytesInline) {}

  private volatile Written written;

  private TrainerCheckpoint(
      long checkpointId,
      long version,
      long openPeriod,
      boolean specPublished,
      byte[] trainerState,
      Cut cut,
      Path storeDir,
      Map<String, SharedFile> sharedFiles,
      LockedDirectory staging) {
    this.checkpointId = checkpointId;
    this.version = version;
    this.openPeriod = openPeriod;
    this.specPublished = specPublished;
    this.trainerState = trainerState;
    this.cut = cut;
    this.storeDir = storeDir;
    this.sharedFiles = sharedFiles;
    this.staging = staging;
  }

  /**
   * A consistent cut: the store's snapshot is already in {@code localDir} (deleted once written).
   * With {@code shared} null every file goes inline; else new table files go to {@code factory}'s
   * shared scope and earlier ones are referenced.
   */
  static TrainerCheckpoint cut(
      long checkpointId,
      long version,
      long openPeriod,
      boolean specPublished,
      byte[] trainerState,
      Path localDir,
      SharedStoreFiles shared,
      CheckpointStreamFactory factory) {
    if (shared != null && factory == null) {
      throw new IllegalArgumentException("shared files need a checkpoint stream factory");
    }
    if (shared != null) {
      shared.begin(checkpointId);
    }
    return new TrainerCheckpoint(
        checkpointId,
        version,
        openPeriod,
        specPublished,
        trainerState,
        new Cut(localDir, shared, factory),
        null,
        Map.of(),
        null);
  }

  /** What {@link #write} did; null before it ran. */
  Written written() {
    return written;
  }

  /**
   * Writes the manifest to {@code out}, uploading the table files no earlier checkpoint holds;
   * deletes the local directory afterwards, whatever happened. Runs once, on a snapshot thread.
   */
  void write(DataOutput out) throws IOException {
    if (cut == null) {
      throw new IllegalStateException(
          "a restored trainer checkpoint is not written again; the trainer cuts a new one");
    }
    try {
      out.writeInt(FORMAT);
      out.writeLong(checkpointId);
      writeHeader(out);
      List<Path> files = listFiles(cut.localDir());
      out.writeInt(files.size());
      byte[] buf = new byte[COPY_BUFFER];
      int uploaded = 0, referenced = 0;
      long bytesUploaded = 0, bytesInline = 0;
      for (Path f : files) {
        String name = relativeName(cut.localDir(), f);
        long size = Files.size(f);
        SharedFile shared = null;
        if (cut.shared() != null && isImmutable(name)) {
          String key = SharedStoreFiles.key(name, size);
          shared = cut.shared().reference(checkpointId, key);
          if (shared != null) {
            referenced++;
          } else {
            shared = upload(f, size, buf);
            if (shared != null) {
              cut.shared().uploaded(checkpointId, key, shared);
              uploaded++;
              bytesUploaded += size;
            }
          }
        }
        out.writeUTF(name);
        if (shared != null) {
          out.writeByte(SHARED);
          out.writeLong(size);
          out.writeUTF(shared.path().toUri().toString());
        } else {
          out.writeByte(INLINE);
          out.writeLong(size);
          copyExactly(f, size, out, buf);
          bytesInline += size;
        }
      }
      written = new Written(files.size(), uploaded, referenced, bytesUploaded, bytesInline);
    } finally {
      Directories.deleteRecursively(cut.localDir());
    }
  }

  /**
   * Uploads {@code f} through a shared-scope stream; null if the storage handed back something
   * other than a plain file (its memory, a merged file), which is then discarded and the caller
   * writes the file inline.
   */
  private SharedFile upload(Path f, long size, byte[] buf) throws IOException {
    CheckpointStateOutputStream os =
        cut.factory().createCheckpointStateOutputStream(CheckpointedStateScope.SHARED);
    StreamStateHandle handle;
    try {
      copyExactly(f, size, new DataOutputStream(os), buf);
      handle = os.closeAndGetHandle();
    } catch (IOException | RuntimeException e) {
      os.close(); // deletes what was written
      throw e;
    }
    if (handle != null && handle.getClass() == FileStateHandle.class) {
      return new SharedFile(((FileStateHandle) handle).getFilePath(), size, true);
    }
    if (handle != null) {
      try {
        handle.discardState();
      } catch (Exception e) {
        throw new IOException("cannot discard a checkpoint stream's state " + handle, e);
      }
    }
    return null;
  }

  private void writeHeader(DataOutput out) throws IOException {
    out.writeLong(version);
    out.writeLong(openPeriod);
    out.writeBoolean(specPublished);
    out.writeInt(trainerState.length);
    out.write(trainerState);
  }

  /**
   * Immutable once written, so shareable between checkpoints: RocksDB's table and blob files, and
   * its options files (a new number for each new set of options).
   */
  private static boolean isImmutable(String name) {
    String file = name.substring(name.lastIndexOf('/') + 1);
    return file.endsWith(".sst") || file.endsWith(".blob") || file.startsWith("OPTIONS-");
  }

  /**
   * Reads a format-2 manifest: inline files go into a new local directory now; shared files are
   * fetched by {@link #fetchSharedFiles}.
   */
  static TrainerCheckpoint read(DataInput in) throws IOException {
    return read(in, null);
  }

  /**
   * As {@link #read(DataInput)}, the inline files going into {@code into} (made if missing), or,
   * where it is null, into a locked directory of this user's temporary parent {@code
   * streamrec-restore-<user>}: one that a process left behind when it died mid-restore is deleted
   * by the next restore there.
   */
  static TrainerCheckpoint read(DataInput in, Path into) throws IOException {
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException(
          "trainer checkpoint has format " + format + "; this build reads " + FORMAT);
    }
    long checkpointId = in.readLong();
    long version = in.readLong();
    long openPeriod = in.readLong();
    boolean spec = in.readBoolean();
    byte[] state = new byte[in.readInt()];
    in.readFully(state);
    LockedDirectory staging = null;
    Path dir;
    if (into == null) {
      staging = LockedDirectory.claim(LockedDirectory.tempParent("streamrec-restore"), "restore-");
      dir = staging.path();
    } else {
      dir = Files.createDirectories(into);
    }
    Map<String, SharedFile> shared = new LinkedHashMap<>();
    try {
      int files = in.readInt();
      byte[] buf = new byte[COPY_BUFFER];
      for (int i = 0; i < files; i++) {
        String name = in.readUTF();
        Path f = inside(dir, name);
        byte kind = in.readByte();
        long size = in.readLong();
        if (kind == INLINE) {
          Files.createDirectories(f.getParent());
          try (OutputStream o = Files.newOutputStream(f)) {
            copy(in, size, o, buf, name);
          }
        } else if (kind == SHARED) {
          shared.put(
              name, new SharedFile(new org.apache.flink.core.fs.Path(in.readUTF()), size, false));
        } else {
          throw new IOException("trainer checkpoint: unknown kind " + kind + " of file " + name);
        }
      }
    } catch (IOException | RuntimeException e) {
      discard(staging, dir);
      throw e;
    }
    return new TrainerCheckpoint(
        checkpointId, version, openPeriod, spec, state, null, dir, shared, staging);
  }

  /**
   * The same checkpoint with its local files in {@code into} (made if missing; the trainer's
   * working directory, on {@code store.dir}'s disk), its earlier directory deleted; the shared
   * files are fetched there afterwards. This one is not used again.
   */
  TrainerCheckpoint relocate(Path into) throws IOException {
    Files.createDirectories(into);
    for (Path f : listFiles(storeDir)) {
      String name = relativeName(storeDir, f);
      if (staging != null
          && (name.equals(LockedDirectory.LOCK_FILE) || name.equals(LockedDirectory.OWNER_FILE))) {
        continue;
      }
      Path to = into.resolve(name);
      Files.createDirectories(to.getParent());
      Files.copy(f, to);
    }
    discard();
    return new TrainerCheckpoint(
        checkpointId,
        version,
        openPeriod,
        specPublished,
        trainerState,
        null,
        into,
        sharedFiles,
        null);
  }

  /** Deletes the local files of a checkpoint read (restored, or given up); again: nothing. */
  void discard() throws IOException {
    discard(staging, storeDir);
  }

  /** Closes {@code staging} (which deletes its directory), or else deletes {@code dir}. */
  private static void discard(LockedDirectory staging, Path dir) throws IOException {
    if (staging != null) {
      staging.close();
    } else if (dir != null) {
      Directories.deleteRecursively(dir);
    }
  }

  /** A shared file the checkpoint references is not there: reading it again cannot help. */
  static final class FileGone extends IOException {
    private static final long serialVersionUID = 1L;

    FileGone(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Copies the shared files into {@link #storeDir}, through Flink's file systems. */
  void fetchSharedFiles() throws IOException {
    byte[] buf = new byte[COPY_BUFFER];
    for (Map.Entry<String, SharedFile> e : sharedFiles.entrySet()) {
      SharedFile s = e.getValue();
      Path f = inside(storeDir, e.getKey());
      Files.createDirectories(f.getParent());
      FileSystem fs = s.path().getFileSystem();
      try (FSDataInputStream in = fs.open(s.path());
          OutputStream o = Files.newOutputStream(f)) {
        copy(new DataInputStream(in), s.size(), o, buf, s.path().toString());
        if (in.read() >= 0) {
          throw new IOException(
              "shared checkpoint file " + s.path() + " is longer than the " + s.size() + " bytes");
        }
      } catch (java.io.FileNotFoundException e2) {
        throw new FileGone(
            "the checkpoint references "
                + s.path()
                + ", which is gone: was a directory of an earlier checkpoint deleted?",
            e2);
      } catch (IOException e2) {
        // a full disk says only "No space left on device": which one
        throw new IOException(
            e2.getMessage() + ", writing " + f + " (fetched from " + s.path() + ")", e2);
      }
    }
  }

  /**
   * Reads a checkpoint of an earlier release (format 1, raw operator state) from {@code stream},
   * writing the store's files under {@code storeSnapshot}.
   */
  static TrainerCheckpoint readLegacy(InputStream stream, Path storeSnapshot) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    int format = in.readInt();
    if (format != LEGACY_FORMAT) {
      throw new IOException(
          "trainer checkpoint (raw state) has format "
              + format
              + "; this build reads "
              + LEGACY_FORMAT
              + " there, "
              + FORMAT
              + " in operator state");
    }
    long version = in.readLong();
    long openPeriod = in.readLong();
    boolean spec = in.readBoolean();
    byte[] state = new byte[in.readInt()];
    in.readFully(state);
    int files = in.readInt();
    byte[] buf = new byte[COPY_BUFFER];
    for (int i = 0; i < files; i++) {
      String name = in.readUTF();
      Path f = inside(storeSnapshot, name);
      Files.createDirectories(f.getParent());
      try (OutputStream out = Files.newOutputStream(f)) {
        copy(in, in.readLong(), out, buf, name);
      }
    }
    return new TrainerCheckpoint(
        -1, version, openPeriod, spec, state, null, storeSnapshot, Map.of(), null);
  }

  /**
   * Writes the format of earlier releases: every file of {@code storeSnapshot} inline, in one
   * stream. Restores read it ({@link #readLegacy}); the checkpoint benchmark measures it as the
   * full copy it replaces.
   */
  static void writeLegacy(
      OutputStream stream,
      Path storeSnapshot,
      long version,
      long openPeriod,
      boolean specPublished,
      byte[] trainerState)
      throws IOException {
    DataOutputStream out = new DataOutputStream(stream);
    out.writeInt(LEGACY_FORMAT);
    new TrainerCheckpoint(
            -1, version, openPeriod, specPublished, trainerState, null, null, Map.of(), null)
        .writeHeader(out);
    List<Path> files = listFiles(storeSnapshot);
    out.writeInt(files.size());
    byte[] buf = new byte[COPY_BUFFER];
    for (Path f : files) {
      long size = Files.size(f);
      out.writeUTF(relativeName(storeSnapshot, f));
      out.writeLong(size);
      copyExactly(f, size, out, buf);
    }
    out.flush();
  }

  private static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return new ArrayList<>(walk.filter(Files::isRegularFile).sorted().toList());
    }
  }

  private static String relativeName(Path dir, Path f) {
    return dir.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
  }

  private static Path inside(Path dir, String name) throws IOException {
    Path f = dir.resolve(name).normalize();
    if (!f.startsWith(dir) || f.equals(dir)) {
      throw new IOException("trainer checkpoint names a file outside the snapshot: " + name);
    }
    return f;
  }

  /** Copies exactly {@code size} bytes of {@code f} (a file that changed size fails). */
  private static void copyExactly(Path f, long size, DataOutput out, byte[] buf)
      throws IOException {
    long left = size;
    try (InputStream in = Files.newInputStream(f)) {
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          break;
        }
        out.write(buf, 0, n);
        left -= n;
      }
      if (left != 0 || in.read() >= 0) {
        throw new IOException("store file " + f + " changed size while being checkpointed");
      }
    }
  }

  private static void copy(DataInput in, long size, OutputStream out, byte[] buf, String what)
      throws IOException {
    long left = size;
    while (left > 0) {
      int n = (int) Math.min(buf.length, left);
      try {
        in.readFully(buf, 0, n);
      } catch (java.io.EOFException e) {
        throw new IOException("trainer checkpoint ends inside file " + what, e);
      }
      out.write(buf, 0, n);
      left -= n;
    }
  }
}
