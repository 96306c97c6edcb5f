package io.streamrec.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.streamrec.common.StreamrecException;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.internal.LatencyHistogram;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP front of a {@link ModelReplica} ({@code streamrec serve}), on the JDK's HTTP server.
 *
 * <ul>
 *   <li>{@code POST /score}: a JSON object {@code {"request": REQUEST, "impressions": [IMPRESSION,
 *       ...]}} whose parts are in the JSON interchange shape ({@link JsonEvents}; labels are
 *       optional and ignored); answers {@code {"version": V, "scores": [p, ...]}}, one click
 *       probability per impression, in order, all from one model version.
 *   <li>{@code GET /healthz}: 200 once the replica serves a model, 503 before (bootstrapping, no
 *       version yet, failed), with the replica's state as JSON.
 *   <li>{@code GET /metrics}: the replica's and the server's figures in Prometheus' text format,
 *       with the latency of {@code POST /score} as a histogram ({@code
 *       streamrec_serve_request_seconds_bucket}, {@code _sum}, {@code _count}).
 * </ul>
 *
 * <p>Bad input gets a 4xx status with {@code {"error": REASON}} naming what is wrong: 400 for bad
 * JSON or a bad field, 404, 405, 413 for a body over {@code maxRequestBytes} or more impressions
 * than {@code maxImpressions}, 415 for a body that is not JSON. A bad request costs only itself;
 * the server keeps serving. Requests are handled on a fixed pool of threads.
 */
