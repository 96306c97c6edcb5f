package io.streamrec.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.report.HtmlReport;
import io.streamrec.common.StreamrecException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a job-running command writes the report of its run: JSON, an HTML page, both or none. */
final class ReportOptions {
  @Option(
      names = "--report",
      paramLabel = "FILE",
      description = "Write a JSON report of the run here.")
  Path json;

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description =
          "Write the run's report as an HTML page here: figures and plots over the run"
              + " (self-contained).")
  Path html;

  /**
   * Refuses, before the run starts, a report path the run could not write at its end (a directory,
   * a path under a file, a directory this user cannot write): a backfill of hours ended by failing
   * to write its report, with its figures lost. Makes the missing directories above each path.
   */
  void checkWritable() {
    check(json, "--report");
    check(html, "--html");
  }

  private static void check(Path file, String option) {
    if (file == null) {
      return;
    }
    Path abs = file.toAbsolutePath();
    String why = null;
    if (Files.isDirectory(abs)) {
      why = "it is a directory";
    } else {
      Path parent = abs.getParent();
      try {
        if (parent != null) {
          Files.createDirectories(parent);
        }
      } catch (java.io.IOException e) {
        why =
            e instanceof java.nio.file.FileAlreadyExistsException f
                ? f.getFile() + " is a file, not a directory"
                : "its directory cannot be made: " + e;
      }
      if (why == null && parent != null && !Files.isWritable(parent)) {
        why = "this user cannot write in " + parent;
      } else if (why == null && Files.exists(abs) && !Files.isWritable(abs)) {
        why = "this user cannot write it";
      }
    }
    if (why != null) {
      throw new StreamrecException(
          option + " " + file + ": the report could not be written there at the end: " + why);
    }
  }

  /** Writes {@code report} where asked, saying so on standard output as {@code who}. */
  void write(ObjectNode report, String who) {
    if (json != null) {
      Report.write(json, report);
      System.out.println(who + ": report written to " + json);
    }
    if (html != null) {
      HtmlReport.write(html, report);
      System.out.println(who + ": HTML report written to " + html);
    }
  }
}
