package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.testutils.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job whose model trains two labels reports each label's progressive figures, not the first's
 * alone: the command's report ({@code by_label}) and progress line, from the trainer's per-label
 * metrics through the process's metric reporter. The second label, "good", is one the model learns
 * far better than clicks (the item's category decides it), so figures of the first label reported
 * under the second's name would show.
 */
class MultiLabelJobITCase {
  private static final long START_MS = 1_767_225_600_000L;

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final TopicsConfig TOPICS = TopicsConfig.defaults().withPrefix("labels-");

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aBackfillOfTwoLabelsReportsEachLabelsOwnFigures(@TempDir Path dir) throws Exception {
    try (Admin admin = Admin.create(KAFKA.adminSettings())) {
      Topics.ensure(admin, TOPICS);
    }
    Path requests = dir.resolve("requests.jsonl");
    Path impressions = dir.resolve("impressions.jsonl");
    CliRun generate =
        CliRun.of(
            "generate",
            "--count",
            "1500",
            "--items",
            "200",
            "--start",
            Long.toString(START_MS),
            "--requests",
            requests.toString(),
            "--impressions",
            impressions.toString());
    assertThat(generate.exit()).as(generate.err()).isZero();
    // "good": the item's category is one of every third
    List<String> lines = new ArrayList<>();
    for (String line : Files.readAllLines(impressions)) {
      ObjectNode im = (ObjectNode) JSON.readTree(line);
      String cat = im.path("features").path("item_cat").get(0).asText();
      int good = Integer.parseInt(cat.substring(1)) % 3 == 0 ? 1 : 0;
      ((ObjectNode) im.get("labels")).put("good", good);
      lines.add(JSON.writeValueAsString(im));
    }
    Files.write(impressions, lines);

    CliRun produce =
        CliRun.of(
            jobCommand(
                "produce",
                "--requests",
                requests.toString(),
                "--impressions",
                impressions.toString()));
    assertThat(produce.exit()).as(produce.out() + produce.err()).isZero();

    Path reportFile = dir.resolve("report.json");
    // the progress lines go to the process's standard output
    java.io.PrintStream stdout = System.out;
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
    CliRun backfill;
    try {
      backfill =
          CliRun.of(
              jobCommand(
                  "backfill",
                  "-D",
                  "model.labels=click;good",
                  "-D",
                  "assembler.join-window=2 s",
                  "-D",
                  "source.max-out-of-orderness=500 ms",
                  "-D",
                  "trainer.publish-interval=5 s",
                  "--report",
                  reportFile.toString()));
    } finally {
      System.setOut(stdout);
    }
    String progress = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
    stdout.print(progress);
    assertThat(backfill.exit()).as(backfill.out() + backfill.err()).isZero();
    JsonNode report = JSON.readTree(reportFile.toFile());
    assertThat(report.get("labels").toString()).isEqualTo("[\"click\",\"good\"]");
    JsonNode by = report.get("by_label");
    assertThat(by.fieldNames()).toIterable().containsExactly("click", "good");
    JsonNode click = by.get("click");
    JsonNode good = by.get("good");
    // the first label's figures are the job's
    assertThat(click.get("progressive_auc").asDouble())
        .isEqualTo(report.get("progressive_auc").asDouble());
    assertThat(click.get("progressive_auc_lifetime").asDouble())
        .isEqualTo(report.get("progressive_auc_lifetime").asDouble());
    assertThat(click.get("progressive_auc_lifetime").asDouble()).isBetween(0.4, 0.9);
    // the second's are its own
    assertThat(good.get("progressive_auc_lifetime").asDouble())
        .isGreaterThan(0.9)
        .isGreaterThan(click.get("progressive_auc_lifetime").asDouble() + 0.1);
    assertThat(good.get("progressive_auc").asDouble()).isGreaterThan(0.9);
    assertThat(good.get("calibration").asDouble()).isBetween(0.8, 1.2);
    assertThat(good.get("progressive_logloss").asDouble())
        .isLessThan(click.get("progressive_logloss").asDouble());
    assertThat(progress)
        .as("the last progress line")
        .containsPattern("AUC 0\\.\\d{4} \\(click 0\\.\\d{4}, good 0\\.9\\d{3}\\)");
  }

  private static String[] jobCommand(String command, String... more) {
    List<String> args =
        new ArrayList<>(List.of(command, "--bootstrap-servers", KAFKA.bootstrapServers()));
    args.addAll(CliRun.topicArguments(TOPICS));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }
}
