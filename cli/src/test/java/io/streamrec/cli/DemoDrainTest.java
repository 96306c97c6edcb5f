package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.flink.util.FlinkException;
import org.junit.jupiter.api.Test;

/**
 * A demo of little traffic (--duration 1s --rate 0.1), or one on a loaded machine, reached its
 * drain before every task of the job had started: Flink refused the savepoint ("Not all required
 * tasks are currently running") and the demo failed with a page of trace, exit 1. The drain asks
 * again until the tasks run; any other refusal fails it as before.
 */
class DemoDrainTest {
  private static CompletableFuture<String> refused(Throwable cause) {
    return CompletableFuture.failedFuture(new FlinkException("stop failed", cause));
  }

  @Test
  void aDrainRefusedWhileTheTasksStartIsAskedAgain() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    String savepoint =
        DemoCommand.drain(
            () ->
                asked.incrementAndGet() < 3
                    ? refused(
                        new CheckpointException(
                            CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING))
                    : CompletableFuture.completedFuture("file:/tmp/savepoint-1"),
            Duration.ofSeconds(10));
    assertThat(savepoint).isEqualTo("file:/tmp/savepoint-1");
    assertThat(asked).hasValue(3);
  }

  @Test
  void anotherRefusalOrOneThatLastsFailsTheDrain() {
    AtomicInteger asked = new AtomicInteger();
    assertThatThrownBy(
            () ->
                DemoCommand.drain(
                    () -> {
                      asked.incrementAndGet();
                      return refused(new CheckpointException(CheckpointFailureReason.IO_EXCEPTION));
                    },
                    Duration.ofSeconds(10)))
        .isInstanceOf(ExecutionException.class);
    assertThat(asked).hasValue(1);
    assertThatThrownBy(
            () ->
                DemoCommand.drain(
                    () ->
                        refused(
                            new CheckpointException(
                                CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING)),
                    Duration.ofMillis(600)))
        .isInstanceOf(ExecutionException.class)
        .hasRootCauseInstanceOf(CheckpointException.class);
  }
}
