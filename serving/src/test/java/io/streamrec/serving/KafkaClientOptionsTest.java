package io.streamrec.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.KafkaClientProperties;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.junit.jupiter.api.Test;

class KafkaClientOptionsTest {
  private static final KafkaClientProperties CLIENT =
      KafkaClientProperties.of(
          Map.of(
              "security.protocol", "SASL_SSL",
              "sasl.mechanism", "SCRAM-SHA-512",
              "sasl.jaas.config",
                  "org.apache.kafka.common.security.scram.ScramLoginModule required"
                      + " username=\"alice\" password=\"pw-secret\";"));

  @Test
  void aFailedTlsHandshakeNamesTheTlsSettingsAndARefusedLoginThePassword() {
    String tls =
        KafkaClientOptions.refusal(
            new KafkaException(
                "poll failed",
                new SslAuthenticationException(
                    "SSL handshake failed",
                    new javax.net.ssl.SSLHandshakeException("PKIX path building failed"))),
            "kafka:9093",
            CLIENT);
    assertThat(tls)
        .contains("TLS handshake", "PKIX path building failed", "ssl.truststore")
        .doesNotContain("password", "pw-secret");
    String login =
        KafkaClientOptions.refusal(
            new SaslAuthenticationException("invalid credentials"), "kafka:9093", CLIENT);
    assertThat(login)
        .contains("refused streamrec's login", "as user 'alice'", "sasl.jaas.config")
        .doesNotContain("pw-secret");
    assertThat(KafkaClientOptions.refusal(new KafkaException("other"), "kafka:9093", CLIENT))
        .isNull();
  }
}
