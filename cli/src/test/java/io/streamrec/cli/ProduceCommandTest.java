package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** produce refuses, in words and before it reaches Kafka, a file it cannot read. */
class ProduceCommandTest {
  @TempDir Path dir;

  /**
   * A directory passed the readability check, reached Kafka, and then failed the reading with a
   * stack trace and exit status 1 ({@code produce --requests data/ ...}, a name completed one
   * character short).
   */
  @Test
  void aDirectoryGivenAsAFileIsRefusedInOneLineBeforeKafka() throws Exception {
    Path directory = Files.createDirectory(dir.resolve("data"));
    Path impressions = Files.writeString(dir.resolve("impressions.jsonl"), "");
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));

    long t0 = System.currentTimeMillis();
    int rc =
        cl.execute(
            "produce",
            "--bootstrap-servers",
            "localhost:1",
            "--requests",
            directory.toString(),
            "--impressions",
            impressions.toString());

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .contains("cannot read " + directory + ": it is a directory")
        .doesNotContain("Kafka")
        .doesNotContain("\tat ");
    assertThat(System.currentTimeMillis() - t0).isLessThan(10_000);
  }
}
