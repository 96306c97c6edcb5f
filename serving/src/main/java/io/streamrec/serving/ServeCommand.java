package io.streamrec.serving;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.common.StreamrecException;
import io.streamrec.serving.http.ScoringServer;
import io.streamrec.serving.internal.ServeDurations;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
            + "answers POST /score, GET /healthz (readiness), GET /livez (liveness) and GET /metrics"
            + " over HTTP. While the broker is unreachable it keeps serving what it holds and"
            + " retries. Ctrl-C stops it.")
public final class ServeCommand implements Callable<Integer> {
  /** How often the foreground thread looks whether Kafka refused the replica. */
  private static final long ACCESS_CHECK_MS = 200;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (wins over --config's kafka.bootstrap-servers).")
  String bootstrapServers;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "The job's configuration file (as run and backfill take it): the broker, the model-updates"
              + " topic and the Kafka client settings (properties.*) come from it where the"
              + " options above and below do not give them, so a replica is configured where its"
              + " job is.")
  Path configFile;

  @Mixin KafkaClientOptions kafka = new KafkaClientOptions();

  @Option(
      names = "--topic",
      description =
          "The model-updates topic (default: --config's topics.model-updates, else "
              + DEFAULT_TOPIC
              + ").")
  String topic;

  /** The model-updates topic where neither {@code --topic} nor a configuration file names one. */
  public static final String DEFAULT_TOPIC = "model-updates";

  private final JobConnection.Reader configReader;

  /** Where this replica reads, once resolved ({@link #connection}). */
  private JobConnection connection;

  /** A command that refuses {@code --config} ({@link JobConnection#NONE}). */
  public ServeCommand() {
    this(JobConnection.NONE);
  }

  /** A command whose {@code --config} is read by {@code configReader}. */
  public ServeCommand(JobConnection.Reader configReader) {
    this.configReader = configReader;
  }

