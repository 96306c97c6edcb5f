package io.streamrec.job.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.VersionMarker;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A live job went on publishing after another job replaced its model (--replace): its version 58
 * came after the new model's version 40, and replicas re-read a model whose rows the replace had
 * tombstoned, serving an ever staler one. The trainer now sees the other model's version and stops.
 */
class ReplacementWatchTest {
  private static VersionMarker marker(long model, long version) {
    return marker(model, version, 0);
  }

  private static VersionMarker marker(long model, long version, long publishedAtMs) {
    return VersionMarker.newBuilder()
        .setVersion(version)
        .setEventTimeMs(0)
        .setRows(0)
        .setDenseBlocks(0)
        .setTombstones(0)
        .setPublishedAtMs(publishedAtMs)
        .setTrainedImpressions(0)
        .setTrainedUnits(0)
        .setProgressiveAuc(0)
        .setProgressiveLogLoss(0)
        .setSkippedBatches(0)
        .setModel(model)
        .build();
  }

  /** Markers as a topic gives them: a list per poll. */
  private static final class Topic implements ReplacementWatch.Markers {
    final Deque<List<VersionMarker>> polls = new ArrayDeque<>();
    volatile boolean closed;
    int wakeups;

    @Override
    public void wakeup() {
      wakeups++;
    }

