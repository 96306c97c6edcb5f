package io.streamrec.job.trainer;

import io.streamrec.job.kafka.ModelTopicHead;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.schemas.VersionMarker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the model-updates topic, off the trainer's thread, for a version this trainer did not
 * publish:
 *
 * <ul>
 *   <li>a version of another model: a job started with {@code --replace} has taken the topic over
 *       ({@link #replacedBy}). Publishing on left two models interleaved on one topic (replicas
 *       re-reading a model whose rows the replace had tombstoned, their staleness growing without
 *       end);
 *   <li>a version of this model that this trainer did not publish: a second job trains the same
 *       model (one started from the same checkpoint, savepoint or handoff) and publishes it ({@link
 *       #twin}). Publishing on put two sets of rows under one model's version numbers, and replicas
 *       served them as one model.
 * </ul>
 *
 * <p>The trainer checks both before each publish and stops rather than publish again. A version of
 * this model counts as this trainer's when it tells the watch it published it ({@link #published},
 * with the marker's publish time), or when its number is at most the one the trainer started from
 * (the topic's head or the restored version, whichever is newer: what an earlier attempt of the
 * same job committed late), or when it was published before the trainer opened (an earlier
 * attempt's last records, written late).
 *
 * <p>It reads every version marker written from its start on, not the newest alone: the old job may
 * publish once more between the replace and a look at the topic's head, which then shows its own
 * model again. The model this trainer itself replaces (the one on the topic when it started) does
 * not count. A broker that does not answer is followed again from where it is found.
 */
final class ReplacementWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplacementWatch.class);

  /** How long to wait before following the topic again after a failure. */
  private static final long RETRY_MS = 5_000;

  /** A source of markers: those written since it opened, a poll at a time. */
  interface Markers extends AutoCloseable {
    List<VersionMarker> poll(Duration wait);

    /** Ends a poll under way from another thread (a Kafka consumer's wakeup). */
    default void wakeup() {}

    @Override
    void close();
  }

  /** How long after the trainer opens an earlier attempt's last records may still arrive. */
  static final long LATE_RECORDS_MS = 30_000;

  /** How long {@link #close} waits for the thread to close its consumer. */
  static final long CLOSE_WAIT_MS = 5_000;

  /** How many of its own recent versions the watch keeps; older ones count as its own. */
  static final int KEEP = 10_000;

  private final long model;
  private final long replacing;
  private final long ownThrough;
  private final java.util.concurrent.ConcurrentHashMap<Long, Long> own =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile long newestOwn;
  private volatile VersionMarker twin;
  private final long openedAtMs;
  private final Supplier<Optional<Markers>> open;
  private volatile VersionMarker replacedBy;
  private volatile Throwable failure;
  private volatile Markers markers;
  private final java.util.concurrent.CountDownLatch closing =
      new java.util.concurrent.CountDownLatch(1);
  private final Thread thread;

  /**
   * Follows the markers that {@code open} reads for a version of a model other than {@code model}
   * and {@code replacing} (the model this trainer replaces; 0: none), and for a version of {@code
   * model} past {@code ownThrough} that this trainer did not publish.
   */
  ReplacementWatch(
      long model, long replacing, long ownThrough, Supplier<Optional<Markers>> open, String name) {
    this(model, replacing, ownThrough, System.currentTimeMillis(), open, name);
  }

  /** As above, the trainer having opened at {@code openedAtMs} (wall clock). */
  ReplacementWatch(
      long model,
      long replacing,
      long ownThrough,
      long openedAtMs,
      Supplier<Optional<Markers>> open,
      String name) {
    this.openedAtMs = openedAtMs;
    this.model = model;
    this.replacing = replacing;
    this.ownThrough = ownThrough;
    this.newestOwn = ownThrough;
    this.open = open;
    this.thread =
        new Thread(
            () -> {
              // closed by the latch and the consumer's wakeup, never by an interrupt: an
              // interrupted Kafka consumer fails to close and logs its trace
              try {
                while (closing.getCount() > 0 && replacedBy == null && twin == null) {
                  if (!look(Duration.ofSeconds(1))) {
                    closing.await(RETRY_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (Throwable e) {
                // an Error (out of memory, a class the job's loader cannot give): the watch no
                // longer follows the topic, which the trainer must hear rather than publish on
                // unwatched
                failure = e;
                LOG.error("the model-updates topic is no longer followed", e);
              } finally {
                closeMarkers();
              }
            },
            name);
    thread.setDaemon(true);
  }

  /** A watch of {@code head}'s topic. */
  static ReplacementWatch of(ModelTopicHead head, long model, long replacing, long ownThrough) {
    return new ReplacementWatch(
        model,
        replacing,
        ownThrough,
        () ->
            head.tailFromEnd()
                .map(
                    t ->
                        new Markers() {
                          @Override
                          public List<VersionMarker> poll(Duration wait) {
                            return t.poll(wait);
                          }

                          @Override
                          public void wakeup() {
                            t.wakeup();
                          }

                          @Override
                          public void close() {
                            t.close();
                          }
                        }),
        "streamrec-replacement-watch");
  }

  /** Starts following now: what is on the topic already does not count. */
  void start() {
    look(Duration.ZERO); // positioned at the end before the trainer's first publish
    thread.start();
  }

  /** The first marker of another model seen; null while none was. */
  VersionMarker replacedBy() {
    return replacedBy;
  }

  /** The first marker of this model that this trainer did not publish; null while none was. */
  VersionMarker twin() {
    return twin;
  }

  /** What ended the watch's thread other than {@link #close}; null while it follows the topic. */
  Throwable failure() {
    return failure;
  }

  /**
   * This trainer publishes {@code version}, its marker stamped {@code publishedAtMs}: called before
   * the marker leaves the trainer, so the watch never reads it first.
   */
  void published(long version, long publishedAtMs) {
    own.put(version, publishedAtMs);
    own.remove(version - KEEP);
    newestOwn = Math.max(newestOwn, version);
  }

  private boolean isOwn(VersionMarker m) {
    long v = m.getVersion();
    return v <= ownThrough
        || v <= newestOwn - KEEP
        // published before this trainer opened, and read within a while of it: an earlier
        // attempt of this job whose last records reached the topic late (a failover's), not a
        // job that goes on publishing. The while bounds what a clock of another machine running
        // ahead of this one's could hide: a second job's versions keep coming after it
        || m.getPublishedAtMs() < openedAtMs
            && System.currentTimeMillis() - openedAtMs < LATE_RECORDS_MS
        || Long.valueOf(m.getPublishedAtMs()).equals(own.get(v));
  }

  /**
   * One poll of the markers (the thread's loop; tests call it directly); false when the topic could
   * not be read (it is followed again, from where it is then, at the next call).
   */
  boolean look(Duration wait) {
    if (closing.getCount() == 0) {
      return false;
    }
    try {
      if (markers == null) {
        markers = open.get().orElse(null);
        if (markers == null) {
          return false; // no topic yet
        }
      }
      for (VersionMarker m : markers.poll(wait)) {
        if (m.getModel() == model) {
          if (!isOwn(m)) {
            twin = m;
            LOG.warn(
                "model-updates topic holds a version {} of model {} that this trainer did not"
                    + " publish: another job publishes the same model",
                m.getVersion(),
                ModelLineage.format(model));
            return true;
          }
        } else if (m.getModel() != replacing) {
          replacedBy = m;
          LOG.warn(
              "model-updates topic now holds version {} of model {}: another job replaced model {}",
              m.getVersion(),
              ModelLineage.format(m.getModel()),
              ModelLineage.format(model));
          return true;
        }
      }
      return true;
    } catch (RuntimeException e) {
      LOG.debug("could not follow the model-updates topic; again in {} ms", RETRY_MS, e);
      closeMarkers();
      return false;
    }
  }

  private void closeMarkers() {
    if (markers != null) {
      try {
        markers.close();
      } catch (RuntimeException e) {
        // going anyway
      }
      markers = null;
    }
  }

  /**
   * Stops following and waits, up to {@code CLOSE_WAIT_MS}, for the thread to close its consumer: a
   * consumer still closing once the task has ended outlives the job's class loader.
   */
  @Override
  public void close() {
    closing.countDown();
    Markers m = markers;
    if (m != null) {
      m.wakeup();
    }
    if (thread.isAlive() && thread != Thread.currentThread()) {
      try {
        thread.join(CLOSE_WAIT_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
