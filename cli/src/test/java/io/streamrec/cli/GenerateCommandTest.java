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

  /**
   * {@code streamrec generate} with {@code options}, writing {@code requests} and {@code
   * impressions}.
   */
  private static int generate(
      StringWriter err, String requests, String impressions, String... options) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate"));
    args.addAll(java.util.List.of(options));
    args.addAll(java.util.List.of("--requests", requests, "--impressions", impressions));
    return run(err, args.toArray(String[]::new));
  }

  @Test
  void oneFileForBothIsRefused() {
    StringWriter err = new StringWriter();
    Path same = dir.resolve("events.jsonl");

    int rc =
        generate(
            err,
            same.toString(),
            dir.resolve(".").resolve("events.jsonl").toString(),
            "--count",
            "5");

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).contains("--requests and --impressions name the same file");
    assertThat(same).doesNotExist();
  }

  @Test
  void aFileInADirectoryThatDoesNotExistIsRefusedInWords() {
    StringWriter err = new StringWriter();
    Path missing = dir.resolve("no/such/dir/requests.jsonl");

    int rc =
        generate(
            err, missing.toString(), dir.resolve("impressions.jsonl").toString(), "--count", "5");

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .contains("cannot write " + missing + ": there is no directory")
        .doesNotContain("NoSuchFileException")
        .doesNotContain("\tat ");
    assertThat(Files.exists(dir.resolve("impressions.jsonl"))).isFalse();
  }

  /**
   * A directory where a file is wanted, and a file that cannot be written to its end (a full disk),
   * gave a stack trace, or a line about {@code --state-dir}, which generate does not have.
   */
  @Test
  void aFileThatCannotBeWrittenIsSaidInOneLineNamingIt() throws Exception {
    Path directory = Files.createDirectory(dir.resolve("requests.jsonl"));
    StringWriter err = new StringWriter();

    int rc =
        generate(
            err, directory.toString(), dir.resolve("impressions.jsonl").toString(), "--count", "5");

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .contains("cannot write " + directory + ": it is a directory")
        .doesNotContain("--state-dir")
        .doesNotContain("\tat ");
    assertThat(dir.resolve("impressions.jsonl")).doesNotExist();

    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "no /dev/full here");
    StringWriter err2 = new StringWriter();

    int rc2 =
        generate(
            err2, full.toString(), dir.resolve("impressions.jsonl").toString(), "--count", "5000");

    assertThat(rc2).isEqualTo(2);
    assertThat(err2.toString())
        .contains("cannot write " + full + ": No space left on device")
        .doesNotContain("\tat ");
  }

  /**
   * The README's "more traffic" step took another seed for new request ids, and another seed draws
   * another world (user u0 from NL became u0 from BR), which the live model had not learnt.
   */
  @Test
  void skippingTheRequestsOfEarlierFilesWritesTheTrafficThatFollowsThem() throws Exception {
    StringWriter err = new StringWriter();
    Path all = dir.resolve("all-requests.jsonl");
    Path allImps = dir.resolve("all-impressions.jsonl");
    Path more = dir.resolve("more-requests.jsonl");
    Path moreImps = dir.resolve("more-impressions.jsonl");

    int rcAll = generate(err, all.toString(), allImps.toString(), "--count", "30");
    int rcMore =
        generate(err, more.toString(), moreImps.toString(), "--count", "10", "--skip", "20");

    assertThat(rcAll).as(err.toString()).isZero();
    assertThat(rcMore).as(err.toString()).isZero();
    assertThat(Files.readAllLines(more))
        .isEqualTo(Files.readAllLines(all).subList(20, 30))
        .first()
        .asString()
        .contains("\"requestId\":\"r42-20\"");
    java.util.List<String> impressions = Files.readAllLines(allImps);
    assertThat(Files.readAllLines(moreImps))
        .isEqualTo(
            impressions.subList(
                (int)
                    impressions.stream()
                        .takeWhile(l -> !l.contains("\"requestId\":\"r42-20\""))
                        .count(),
                impressions.size()));
  }

  /**
   * A --start before 1970 failed after both files were created, empty, with a message about {@code
   * requestTimeMs} alone; a --spacing whose times overflow did the same partway through.
   */
  @Test
  void eventTimesBefore1970OrPastTheLastOneAreRefusedNamingTheOptionsAndNothingIsWritten() {
    Path req = dir.resolve("requests.jsonl");
    Path imp = dir.resolve("impressions.jsonl");
    StringWriter err = new StringWriter();
    int rc = generate(err, req.toString(), imp.toString(), "--start", "1960-01-01T00:00:00Z");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).contains("--start must be at or after 1970-01-01T00:00:00Z");
    StringWriter err2 = new StringWriter();
    int rc2 =
        generate(
            err2, req.toString(), imp.toString(), "--spacing", "3650000d", "--count", "100000");
    assertThat(rc2).isEqualTo(2);
    assertThat(err2.toString()).contains("runs past the last event time there is");
    assertThat(req).doesNotExist();
    assertThat(imp).doesNotExist();
  }
}
