package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.StreamrecCli;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.ServeCommand;
import io.streamrec.serving.http.ScoringServer;
import io.streamrec.testutils.KafkaBroker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * {@code streamrec serve}'s HTTP front and {@code streamrec tail} over a real broker and replica.
 */
class ServeITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BYTES = 16 * 1024;

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void scoresValidRequestsRejectsBadOnesWithAReasonAndKeepsServing() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "serve";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    HttpClient http = HttpClient.newHttpClient();
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(
                ModelUpdatesSupport.withGoodLabel(ModelConfig.defaults()),
                3,
                300,
                200,
                RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic);
        ScoringServer server =
            ScoringServer.start(replica, new InetSocketAddress("127.0.0.1", 0), 2, MAX_BYTES, 50)) {
      String base = "http://127.0.0.1:" + server.port();
      RequestUnit unit = t.units(1, 10).get(0);
      String valid = body(t, 3);

      // before any version: not ready
      assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(503);
      assertThat(post(http, base + "/score", valid).statusCode()).isEqualTo(503);

      for (int b = 0; b < 4; b++) {
        t.trainer.trainRequestUnits(t.units(64, 10));
      }
      ModelUpdatesSupport.send(producer, topic, t.publish());
      assertThat(replica.awaitVersion(1, Duration.ofSeconds(30))).isTrue();
      HttpResponse<String> health = get(http, base + "/healthz");
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(health.body()).get("version").asLong()).isEqualTo(1);

      HttpResponse<String> ok = post(http, base + "/score", valid);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      JsonNode scored = JSON.readTree(ok.body());
      assertThat(scored.get("version").asLong()).isEqualTo(1);
      // and the model: after a replace, version 1 of the new model is not version 1 of the old
      assertThat(scored.get("model").asText())
          .isEqualTo(io.streamrec.protocol.ModelLineage.format(replica.lineage()));
      JsonNode req = JSON.readTree(valid);
      List<ImpressionEvent> imps = new java.util.ArrayList<>();
      req.get("impressions").forEach(n -> imps.add(JsonEvents.parseImpression(n.toString())));
      float[] want = replica.score(JsonEvents.parseRequest(req.get("request").toString()), imps);
      assertThat(scored.get("scores")).hasSize(3);
      for (int i = 0; i < want.length; i++) {
        assertThat((float) scored.get("scores").get(i).asDouble()).isEqualTo(want[i]);
      }
      // every label, by name in the spec's order, each the trainer's own prediction of the
      // request at version 1 (it predicts before it learns); "scores" is the first label's
      JsonNode byLabel = scored.get("labels");
      assertThat(byLabel).isNotNull();
      List<String> names = new java.util.ArrayList<>();
      byLabel.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactly("click", "good");
      assertThat(byLabel.get("click")).isEqualTo(scored.get("scores"));
      RequestEvent parsed = JsonEvents.parseRequest(req.get("request").toString());
      t.trainer.trainRequestUnits(
          ModelUpdatesSupport.labelGood(
              List.of(RequestUnits.of(parsed, imps, parsed.getTimestampMs()))));
      for (int l = 0; l < 2; l++) {
        float[] trainer = t.trainer.lastPredictions(l);
        JsonNode served = byLabel.get(l == 0 ? "click" : "good");
        assertThat(served).hasSize(3);
        for (int i = 0; i < trainer.length; i++) {
          assertThat((float) served.get(i).asDouble())
              .as("label %d impression %d", l, i)
              .isEqualTo(trainer[i]);
        }
      }
      assertThat(t.trainer.lastPredictions(1)).isNotEqualTo(t.trainer.lastPredictions(0));

      // scoring reads features only: ids and times may be left out, and score the same
      ObjectNode bare = req.deepCopy();
      ((ObjectNode) bare.get("request")).remove(List.of("requestId", "timestampMs"));
      bare.get("impressions")
          .forEach(
              n -> ((ObjectNode) n).remove(List.of("requestId", "impressionId", "timestampMs")));
      HttpResponse<String> featuresOnly = post(http, base + "/score", bare.toString());
      assertThat(featuresOnly.statusCode()).as(featuresOnly.body()).isEqualTo(200);
      assertThat(JSON.readTree(featuresOnly.body()).get("labels")).isEqualTo(byLabel);

      String reqJson = req.get("request").toString();
      String imp0 = req.get("impressions").get(0).toString();
      assertBad(http, base + "/score", "{not json", 400, "not valid JSON");
      assertBad(http, base + "/score", "[1,2]", 400, "JSON object");
      // a whole request with something after it was scored (200); produce refuses such a line
      assertBad(
          http,
          base + "/score",
          "{\"request\":" + reqJson + ",\"impressions\":[" + imp0 + "]} xyz",
          400,
          "not valid JSON");
      assertBad(http, base + "/score", "{\"impressions\":[" + imp0 + "]}", 400, "'request'");
      assertBad(
          http,
          base + "/score",
          "{\"request\":" + reqJson + ",\"impressions\":[]}",
          400,
          "'impressions'");
      assertBad(
          http,
          base + "/score",
          "{\"request\":"
              + reqJson.replaceFirst("\"timestampMs\":\\d+", "\"timestampMs\":-5")
              + ",\"impressions\":["
              + imp0
              + "]}",
          400,
          "timestampMs");
      assertBad(
          http,
          base + "/score",
          "{\"request\":"
              + reqJson
              + ",\"impressions\":["
              + imp0.replace("\"requestId\":\"", "\"requestId\":\"other-")
              + "]}",
          400,
          "requestId");
      assertBad(
          http,
          base + "/score",
          "{\"request\":"
              + reqJson
              + ",\"impressions\":["
              + imp0.replace("\"dense\":{", "\"dense\":{\"x\":\"high\",")
              + "]}",
          400,
          "impressions[0]");
      // an impression's request id where the request has none named an id never sent ('score')
      com.fasterxml.jackson.databind.node.ObjectNode anonymous =
          (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(reqJson);
      anonymous.remove("requestId");
      assertBad(
          http,
          base + "/score",
          "{\"request\":" + anonymous + ",\"impressions\":[" + imp0 + "]}",
          400,
          "but the request has none");
      // a misspelt top-level field: named with the field meant
      assertBad(
          http,
          base + "/score",
          "{\"requets\":" + reqJson + ",\"impressions\":[" + imp0 + "]}",
          400,
          "('requets' given: misspelt?)");
      HttpResponse<String> extra =
          post(
              http,
              base + "/score",
              "{\"request\":" + reqJson + ",\"impressions\":[" + imp0 + "],\"impresions\":[]}");
      assertThat(extra.statusCode()).as(extra.body()).isEqualTo(200);
      assertThat(JSON.readTree(extra.body()).get("ignored_fields").toString())
          .isEqualTo("[\"impresions ('impressions' meant?)\"]");
      // a gzip body was read as JSON: "Illegal character ((CTRL-CHAR, code 31))"
      HttpResponse<String> gzip =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/score"))
                  .header("Content-Type", "application/json")
                  .header("Content-Encoding", "gzip")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {0x1f, (byte) 0x8b, 8}))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(gzip.statusCode()).as(gzip.body()).isEqualTo(415);
      assertThat(gzip.body()).contains("Content-Encoding gzip is not read");
      // a label outside [0, 1] was answered 200 where a label that is no number was a 400
      com.fasterxml.jackson.databind.node.ObjectNode badLabel =
          (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(imp0);
      badLabel.putObject("labels").put("click", 5);
      assertBad(
          http,
          base + "/score",
          "{\"request\":" + reqJson + ",\"impressions\":[" + badLabel + "]}",
          400,
          "impressions[0].labels.click is 5.0; labels are in [0, 1]");
      // a label the model does not train, outside [0, 1], was refused for a range training never
      // checks (it ignores such a label): it is ignored and named, as a label in range is
      com.fasterxml.jackson.databind.node.ObjectNode otherLabel =
          (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(imp0);
      otherLabel.putObject("labels").put("views", 5);
      HttpResponse<String> other =
          post(
              http,
              base + "/score",
              "{\"request\":" + reqJson + ",\"impressions\":[" + otherLabel + "]}");
      assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
      assertThat(JSON.readTree(other.body()).get("ignored_features").toString())
          .contains("impressions.labels.views (not a label of the model)");
      assertBad(http, base + "/score", "{\"pad\":\"" + "x".repeat(MAX_BYTES) + "\"}", 413, "bytes");
      assertBad(http, base + "/score", body(t, 51), 413, "at most 50");
      // more values of one feature than training takes (it dead-letters such events) were scored
      StringBuilder items = new StringBuilder();
      for (int i = 0; i < 1_001; i++) {
        items.append(i == 0 ? "" : ",").append("\"i").append(i).append('"');
      }
      assertBad(
          http,
          base + "/score",
          "{\"request\":{\"requestId\":\"big\",\"timestampMs\":1767225600000,\"features\":"
              + "{\"recent_items\":["
              + items
              + "]}},\"impressions\":[{\"impressionId\":\"big-0\",\"requestId\":\"big\","
              + "\"timestampMs\":1767225600000,\"features\":{\"item_id\":[\"i1\"]}}]}",
          413,
          "request feature 'recent_items' has 1001 values; at most 1000 per feature");
      HttpResponse<String> wrongMethod = get(http, base + "/score");
      assertThat(wrongMethod.statusCode()).isEqualTo(405);
      assertThat(get(http, base + "/nothing").statusCode()).isEqualTo(404);

      // still serving
      assertThat(post(http, base + "/score", valid).statusCode()).isEqualTo(200);
      String metrics = get(http, base + "/metrics").body();
      assertThat(metrics)
          .contains(
              "streamrec_replica_version 1\n",
              "streamrec_serve_responses_total{code=\"400\"} 11\n",
              "streamrec_serve_responses_total{code=\"415\"} 1\n",
              "streamrec_serve_responses_total{code=\"413\"} 3\n",
              "streamrec_serve_responses_total{code=\"200\"} 6\n", // five scores, a health check
              "streamrec_serve_impressions_scored_total 11\n",
              "streamrec_replica_gaps_total 0\n",
              "streamrec_replica_topic_partitions 1\n");
      assertThat(unit).isNotNull();

      // tail shows the same stream
      StringWriter sw = new StringWriter();
      CommandLine cl = new CommandLine(new StreamrecCli());
      cl.setOut(new PrintWriter(sw));
      assertThat(
              cl.execute(
                  "tail", "--bootstrap-servers", bootstrap, "--topic", topic, "--values", "2"))
          .isZero();
      String tail = sw.toString();
      assertThat(tail)
          .contains(
              "spec of model "
                  + io.streamrec.protocol.ModelLineage.format(ModelUpdatesSupport.MODEL_ID)
                  + " (v1) "
                  + io.streamrec.protocol.ModelUpdateEncoder.SPEC_FORMAT_5, // the default model's
              "== version 1 of model "
                  + io.streamrec.protocol.ModelLineage.format(ModelUpdatesSupport.MODEL_ID)
                  + ": event time",
              " v1 row ",
              " v1 dense ",
              "version markers");
    }
  }

  /** A topic with one version of a trained model on it. */
  private static ModelUpdatesSupport.Trainer modelOn(String topic) {
    String bootstrap = KAFKA.bootstrapServers();
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    ModelUpdatesSupport.Trainer t =
        new ModelUpdatesSupport.Trainer(ModelConfig.defaults(), 4, 300, 200, RowEncoding.FLOAT32);
    try (KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap)) {
      for (int b = 0; b < 2; b++) {
        t.trainer.trainRequestUnits(t.units(64, 10));
      }
      ModelUpdatesSupport.send(producer, topic, t.publish());
    }
    return t;
  }

  @Test
  void slowAndIdleClientsAsManyAsTheThreadsAndMoreDoNotStallScoring() throws Exception {
    String topic = "serve-slow-clients";
    int threads = 2;
    try (ModelUpdatesSupport.Trainer t = modelOn(topic);
        ModelReplica replica = ModelReplica.start(KAFKA.bootstrapServers(), topic);
        ScoringServer server =
            ScoringServer.start(
                replica, new InetSocketAddress("127.0.0.1", 0), threads, MAX_BYTES, 50)) {
      assertThat(replica.awaitVersion(1, Duration.ofSeconds(30))).isTrue();
      int port = server.port();
      List<java.net.Socket> slow = new java.util.ArrayList<>();
      for (int i = 0; i < 2 * threads; i++) {
        slow.add(new java.net.Socket("127.0.0.1", port)); // idle: connected, nothing sent
        slow.add(stalled(port, "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: app")); // headers
        slow.add(
            stalled(
                port,
                "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 500\r\n\r\n{\"request\": ")); // the body, never finished
      }
      HttpClient http = HttpClient.newHttpClient();
      String valid = body(t, 2);
      for (int i = 0; i < 20; i++) {
        // a generous bound: a stalled server never answers at all
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/score"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(valid))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("scores")).hasSize(2);
      }
      for (java.net.Socket s : slow) {
        s.close();
      }
    }
  }

  private static java.net.Socket stalled(int port, String prefix) throws java.io.IOException {
    java.net.Socket s = new java.net.Socket("127.0.0.1", port);
    s.getOutputStream().write(prefix.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
    return s;
  }

  @Test
  void aTokenGuardsScoreAndMetricsWhileTheProbesStayOpenAndServeBindsLocallyByDefault(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    String topic = "serve-token";
    java.nio.file.Path tokenFile = dir.resolve("token");
    java.nio.file.Files.writeString(tokenFile, "s3cret-t0ken\n");
    try (ModelUpdatesSupport.Trainer t = modelOn(topic)) {
      String valid = body(t, 1);
      ServeCommand fromFile = new ServeCommand();
      new CommandLine(fromFile)
          .parseArgs(
              "--bootstrap-servers",
              KAFKA.bootstrapServers(),
              "--topic",
              topic,
              "--port",
              "0",
              "--token-file",
              tokenFile.toString());
      ServeCommand fromEnv = new ServeCommand();
      new CommandLine(fromEnv)
          .parseArgs(
              "--bootstrap-servers", KAFKA.bootstrapServers(), "--topic", topic, "--port", "0");
      try (ServeCommand.Running a = fromFile.start("not-this-one");
          ServeCommand.Running b = fromEnv.start("env-t0ken")) {
        for (ServeCommand.Running r : List.of(a, b)) {
          assertThat(r.server().address().getAddress().isLoopbackAddress())
              .as("the default bind address")
              .isTrue();
          assertThat(r.replica().awaitVersion(1, Duration.ofSeconds(30))).isTrue();
        }
        HttpClient http = HttpClient.newHttpClient();
        for (var c :
            List.of(java.util.Map.entry(a, "s3cret-t0ken"), java.util.Map.entry(b, "env-t0ken"))) {
          String base = "http://127.0.0.1:" + c.getKey().server().port();
          String right = "Bearer " + c.getValue();
          for (String auth : new String[] {null, "Bearer wrong", c.getValue(), right + "x"}) {
            HttpResponse<String> score = send(http, base + "/score", valid, auth);
            assertThat(score.statusCode()).as("score with %s", auth).isEqualTo(401);
            assertThat(score.headers().firstValue("WWW-Authenticate"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(score.body()).doesNotContain(c.getValue());
            assertThat(send(http, base + "/metrics", null, auth).statusCode()).isEqualTo(401);
          }
          assertThat(send(http, base + "/score", valid, right).statusCode()).isEqualTo(200);
          // the scheme is case-insensitive (RFC 7235); "bearer" was a 401
          assertThat(send(http, base + "/score", valid, "bearer " + c.getValue()).statusCode())
              .isEqualTo(200);
          HttpResponse<String> metrics = send(http, base + "/metrics", null, right);
          assertThat(metrics.statusCode()).isEqualTo(200);
          assertThat(metrics.body()).contains("streamrec_serve_responses_total{code=\"401\"} 8\n");
          assertThat(send(http, base + "/healthz", null, null).statusCode()).isEqualTo(200);
          assertThat(send(http, base + "/livez", null, null).statusCode()).isEqualTo(200);
        }
      }
    }
  }

  @Test
  void outOfMemoryInTheReplicasThreadEndsTheServeProcess() throws Exception {
    String topic = "serve-out-of-memory";
    try (ModelUpdatesSupport.Trainer t = modelOn(topic)) {
      // in a library user's process: the replica stops, says so, and /livez would fail
      java.util.concurrent.CompletableFuture<Throwable> fatal =
          new java.util.concurrent.CompletableFuture<>();
      try (ModelReplica replica =
          ModelReplica.start(
              KAFKA.bootstrapServers(),
              io.streamrec.common.KafkaClientProperties.of(
                  java.util.Map.of("interceptor.classes", OutOfMemoryInterceptor.class.getName())),
              topic,
              fatal::complete)) {
        assertThat(fatal.get(30, java.util.concurrent.TimeUnit.SECONDS))
            .isInstanceOf(OutOfMemoryError.class);
        assertThat(replica.state()).isEqualTo(ModelReplica.State.FAILED);
        long deadline = System.currentTimeMillis() + 10_000;
        while (replica.alive() && System.currentTimeMillis() < deadline) {
          Thread.sleep(10);
        }
        assertThat(replica.alive()).isFalse();
      }
      // streamrec serve: the process exits, so that its supervisor restarts it
      Process serve =
          new ProcessBuilder(
                  java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  "io.streamrec.serving.ServingMain",
                  "--bootstrap-servers",
                  KAFKA.bootstrapServers(),
                  "--topic",
                  topic,
                  "--port",
                  "0",
                  "-D",
                  "properties.interceptor.classes=" + OutOfMemoryInterceptor.class.getName())
              .redirectErrorStream(true)
              .start();
      try {
        boolean exited = serve.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        String output =
            exited
                ? new String(serve.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                : "(still running)";
        assertThat(exited).as(output).isTrue();
        assertThat(serve.exitValue()).as(output).isEqualTo(ServeCommand.EXIT_FATAL);
        assertThat(output).contains("OutOfMemoryError");
      } finally {
        serve.destroyForcibly();
      }
    }
  }

  /** GET (no body) or POST, with {@code authorization} when not null. */
  private static HttpResponse<String> send(
      HttpClient http, String url, String body, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (body != null) {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String body(ModelUpdatesSupport.Trainer t, int impressions) {
    var g = t.generator.next(t.time += 10);
    StringBuilder b =
        new StringBuilder("{\"request\":")
            .append(JsonEvents.toJson(g.request()))
            .append(",\"impressions\":[");
    for (int i = 0; i < impressions; i++) {
      ImpressionEvent e = g.impressions().get(i % g.impressions().size());
      e.setImpressionId(e.getImpressionId() + "-" + i);
      b.append(i == 0 ? "" : ",").append(JsonEvents.toJson(e));
    }
    return b.append("]}").toString();
  }

  private static void assertBad(HttpClient http, String url, String body, int code, String reason)
      throws Exception {
    HttpResponse<String> r = post(http, url, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
    assertThat(JSON.readTree(r.body()).get("error").asText()).contains(reason);
  }

  private static HttpResponse<String> post(HttpClient http, String url, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A replica that stopped (here: a topic of two partitions, which cannot hold a model) left serve
   * running, answering 503 to everything and "dead" to its liveness probe, a restart loop under
   * Kubernetes without a word on the terminal. It ends now, with the replica's reason.
   */
  @Test
  void serveEndsWithTheReasonWhenItsReplicaStops() throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            java.util.Map.of("bootstrap.servers", KAFKA.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(new org.apache.kafka.clients.admin.NewTopic("two-parts", 2, (short) 1)))
          .all()
          .get();
    }
    StringWriter err = new StringWriter();
    CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    int rc =
        cl.execute(
            "serve",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--topic",
            "two-parts",
            "--port",
            "0");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("streamrec serve: the replica of 'two-parts' stopped: ")
        .contains("2 partitions");
  }
}
