package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * A bootstrap address the Kafka client cannot use (no port, a host that does not resolve) printed
 * "Failed to create new KafkaAdminClient" and a page of trace from every command; the reason was in
 * the trace. It is one line now, with what the option takes.
 */
class KafkaAddressMessageTest {
  @ParameterizedTest
  @CsvSource({
    "tail, localhost, Invalid url in bootstrap.servers: localhost",
    "dead-letters, no-such-host.invalid:9092, No resolvable bootstrap urls",
  })
  void anAddressTheClientCannotUseIsOneLine(String command, String address, String reason) {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    int rc = cl.execute(command, "--bootstrap-servers", address);

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString().strip())
        .startsWith("streamrec " + command + ": ")
        .contains("a Kafka client setting is not valid: ")
        .contains(reason)
        .endsWith("(--bootstrap-servers takes host:port[,host:port...], each host resolvable here)")
        .doesNotContain("\n");
  }

  /**
   * A sasl.jaas.config with a stray space or quote: every command printed Kafka's "Value not
   * specified for key 'PW1' in JAAS config", a piece of the password, under a page of trace.
   */
  @Test
  void aJaasConfigThatDoesNotParseIsSaidWithoutItsText() {
    assertThat(
            adminOf(
                "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " username=\"u\" password=s3cret PW1\";"))
        .isInstanceOf(io.streamrec.job.kafka.KafkaAccessException.class)
        .hasMessage(
            "cannot reach Kafka at localhost:1: sasl.jaas.config does not parse: check its quotes"
                + " and the ';' that ends it (its text is not shown: it holds the password)")
        .hasNoCause();
  }

  /** A CA file that is not there: 99 lines of trace, the file's name deep inside. */
  @Test
  void aTrustStoreThatIsNotThereIsOneLineNamingIt() {
    assertThat(
            adminOf(
                "security.protocol", "SSL",
                "ssl.truststore.type", "PEM",
                "ssl.truststore.location", "/etc/streamrec-kafka/missing-ca.crt"))
        .isInstanceOf(io.streamrec.job.kafka.KafkaAccessException.class)
        .hasMessageStartingWith("cannot reach Kafka at localhost:1: ")
        .hasMessageContaining("/etc/streamrec-kafka/missing-ca.crt");
  }

  /** What making the check's admin client with these client settings throws. */
  private static Throwable adminOf(String... settings) {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < settings.length; i += 2) {
      m.put(settings[i], settings[i + 1]);
    }
    var client = io.streamrec.common.KafkaClientProperties.of(m);
    return org.assertj.core.api.Assertions.catchThrowable(
        () -> io.streamrec.job.kafka.KafkaPreflight.admin("localhost:1", client).close());
  }
}