    @Override
    public List<VersionMarker> poll(Duration wait) {
      return polls.isEmpty() ? List.of() : polls.pop();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void anotherModelsVersionAmongTheMarkersIsSeenEvenWhenThisModelPublishedAfterIt() {
    Topic topic = new Topic();
    try (ReplacementWatch w = new ReplacementWatch(7, 3, 10, () -> Optional.of(topic), "test")) {
      topic.polls.add(List.of(marker(7, 10), marker(3, 40)));
      w.look(Duration.ZERO);
      assertThat(w.replacedBy()).as("its own, and the model it replaces").isNull();
      topic.polls.add(List.of());
      w.look(Duration.ZERO);
      assertThat(w.replacedBy()).isNull();
      // the replacing job's first version, then one more of this model's before any look: the
      // newest marker is this model's again, which a look at the head alone took for all well
      topic.polls.add(List.of(marker(9, 1), marker(7, 11)));
      w.look(Duration.ZERO);
      assertThat(w.replacedBy()).isNotNull();
      assertThat(w.replacedBy().getModel()).isEqualTo(9);
      assertThat(w.replacedBy().getVersion()).isEqualTo(1);
    }
  }

  /**
   * Two live jobs of one model (the second started from the first's checkpoint): the second found
   * the first's versions on the topic, trained them again without publishing, then published its
   * own rows under the next numbers next to the first's. Replicas served the two as one model.
   */
  @Test
  void aVersionOfThisModelThatThisTrainerDidNotPublishIsAnotherJobs() {
    Topic topic = new Topic();
    try (ReplacementWatch w =
        new ReplacementWatch(7, 0, 12, 500, () -> Optional.of(topic), "test")) {
      w.published(13, 1_000);
      w.published(14, 2_000);
      // at or below the version it started from: an earlier attempt's, committed late
      topic.polls.add(List.of(marker(7, 11, 5), marker(7, 12, 6), marker(7, 13, 1_000)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).as("versions this trainer published or started from").isNull();
      topic.polls.add(List.of(marker(7, 14, 2_000), marker(7, 14, 2_001)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).as("a second version 14, published at another time").isNotNull();
      assertThat(w.twin().getVersion()).isEqualTo(14);
      assertThat(w.twin().getPublishedAtMs()).isEqualTo(2_001);
      assertThat(w.replacedBy()).isNull();
    }
    Topic ahead = new Topic();
    long now = System.currentTimeMillis();
    try (ReplacementWatch w =
        new ReplacementWatch(7, 0, 12, now, () -> Optional.of(ahead), "test")) {
      // an earlier attempt's last version, published before this trainer opened, written late
      ahead.polls.add(List.of(marker(7, 13, now - 100)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).isNull();
      ahead.polls.add(List.of(marker(7, 14, now + 1_000)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).as("a version past this trainer's, not published by it").isNotNull();
    }
  }

  /**
   * "Published before this trainer opened" compared another machine's clock with this one's: a
   * second job on a machine whose clock ran behind would have its versions taken for an earlier
   * attempt's for ever. That exemption now lasts only while an earlier attempt's last records can
   * still arrive.
   */
  @Test
  void versionsPublishedBeforeTheTrainerOpenedAreAnotherJobsOnceTheLateRecordsHaveHadTheirTime() {
    Topic topic = new Topic();
    long opened = System.currentTimeMillis() - ReplacementWatch.LATE_RECORDS_MS - 1_000;
    try (ReplacementWatch w =
        new ReplacementWatch(7, 0, 12, opened, () -> Optional.of(topic), "test")) {
      topic.polls.add(List.of(marker(7, 13, opened - 5_000)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).as("stamped before the open by a clock behind this one's").isNotNull();
    }
  }

  @Test
  void itsOwnVersionsOlderThanTheOnesItKeepsCountAsItsOwn() {
    Topic topic = new Topic();
    try (ReplacementWatch w = new ReplacementWatch(7, 0, 0, 0, () -> Optional.of(topic), "test")) {
      for (long v = 1; v <= ReplacementWatch.KEEP + 5; v++) {
        w.published(v, v);
      }
      // a commit that came very late: its publish time is no longer kept
      topic.polls.add(List.of(marker(7, 3, 99), marker(7, ReplacementWatch.KEEP + 5, 99)));
      w.look(Duration.ZERO);
      assertThat(w.twin()).isNotNull();
      assertThat(w.twin().getVersion()).isEqualTo(ReplacementWatch.KEEP + 5);
    }
  }

  @Test
  void aTopicThatCannotBeReadIsFollowedAgainFromAFreshConsumer() {
    int[] opened = {0};
    Topic good = new Topic();
    ReplacementWatch.Markers broken =
        new ReplacementWatch.Markers() {
          @Override
          public List<VersionMarker> poll(Duration wait) {
            throw new IllegalStateException("no answer");
          }

          @Override
          public void close() {}
        };
    try (ReplacementWatch w =
        new ReplacementWatch(
            7, 0, 0, () -> Optional.of(opened[0]++ == 0 ? broken : good), "test")) {
      assertThat(w.look(Duration.ZERO)).isFalse();
      good.polls.add(List.of(marker(8, 2)));
      assertThat(w.look(Duration.ZERO)).isTrue();
      assertThat(opened[0]).isEqualTo(2);
      assertThat(w.replacedBy().getModel()).isEqualTo(8);
    }
    assertThat(new ReplacementWatch(7, 0, 0, Optional::empty, "test").look(Duration.ZERO))
        .as("no topic yet")
        .isFalse();
  }

  /**
   * Closing ended the watch's poll with an interrupt, and the interrupted Kafka consumer then
   * failed to close, logging its trace at the end of every demo: it is woken instead, and closes
   * itself.
   */
  @Test
  void closingWakesThePollRatherThanInterruptingIt() throws Exception {
    Topic topic = new Topic();
    ReplacementWatch w = new ReplacementWatch(7, 0, 0, 0, () -> Optional.of(topic), "test");
    w.start();
    w.close();
    assertThat(topic.wakeups).isEqualTo(1);
    long deadline = System.currentTimeMillis() + 5_000;
    while (!topic.closed && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(topic.closed).as("the watch's thread closed its consumer").isTrue();
    assertThat(w.look(Duration.ZERO)).as("a closed watch reads no more").isFalse();
  }

  /**
   * An Error in the watch's thread (out of memory, a class the job's loader no longer gives) ended
   * it with a trace on standard error alone: the trainer went on publishing, a replace or a second
   * job of its model unseen. The watch now keeps what ended it for the trainer to see.
   */
  @Test
  void anErrorThatEndsTheWatchIsKeptForTheTrainer() throws Exception {
    ReplacementWatch.Markers failing =
        new ReplacementWatch.Markers() {
          int polls;

          @Override
          public List<VersionMarker> poll(Duration wait) {
            if (polls++ == 0) {
              return List.of(); // the start's look
            }
            throw new NoClassDefFoundError("org/apache/kafka/clients/consumer/ConsumerRecords");
          }

          @Override
          public void close() {}
        };
    ReplacementWatch w = new ReplacementWatch(7, 0, 0, 0, () -> Optional.of(failing), "test");
    w.start();
    long deadline = System.currentTimeMillis() + 5_000;
    while (w.failure() == null && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(w.failure()).isInstanceOf(NoClassDefFoundError.class);
    w.close();
  }

  @Test
  void closingWaitsForTheThreadToCloseItsConsumer() {
    Topic topic = new Topic();
    ReplacementWatch w = new ReplacementWatch(7, 0, 0, 0, () -> Optional.of(topic), "test");
    w.start();
    w.close();
    assertThat(topic.closed).as("closed before close() returned").isTrue();
  }
}
