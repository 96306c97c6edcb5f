package io.streamrec.job.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class KafkaPreflightTest {
  private static JobConfig job(Map<String, String> settings) {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "kafka:9092");
    settings.forEach(c::setString);
    return JobConfig.from(c);
  }

  @Test
  void aJobNeedsTheTopicsItReadsAndWrites() {
    assertThat(KafkaPreflight.topicsOf(job(Map.of())))
        .extracting(TopicSpec::name)
        .containsExactly("requests", "impressions", "dead-letters", "model-updates");
    assertThat(KafkaPreflight.topicsOf(job(Map.of(JobOptions.REQUEST_UNITS_ENABLED.key(), "true"))))
        .extracting(TopicSpec::name)
        .contains("request-units");
    assertThat(KafkaPreflight.topicsOf(job(Map.of(JobOptions.SOURCE_KIND.key(), "units"))))
        .extracting(TopicSpec::name)
        .containsExactly("dead-letters", "model-updates", "request-units");
  }

  @Test
  void theCreateCommandHasTheSettingsTheJobNeeds() {
    TopicSpec updates =
        KafkaPreflight.topicsOf(job(Map.of(JobOptions.ASSEMBLER_PARALLELISM.key(), "4"))).stream()
            .filter(t -> t.name().equals("model-updates"))
            .findFirst()
            .orElseThrow();
    assertThat(updates.createCommand("kafka:9092", true, 3))
        .isEqualTo(
            "kafka-topics.sh --bootstrap-server kafka:9092 --command-config client.properties"
                + " --create --topic model-updates --partitions 1 --replication-factor 3"
                + " --config cleanup.policy=compact"
                + " --config min.compaction.lag.ms=10000 --config segment.ms=300000"
                + " --config message.timestamp.type=LogAppendTime");
    assertThat(KafkaPreflight.topicsOf(job(Map.of(JobOptions.ASSEMBLER_PARALLELISM.key(), "4"))))
        .filteredOn(t -> t.name().equals("requests"))
        .singleElement()
        .satisfies(t -> assertThat(t.partitions()).isEqualTo(4));
  }

  /**
   * The create command printed for a missing topic left the replication factor to the cluster's
   * default (Kafka's is 1): three brokers or more get three replicas, a smaller cluster one a
   * broker.
   */
  @Test
  void theCreateCommandAsksForReplicasTheClusterCanHold() {
    assertThat(TopicSpec.replicationFactorFor(1)).isEqualTo(1);
    assertThat(TopicSpec.replicationFactorFor(2)).isEqualTo(2);
    assertThat(TopicSpec.replicationFactorFor(5)).isEqualTo(3);
  }

  /**
   * A topic the job writes with fewer replicas than its min.insync.replicas refuses every acks=all
   * write, and the job's sinks retried without end while the start-up check let it through.
   */
  @Test
  void aWrittenTopicWithFewerReplicasThanMinInsyncIsRefused() {
    assertThat(KafkaPreflight.replicationProblem("model-updates", 1, 2))
        .contains("topic 'model-updates'")
        .contains("replication factor 1")
        .contains("min.insync.replicas of 2")
        .contains("streamrec topics --replication-factor 3")
        .contains("--add-config min.insync.replicas=1");
    assertThat(KafkaPreflight.replicationProblem("model-updates", 3, 2)).isNull();
    assertThat(KafkaPreflight.replicationProblem("model-updates", 1, 1)).isNull();
    assertThat(KafkaPreflight.writtenBy(job(Map.of())))
        .containsExactly("dead-letters", "model-updates");
    assertThat(
            KafkaPreflight.writtenBy(job(Map.of(JobOptions.REQUEST_UNITS_ENABLED.key(), "true"))))
        .containsExactly("dead-letters", "model-updates", "request-units");
  }

  /**
   * A user who raised properties.max.request.size but not the model topic's max.message.bytes
   * passed every start-up check, and the broker then refused the model's large records, failing
   * each publish and the job with it, for ever.
   */
  @Test
  void aModelTopicThatTakesSmallerRecordsThanTheProducerIsRefused() {
    assertThat(
            KafkaPreflight.recordSizeProblem(
                "model-updates", 1_048_588, null, KafkaPreflight.MODEL_RECORDS))
        .isNull();
    assertThat(
            KafkaPreflight.recordSizeProblem(
                "model-updates", 1_048_588, "4194304", KafkaPreflight.MODEL_RECORDS))
        .contains("topic 'model-updates'")
        .contains("1048588 bytes (max.message.bytes)")
        .contains("max.request.size of 4194304")
        .contains("a larger one would be refused and fail every publish")
        .contains("--add-config max.message.bytes=4194304");
    assertThat(
            KafkaPreflight.recordSizeProblem(
                "model-updates", 8_388_608, "4194304", KafkaPreflight.MODEL_RECORDS))
        .isNull();
  }

  @Test
  void aRefusedLoginOrOperationOrNoAnswerIsSaidInWords() {
    KafkaClientProperties sasl =
        KafkaClientProperties.of(
            Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"alice\" password=\"pw-secret\";"));
    String login =
        KafkaPreflight.access(
                new ExecutionException(
                    new SaslAuthenticationException(
                        "Authentication failed during authentication due to invalid credentials")),
                "kafka:9093",
                sasl,
                "describe topic requests")
            .getMessage();
    assertThat(login)
        .contains(
            "Kafka at kafka:9093 refused streamrec's login (SASL_SSL, SCRAM-SHA-512 as user 'alice')",
            "invalid credentials",
            "sasl.jaas.config")
        .doesNotContain("pw-secret");
    assertThat(
            KafkaPreflight.access(
                    new TopicAuthorizationException("Not authorized to access topics: [requests]"),
                    "kafka:9093",
                    sasl,
                    "describe topic requests")
                .getMessage())
        .contains("refused streamrec", "an operation it needs", "[requests]", "ACLs");
    assertThat(
            KafkaPreflight.access(
                    new TimeoutException("Timed out waiting for a node assignment."),
                    "kafka:9093",
                    sasl,
                    "describe topic requests")
                .getMessage())
        .contains("did not answer within 30 s", "security.protocol the listener's");
  }

  @Test
  void aFailedTlsHandshakeNamesTheTlsSettingsNotTheLoginsPassword() {
    KafkaClientProperties tls =
        KafkaClientProperties.of(
            Map.of(
                "security.protocol", "SSL",
                "ssl.truststore.location", "/etc/kafka/ca.crt",
                "ssl.truststore.type", "PEM"));
    String said =
        KafkaPreflight.access(
                new ExecutionException(
                    new SslAuthenticationException(
                        "SSL handshake failed",
                        new javax.net.ssl.SSLHandshakeException(
                            "PKIX path building failed: unable to find valid certification path"))),
                "kafka:9093",
                tls,
                "describe topic requests")
            .getMessage();
    assertThat(said)
        .contains("kafka:9093", "(SSL)", "TLS handshake", "SSL handshake failed", "PKIX path")
        .contains("ssl.truststore", "ssl.keystore")
        .doesNotContain("password", "sasl.jaas.config", "login");
  }
}
