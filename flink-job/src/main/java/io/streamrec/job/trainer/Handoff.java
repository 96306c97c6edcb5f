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
 * <p>A backfill that stops at a time ({@code --until}) reads the impressions on past it for a join
 * window and the allowed disorder, so that its last units close whole, and hands on earlier offsets
 * than it stopped at: the impressions from a join window and the disorder before the cut, the
 * requests from twice that. The header keeps both, and the next job knows by them what the backfill
 * had read ({@link io.streamrec.job.assembler.SegmentCut}).
 *
 * <p><b>Layout</b> (big-endian): magic {@code "SRHO"}, format, lineage, version, number of
 * partitions, then per partition its topic, number and offset (where the next job reads from);
 * format 4, then the same for where the backfill stopped reading; then a self-contained trainer
 * checkpoint ({@link TrainerCheckpoint}, every file inline). It is written to {@code path +
 * ".inprogress"} and renamed once complete, through Flink's file systems (a local path, {@code
 * s3://...}, ...), so a reader never sees half a handoff.
 */
public final class Handoff {
  static final int MAGIC = 0x5352484f; // "SRHO"

  /**
   * Format 2 adds the Kafka cluster id after the version; format 3 checksums (CRC-32C) the header,
   * after it, and the whole file, at its end, so that a damaged copy is refused rather than started
   * from; format 4 adds where the backfill stopped reading, where that is not where the next job
   * reads from (a handoff without is written as format 3, which earlier releases read). Formats 1
   * to 3 are still read.
   */
  static final int FORMAT = 4;

  /** The format of a handoff whose backfill stopped where the next job reads from. */
  static final int FORMAT_WITHOUT_OVERLAP = 3;

  private static final String IN_PROGRESS = ".inprogress";
  private static final int BUFFER = 1 << 16;

  private Handoff() {}