public final class ScoringServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScoringServer.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Status codes counted per code in the metrics. */
  private static final int[] CODES = {200, 400, 404, 405, 413, 415, 500, 503};

  /** Seconds a stopping server lets running exchanges finish. */
  private static final int STOP_DELAY_S = 1;

  /**
   * The JDK server's switch for TCP_NODELAY on accepted connections, off by default. Off, the body
   * of a response waits behind its headers for the client's delayed ACK: about 40 ms per request on
   * Linux. Read once, when the JDK's server classes load, so it is set here, before the first
   * server is made in this JVM; a value given on the command line is left as it is.
   */
  private static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

  static {
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  private final ModelReplica replica;
  private final int maxRequestBytes;
  private final int maxImpressions;
  private final HttpServer server;
  private final ExecutorService pool;
  private final AtomicLongArray responses = new AtomicLongArray(CODES.length);
  private final AtomicLong impressionsScored = new AtomicLong();
  private final AtomicLong scoreNanos = new AtomicLong();

  /** POST /score from its arrival to its answer, every outcome. */
  private final LatencyHistogram scoreLatency = new LatencyHistogram();

  private ScoringServer(
      ModelReplica replica,
      InetSocketAddress address,
      int threads,
      int maxRequestBytes,
      int maxImpressions)
      throws IOException {
    if (threads < 1 || maxRequestBytes < 64 || maxImpressions < 1) {
      throw new IllegalArgumentException(
          "threads ("
              + threads
              + ") must be >= 1, max request bytes ("
              + maxRequestBytes
              + ") >= 64 and max impressions ("
              + maxImpressions
              + ") >= 1");
    }
    this.replica = replica;
    this.maxRequestBytes = maxRequestBytes;
    this.maxImpressions = maxImpressions;
    this.server = HttpServer.create(address, 0);
    this.pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "serve-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(pool);
    server.createContext("/", this::handle);
  }

  /** Starts serving {@code replica} on {@code address} (port 0: any free port). */
  public static ScoringServer start(
      ModelReplica replica,
      InetSocketAddress address,
      int threads,
      int maxRequestBytes,
      int maxImpressions)
      throws IOException {
    ScoringServer s = new ScoringServer(replica, address, threads, maxRequestBytes, maxImpressions);
    s.server.start();
    LOG.info("serving on {}", s.server.getAddress());
    return s;
  }

  /** The port the server listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/score" -> {
          if (!method.equals("POST")) {
            error(ex, 405, "use POST for /score, not " + method);
          } else {
            long t0 = System.nanoTime();
            try {
              score(ex);
            } finally {
              scoreLatency.record(System.nanoTime() - t0);
            }
          }
        }
        case "/healthz" -> {
          if (!method.equals("GET") && !method.equals("HEAD")) {
            error(ex, 405, "use GET for /healthz, not " + method);
          } else {
            health(ex);
          }
        }
        case "/metrics" -> {
          if (!method.equals("GET")) {
            error(ex, 405, "use GET for /metrics, not " + method);
          } else {
            send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics());
          }
        }
        default ->
            error(
                ex,
                404,
                "no such path " + path + "; there are POST /score, GET /healthz and GET /metrics");
      }
    } catch (IOException e) {
      LOG.debug("exchange failed: {}", e.toString());
    } catch (RuntimeException e) {
      LOG.error("internal error serving {}", ex.getRequestURI(), e);
      try {
        error(ex, 500, "internal error: " + e);
      } catch (IOException | RuntimeException ignored) {
        // the response may have begun already
      }
    }
  }

  private void score(HttpExchange ex) throws IOException {
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    if (type != null && !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      error(ex, 415, "the body must be JSON (Content-Type: application/json), not " + type);
      return;
    }
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > maxRequestBytes) {
          error(
              ex,
              413,
              "the body has "
                  + length.trim()
                  + " bytes; at most "
                  + maxRequestBytes
                  + " are accepted");
          return;
        }
      } catch (NumberFormatException e) {
        error(ex, 400, "bad Content-Length '" + length + "'");
        return;
      }
    }
    byte[] body = readAtMost(ex.getRequestBody(), maxRequestBytes);
    if (body == null) {
      error(ex, 413, "the body is longer than " + maxRequestBytes + " bytes");
      return;
    }
    RequestEvent request;
    List<ImpressionEvent> impressions;
    try {
      JsonNode root;
      try {
        root = MAPPER.readTree(body);
      } catch (JsonProcessingException e) {
        error(ex, 400, "the body is not valid JSON: " + e.getOriginalMessage());
        return;
      }
      if (root == null || !root.isObject()) {
        error(
            ex, 400, "the body must be a JSON object {\"request\": {...}, \"impressions\": [...]}");
        return;
      }
      JsonNode r = root.get("request");
      if (r == null || !r.isObject()) {
        error(ex, 400, "field 'request' must be an object (a request in the interchange shape)");
        return;
      }
      JsonNode imps = root.get("impressions");
      if (imps == null || !imps.isArray() || imps.isEmpty()) {
        error(ex, 400, "field 'impressions' must be a non-empty array of impressions");
        return;
      }
      if (imps.size() > maxImpressions) {
        error(
            ex,
            413,
            "'impressions' has "
                + imps.size()
                + " entries; at most "
                + maxImpressions
                + " per request");
        return;
      }
      request = JsonEvents.parseRequest((ObjectNode) r);
      impressions = new ArrayList<>(imps.size());
      for (int i = 0; i < imps.size(); i++) {
        JsonNode n = imps.get(i);
        if (!n.isObject()) {
          error(ex, 400, "impressions[" + i + "] must be an object");
          return;
        }
        ImpressionEvent e;
        try {
          e = JsonEvents.parseImpression((ObjectNode) n);
        } catch (MalformedRecordException bad) {
          error(ex, 400, "impressions[" + i + "]: " + bad.getMessage());
          return;
        }
        if (!e.getRequestId().equals(request.getRequestId())) {
          error(
              ex,
              400,
              "impressions["
                  + i
                  + "].requestId is '"
                  + e.getRequestId()
                  + "' but the request's is '"
                  + request.getRequestId()
                  + "'");
          return;
        }
        impressions.add(e);
      }
    } catch (MalformedRecordException bad) {
      error(ex, 400, "request: " + bad.getMessage());
      return;
    }
    if (!replica.ready()) {
      error(
          ex,
          503,
          "no model to score with yet (replica "
              + replica.state().name().toLowerCase(Locale.ROOT)
              + ")");
      return;
    }
    long t0 = System.nanoTime();
    float[] scores;
    long version;
    try {
      ModelReplica.Scored s = replica.scoreVersioned(request, impressions);
      scores = s.scores();
      version = s.version();
    } catch (IllegalStateException | StreamrecException e) {
      error(ex, 503, e.getMessage());
      return;
    }
    scoreNanos.addAndGet(System.nanoTime() - t0);
    impressionsScored.addAndGet(scores.length);
    ObjectNode out = MAPPER.createObjectNode();
    out.put("version", version);
    ArrayNode a = out.putArray("scores");
    for (float p : scores) {
      a.add(p);
    }
    send(ex, 200, "application/json", out.toString());
  }

  /** The body, or null when it is longer than {@code max} bytes. */
  private static byte[] readAtMost(InputStream in, int max) throws IOException {
    byte[] b = in.readNBytes(max + 1);
    return b.length > max ? null : b;
  }

  private void health(HttpExchange ex) throws IOException {
    ObjectNode o = MAPPER.createObjectNode();
    boolean ready = replica.ready();
    o.put("status", ready ? "serving" : "not ready");
    o.put("state", replica.state().name().toLowerCase(Locale.ROOT));
    o.put("version", replica.version());
    o.put("lag_records", replica.lag());
    o.put("rows", replica.rows());
    if (replica.failure() != null) {
      o.put("failure", replica.failure().getMessage());
    }
    send(ex, ready ? 200 : 503, "application/json", o.toString());
  }

  /** The metrics page, Prometheus text format 0.0.4. */
  String metrics() {
    StringBuilder b = new StringBuilder();
    gauge(
        b,
        "streamrec_replica_ready",
        "1 when the replica serves a model.",
        replica.ready() ? 1 : 0);
    gauge(b, "streamrec_replica_version", "Model version served.", replica.version());
    gauge(
        b,
        "streamrec_replica_lag_records",
        "Records on the topic not read yet (-1: unknown).",
        replica.lag());
    gauge(b, "streamrec_replica_rows", "Embedding rows held.", replica.rows());
    counter(
        b,
        "streamrec_replica_versions_applied_total",
        "Version markers applied.",
        replica.versionsApplied());
    counter(b, "streamrec_replica_gaps_total", "Versions missing while tailing.", replica.gaps());
    counter(
        b,
        "streamrec_replica_duplicates_total",
        "Versions seen again while tailing.",
        replica.duplicates());
    counter(
        b,
        "streamrec_replica_rereads_total",
        "Reads of the topic from its earliest offset after a gap or duplicate.",
        replica.rereads());
    counter(
        b,
        "streamrec_replica_bad_records_total",
        "Unreadable records skipped.",
        replica.badRecords());
    counter(
        b,
        "streamrec_replica_records_read_total",
        "Records read from the topic.",
        replica.recordsRead());
    b.append(
            "# HELP streamrec_replica_freshness_ms Version event time to applied in this replica, ms.\n")
        .append("# TYPE streamrec_replica_freshness_ms summary\n");
    for (double q : new double[] {0.5, 0.99}) {
      b.append("streamrec_replica_freshness_ms{quantile=\"")
          .append(q)
          .append("\"} ")
          .append(number(replica.freshnessPercentileMs(q)))
          .append('\n');
    }
    b.append("streamrec_replica_freshness_ms_sum ").append(replica.freshnessSumMs()).append('\n');
    b.append("streamrec_replica_freshness_ms_count ")
        .append(replica.freshnessSamples())
        .append('\n');
    scoreLatency.appendTo(
        b,
        "streamrec_serve_request_seconds",
        "POST /score from arrival to answer (parse, score, reply), any outcome, seconds.");
    b.append("# HELP streamrec_serve_responses_total HTTP responses by status code.\n")
        .append("# TYPE streamrec_serve_responses_total counter\n");
    for (int i = 0; i < CODES.length; i++) {
      b.append("streamrec_serve_responses_total{code=\"")
          .append(CODES[i])
          .append("\"} ")
          .append(responses.get(i))
          .append('\n');
    }
    counter(
        b,
        "streamrec_serve_impressions_scored_total",
        "Impressions scored.",
        impressionsScored.get());
    counter(
        b,
        "streamrec_serve_score_seconds_total",
        "Time spent scoring, seconds.",
        scoreNanos.get() / 1e9);
    return b.toString();
  }

  private static void gauge(StringBuilder b, String name, String help, double v) {
    b.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append('\n')
        .append("# TYPE ")
        .append(name)
        .append(" gauge\n")
        .append(name)
        .append(' ')
        .append(number(v))
        .append('\n');
  }

  private static void counter(StringBuilder b, String name, String help, double v) {
    b.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append('\n')
        .append("# TYPE ")
        .append(name)
        .append(" counter\n")
        .append(name)
        .append(' ')
        .append(number(v))
        .append('\n');
  }

  private static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  private void error(HttpExchange ex, int code, String reason) throws IOException {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("error", reason);
    send(ex, code, "application/json", o.toString());
  }

  private void send(HttpExchange ex, int code, String type, String body) throws IOException {
    for (int i = 0; i < CODES.length; i++) {
      if (CODES[i] == code) {
        responses.incrementAndGet(i);
      }
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(code, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(STOP_DELAY_S);
    pool.shutdown();
    try {
      pool.awaitTermination(STOP_DELAY_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
