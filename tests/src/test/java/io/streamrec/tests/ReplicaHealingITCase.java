package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.common.KafkaClientProperties;
import io.streamrec.model.ModelConfig;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.http.ScoringServer;
import io.streamrec.testutils.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * Fault drills of a serving replica, each on a broker of its own: started before its broker, and a
 * broker that goes away under it (docs/model-updates.md §6).
 */
class ReplicaHealingITCase {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOPIC = "model-updates";

  /**
   * Client settings that make every request give up after a second: a replica that gives up with
   * its client fails within seconds instead of a minute.
   */
  private static final KafkaClientProperties IMPATIENT =
      KafkaClientProperties.of(
          Map.of("default.api.timeout.ms", "1000", "request.timeout.ms", "1000"));

  @Test
  void aReplicaStartedBeforeItsBrokerBecomesReadyOnceTheBrokerAppears() throws Exception {
    int port = Ports.free();
    try (ModelReplica replica = ModelReplica.start("localhost:" + port, IMPATIENT, TOPIC)) {
      Thread.sleep(3_000); // no broker: three times the client's timeout
      assertThat(replica.state()).isNotEqualTo(ModelReplica.State.FAILED);
      assertThat(replica.alive()).isTrue();
      assertThat(replica.ready()).isFalse();

      try (EmbeddedKafka broker =
              EmbeddedKafka.start(EmbeddedKafkaConfig.defaults().withPort(port));
          ModelUpdatesSupport.Trainer t =
              new ModelUpdatesSupport.Trainer(
                  ModelConfig.defaults(), 5, 200, 100, RowEncoding.FLOAT32);
          KafkaProducer<byte[], byte[]> producer =
              ModelUpdatesSupport.producer(broker.bootstrapServers())) {
        Thread.sleep(2_000); // the broker, but no topic yet
        assertThat(replica.alive()).isTrue();
        ModelUpdatesSupport.createTopic(broker.bootstrapServers(), TOPIC);
        t.trainer.trainRequestUnits(t.units(64, 10));
        ModelUpdatesSupport.send(producer, TOPIC, t.publish());
        assertThat(replica.awaitVersion(1, WAIT)).isTrue();
        assertThat(replica.ready()).isTrue();
        assertThat(replica.retries()).as("attempts while the broker was away").isPositive();
        assertThat(replica.unreachable()).isNull();
      }
    }
  }

  @Test
  void duringABrokerOutageHealthzTurnsNotReadyWithTheStalenessAndLivezStaysUp() throws Exception {
    EmbeddedKafka broker = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
    HttpClient http = HttpClient.newHttpClient();
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(
                ModelConfig.defaults(), 6, 200, 100, RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer =
            ModelUpdatesSupport.producer(broker.bootstrapServers());
        ModelReplica replica = ModelReplica.start(broker.bootstrapServers(), TOPIC);
        ScoringServer server =
            ScoringServer.start(
                replica,
                ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0))
                    .withMaxStaleness(Duration.ofSeconds(3)))) {
      String base = "http://127.0.0.1:" + server.port();
      ModelUpdatesSupport.createTopic(broker.bootstrapServers(), TOPIC);
      t.trainer.trainRequestUnits(t.units(64, 10));
      ModelUpdatesSupport.send(producer, TOPIC, t.publish());
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      HttpResponse<String> before = awaitStatus(http, base + "/healthz", 200);
      long deadline = System.currentTimeMillis() + WAIT.toMillis();
      while (JSON.readTree(before.body()).get("lag_records").asLong() != 0
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
        before = get(http, base + "/healthz");
      }
      JsonNode h = JSON.readTree(before.body());
      assertThat(before.statusCode()).isEqualTo(200);
      assertThat(h.get("lag_records").asLong()).isZero();
      assertThat(h.get("lag_versions").asLong()).isZero();
      assertThat(h.get("stale_seconds").asDouble()).isLessThan(3);

      producer.close(Duration.ZERO);
      broker.close();

      HttpResponse<String> during = awaitStatus(http, base + "/healthz", 503);
      JsonNode d = JSON.readTree(during.body());
      assertThat(d.get("lag_records").asLong()).as(during.body()).isEqualTo(-1);
      assertThat(d.get("stale_seconds").asDouble()).as(during.body()).isGreaterThanOrEqualTo(3);
      assertThat(d.get("reason").asText()).contains("stale");
      assertThat(d.get("version").asLong()).isEqualTo(1);
      // the gauge the not-ready alert reads says so too: it said 1, and the outage paged no one
      assertThat(get(http, base + "/metrics").body()).contains("\nstreamrec_replica_ready 0\n");
      // the replica lives on (a restart would not bring the broker back) and still scores
      assertThat(get(http, base + "/livez").statusCode()).isEqualTo(200);
      assertThat(replica.ready()).isTrue();
    } finally {
      broker.close();
    }
  }

  @Test
  void livezFailsOnceTheReplicasThreadIsGone() throws Exception {
    int port = Ports.free();
    HttpClient http = HttpClient.newHttpClient();
    ModelReplica replica = ModelReplica.start("localhost:" + port, TOPIC);
    try (ScoringServer server =
        ScoringServer.start(
            replica, ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0)))) {
      String base = "http://127.0.0.1:" + server.port();
      assertThat(get(http, base + "/livez").statusCode()).isEqualTo(200);
      assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(503);
      replica.close(); // the thread ends as it would on an error it cannot heal
      HttpResponse<String> dead = get(http, base + "/livez");
      assertThat(dead.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(dead.body()).get("replica_thread").asBoolean()).isFalse();
    }
  }

  private static HttpResponse<String> awaitStatus(HttpClient http, String url, int code)
      throws Exception {
    long deadline = System.currentTimeMillis() + WAIT.toMillis();
    HttpResponse<String> r = get(http, url);
    while (r.statusCode() != code && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      r = get(http, url);
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
    return r;
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
