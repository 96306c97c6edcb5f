package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * generate refuses, in words and before writing anything, the same file for requests and
 * impressions (it wrote both into one garbled file) and a file in a directory that does not exist
 * (a stack trace).
 */
class GenerateCommandTest {
  @TempDir Path dir;

  private static int run(StringWriter err, String... args) {
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    return cl.execute(args);
  }

  @Test
  void oneFileForBothIsRefused() {
    StringWriter err = new StringWriter();
    Path same = dir.resolve("events.jsonl");

    int rc =
        run(
            err,
            "generate",
            "--count",
            "5",
            "--requests",
            same.toString(),
            "--impressions",
            dir.resolve(".").resolve("events.jsonl").toString());

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).contains("--requests and --impressions name the same file");
    assertThat(same).doesNotExist();
  }

  @Test
  void aFileInADirectoryThatDoesNotExistIsRefusedInWords() {
    StringWriter err = new StringWriter();
    Path missing = dir.resolve("no/such/dir/requests.jsonl");

    int rc =
        run(
            err,
            "generate",
            "--count",
            "5",
            "--requests",
            missing.toString(),
            "--impressions",
            dir.resolve("impressions.jsonl").toString());

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .contains("cannot write " + missing + ": there is no directory")
        .doesNotContain("NoSuchFileException")
        .doesNotContain("\tat ");
    assertThat(Files.exists(dir.resolve("impressions.jsonl"))).isFalse();
  }
}
