package io.streamrec.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.gpu.BackendMode;
import io.streamrec.gpu.Backends;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.CudaBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The serving process runs without Flink, a Kafka broker, RocksDB or the JCuda natives: none of
 * them is on this module's class path (its runtime dependencies plus the test libraries), so a
 * dependency that brings one back fails here.
 */
class ServingClassPathTest {
  private static final List<String> ABSENT =
      List.of(
          "org.apache.flink.api.common.JobID",
          "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment",
          "kafka.server.KafkaBroker",
          "org.apache.kafka.server.common.MetadataVersion",
          "org.rocksdb.RocksDB",
          "jcuda.driver.JCudaDriver");

  /** The natives JCuda would load, as resources of its natives jar. */
  private static final List<String> ABSENT_RESOURCES =
      List.of("lib/libJCudaDriver-12.6.0-linux-x86_64.so", "librocksdbjni-linux64.so");

  @Test
  void noFlinkBrokerRocksDbOrCudaNatives() {
    List<String> found = new ArrayList<>();
    for (String c : ABSENT) {
      try {
        Class.forName(c, false, getClass().getClassLoader());
        found.add(c);
      } catch (ClassNotFoundException expected) {
        // absent, as it should be
      }
    }
    for (String r : ABSENT_RESOURCES) {
      if (getClass().getClassLoader().getResource(r) != null) {
        found.add(r);
      }
    }
    assertThat(found).isEmpty();
  }

  @Test
  void theCudaBackendSaysItIsAbsentAndAutoRunsOnTheCpu() {
    assertThat(CudaBackend.unavailableReason()).contains("JCuda is not on the class path");
    try (ComputeBackend b = Backends.create(BackendMode.AUTO)) {
      assertThat(b.name()).isEqualTo("cpu");
    }
  }

  @Test
  void theReplicaAndItsHttpServerAreHere() throws ClassNotFoundException {
    assertThat(Class.forName("io.streamrec.serving.ServingMain")).isNotNull();
    assertThat(Class.forName("org.apache.kafka.clients.consumer.KafkaConsumer")).isNotNull();
    assertThat(Class.forName("io.streamrec.model.ModelScorer")).isNotNull();
  }
}
