package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {
  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required"
          + " username=\"streamrec\" password=\"s3cr3t-pw\";";

  @TempDir Path tmp;

  @Test
  void prefixedKeysBecomeClientSettingsAndOthersAreLeftOut() {
    KafkaClientProperties p =
        KafkaClientProperties.fromPrefixed(
            Map.of(
                "properties.security.protocol", "SASL_SSL",
                "properties.sasl.mechanism", "SCRAM-SHA-512",
                "kafka.group-id", "g",
                "propertiesX", "y"));
    assertThat(p.asMap())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512"));
    assertThat(p.asPrefixed()).containsEntry("properties.security.protocol", "SASL_SSL");
  }

  @Test
  void secretsAreNeverShown() throws IOException {
    KafkaClientProperties p =
        KafkaClientProperties.of(
            Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.jaas.config", JAAS,
                "ssl.truststore.password", "trust-pw",
                "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----",
                "sasl.oauthbearer.client.credentials.client.secret", "oauth-secret"));
    String shown = p.toString() + " " + p.describe();
    for (String secret : new String[] {"s3cr3t-pw", "trust-pw", "PRIVATE KEY", "oauth-secret"}) {
      assertThat(shown).doesNotContain(secret);
    }
    assertThat(p.toString())
        .contains("security.protocol=SASL_SSL")
        .contains("sasl.jaas.config=" + KafkaClientProperties.HIDDEN);
    assertThat(p.describe()).isEqualTo("SASL_SSL, GSSAPI as user 'streamrec'");
    assertThat(p.refusal("kafka:9093", false, "Authentication failed"))
        .contains("kafka:9093", "as user 'streamrec'", "Authentication failed", "sasl.jaas.config")
        .doesNotContain("s3cr3t-pw");
    // what Flink serializes into the job graph keeps the values
    ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream());
    out.writeObject(p);
    assertThat(p.asMap()).containsEntry("sasl.jaas.config", JAAS);
  }

  @Test
  void aCommandConfigFileIsReadAsKafkasToolsReadIt() throws IOException {
    Path f = tmp.resolve("client.properties");
    Files.writeString(
        f,
        "# a comment\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism = PLAIN\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
            + "  username=\"alice\" password=\"pw\";\n",
        StandardCharsets.UTF_8);
    KafkaClientProperties p = KafkaClientProperties.load(f);
    assertThat(p.asMap()).containsEntry("sasl.mechanism", "PLAIN");
    assertThat(p.describe()).isEqualTo("SASL_PLAINTEXT, PLAIN as user 'alice'");
    KafkaClientProperties over =
        p.with(KafkaClientProperties.of(Map.of("sasl.mechanism", "SCRAM-SHA-256")));
    assertThat(over.asMap()).containsEntry("sasl.mechanism", "SCRAM-SHA-256").hasSize(3);
  }

  @Test
  void whatStreamrecSetsItselfIsRefusedNamingItsOwnKey() {
    assertThatThrownBy(
            () ->
                KafkaClientProperties.fromPrefixed(
                    Map.of("properties.bootstrap.servers", "x:9092")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("properties.bootstrap.servers")
        .hasMessageContaining("kafka.bootstrap-servers");
    assertThatThrownBy(() -> KafkaClientProperties.load(tmp.resolve("missing.properties")))
        .isInstanceOf(StreamrecException.class)
        .hasMessageContaining("missing.properties");
  }

  /**
   * A user's client.id and client.id.prefix were replaced by streamrec's own names, so every
   * replica and job on a cluster shared one client id and one quota. They are kept, with
   * streamrec's name after them to keep one process's clients apart.
   */
  @Test
  void aUsersClientIdIsKeptWithStreamrecsNameAfterIt() {
    assertThat(KafkaClientProperties.empty().clientId("streamrec-replica"))
        .isEqualTo("streamrec-replica");
    KafkaClientProperties p =
        KafkaClientProperties.of(Map.of("client.id", "team-a", "client.id.prefix", "team-b"));
    assertThat(p.clientId("streamrec-replica")).isEqualTo("team-a-streamrec-replica");
    assertThat(p.clientIdPrefix("streamrec-units")).isEqualTo("team-b-streamrec-units");
  }
}
