package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.testutils.KafkaBroker;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The test broker's account of itself, which a test's error carries: what a healthy broker says,
 * what a stopped one says, and that an assertion's failure passes through unchanged.
 */
class TestBrokerStateITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void aServingBrokerSaysItMetNoFaultIsRegisteredUnfencedAndLeadsEveryPartition() {
    PipelineSupport.topics(KAFKA.bootstrapServers(), "state-");

    assertThat(KAFKA.state())
        .contains(
            "fatal fault none",
            "non-fatal fault none",
            "state RUNNING",
            "registered [0 unfenced]",
            "each led by an in-sync replica",
            "; a write took ",
            "; a write without idempotence took ")
        .doesNotContain("unwell")
        .doesNotContain("failed after");
  }

  @Test
  void aTestsErrorCarriesTheBrokersStateAndKeepsTheErrorAsItsCause() {
    IllegalStateException error = new IllegalStateException("371 records expired");

    assertThatThrownBy(() -> KAFKA.handleTestExecutionException(null, error))
        .hasCause(error)
        .hasMessageContaining("371 records expired")
        .hasMessageContaining("[the test broker then: fatal fault none;")
        .hasMessageContaining("state RUNNING");
  }

  @Test
  void aProduceThatExpiredIsReportedWithHowTheBrokerHoldsItsPartition() {
    TopicsConfig topics = PipelineSupport.topics(KAFKA.bootstrapServers(), "expired-");
    try (ByteRecordProducer p = new ByteRecordProducer(KAFKA.bootstrapServers())) {
      for (int i = 0; i < 3; i++) {
        p.send(topics.modelUpdates(), "k" + i, 1_000L + i, new byte[] {(byte) i});
      }
      p.flush();
    }
    String partition = topics.modelUpdates() + "-0";
    RuntimeException expired =
        new RuntimeException(
            "3 records could not be written",
            new TimeoutException(
                "Expiring 3 record(s) for " + partition + ":120000 ms has passed"));

    assertThatThrownBy(() -> KAFKA.handleTestExecutionException(null, expired))
        .hasCause(expired)
        .hasMessageContaining("; " + partition + ": leader epoch 0, in-sync [0], log start 0,")
        .hasMessageContaining("high watermark 3, log end 3, producers [")
        .hasMessageContaining(" epoch 0 last sequence 2]");
  }

  @Test
  void anAssertionsFailurePassesThroughUnchanged() {
    AssertionError failed = new AssertionError("expected 3 but was 2");

    assertThatThrownBy(() -> KAFKA.handleTestExecutionException(null, failed)).isSameAs(failed);
  }

  @Test
  void aStoppedBrokerIsReportedAsNotAnswering() throws Exception {
    KafkaBroker stopped = new KafkaBroker();
    stopped.beforeAll(null);
    stopped.afterAll(null);

    assertThat(stopped.state())
        .contains("fatal fault none")
        .doesNotContain("state RUNNING")
        .contains("no answer from its admin API");
  }
}
