package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.serving.http.ScoringServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code streamrec serve}: a model replica behind HTTP, in the foreground. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Serves the model: bootstraps a replica from the compacted model-updates topic, tails it, and "
            + "answers POST /score, GET /healthz and GET /metrics over HTTP. Ctrl-C stops it.")
public final class ServeCommand implements Callable<Integer> {
  /** How often the foreground thread looks whether Kafka refused the replica. */
  private static final long ACCESS_CHECK_MS = 200;

  @Option(
      names = "--bootstrap-servers",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Mixin KafkaClientOptions kafka = new KafkaClientOptions();

  @Option(
      names = "--topic",
      defaultValue = "model-updates",
      description = "The model-updates topic (default ${DEFAULT-VALUE}).")
  String topic;

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "HTTP port (0 = any free port; default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--threads",
      defaultValue = "4",
      description = "HTTP worker threads (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--max-request-bytes",
      defaultValue = "1048576",
      description = "Larger /score bodies get 413 (default ${DEFAULT-VALUE}).")
  int maxRequestBytes;

  @Option(
      names = "--max-impressions",
      defaultValue = "1000",
      description = "More impressions in one /score request get 413 (default ${DEFAULT-VALUE}).")
  int maxImpressions;

  /** A replica and its HTTP server, running; closing stops both. */
  public record Running(ModelReplica replica, ScoringServer server, KafkaClientProperties client)
      implements AutoCloseable {
    @Override
    public void close() {
      server.close();
      replica.close();
    }
  }

  /** Starts the replica and the server these options describe, and returns at once. */
  public Running start() throws IOException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
    }
    KafkaClientProperties client = kafka.properties();
    ModelReplica replica = ModelReplica.start(bootstrapServers, client, topic);
    try {
      return new Running(
          replica,
          ScoringServer.start(
              replica, new InetSocketAddress(bind, port), threads, maxRequestBytes, maxImpressions),
          client);
    } catch (IOException | RuntimeException e) {
      replica.close();
      throw e;
    }
  }

  @Override
  public Integer call() throws Exception {
    Running running = start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.close();
                  stopped.countDown();
                },
                "serve-stop"));
    System.out.println(
        "streamrec serve: replica of '"
            + topic
            + "' at "
            + bootstrapServers
            + " ("
            + running.client().describe()
            + "); listening on "
            + bind
            + ":"
            + running.server().port()
            + " (POST /score, GET /healthz, GET /metrics; Ctrl-C to stop)");
    System.out.flush();
    while (!stopped.await(ACCESS_CHECK_MS, TimeUnit.MILLISECONDS)) {
      // a refused login or ACL will not heal by waiting: stop, in words, rather than serve 503s
      String refused =
          KafkaClientOptions.refusal(
              running.replica().failure(), bootstrapServers, running.client());
      if (refused != null) {
        running.close();
        throw new StreamrecException(refused);
      }
    }
    return 0;
  }
}
