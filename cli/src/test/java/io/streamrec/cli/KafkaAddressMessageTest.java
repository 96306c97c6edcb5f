package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
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
        .startsWith("streamrec " + command + ": a Kafka client setting is not valid: ")
        .contains(reason)
        .endsWith("(--bootstrap-servers takes host:port[,host:port...], each host resolvable here)")
        .doesNotContain("\n");
  }
}
