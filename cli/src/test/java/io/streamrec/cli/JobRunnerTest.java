package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;

class JobRunnerTest {
  /**
   * {@code -D state.backend.type=rocksdb} on a local run failed inside the JobMaster with a
   * ClassNotFoundException trace: the local Flink has the heap backend only.
   */
  @Test
  void aStateBackendTheLocalFlinkCannotLoadIsRefusedInOneLine() {
    Configuration rocks = new Configuration();
    rocks.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    assertThatThrownBy(() -> JobRunner.checkStateBackend(rocks))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("state.backend.type 'rocksdb' is not available")
        .hasMessageContaining("'hashmap'");
    Configuration custom = new Configuration();
    custom.set(StateBackendOptions.STATE_BACKEND, "com.example.NoSuchFactory");
    assertThatThrownBy(() -> JobRunner.checkStateBackend(custom))
        .hasMessageContaining("com.example.NoSuchFactory");

    Configuration heap = new Configuration();
    heap.set(StateBackendOptions.STATE_BACKEND, "hashmap");
    JobRunner.checkStateBackend(heap);
    JobRunner.checkStateBackend(new Configuration());
  }
}
