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
 * Follows the model-updates topic, off the trainer's thread, for a version of another model: a job
 * started with {@code --replace} has taken the topic over. The trainer checks {@link #replacedBy}
 * before each publish and stops rather than publish its next version after the other model's, which
 * left two models interleaved on one topic (replicas re-reading a model whose rows the replace had
 * tombstoned, their staleness growing without end).
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

  private final long model;
  private final long replacing;
  private final Supplier<Optional<Markers>> open;
  private volatile VersionMarker replacedBy;
  private volatile Markers markers;
  private final java.util.concurrent.CountDownLatch closing =
      new java.util.concurrent.CountDownLatch(1);
  private final Thread thread;

  /**
   * Follows the markers that {@code open} reads for a version of a model other than {@code model}
   * and {@code replacing} (the model this trainer replaces; 0: none).
   */
  ReplacementWatch(long model, long replacing, Supplier<Optional<Markers>> open, String name) {
    this.model = model;
    this.replacing = replacing;
    this.open = open;
    this.thread =
        new Thread(
            () -> {
              // closed by the latch and the consumer's wakeup, never by an interrupt: an
              // interrupted Kafka consumer fails to close and logs its trace
              try {
                while (closing.getCount() > 0 && replacedBy == null) {
                  if (!look(Duration.ofSeconds(1))) {
                    closing.await(RETRY_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                closeMarkers();
              }
            },
            name);
    thread.setDaemon(true);
  }

  /** A watch of {@code head}'s topic. */
  static ReplacementWatch of(ModelTopicHead head, long model, long replacing) {
    return new ReplacementWatch(
        model,
        replacing,
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
        if (m.getModel() != model && m.getModel() != replacing) {
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

  @Override
  public void close() {
    closing.countDown();
    Markers m = markers;
    if (m != null) {
      m.wakeup();
    }
  }
}