  /**
   * The broker, the topic and the client settings this replica reads with: the command line's, else
   * the configuration file's, else the defaults.
   *
   * @throws IllegalArgumentException where neither names the broker
   */
  public JobConnection connection() {
    if (connection == null) {
      JobConnection file = configFile == null ? null : configReader.read(configFile);
      String bootstrap =
          JobConnection.requireBroker(
              bootstrapServers != null
                  ? bootstrapServers
                  : file == null ? null : file.bootstrapServers(),
              configFile);
      String t = topic != null ? topic : file == null ? DEFAULT_TOPIC : file.modelUpdatesTopic();
      connection =
          new JobConnection(
              bootstrap,
              t,
              kafka.properties(file == null ? KafkaClientProperties.empty() : file.client()));
    }
    return connection;
  }

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "HTTP port (0 = any free port; default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      paramLabel = "ADDRESS",
      description =
          "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for every"
              + " interface, as a container needs).")
  String bind;

  @Option(
      names = "--threads",
      defaultValue = "4",
      description =
          "Requests parsed and scored at once (default ${DEFAULT-VALUE}); a client still sending"
              + " its request holds a connection, not one of these.")
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

  @Option(
      names = "--max-ids-per-feature",
      defaultValue = "" + ScoringServer.Settings.DEFAULT_MAX_IDS_PER_FEATURE,
      description =
          "A feature with more values in one request or impression gets 413 (default"
              + " ${DEFAULT-VALUE}, as a training job's source.max-ids-per-feature, which"
              + " dead-letters more).")
  int maxIdsPerFeature;

  @Option(
      names = "--max-connections",
      defaultValue = "" + ScoringServer.Settings.DEFAULT_MAX_CONNECTIONS,
      description =
          "HTTP connections open at once; more are answered 503 and closed (default"
              + " ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--header-timeout",
      defaultValue = "10s",
      converter = ServeDurations.class,
      description =
          "A request's line and headers must arrive within this, or the connection is closed"
              + " (default ${DEFAULT-VALUE}).")
  Duration headerTimeout;

  @Option(
      names = "--body-timeout",
      defaultValue = "30s",
      converter = ServeDurations.class,
      description =
          "A request's body must arrive within this, or the connection is closed (default"
              + " ${DEFAULT-VALUE}).")
  Duration bodyTimeout;

  @Option(
      names = "--idle-timeout",
      defaultValue = "60s",
      converter = ServeDurations.class,
      description =
          "A kept-alive connection without a request for this long is closed (default"
              + " ${DEFAULT-VALUE}).")
  Duration idleTimeout;

  @Option(
      names = "--max-staleness",
      defaultValue = "0s",
      converter = ServeDurations.class,
      description =
          "GET /healthz answers 503 when the model is staler than this: the time since the replica"
              + " last knew it held everything on the topic (e.g. while the broker is unreachable)."
              + " 0 (default): no bound.")
  Duration maxStaleness;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "A file whose content (trimmed) is the bearer token POST /score and GET /metrics ask for"
              + " (Authorization: Bearer TOKEN); the probes stay open. The environment variable "
              + TOKEN_ENV
              + " gives it too. Without either, no token is asked for.")
  Path tokenFile;

  /** The environment variable that may hold the bearer token (the file wins). */
  public static final String TOKEN_ENV = "STREAMREC_SERVE_TOKEN";

  /** The exit status when the JVM runs out of memory (or meets another fatal error). */
  public static final int EXIT_FATAL = 3;

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
    return start(System.getenv(TOKEN_ENV));
  }

  /**
   * As {@link #start()}, with {@code envToken} standing for the environment's {@value #TOKEN_ENV}
   * (null: not set).
   */
  public Running start(String envToken) throws IOException {
    JobConnection at = connection();
    return start(
        envToken, ModelReplica.start(at.bootstrapServers(), at.client(), at.modelUpdatesTopic()));
  }

  private Running start(String envToken, ModelReplica replica) throws IOException {
    KafkaClientProperties client;
    ScoringServer.Settings settings;
    try {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
      }
      client = connection().client();
      settings =
          ScoringServer.Settings.defaults(new InetSocketAddress(bind, port))
              .withLimits(threads, maxRequestBytes, maxImpressions, maxIdsPerFeature)
              .withConnections(maxConnections, headerTimeout, bodyTimeout, idleTimeout)
              .withMaxStaleness(maxStaleness)
              .withToken(token(envToken));
    } catch (RuntimeException e) {
      replica.close();
      throw e;
    }
    try {
      return new Running(replica, ScoringServer.start(replica, settings), client);
    } catch (java.net.BindException e) {
      replica.close();
      throw new IllegalArgumentException(
          "cannot listen on "
              + bind
              + ":"
              + port
              + ": "
              + e.getMessage()
              + " (another process holds the port, or the address is not one of this machine's:"
              + " --port, --bind)");
    } catch (IOException | RuntimeException e) {
      replica.close();
      throw e;
    }
  }

  /** The bearer token: the file's content, else the environment's, else none. */
  private String token(String envToken) {
    if (tokenFile != null) {
      String t;
      try {
        t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
      } catch (java.nio.file.NoSuchFileException e) {
        throw new IllegalArgumentException("--token-file " + tokenFile + ": no such file");
      } catch (IOException e) {
        throw new IllegalArgumentException("--token-file " + tokenFile + ": " + e.getMessage());
      }
      if (t.isEmpty()) {
        throw new IllegalArgumentException("--token-file " + tokenFile + " is empty");
      }
      return t;
    }
    if (envToken == null) {
      return null;
    }
    if (envToken.isEmpty()) {
      // compose passes an unset variable as empty: no token, but said, for a Secret left empty
      System.err.println(
          "streamrec serve: "
              + TOKEN_ENV
              + " is set but empty: POST /score and GET /metrics answer without a token");
      return null;
    }
    if (envToken.isBlank()) {
      throw new IllegalArgumentException(
          TOKEN_ENV
              + " is set but blank (only spaces): give the token, or unset it to serve without"
              + " one");
    }
    return envToken.trim();
  }

  /**
   * Ends the process at once on an error of the JVM itself (out of memory above all) in any thread:
   * a process whose threads died of it may keep its port open and answer nothing, so its supervisor
   * (Kubernetes, compose's restart policy) must restart it. Halts rather than exits: shutdown hooks
   * need memory too.
   */
  static void exitOnFatalError(Thread t, Throwable e) {
    if (e instanceof VirtualMachineError) {
      try {
        System.err.println(
            "streamrec serve: " + e + " in thread " + t.getName() + "; exiting so it is restarted");
        System.err.flush();
      } finally {
        Runtime.getRuntime().halt(EXIT_FATAL);
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler(
        (t, e) -> {
          exitOnFatalError(t, e);
          if (previous != null) {
            previous.uncaughtException(t, e);
          } else {
            System.err.println("Exception in thread \"" + t.getName() + "\"");
            e.printStackTrace();
          }
        });
    JobConnection at = connection();
    String broker = at.bootstrapServers(), modelTopic = at.modelUpdatesTopic();
    Running running =
        start(
            System.getenv(TOKEN_ENV),
            ModelReplica.start(
                broker, at.client(), modelTopic, e -> exitOnFatalError(Thread.currentThread(), e)));
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
            + modelTopic
            + "' at "
            + broker
            + " ("
            + running.client().describe()
            + "); listening on "
            + bind
            + ":"
            + running.server().port()
            + " (POST /score, GET /healthz, GET /livez, GET /metrics"
            + (running.server().tokenRequired() ? "; /score and /metrics ask for the token" : "")
            + "; Ctrl-C to stop)");
    System.out.flush();
    while (!stopped.await(ACCESS_CHECK_MS, TimeUnit.MILLISECONDS)) {
      // a refused login or ACL will not heal by waiting: stop, in words, rather than serve 503s
      String refused =
          KafkaClientOptions.refusal(running.replica().failure(), broker, running.client());
      if (refused != null) {
        running.close();
        throw new StreamrecException(refused);
      }
      // any other failure that stopped the replica (a topic of several partitions, one that is
      // not a model's): a process that only answers 503 serves nobody; its one line, and the exit
      Throwable failed = running.replica().failure();
      if (failed != null && !(failed instanceof VirtualMachineError)) {
        running.close();
        throw new StreamrecException(
            "the replica of '" + modelTopic + "' stopped: " + failed.getMessage(), failed);
      }
    }
    return 0;
  }
}
