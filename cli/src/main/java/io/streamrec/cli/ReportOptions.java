package io.streamrec.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.report.HtmlReport;
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
