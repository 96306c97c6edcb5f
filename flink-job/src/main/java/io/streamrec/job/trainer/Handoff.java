package io.streamrec.job.trainer;

import io.streamrec.common.StreamrecException;
import io.streamrec.protocol.ModelLineage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.kafka.common.TopicPartition;

/**
 * What a backfill hands a live job: the trainer's state once it has trained and published its whole
 * range (the model's lineage and last version, dense weights, optimizer state, metrics and the
 * embedding store) and the offset of every input partition at which the backfill stopped. A live
 * job started from it without a checkpoint reads its topics from exactly those offsets and trains
 * the same model on, publishing the next version on the same lineage, so replicas go on without a
 * switch.
 *
 * <p><b>Layout</b> (big-endian): magic {@code "SRHO"}, format, lineage, version, number of
 * partitions, then per partition its topic, number and offset; then a self-contained trainer
 * checkpoint ({@link TrainerCheckpoint}, every file inline). It is written to {@code path +
 * ".inprogress"} and renamed once complete, through Flink's file systems (a local path, {@code
 * s3://...}, ...), so a reader never sees half a handoff.
 */
public final class Handoff {
  static final int MAGIC = 0x5352484f; // "SRHO"

  /**
   * Format 2 adds the Kafka cluster id after the version; format 3 checksums (CRC-32C) the header,
   * after it, and the whole file, at its end, so that a damaged copy is refused rather than started
   * from. Formats 1 and 2 are still read.
   */
  static final int FORMAT = 3;

  private static final String IN_PROGRESS = ".inprogress";
  private static final int BUFFER = 1 << 16;

  private Handoff() {}

