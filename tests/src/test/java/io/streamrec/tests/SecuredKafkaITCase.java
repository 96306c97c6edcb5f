package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.serving.ServeCommand;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.Ports;
import io.streamrec.testutils.TopicRecords;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * streamrec against a broker that asks for SASL/PLAIN, as a managed Kafka would, every part through
 * its command and the client settings users give ({@code --command-config FILE}, {@code -D
 * properties.*}): {@code produce} writes, the job ({@code backfill}) trains and publishes, {@code
 * tail} and {@code serve} read; a wrong password fails each at once, saying so, without showing it;
 * a missing topic fails naming it and how to create it. The job runs with Flink's Prometheus
 * reporter, whose scrapes (and the replica's {@code /metrics}) give the metric names the Grafana
 * dashboard must only use.
 */
class SecuredKafkaITCase {
  private static final String USER = "streamrec";
  private static final String PASSWORD = "streamrec-secret-pw";
  private static final String WRONG_PASSWORD = "not-the-password-42";

  /** Each refused command must end within this: no client timeout, no retry loop. */
  private static final Duration FAST = Duration.ofSeconds(15);

  private static final long START_MS = 1_767_225_600_000L;

  @RegisterExtension
  static final KafkaBroker KAFKA = KafkaBroker.withSaslUsers(Map.of(USER, PASSWORD));

  private static Path dir;
  private static Path client;
  private static Path wrongClient;
  private static final TopicsConfig TOPICS = TopicsConfig.defaults().withPrefix("secured-");
  private static CliRun produce;
  private static CliRun backfill;
  private static JsonNode report;

  /** Metric names Flink's Prometheus reporter served while the job ran. */
  private static final Set<String> JOB_METRICS = new ConcurrentSkipListSet<>();

  /** The label names of the trainer's model-version samples: the dashboard filters by job_name. */
  private static final Set<String> JOB_LABELS = new ConcurrentSkipListSet<>();

  /** The labels ({@code label="click"}) of the trainer's per-label AUC samples. */
  private static final Set<String> MODEL_LABELS = new ConcurrentSkipListSet<>();

  @BeforeAll
  static void produceAndTrainOverSasl() throws Exception {
    dir = Files.createTempDirectory("streamrec-sasl");
    client = dir.resolve("client.properties");
    Files.writeString(client, properties(PASSWORD));
    wrongClient = dir.resolve("wrong.properties");
    Files.writeString(wrongClient, properties(WRONG_PASSWORD));
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
            "--start",
            Long.toString(START_MS),
            "--spacing",
            "20ms",
            "--requests",
            requests.toString(),
            "--impressions",
            impressions.toString());
    assertThat(generate.exit()).as(generate.err()).isZero();
    // an impression whose request never comes: the job writes it to the dead letters, over SASL too
    Files.writeString(
        impressions,
        "{\"impressionId\":\"orphan-0\",\"requestId\":\"no-such-request\",\"timestampMs\":"
            + (START_MS + 5_000)
            + ",\"features\":{\"item_id\":[\"i1\"]},\"labels\":{\"click\":0}}\n",
        java.nio.file.StandardOpenOption.APPEND);

    produce =
        CliRun.of(
            securedJobCommand(
                "produce",
                "--requests",
                requests.toString(),
                "--impressions",
                impressions.toString()));

    int promPort = Ports.free();
    Thread scraper = new Thread(() -> scrapeWhileRunning(promPort), "scrape");
    scraper.setDaemon(true);
    scraper.start();
    Path reportFile = dir.resolve("backfill.json");
    backfill =
        CliRun.of(
            securedJobCommand(
                "backfill",
                "-D",
                "assembler.join-window=2 s",
                "-D",
                "source.max-out-of-orderness=500 ms",
                "-D",
                "trainer.publish-interval=5 s",
                // a few seconds of reading, so that every source's metrics are scraped before its
                // bounded input ends and Flink removes them
                "-D",
                "source.max-records-per-second=500",
                "-D",
                "metrics.reporter.prom.factory.class="
                    + "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                "-D",
                "metrics.reporter.prom.port=" + promPort,
                "--report",
                reportFile.toString()));
    scraper.interrupt();
    if (Files.exists(reportFile)) {
      report = new ObjectMapper().readTree(reportFile.toFile());
    }
  }

  @AfterAll
  static void cleanUp() throws IOException {
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /**
   * {@code streamrec COMMAND} against the broker with the right client file and this test's topics,
   * then {@code more}.
   */
  private static String[] securedJobCommand(String command, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                "--bootstrap-servers",
                KAFKA.bootstrapServers(),
                "--command-config",
                client.toString()));
    args.addAll(CliRun.topicArguments(TOPICS));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private static String properties(String password) {
    StringBuilder b = new StringBuilder("# as Kafka's tools take --command-config\n");
    io.streamrec.cli.kafka.EmbeddedKafka.clientSettings(USER, password)
        .forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return b.toString();
  }

  // ---- what works with the right password

  @Test
  void produceWritesEveryEventOverSasl() {
    assertThat(produce.exit()).as(produce.err()).isZero();
    Map<String, String> login = KAFKA.clientSettings(USER);
    assertThat(TopicRecords.readAll(KAFKA.bootstrapServers(), login, TOPICS.requests()))
        .hasSize(1500);
    assertThat(TopicRecords.readAll(KAFKA.bootstrapServers(), login, TOPICS.impressions()))
        .hasSizeGreaterThan(1500);
  }

  @Test
  void theJobTrainsAndPublishesOverSasl() {
    assertThat(backfill.exit()).as(backfill.out() + backfill.err()).isZero();
    assertThat(report.get("impressions_trained").asLong()).isGreaterThan(3_000);
    List<ConsumerRecord<byte[], byte[]>> updates =
        TopicRecords.readAll(
            KAFKA.bootstrapServers(), KAFKA.clientSettings(USER), TOPICS.modelUpdates());
    // 1,500 requests 20 ms apart: 30 s of event time, 5 s versions
    assertThat(ModelUpdateRecords.versions(updates)).hasSizeGreaterThanOrEqualTo(5).isSorted();
    assertThat(report.path("dead_letters").path("orphan").asLong()).isEqualTo(1);
    // the label's own figures, which for a model of one label are the job's
    JsonNode click = report.path("by_label").path("click");
    assertThat(click.path("progressive_auc").asDouble())
        .isGreaterThan(0.5)
        .isEqualTo(report.get("progressive_auc").asDouble());
    assertThat(click.path("progressive_auc_lifetime").asDouble())
        .isEqualTo(report.get("progressive_auc_lifetime").asDouble());
    assertThat(
            TopicRecords.readAll(
                KAFKA.bootstrapServers(), KAFKA.clientSettings(USER), TOPICS.deadLetters()))
        .as("the dead letter, written over SASL")
        .hasSize(1);
    assertThat(backfill.out() + backfill.err()).doesNotContain(PASSWORD);
  }

  @Test
  void tailReadsTheModelOverSasl() {
    CliRun tail =
        CliRun.of(
            "tail",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--topic",
            TOPICS.modelUpdates(),
            "--versions-only",
            "-D",
            "properties.security.protocol=SASL_PLAINTEXT",
            "-D",
            "properties.sasl.mechanism=PLAIN",
            "-D",
            "properties.sasl.jaas.config=" + KAFKA.clientSettings(USER).get("sasl.jaas.config"));
    assertThat(tail.exit()).as(tail.err()).isZero();
    assertThat(tail.out()).contains("== version 1 of model ", "version markers");
  }

  @Test
  void serveReadsTheModelOverSaslAndScores() throws Exception {
    ServeCommand serve = new ServeCommand();
    new picocli.CommandLine(serve)
        .parseArgs(
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--topic",
            TOPICS.modelUpdates(),
            "--port",
            "0",
            "--command-config",
            client.toString());
    try (ServeCommand.Running running = serve.start()) {
      long deadline = System.currentTimeMillis() + 30_000;
      while (!running.replica().ready() && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      assertThat(running.replica().ready()).as("replica " + running.replica().state()).isTrue();
      assertThat(running.replica().version()).isGreaterThanOrEqualTo(5);
      String base = "http://localhost:" + running.server().port();
      HttpClient http = HttpClient.newHttpClient();
      String body =
          "{\"request\": {\"requestId\": \"r1\", \"timestampMs\": 1767225600000, \"features\":"
              + " {\"user_id\": [\"u42\"]}}, \"impressions\": [{\"impressionId\": \"r1-0\","
              + " \"requestId\": \"r1\", \"timestampMs\": 1767225600000, \"features\":"
              + " {\"item_id\": [\"i9\"]}}]}";
      HttpResponse<String> scored =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/score"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(scored.statusCode()).as(scored.body()).isEqualTo(200);
      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains(
              "streamrec_serve_request_seconds_bucket{le=\"+Inf\"} 1\n",
              "streamrec_serve_request_seconds_count 1\n",
              "streamrec_serve_request_seconds_sum ",
              "streamrec_replica_freshness_ms_sum ");
      SERVE_METRICS.addAll(names(metrics));
    }
  }

  /**
   * A job's configuration file names the broker, the topics and the login: {@code tail}, {@code
   * dead-letters} and {@code serve} read it as {@code run} does, where each had to be given the
   * same three again as options (and a replica's Deployment named the broker a second time).
   */
  @Test
  void tailDeadLettersAndServeReadTheJobsConfigurationFile() throws Exception {
    StringBuilder yaml =
        new StringBuilder("kafka:\n  bootstrap-servers: ")
            .append(KAFKA.bootstrapServers())
            .append("\ntopics:\n  model-updates: ")
            .append(TOPICS.modelUpdates())
            .append("\n  dead-letters: ")
            .append(TOPICS.deadLetters())
            .append('\n');
    KAFKA
        .clientSettings(USER)
        .forEach(
            (k, v) ->
                yaml.append("properties.")
                    .append(k)
                    .append(": '")
                    .append(v.replace("'", "''"))
                    .append("'\n"));
    Path conf = Files.writeString(dir.resolve("streamrec.yaml"), yaml);

    CliRun tail = CliRun.of("tail", "--config", conf.toString(), "--versions-only");
    assertThat(tail.exit()).as(tail.err()).isZero();
    assertThat(tail.out()).contains("== version 1 of model ", "version markers");
    CliRun deadLetters = CliRun.of("dead-letters", "--config", conf.toString());
    assertThat(deadLetters.exit()).as(deadLetters.err()).isZero();
    assertThat(deadLetters.out()).contains("-- 1 dead letters: orphan 1");

    picocli.CommandLine cl = io.streamrec.cli.StreamrecCli.commandLine();
    cl.parseArgs("serve", "--config", conf.toString(), "--port", "0");
    ServeCommand serve = cl.getSubcommands().get("serve").getCommand();
    try (ServeCommand.Running running = serve.start()) {
      assertThat(running.replica().awaitVersion(5, java.time.Duration.ofSeconds(30)))
          .as("replica " + running.replica().state())
          .isTrue();
    }
  }

  // ---- what fails, and how

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"produce", "backfill", "tail", "serve"})
  void aWrongPasswordFailsAtOnceSayingSoWithoutShowingIt(String command) throws IOException {
    List<String> args =
        new ArrayList<>(List.of(command, "--bootstrap-servers", KAFKA.bootstrapServers()));
    args.addAll(List.of("--command-config", wrongClient.toString()));
    switch (command) {
      case "produce" ->
          args.addAll(
              List.of("--requests", Files.writeString(dir.resolve("one.jsonl"), "").toString()));
      case "serve" -> args.addAll(List.of("--port", "0"));
      default -> {}
    }
    CliRun r = CliRun.of(args.toArray(String[]::new));
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err())
        .contains("refused streamrec's login", "user '" + USER + "'", "sasl.jaas.config")
        .containsIgnoringCase("invalid username or password")
        .doesNotContain(WRONG_PASSWORD)
        .doesNotContain("\tat "); // a message, not a stack trace
    assertThat(r.out()).doesNotContain(WRONG_PASSWORD);
    assertThat(r.took()).isLessThan(FAST);
  }

  @Test
  void aMissingTopicFailsAtStartNamingItAndHowToCreateIt() {
    CliRun r =
        CliRun.of(
            "backfill",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--command-config",
            client.toString(),
            "-D",
            "topics.requests=no-such-requests",
            "-D",
            "topics.impressions=" + TOPICS.impressions());
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err())
        .contains(
            "'no-such-requests'",
            "kafka-topics.sh --bootstrap-server "
                + KAFKA.bootstrapServers()
                + " --command-config client.properties --create --topic no-such-requests"
                + " --partitions ",
            "streamrec topics --bootstrap-servers "
                + KAFKA.bootstrapServers()
                + " --command-config client.properties",
            "k8s/kafka-topics.yaml")
        .doesNotContain("\tat ");
    assertThat(r.err().lines().count()).as(r.err()).isLessThan(12);
    assertThat(r.took()).isLessThan(FAST);
  }

  // ---- the dashboard charts what the code registers

  private static final Set<String> SERVE_METRICS = new ConcurrentSkipListSet<>();

  @Test
  void theDashboardUsesOnlyMetricNamesTheJobAndTheReplicasExport() throws Exception {
    serveReadsTheModelOverSaslAndScores(); // fills SERVE_METRICS (again, if it ran already)
    assertThat(JOB_METRICS)
        .as("the Prometheus reporter served the job's metrics while it ran")
        .contains("flink_taskmanager_job_task_operator_streamrec_progressive_auc");
    Set<String> exported = new TreeSet<>(JOB_METRICS);
    exported.addAll(SERVE_METRICS);
    Set<String> used = DashboardFile.metricNames();
    assertThat(used).hasSizeGreaterThan(20);
    assertThat(exported).as("metric names the dashboard queries").containsAll(used);
    assertThat(DashboardFile.unmatched(DashboardFile.metricPatterns(), exported))
        .as("name patterns of the dashboard that no exported metric matches")
        .isEmpty();
    assertThat(JOB_LABELS).as("labels of the trainer's samples").contains("job_name");
    assertThat(MODEL_LABELS).as("the model's label on its per-label AUC").containsExactly("click");
  }

  @Test
  void theAlertsUseOnlyMetricNamesTheJobAndTheReplicasExport() throws Exception {
    serveReadsTheModelOverSaslAndScores(); // fills SERVE_METRICS (again, if it ran already)
    Set<String> exported = new TreeSet<>(JOB_METRICS);
    exported.addAll(SERVE_METRICS);
    List<String> exprs = AlertRulesTest.exprs();
    Set<String> used = DashboardFile.metricNames(exprs);
    assertThat(used).hasSizeGreaterThan(10);
    assertThat(exported).as("metric names the alerts read").containsAll(used);
    assertThat(DashboardFile.unmatched(DashboardFile.metricPatterns(exprs), exported))
        .as("name patterns of the alerts that no exported metric matches")
        .isEmpty();
  }

  // ---- helpers

  /** Scrapes Flink's Prometheus reporter until interrupted, keeping every metric name seen. */
  private static void scrapeWhileRunning(int port) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest get = HttpRequest.newBuilder(URI.create("http://localhost:" + port)).build();
    while (!Thread.currentThread().isInterrupted()) {
      try {
        String page = http.send(get, HttpResponse.BodyHandlers.ofString()).body();
        JOB_METRICS.addAll(names(page));
        Matcher labels = VERSION_LABELS.matcher(page);
        while (labels.find()) {
          for (String pair : labels.group(1).split(",")) {
            JOB_LABELS.add(pair.split("=", 2)[0].trim());
          }
        }
        Matcher perLabel = LABEL_AUC.matcher(page);
        while (perLabel.find()) {
          MODEL_LABELS.add(perLabel.group(1));
        }
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        // not up yet, or gone
        try {
          Thread.sleep(200);
        } catch (InterruptedException stop) {
          return;
        }
      }
    }
  }

  private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

  private static final Pattern VERSION_LABELS =
      Pattern.compile(
          "(?m)^flink_taskmanager_job_task_operator_streamrec_model_version\\{([^}]*)\\}");

  private static final Pattern LABEL_AUC =
      Pattern.compile(
          "(?m)^flink_taskmanager_job_task_operator_streamrec_label_progressive_auc\\{[^}]*\\blabel=\"([^\"]*)\"");

  /** The metric names of a Prometheus text page. */
  static Set<String> names(String page) {
    Set<String> out = new TreeSet<>();
    Matcher m = SAMPLE.matcher(page);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
