package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's drain, a stop with savepoint, on a real local Flink cluster with an operator whose
 * state is larger than 5 MB, as a trainer's model is once its tables hold a few tens of thousands
 * of rows (the demo with {@code -D model.wide-crosses=field-weighted} failed so at its end, after
 * training, without its summary). Under the demo's configuration the savepoint is written to the
 * file system; under Flink's default storage, the JobManager's heap, the same job's savepoint is
 * refused, which is what the demo had.
 */
class DemoSavepointITCase {
  /** More than the 5 MB the JobManager's heap storage takes per state handle. */
  private static final int STATE_BYTES = 6 << 20;

  private static volatile CountDownLatch running;

  @TempDir Path state;

  /** Passes numbers on, a little at a time, and holds {@link #STATE_BYTES} of operator state. */
  static final class Ballast extends RichMapFunction<Long, Long> implements CheckpointedFunction {
    private transient ListState<byte[]> held;

    @Override
    public Long map(Long v) throws Exception {
      running.countDown();
      Thread.sleep(1);
      return v;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
      held.update(List.of(new byte[STATE_BYTES]));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
      held =
          context
              .getOperatorStateStore()
              .getListState(new ListStateDescriptor<>("ballast", byte[].class));
    }
  }

  /** Starts the job under {@code conf} and stops it with a savepoint in {@code target}. */
  private static String drain(Configuration conf, String target) throws Exception {
    running = new CountDownLatch(1);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(RetainedCheckpoints.bindLocally(conf));
    env.setParallelism(1);
    env.fromSequence(0, Long.MAX_VALUE).map(new Ballast()).sinkTo(new DiscardingSink<>());
    JobClient job = env.executeAsync("demo-savepoint");
    boolean stopped = false;
    try {
      assertThat(running.await(60, TimeUnit.SECONDS)).as("the job runs").isTrue();
      String savepoint =
          job.stopWithSavepoint(true, target, SavepointFormatType.CANONICAL)
              .get(60, TimeUnit.SECONDS);
      stopped = true;
      return savepoint;
    } finally {
      if (!stopped) {
        try {
          job.cancel().get(30, TimeUnit.SECONDS);
        } catch (Exception ended) {
          // the job had failed already, and its local cluster is gone with it
        }
      }
    }
  }

  @Test
  void theDemosDrainWritesASavepointLargerThanTheJobManagersHeapTakes() throws Exception {
    Configuration conf = DemoCommand.configuration(new Configuration(), state);
    assertThat(conf.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
    String target = conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY);
    assertThat(target).isEqualTo(state.resolve("savepoints").toUri().toString());

    String savepoint = drain(conf, target);

    Path written = Path.of(java.net.URI.create(savepoint));
    assertThat(written).startsWith(state.resolve("savepoints"));
    assertThat(written.resolve("_metadata")).isRegularFile();
    try (var files = Files.walk(written)) {
      long bytes = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
      assertThat(bytes).as("the operator's state is in it").isGreaterThan(STATE_BYTES);
    }
  }

  @Test
  void underFlinksDefaultStorageTheSameSavepointIsRefused() {
    Configuration plain = new Configuration();
    DemoCommand.DEMO_DEFAULTS.forEach(plain::setString);
    String target = state.resolve("plain").toUri().toString();

    assertThatThrownBy(() -> drain(plain, target))
        .hasStackTraceContaining("maximum permitted memory-backed state");
  }

  @Test
  void aStorageTheSettingsNameIsTheDemos() {
    Configuration mine = new Configuration();
    mine.set(CheckpointingOptions.CHECKPOINT_STORAGE, "jobmanager");
    mine.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, "s3://bucket/savepoints");

    Configuration conf = DemoCommand.configuration(mine, state);

    assertThat(conf.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("jobmanager");
    assertThat(conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY))
        .isEqualTo("s3://bucket/savepoints");
    assertThat(conf.toMap()).containsAllEntriesOf(DemoCommand.DEMO_DEFAULTS);
  }
}