  /** A handoff's header: which model, at which version, and where each input partition stopped. */
  public record Header(long model, long version, Map<TopicPartition, Long> offsets, String cluster)
      implements Serializable {
    public Header {
      offsets = Map.copyOf(offsets);
      cluster = cluster == null ? "" : cluster;
    }

    /** A header that does not say which Kafka cluster its offsets are of (format 1). */
    public Header(long model, long version, Map<TopicPartition, Long> offsets) {
      this(model, version, offsets, "");
    }

    /** The topics it holds offsets of, sorted. */
    public java.util.SortedSet<String> topics() {
      return offsets.keySet().stream()
          .map(TopicPartition::topic)
          .collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    /** Refuses a job that reads other topics than these offsets are of. */
    public void requireTopics(java.util.List<String> read) {
      if (!topics().containsAll(read)) {
        throw new io.streamrec.job.config.ConfigException(
            io.streamrec.job.config.JobOptions.HANDOFF_START_FROM,
            "names a handoff with the offsets of " + topics() + ", but this job reads " + read,
            "go on with the topics the backfill read (source.kind, topics.*), or backfill these");
      }
    }

    /** The offsets as {@code topic[partition]=offset, ...}, in order. */
    public String describeOffsets() {
      return describe(offsets);
    }

    @Override
    public String toString() {
      return "model " + ModelLineage.format(model) + " at version " + version;
    }
  }

  /**
   * What a job does with handoffs: starts from the one at {@code startFrom} (null: none), whose
   * {@code startOffsets} its sources start from, so they must still be those when the trainer reads
   * it, positions in the Kafka cluster {@code startCluster} ("": its handoff does not say); and, a
   * backfill, saves one to {@code saveTo} (null: none) holding {@code stopOffsets}, where its
   * sources stop. A backfill may do both: it trains a later range on from an earlier handoff.
   */
  public record Plan(
      String startFrom,
      Map<TopicPartition, Long> startOffsets,
      String startCluster,
      String saveTo,
      Map<TopicPartition, Long> stopOffsets)
      implements Serializable {
    public Plan {
      startOffsets = Map.copyOf(startOffsets);
      stopOffsets = Map.copyOf(stopOffsets);
    }

    public static Plan saveTo(String path, Map<TopicPartition, Long> stopOffsets) {
      return new Plan(null, Map.of(), "", path, stopOffsets);
    }

    public static Plan startFrom(String path, Header header) {
      return new Plan(path, header.offsets(), header.cluster(), null, Map.of());
    }

    /** This plan, and also saving a handoff to {@code path} holding {@code stopOffsets}. */
    public Plan andSaveTo(String path, Map<TopicPartition, Long> stopOffsets) {
      return new Plan(startFrom, startOffsets, startCluster, path, stopOffsets);
    }

    public boolean starts() {
      return startFrom != null;
    }

    public boolean saves() {
      return saveTo != null;
    }

    /** The offsets in {@code offsets} of {@code topic}'s partitions. */
    public static Map<TopicPartition, Long> ofTopic(
        Map<TopicPartition, Long> offsets, String topic) {
      return offsets.entrySet().stream()
          .filter(e -> e.getKey().topic().equals(topic))
          .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }
  }

  /** {@code offsets} as {@code topic[partition]=offset, ...}, by topic, then partition. */
  static String describe(Map<TopicPartition, Long> offsets) {
    return sorted(offsets).stream()
        .map(e -> e.getKey().topic() + "[" + e.getKey().partition() + "]=" + e.getValue())
        .collect(Collectors.joining(", "));
  }

  /**
   * A handoff read whole: its header and the trainer's state (store files in a local directory).
   */
  record Loaded(Header header, TrainerCheckpoint state) {}

  /**
   * Writes {@code header} and {@code state} (a cut with every file inline) beside {@code path}
   * ({@code path + ".inprogress"}), where no reader looks; {@link #commit} puts it in place,
   * replacing what is there only then, and {@link #discard} removes it.
   */
  static void stage(String path, Header header, TrainerCheckpoint state) throws IOException {
    Path temp = new Path(path + IN_PROGRESS);
    FileSystem fs = temp.getFileSystem();
    try (FSDataOutputStream os = fs.create(temp, FileSystem.WriteMode.OVERWRITE)) {
      BufferedOutputStream buffered = new BufferedOutputStream(os, BUFFER);
      CRC32C whole = new CRC32C();
      DataOutputStream out = new DataOutputStream(new CheckedOutputStream(buffered, whole));
      out.writeInt(MAGIC);
      out.writeInt(FORMAT);
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(bytes);
      h.writeLong(header.model());
      h.writeLong(header.version());
      h.writeUTF(header.cluster());
      h.writeInt(header.offsets().size());
      for (Map.Entry<TopicPartition, Long> e : sorted(header.offsets())) {
        h.writeUTF(e.getKey().topic());
        h.writeInt(e.getKey().partition());
        h.writeLong(e.getValue());
      }
      byte[] headerBytes = bytes.toByteArray();
      out.writeInt(headerBytes.length);
      out.write(headerBytes);
      out.writeInt(crc(headerBytes));
      state.write(out);
      out.flush();
      new DataOutputStream(buffered).writeInt((int) whole.getValue());
      buffered.flush();
    } catch (IOException | RuntimeException e) {
      fs.delete(temp, false);
      throw e;
    }
  }

  /** Puts the staged handoff in place of whatever {@code path} held. */
  static void commit(String path) throws IOException {
    Path target = new Path(path);
    Path temp = new Path(path + IN_PROGRESS);
    FileSystem fs = target.getFileSystem();
    try {
      if (fs.exists(target)) {
        fs.delete(target, false);
      }
      if (!fs.rename(temp, target)) {
        throw new IOException("cannot rename " + temp + " to " + target);
      }
    } catch (IOException | RuntimeException e) {
      fs.delete(temp, false);
      throw e;
    }
  }

  /** Removes the staged handoff, leaving {@code path} as it was. */
  static void discard(String path) throws IOException {
    Path temp = new Path(path + IN_PROGRESS);
    temp.getFileSystem().delete(temp, false);
  }

  /** The offsets by topic, then partition. */
  private static java.util.List<Map.Entry<TopicPartition, Long>> sorted(
      Map<TopicPartition, Long> offsets) {
    return offsets.entrySet().stream()
        .sorted(
            Map.Entry.comparingByKey(
                java.util.Comparator.comparing(TopicPartition::topic)
                    .thenComparingInt(TopicPartition::partition)))
        .toList();
  }

  /**
   * Checks, before a backfill starts, that it will be able to write its handoff to {@code path} at
   * its end: not a directory, and a file can be created beside it (tried, then removed).
   */
  public static void checkWritable(String path) {
    Path target = new Path(path);
    Path temp = new Path(path + IN_PROGRESS);
    try {
      FileSystem fs = target.getFileSystem();
      if (fs.exists(target) && fs.getFileStatus(target).isDir()) {
        throw new StreamrecException(
            "the handoff's path " + path + " is a directory; name the file to write");
      }
      fs.create(temp, FileSystem.WriteMode.OVERWRITE).close();
      fs.delete(temp, false);
    } catch (IOException e) {
      throw new StreamrecException(
          "cannot write the handoff at "
              + path
              + " ("
              + e
              + "); the backfill would train to its end and fail there. Name a path it can write",
          e);
    }
  }

  /**
   * Reads the header of the handoff at {@code path}, to start a job's sources from its offsets; its
   * checksum is checked (format 3), the whole file's only by {@link #read}.
   */
  public static Header readHeader(String path) {
    try (FSDataInputStream in = open(path)) {
      return header(new DataInputStream(new BufferedInputStream(in, BUFFER)), path).header();
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  /**
   * Reads the whole handoff at {@code path}; the store's files go into {@code into} (a temporary
   * directory where it is null).
   */
  static Loaded read(String path, java.nio.file.Path into) {
    try (FSDataInputStream in = open(path)) {
      BufferedInputStream buffered = new BufferedInputStream(in, BUFFER);
      CRC32C whole = new CRC32C();
      DataInputStream d = new DataInputStream(new CheckedInputStream(buffered, whole));
      HeaderRead h = header(d, path);
      TrainerCheckpoint state = TrainerCheckpoint.read(d, into);
      if (h.format() >= 3) {
        int computed = (int) whole.getValue();
        int stored = new DataInputStream(buffered).readInt();
        if (computed != stored) {
          state.discard();
          throw new IOException("its checksum does not match its content (the file is damaged)");
        }
      }
      return new Loaded(h.header(), state);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  private static int crc(byte[] bytes) {
    CRC32C c = new CRC32C();
    c.update(bytes);
    return (int) c.getValue();
  }

  /** A header as read, and the format of its file. */
  private record HeaderRead(Header header, int format) {}

  private static FSDataInputStream open(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem();
    if (!fs.exists(p)) {
      throw new StreamrecException(
          "no handoff at "
              + path
              + ": a backfill writes one with --handoff "
              + path
              + " (trainer.handoff.save-to) once it has finished");
    }
    return fs.open(p);
  }

  private static HeaderRead header(DataInputStream in, String path) throws IOException {
    int magic;
    try {
      magic = in.readInt();
    } catch (java.io.EOFException e) {
      magic = 0;
    }
    if (magic != MAGIC) {
      throw new StreamrecException(
          path + " is not a streamrec handoff (a file a backfill writes with --handoff)");
    }
    int format = in.readInt();
    if (format < 1 || format > FORMAT) {
      throw new StreamrecException(
          "the handoff at "
              + path
              + " has format "
              + format
              + "; this release reads formats 1 to "
              + FORMAT
              + (format > FORMAT ? " (it was written by a newer release)" : ""));
    }
    DataInputStream h = in;
    if (format >= 3) {
      int length = in.readInt();
      if (length < 0 || length > MAX_HEADER_BYTES) {
        throw new IOException("its header's length reads " + length + " (the file is damaged)");
      }
      byte[] bytes = new byte[length];
      in.readFully(bytes);
      if (in.readInt() != crc(bytes)) {
        throw new IOException(
            "its header's checksum does not match the header (the file is damaged)");
      }
      h = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
    }
    long model = h.readLong();
    long version = h.readLong();
    String cluster = format >= 2 ? h.readUTF() : "";
    int n = h.readInt();
    Map<TopicPartition, Long> offsets = new java.util.HashMap<>();
    for (int i = 0; i < n; i++) {
      offsets.put(new TopicPartition(h.readUTF(), h.readInt()), h.readLong());
    }
    return new HeaderRead(new Header(model, version, offsets, cluster), format);
  }

  /** A header is small: a topic name and an offset per partition. */
  private static final int MAX_HEADER_BYTES = 64 << 20;

  private static StreamrecException unreadable(String path, IOException e) {
    // this class's own reasons are plain IOExceptions, said as they are; others name their kind
    return new StreamrecException(
        unreadablePrefix(path) + (e.getClass() == IOException.class ? e.getMessage() : e), e);
  }

  /** How {@link #unreadable} begins its message for {@code path}. */
  static String unreadablePrefix(String path) {
    return "cannot read the handoff at " + path + ": ";
  }
}