  /**
   * A handoff's header: which model, at which version, where the next job reads each input
   * partition from ({@code offsets}) and where the backfill stopped reading it ({@code stopped}:
   * the same offsets, or later ones where the backfill read on past its cut).
   */
  public record Header(
      long model,
      long version,
      Map<TopicPartition, Long> offsets,
      String cluster,
      Map<TopicPartition, Long> stopped)
      implements Serializable {
    public Header {
      offsets = Map.copyOf(offsets);
      cluster = cluster == null ? "" : cluster;
      stopped = stopped == null ? offsets : Map.copyOf(stopped);
    }

    /** A header whose backfill stopped where the next job reads from (formats 2 and 3). */
    public Header(long model, long version, Map<TopicPartition, Long> offsets, String cluster) {
      this(model, version, offsets, cluster, offsets);
    }

    /** A header that does not say which Kafka cluster its offsets are of (format 1). */
    public Header(long model, long version, Map<TopicPartition, Long> offsets) {
      this(model, version, offsets, "");
    }

    /** Whether the backfill read some partition past where the next job reads it from. */
    public boolean overlaps() {
      return !stopped.equals(offsets);
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

    /** Where its backfill stopped and the next job reads from, in words. */
    public String describeStop() {
      if (!overlaps()) {
        return "the inputs stopped at " + describeOffsets();
      }
      return "the next job reads the inputs from "
          + describeOffsets()
          + "; the backfill read them to "
          + describe(stopped)
          + " (the impressions a join window and the allowed disorder past its cut, so that its"
          + " last units closed whole)";
    }

    @Override
    public String toString() {
      return "model " + ModelLineage.format(model) + " at version " + version;
    }
  }

  /**
   * What a job does with handoffs: starts from the one at {@code startFrom} (null: none), whose
   * {@code startOffsets} its sources start from, so they must still be those when the trainer reads
   * it, positions in the Kafka cluster {@code startCluster} ("": its handoff does not say), whose
   * backfill stopped reading at {@code startStopped}; and, a backfill, saves one to {@code saveTo}
   * (null: none), where its sources stop at {@code stopOffsets} and the next job reads from {@code
   * handOnOffsets}. A backfill may do both: it trains a later range on from an earlier handoff.
   */
  public record Plan(
      String startFrom,
      Map<TopicPartition, Long> startOffsets,
      String startCluster,
      Map<TopicPartition, Long> startStopped,
      String saveTo,
      Map<TopicPartition, Long> stopOffsets,
      Map<TopicPartition, Long> handOnOffsets)
      implements Serializable {
    public Plan {
      startOffsets = Map.copyOf(startOffsets);
      startStopped = Map.copyOf(startStopped);
      stopOffsets = Map.copyOf(stopOffsets);
      handOnOffsets = Map.copyOf(handOnOffsets);
    }

    /** Saving a handoff whose next job reads on from where this backfill stops. */
    public static Plan saveTo(String path, Map<TopicPartition, Long> stopOffsets) {
      return saveTo(path, stopOffsets, stopOffsets);
    }

    /**
     * Saving a handoff: this backfill stops at {@code stopOffsets}, the next job reads from {@code
     * handOnOffsets}, none later than those.
     */
    public static Plan saveTo(
        String path, Map<TopicPartition, Long> stopOffsets, Map<TopicPartition, Long> handOn) {
      return new Plan(null, Map.of(), "", Map.of(), path, stopOffsets, handOn);
    }

    public static Plan startFrom(String path, Header header) {
      return new Plan(
          path, header.offsets(), header.cluster(), header.stopped(), null, Map.of(), Map.of());
    }

    /**
     * A live job's start from the handoff at {@code path}, which is not there: one that goes on
     * from a checkpoint does not need it, and a trainer without one refuses to start (no handoff at
     * {@code path}). No offsets: a source not restored reads each partition from its earliest.
     */
    public static Plan startFromGone(String path) {
      return new Plan(path, Map.of(), "", Map.of(), null, Map.of(), Map.of());
    }

    /** This plan, and also saving a handoff ({@link #saveTo(String, Map, Map)}). */
    public Plan andSaveTo(
        String path, Map<TopicPartition, Long> stopOffsets, Map<TopicPartition, Long> handOn) {
      return new Plan(
          startFrom, startOffsets, startCluster, startStopped, path, stopOffsets, handOn);
    }

    /** The header this plan's backfill writes for {@code model} at {@code version}. */
    Header handOn(long model, long version, String cluster) {
      return new Header(model, version, handOnOffsets, cluster, stopOffsets);
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
      int format = header.overlaps() ? FORMAT : FORMAT_WITHOUT_OVERLAP;
      out.writeInt(MAGIC);
      out.writeInt(format);
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(bytes);
      h.writeLong(header.model());
      h.writeLong(header.version());
      h.writeUTF(header.cluster());
      writeOffsets(h, header.offsets());
      if (format >= 4) {
        writeOffsets(h, header.stopped());
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

  private static void writeOffsets(DataOutputStream h, Map<TopicPartition, Long> offsets)
      throws IOException {
    h.writeInt(offsets.size());
    for (Map.Entry<TopicPartition, Long> e : sorted(offsets)) {
      h.writeUTF(e.getKey().topic());
      h.writeInt(e.getKey().partition());
      h.writeLong(e.getValue());
    }
  }

  private static Map<TopicPartition, Long> readOffsets(DataInputStream h) throws IOException {
    int n = h.readInt();
    Map<TopicPartition, Long> offsets = new java.util.HashMap<>();
    for (int i = 0; i < n; i++) {
      offsets.put(new TopicPartition(h.readUTF(), h.readInt()), h.readLong());
    }
    return offsets;
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
   * Whether there is a file at {@code path}; where its file system cannot say, as if there were
   * (reading it then says why it cannot).
   */
  public static boolean exists(String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem().exists(p);
    } catch (IOException | RuntimeException e) {
      return true;
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
    Map<TopicPartition, Long> offsets = readOffsets(h);
    Map<TopicPartition, Long> stopped = format >= 4 ? readOffsets(h) : offsets;
    return new HeaderRead(new Header(model, version, offsets, cluster, stopped), format);
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
