package io.streamrec.job.kafka;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Calls Kafka until it answers: for a start that should wait through a broker outage, as the
 * running job's sources and sinks do, rather than fail and be restarted into the same outage. Only
 * no answer ({@link KafkaUnreachableException}) is waited for; a refusal or any other failure goes
 * to the caller at once.
 */
public final class AwaitKafka {
  /** What a caller does while it waits. */
  public interface Waiting {
    /**
     * The call {@code attempt} got no answer, {@code seconds} after the first began; throw {@code
     * e} to stop waiting.
     */
    void unanswered(KafkaUnreachableException e, int attempt, long seconds);

    /** Kafka answered after {@code seconds}, once at least one call had not. */
    default void answered(long seconds) {}
  }

  private AwaitKafka() {}

  /**
   * Runs {@code check} until Kafka answers it, as {@link #untilAnswered} does: for a check that
   * returns nothing (a start's preflight).
   *
   * @throws InterruptedException if interrupted while pausing
   */
  public static void untilChecked(Runnable check, Duration pause, Waiting waiting)
      throws InterruptedException {
    untilAnswered(
        () -> {
          check.run();
          return Boolean.TRUE;
        },
        pause,
        waiting);
  }

  /**
   * {@code call}'s answer, calling again {@code pause} after each call that gets none.
   *
   * @throws InterruptedException if interrupted while pausing (a cancelled task, a stopped command)
   */
  public static <T> T untilAnswered(Supplier<T> call, Duration pause, Waiting waiting)
      throws InterruptedException {
    long t0 = System.nanoTime();
    for (int attempt = 1; ; attempt++) {
      try {
        T answer = call.get();
        if (attempt > 1) {
          waiting.answered(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        }
        return answer;
      } catch (KafkaUnreachableException e) {
        waiting.unanswered(e, attempt, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        Thread.sleep(pause.toMillis());
      }
    }
  }
}
