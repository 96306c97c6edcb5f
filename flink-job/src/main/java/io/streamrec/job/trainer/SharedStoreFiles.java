package io.streamrec.job.trainer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.core.fs.Path;

/**
 * The embedding store's table files that already lie in the checkpoint storage's shared directory,
 * so that a checkpoint references them instead of uploading them again, and the bookkeeping that
 * says when one may be deleted.
 *
 * <p><b>Reuse.</b> A RocksDB table file is immutable and its number is never reused within one
 * database's history (a restored database numbers new files past the ones it was restored from), so
 * within one run a local file of the same name and size is the same content: the key is {@code
 * name#size}. Shared files get fresh random names from Flink's checkpoint streams, so two runs
 * restored from one checkpoint never write to the same path, although their local file numbers
 * repeat.
 *
 * <p><b>Deletion.</b> A file may go once no checkpoint that Flink may still restore references it.
 * Flink keeps the newest {@code retained} completed checkpoints ({@code
 * execution.checkpointing.num-retained}); every checkpoint older than the {@code retained}-th
 * newest completed one is subsumed (gone, or aborted). So a file is deleted when it is referenced
 * by no checkpoint at or above that id, completed or still pending, and only if this run uploaded
 * it (or inherited it on a failover of the same job): the files of a checkpoint another run was
 * restored from belong to that checkpoint, which may be restored again, and are never deleted here.
 *
 * <p>Thread-safe: the task thread cuts checkpoints and hears of completions, Flink's asynchronous
 * snapshot threads look files up and register uploads. A lookup and the reference it creates are
 * one step under the lock, so a file a pending checkpoint references is never collected.
 */
final class SharedStoreFiles {

  /** A file in the shared directory: its path, size, and whether this run may delete it. */
  record SharedFile(Path path, long size, boolean deletable) {}

  private final int retained;
  private final Map<String, SharedFile> byKey = new HashMap<>();
  private final TreeMap<Long, Set<Path>> referencesByCheckpoint = new TreeMap<>();
  private final TreeSet<Long> completed = new TreeSet<>();

  /** {@code retained}: how many completed checkpoints Flink keeps (at least 1). */
  SharedStoreFiles(int retained) {
    this.retained = Math.max(1, retained);
  }

  static String key(String name, long size) {
    return name + '#' + size;
  }

  /**
   * {@code checkpointId} is a checkpoint whose files go to the shared directory (not a savepoint):
   * only such checkpoints count when they complete.
   */
  synchronized void begin(long checkpointId) {
    referencesOf(checkpointId);
  }

  /**
   * The shared copy of {@code key}, now referenced by {@code checkpointId}; null if there is none
   * (the caller uploads the file and {@link #uploaded registers} it).
   */
  synchronized SharedFile reference(long checkpointId, String key) {
    SharedFile f = byKey.get(key);
    if (f != null) {
      referencesOf(checkpointId).add(f.path());
    }
    return f;
  }

  /** Registers a file {@code checkpointId} uploaded (durable now), referenced by it. */
  synchronized void uploaded(long checkpointId, String key, SharedFile file) {
    byKey.putIfAbsent(key, file);
    referencesOf(checkpointId).add(file.path());
  }

  /**
   * Registers the shared files of the checkpoint this run was restored from, as referenced by that
   * (completed) checkpoint.
   */
  synchronized void inherit(long checkpointId, Map<String, SharedFile> files) {
    byKey.putAll(files);
    Set<Path> refs = referencesOf(checkpointId);
    for (SharedFile f : files.values()) {
      refs.add(f.path());
    }
    completed.add(checkpointId);
  }

  /**
   * {@code checkpointId} completed (ignored unless it {@link #begin began} here): returns the files
   * no retained or pending checkpoint references any more, now forgotten, for the caller to delete.
   */
  synchronized List<SharedFile> completed(long checkpointId) {
    if (!referencesByCheckpoint.containsKey(checkpointId)) {
      // a savepoint (Flink keeps the checkpoints before it), or a checkpoint long subsumed
      return List.of();
    }
    completed.add(checkpointId);
    while (completed.size() > retained) {
      completed.pollFirst();
    }
    if (completed.size() < retained) {
      return List.of();
    }
    long oldestRetained = completed.first();
    referencesByCheckpoint.headMap(oldestRetained, false).clear();
    return collect();
  }

  /** {@code checkpointId} was aborted: it references nothing. */
  synchronized void aborted(long checkpointId) {
    referencesByCheckpoint.remove(checkpointId);
  }

  /** Files known, for tests and logs. */
  synchronized int size() {
    return byKey.size();
  }

  private List<SharedFile> collect() {
    Set<Path> live = new HashSet<>();
    for (Set<Path> refs : referencesByCheckpoint.values()) {
      live.addAll(refs);
    }
    List<SharedFile> dead = new ArrayList<>();
    for (Iterator<SharedFile> it = byKey.values().iterator(); it.hasNext(); ) {
      SharedFile f = it.next();
      if (!live.contains(f.path())) {
        it.remove();
        if (f.deletable()) {
          dead.add(f);
        }
      }
    }
    return dead;
  }

  private Set<Path> referencesOf(long checkpointId) {
    return referencesByCheckpoint.computeIfAbsent(checkpointId, id -> new HashSet<>());
  }
}
