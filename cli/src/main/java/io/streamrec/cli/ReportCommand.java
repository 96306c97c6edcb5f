package io.streamrec.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.report.HtmlReport;
import io.streamrec.common.StreamrecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code streamrec report}: the HTML page of a JSON report that demo or backfill wrote. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Writes the HTML page of a run from the JSON report 'demo --report' or 'backfill --report'"
          + " wrote: its figures, and plots over the run (progressive AUC and log loss,"
          + " calibration, freshness, impressions/s, dead letters, the store's hit rate).",
      "The page is self-contained: it loads nothing and runs no script."
    })
final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPORT.json", description = "A JSON report of a run.")
  Path input;

  @Option(
      names = "--html",
      required = true,
      paramLabel = "FILE",
      description = "Where to write the page.")
  Path html;

  @Override
  public Integer call() {
    JsonNode report;
    try {
      report = new ObjectMapper().readTree(input.toFile());
    } catch (IOException e) {
      throw new StreamrecException("cannot read the report " + input + ": " + e.getMessage(), e);
    }
    if (!(report instanceof ObjectNode o) || !o.has("impressions_trained")) {
      throw new StreamrecException(
          input + " is not a streamrec report (write one with demo or backfill --report FILE)");
    }
    HtmlReport.write(html, o);
    System.out.println(
        "streamrec report: "
            + html
            + " ("
            + o.path("timeline").size()
            + " samples; open it in a browser)");
    return 0;
  }
}
