package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
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

  /**
   * The local Flink kept its files in java.io.tmpdir: every run and backfill left 21 MB (its RPC
   * system's jar) and a minicluster directory there after it stopped.
   */
  @Test
  void theLocalFlinkKeepsItsFilesInADirectoryOfTheRunsOwn() throws Exception {
    org.apache.flink.configuration.Configuration flink =
        new org.apache.flink.configuration.Configuration();
    io.streamrec.common.LockedDirectory d = JobRunner.localTmpDir(flink);
    try {
      assertThat(flink.get(org.apache.flink.configuration.CoreOptions.TMP_DIRS))
          .isEqualTo(d.path().toString());
      assertThat(d.path().getParent().getFileName().toString()).startsWith("streamrec-flink-");
    } finally {
      d.close();
    }
    assertThat(d.path()).doesNotExist();
    // one the user sets stays
    org.apache.flink.configuration.Configuration set =
        new org.apache.flink.configuration.Configuration();
    set.set(org.apache.flink.configuration.CoreOptions.TMP_DIRS, "/data/flink-tmp");
    assertThat(JobRunner.localTmpDir(set)).isNull();
    assertThat(set.get(org.apache.flink.configuration.CoreOptions.TMP_DIRS))
        .isEqualTo("/data/flink-tmp");
  }
}
