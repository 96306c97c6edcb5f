package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoWithoutAModelITCase {
  /**
   * A demo too short or too slow to publish a version (one request in ten seconds, for one second)
   * ended in the replica's refusal to score, a stack trace and exit status 1; it says so in one
   * line and what to change.
   */
  @Test
  void aDemoThatPublishedNoVersionSaysSoInOneLine() {
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    int rc = cl.execute("demo", "--duration", "1s", "--rate", "0.1");

    assertThat(rc).as(err.toString()).isEqualTo(2);
    assertThat(err.toString())
        .contains("streamrec demo: no model version was published in 1 s of traffic")
        .contains("run it longer (--duration) or faster (--rate)")
        .doesNotContain("\tat ");
  }
}
