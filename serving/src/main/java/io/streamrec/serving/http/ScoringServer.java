package io.streamrec.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.common.StreamrecException;
import io.streamrec.model.LabelScores;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.http.internal.BoundedHttpServer;
import io.streamrec.serving.http.internal.BoundedHttpServer.Request;
import io.streamrec.serving.http.internal.BoundedHttpServer.Response;
import io.streamrec.serving.internal.LatencyHistogram;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP front of a {@link ModelReplica} ({@code streamrec serve}), on a {@link BoundedHttpServer}.
 *
 * <ul>
 *   <li>{@code POST /score}: a JSON object {@code {"request": REQUEST, "impressions": [IMPRESSION,
 *       ...]}} whose parts are in the JSON interchange shape ({@link JsonEvents}; labels are
 *       optional and ignored); answers {@code {"version": V, "scores": [p, ...], "labels":
 *       {"click": [p, ...], "good": [p, ...]}}}: under {@code labels} every label of the model's
 *       spec, in its order, with one probability per impression, in order; {@code scores} repeats
 *       the first label's. All from one forward pass of one model version.
 *   <li>{@code GET /healthz} (readiness): 200 once the replica serves a model and that model is not
 *       staler than {@link Settings#maxStaleness}, 503 otherwise (bootstrapping, no complete model
 *       yet, stale, failed), with the replica's state, lag and staleness as JSON.
 *   <li>{@code GET /livez} (liveness): 200 while the replica's thread and this server run, 503 when
 *       the replica stopped on an error it cannot heal; no answer at all when the server is dead.
 *   <li>{@code GET /metrics}: the replica's and the server's figures in Prometheus' text format,
 *       with the latency of {@code POST /score} as a histogram ({@code
 *       streamrec_serve_request_seconds_bucket}, {@code _sum}, {@code _count}).
 * </ul>
 *
 * <p>With a token ({@link Settings#token}), {@code /score} and {@code /metrics} answer 401 unless
 * the request carries {@code Authorization: Bearer TOKEN}; the probes stay open.
 *
 * <p>Bad input gets a 4xx status with {@code {"error": REASON}} naming what is wrong: 400 for bad
 * JSON or a bad field, 401, 404, 405, 413 for a body over {@code maxRequestBytes} or more
 * impressions than {@code maxImpressions}, 415 for a body that is not JSON. A bad request costs
 * only itself; the server keeps serving. Slow and idle clients cost a connection each, never a
 * scoring thread (see {@link BoundedHttpServer}).
 */
public final class ScoringServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScoringServer.class);

  /** Builds the responses; a body is read as an event's line is ({@link JsonEvents#readTree}). */
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Status codes counted per code in the metrics. */
  private static final int[] CODES = {200, 400, 401, 404, 405, 413, 415, 431, 500, 503};

  /**
   * How a server serves.
   *
   * @param address where it listens (port 0: any free port)
   * @param threads requests handled at once (parsing and scoring)
   * @param maxRequestBytes larger bodies get 413
   * @param maxImpressions more impressions in one request get 413
   * @param maxConnections connections open at once; more are answered 503 and closed
   * @param headerTimeout a request's line and headers must arrive within this
   * @param bodyTimeout a request's body must arrive (and an answer be taken) within this
   * @param idleTimeout a kept-alive connection is closed after this without a request
   * @param maxStaleness {@code /healthz} answers 503 when the model is staler (zero: no bound)
   * @param token the bearer token {@code /score} and {@code /metrics} ask for, or null
   * @param maxIdsPerFeature a feature with more values in a request or impression gets 413
   */
  public record Settings(
      InetSocketAddress address,
      int threads,
      int maxRequestBytes,
      int maxImpressions,
      int maxConnections,
      Duration headerTimeout,
      Duration bodyTimeout,
      Duration idleTimeout,
      Duration maxStaleness,
      String token,
      int maxIdsPerFeature) {
    /**
     * Values of one feature in a request or impression by default: what a training job takes
     * ({@code source.max-ids-per-feature}); it dead-letters events with more, so the model never
     * learned from such bags.
     */
    public static final int DEFAULT_MAX_IDS_PER_FEATURE = 1_000;

    /** Connections open at once by default: far more than scoring threads, far below fd limits. */
    public static final int DEFAULT_MAX_CONNECTIONS = 256;

    /** Request line and headers within this by default. */
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);

    /** A body within this by default. */
    public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);

    /** Idle kept-alive connections closed after this by default. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public Settings {
      java.util.List<String> bad = new java.util.ArrayList<>();
      if (threads < 1) {
        bad.add("threads must be >= 1, got " + threads);
      }
      if (maxRequestBytes < 64) {
        bad.add("max request bytes must be >= 64, got " + maxRequestBytes);
      }
      if (maxImpressions < 1) {
        bad.add("max impressions must be >= 1, got " + maxImpressions);
      }
      if (maxIdsPerFeature < 1) {
        bad.add("max ids per feature must be >= 1, got " + maxIdsPerFeature);
      }
      if (!bad.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", bad));
      }
      if (maxStaleness.isNegative()) {
        throw new IllegalArgumentException("max staleness must be >= 0, got " + maxStaleness);
      }
      if (token != null && token.isBlank()) {
        throw new IllegalArgumentException("the token is empty");
      }
    }

    /** The defaults on {@code address}: 4 threads, 1 MiB bodies, 1000 impressions, no token. */
    public static Settings defaults(InetSocketAddress address) {
      return new Settings(
          address,
          4,
          1 << 20,
          1_000,
          DEFAULT_MAX_CONNECTIONS,
          DEFAULT_HEADER_TIMEOUT,
          DEFAULT_BODY_TIMEOUT,
          DEFAULT_IDLE_TIMEOUT,
          Duration.ZERO,
          null,
          DEFAULT_MAX_IDS_PER_FEATURE);
    }

    public Settings withLimits(
        int threads, int maxRequestBytes, int maxImpressions, int maxIdsPerFeature) {
      return new Settings(
          address,
          threads,
          maxRequestBytes,
          maxImpressions,
          maxConnections,
          headerTimeout,
          bodyTimeout,
          idleTimeout,
          maxStaleness,
          token,
          maxIdsPerFeature);
    }

    public Settings withConnections(
        int maxConnections, Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout) {
      return new Settings(
          address,
          threads,
          maxRequestBytes,
          maxImpressions,
          maxConnections,
          headerTimeout,
          bodyTimeout,
          idleTimeout,
          maxStaleness,
          token,
          maxIdsPerFeature);
    }

    public Settings withMaxStaleness(Duration maxStaleness) {
      return new Settings(
          address,
          threads,
          maxRequestBytes,
          maxImpressions,
          maxConnections,
          headerTimeout,
          bodyTimeout,
          idleTimeout,
          maxStaleness,
          token,
          maxIdsPerFeature);
    }

    public Settings withToken(String token) {
      return new Settings(
          address,
          threads,
          maxRequestBytes,
          maxImpressions,
          maxConnections,
          headerTimeout,
          bodyTimeout,
          idleTimeout,
          maxStaleness,
          token,
          maxIdsPerFeature);
    }

    /** The settings in words, the token as whether there is one: it is never printed. */
    @Override
    public String toString() {
      return "Settings[address="
          + address
          + ", threads="
          + threads
          + ", maxRequestBytes="
          + maxRequestBytes
          + ", maxImpressions="
          + maxImpressions
          + ", maxConnections="
          + maxConnections
          + ", headerTimeout="
          + headerTimeout
          + ", bodyTimeout="
          + bodyTimeout
          + ", idleTimeout="
          + idleTimeout
          + ", maxStaleness="
          + maxStaleness
          + ", token="
          + (token == null ? "none" : "(set)")
          + "]";
    }
  }

  private final ModelReplica replica;
  private final Settings settings;
  private final byte[] token;
  private final BoundedHttpServer server;
  private final AtomicLongArray responses = new AtomicLongArray(CODES.length);
  private final AtomicLong impressionsScored = new AtomicLong();
  private final AtomicLong scoreNanos = new AtomicLong();

  /** POST /score from its arrival to its answer, every outcome. */
  private final LatencyHistogram scoreLatency = new LatencyHistogram();

  private ScoringServer(ModelReplica replica, Settings settings) throws IOException {
    this.replica = replica;
    this.settings = settings;
    this.token =
        settings.token() == null
            ? null
            : ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
    this.server =
        BoundedHttpServer.start(
            settings.address(),
            new BoundedHttpServer.Limits(
                settings.threads(),
                settings.maxConnections(),
                settings.headerTimeout(),
                settings.bodyTimeout(),
                settings.idleTimeout(),
                settings.maxRequestBytes()),
            new BoundedHttpServer.Handler() {
              @Override
              public Response handle(Request request) {
                return ScoringServer.this.handle(request);
              }

              @Override
              public Response refuse(Request partial, int code, String reason) {
                return error(code, reason);
              }

              @Override
              public boolean isProbe(String method, String path) {
                return method.equals("GET") && (path.equals("/livez") || path.equals("/healthz"));
              }
            },
            "serve-http");
  }

  /** Starts serving {@code replica} on {@code address} (port 0: any free port). */
  public static ScoringServer start(
      ModelReplica replica,
      InetSocketAddress address,
      int threads,
      int maxRequestBytes,
      int maxImpressions)
      throws IOException {
    return start(
        replica,
        Settings.defaults(address)
            .withLimits(
                threads, maxRequestBytes, maxImpressions, Settings.DEFAULT_MAX_IDS_PER_FEATURE));
  }

  /** Starts serving {@code replica} as {@code settings} say. */
  public static ScoringServer start(ModelReplica replica, Settings settings) throws IOException {
    ScoringServer s = new ScoringServer(replica, settings);
    LOG.info("serving on {} ({})", s.server.address(), settings);
    return s;
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  /** The port the server listens on. */
  public int port() {
    return server.address().getPort();
  }

  /** True when {@code /score} and {@code /metrics} ask for a bearer token. */
  public boolean tokenRequired() {
    return token != null;
  }

  /** True while the server accepts connections. */
  public boolean alive() {
    return server.alive();
  }

  private Response handle(Request ex) {
    try {
      String path = ex.path();
      String method = ex.method();
      switch (path) {
        case "/score" -> {
          if (!authorized(ex)) {
            return unauthorized();
          }
          if (!method.equals("POST")) {
            return error(405, "use POST for /score, not " + method);
          }
          long t0 = System.nanoTime();
          try {
            return score(ex);
          } finally {
            scoreLatency.record(System.nanoTime() - t0);
          }
        }
        case "/healthz" -> {
          if (!method.equals("GET") && !method.equals("HEAD")) {
            return error(405, "use GET for /healthz, not " + method);
          }
          return health();
        }
        case "/livez" -> {
          if (!method.equals("GET") && !method.equals("HEAD")) {
            return error(405, "use GET for /livez, not " + method);
          }
          return live();
        }
        case "/metrics" -> {
          if (!authorized(ex)) {
            return unauthorized();
          }
          if (!method.equals("GET")) {
            return error(405, "use GET for /metrics, not " + method);
          }
          return send(200, "text/plain; version=0.0.4; charset=utf-8", metrics());
        }
        default -> {
          return error(
              404,
              "no such path "
                  + path
                  + "; there are POST /score, GET /healthz, GET /livez and GET /metrics");
        }
      }
    } catch (RuntimeException e) {
      LOG.error("internal error serving {}", ex.path(), e);
      return error(500, "internal error: " + e);
    }
  }

  /** True without a token, or when the request carries it (compared in constant time). */
  private boolean authorized(Request ex) {
    if (token == null) {
      return true;
    }
    String given = ex.header("Authorization");
    if (given == null || given.length() < 7 || !given.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    // the scheme is case-insensitive (RFC 7235); the token is compared exactly
    return MessageDigest.isEqual(
        token, ("Bearer " + given.substring(7)).getBytes(StandardCharsets.UTF_8));
  }

  private Response unauthorized() {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("error", "this path needs Authorization: Bearer <the token the server was given>");
    count(401);
    return new Response(
        401,
        "application/json",
        o.toString().getBytes(StandardCharsets.UTF_8),
        Map.of("WWW-Authenticate", "Bearer realm=\"streamrec\""));
  }

  /**
   * Which feature of {@code where} has more values than {@link Settings#maxIdsPerFeature}, in
   * words; null when none. A training job dead-letters such an event, so the model never learned
   * from a bag that large.
   */
  private String overIdsPerFeature(String where, Map<String, List<String>> features) {
    if (features == null) {
      return null;
    }
    for (Map.Entry<String, List<String>> f : features.entrySet()) {
      if (f.getValue() != null && f.getValue().size() > settings.maxIdsPerFeature()) {
        return where
            + " feature '"
            + f.getKey()
            + "' has "
            + f.getValue().size()
            + " values; at most "
            + settings.maxIdsPerFeature()
            + " per feature (serve --max-ids-per-feature; a training job dead-letters more,"
            + " source.max-ids-per-feature)";
      }
    }
    return null;
  }

  /**
   * Scoring reads only features, so a body may leave out the interchange shape's ids and time: a
   * request without {@code requestId} or {@code timestampMs} gets {@code "score"} and the time it
   * came, an impression the request's and its index as {@code impressionId}. Given, they are read
   * as in training and must be valid there.
   */
  private static ObjectNode withScoringDefaults(ObjectNode o, String requestId, long timestampMs) {
    if (!o.has("requestId")) {
      o.put("requestId", requestId);
    }
    if (!o.has("timestampMs")) {
      o.put("timestampMs", timestampMs);
    }
    return o;
  }

  /**
   * A JSON reader's complaint without its advice to the reader's programmer ("enable
   * `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", "from
   * `StreamReadConstraints.getMaxNestingDepth()`"), which a client cannot act on.
   */
  static String jsonProblem(String message) {
    if (message == null) {
      return "unreadable";
    }
    String token = JsonEvents.nonNumericToken(message);
    if (token != null) {
      return JsonEvents.notANumber(token);
    }
    int advice = message.indexOf(": enable `");
    String m = advice > 0 ? message.substring(0, advice) : message;
    return m.replaceAll(",? from `StreamReadConstraints\\.[A-Za-z]+\\(\\)`", "");
  }

  private Response score(Request ex) {
    String type = ex.header("Content-Type");
    if (type != null && !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return error(415, "the body must be JSON (Content-Type: application/json), not " + type);
    }
    String encoding = ex.header("Content-Encoding");
    if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
      return error(
          415,
          "a body of Content-Encoding " + encoding.trim() + " is not read; send it uncompressed");
    }
    byte[] body = ex.body();
    RequestEvent request;
    List<ImpressionEvent> impressions;
    java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
    try {
      JsonNode root;
      try {
        root = JsonEvents.readTree(body);
      } catch (JsonProcessingException e) {
        return error(400, "the body is not valid JSON: " + jsonProblem(e.getOriginalMessage()));
      } catch (IOException e) {
        return error(400, "the body is not valid JSON: " + e.getMessage());
      }
      if (root == null || !root.isObject()) {
        return error(
            400, "the body must be a JSON object {\"request\": {...}, \"impressions\": [...]}");
      }
      List<String> top = List.of("request", "impressions");
      for (java.util.Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!top.contains(name)) {
          String meant = io.streamrec.common.EditDistance.firstWithin(name, top, 2);
          unknown.add(name + (meant == null ? "" : " ('" + meant + "' meant?)"));
        }
      }
      JsonNode r = root.get("request");
      if (r == null || !r.isObject()) {
        return error(
            400,
            "field 'request' must be an object (a request in the interchange shape)"
                + misspeltHint(root, "request"));
      }
      JsonNode imps = root.get("impressions");
      if (imps == null || !imps.isArray() || imps.isEmpty()) {
        return error(
            400,
            "field 'impressions' must be a non-empty array of impressions"
                + misspeltHint(root, "impressions"));
      }
      if (imps.size() > settings.maxImpressions()) {
        return error(
            413,
            "'impressions' has "
                + imps.size()
                + " entries; at most "
                + settings.maxImpressions()
                + " per request");
      }
      ObjectNode req = (ObjectNode) r;
      unknownFields(unknown, "request", req, JsonEvents.REQUEST_FIELDS);
      boolean requestNamed = req.has("requestId");
      request =
          JsonEvents.parseRequest(withScoringDefaults(req, "score", System.currentTimeMillis()));
      impressions = new ArrayList<>(imps.size());
      io.streamrec.model.ModelConfig served = replica.config();
      java.util.Set<String> trains =
          served == null ? java.util.Set.of() : java.util.Set.copyOf(served.features().labels());
      for (int i = 0; i < imps.size(); i++) {
        JsonNode n = imps.get(i);
        if (!n.isObject()) {
          return error(400, "impressions[" + i + "] must be an object");
        }
        ObjectNode imp = (ObjectNode) n;
        unknownFields(unknown, "impressions", imp, JsonEvents.IMPRESSION_FIELDS);
        if (!imp.has("impressionId")) {
          imp.put("impressionId", String.valueOf(i));
        }
        ImpressionEvent e;
        try {
          e =
              JsonEvents.parseImpression(
                  withScoringDefaults(imp, request.getRequestId(), request.getTimestampMs()));
        } catch (MalformedRecordException bad) {
          return error(400, "impressions[" + i + "]: " + bad.getMessage());
        }
        for (Map.Entry<String, Float> l : e.getLabels().entrySet()) {
          // a label the model does not train is ignored, and said so, as training ignores it
          if (trains.contains(l.getKey())
              && !io.streamrec.model.features.FeatureSpec.trainableLabel(l.getValue())) {
            return error(
                400,
                "impressions["
                    + i
                    + "].labels."
                    + l.getKey()
                    + " is "
                    + l.getValue()
                    + "; labels are in [0, 1] (training takes such an impression as a bad_label)");
          }
        }
        if (!e.getRequestId().equals(request.getRequestId())) {
          return error(
              400,
              "impressions["
                  + i
                  + "].requestId is '"
                  + e.getRequestId()
                  + (requestNamed
                      ? "' but the request's is '" + request.getRequestId() + "'"
                      : "' but the request has none: give it the same, or leave it out of the"
                          + " impressions"));
        }
        impressions.add(e);
      }
    } catch (MalformedRecordException bad) {
      return error(400, "request: " + bad.getMessage());
    }
    String over = overIdsPerFeature("request", request.getFeatures());
    for (int i = 0; over == null && i < impressions.size(); i++) {
      over = overIdsPerFeature("impressions[" + i + "]", impressions.get(i).getFeatures());
    }
    if (over != null) {
      return error(413, over);
    }
    if (!replica.ready()) {
      return error(
          503,
          "no model to score with yet (replica "
              + replica.state().name().toLowerCase(Locale.ROOT)
              + ")");
    }
    long t0 = System.nanoTime();
    ModelReplica.ScoredLabels s;
    try {
      s = replica.scoreAllLabelsVersioned(request, impressions);
    } catch (IllegalStateException | StreamrecException e) {
      return error(503, e.getMessage());
    }
    scoreNanos.addAndGet(System.nanoTime() - t0);
    LabelScores scores = s.scores();
    int ni = scores.impressions();
    impressionsScored.addAndGet(ni);
    ObjectNode out = MAPPER.createObjectNode();
    out.put("version", s.version());
    out.put("model", io.streamrec.protocol.ModelLineage.format(s.model()));
    // the features the model that scored does not read: a version of another model may be served
    // by now
    List<String> ignored = ignoredFeatures(s.config(), request, impressions);
    if (!ignored.isEmpty()) {
      ignored.forEach(out.putArray("ignored_features")::add);
    }
    if (!unknown.isEmpty()) {
      unknown.forEach(out.putArray("ignored_fields")::add);
    }
    ArrayNode first = out.putArray("scores");
    ObjectNode byLabel = out.putObject("labels");
    for (int l = 0; l < scores.labels().size(); l++) {
      ArrayNode a = byLabel.putArray(scores.labels().get(l));
      for (int i = 0; i < ni; i++) {
        a.add(scores.probability(i, l));
      }
      if (l == 0) {
        first.addAll(a);
      }
    }
    return send(200, "application/json", out.toString());
  }

  /** " ('X' given: misspelt?)" when the body has a field X a few edits from {@code field}. */
  private static String misspeltHint(JsonNode root, String field) {
    if (root.has(field)) {
      return "";
    }
    for (java.util.Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (io.streamrec.common.EditDistance.firstWithin(name, List.of(field), 2) != null) {
        return " ('" + name + "' given: misspelt?)";
      }
    }
    return "";
  }

  /**
   * Adds the fields of {@code o} (the request, or an impression: {@code where}) that its kind of
   * event does not have, with the field probably meant: a misspelt {@code featurs} was scored as no
   * features at all, with nothing in the answer to say so.
   */
  static void unknownFields(
      java.util.Set<String> out, String where, ObjectNode o, java.util.Set<String> known) {
    for (java.util.Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!known.contains(name)) {
        String meant = JsonEvents.meantField(name, known);
        out.add(where + "." + name + (meant == null ? "" : " ('" + meant + "' meant?)"));
      }
    }
  }

  /**
   * The features the request and impressions carry that the model does not read ({@code
   * request.NAME}, {@code impressions.NAME}), in order of first appearance: a misspelt feature was
   * scored as absent, with nothing in the answer to say so.
   */
  static List<String> ignoredFeatures(
      io.streamrec.model.ModelConfig config,
      RequestEvent request,
      List<ImpressionEvent> impressions) {
    if (config == null) {
      return List.of();
    }
    io.streamrec.model.features.FeatureSpec spec = config.features();
    io.streamrec.model.features.Side req = io.streamrec.model.features.Side.REQUEST;
    io.streamrec.model.features.Side imp = io.streamrec.model.features.Side.IMPRESSION;
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    ignored(out, spec, req, request.getFeatures().keySet(), "features");
    ignored(out, spec, req, request.getDense().keySet(), "dense");
    for (ImpressionEvent e : impressions) {
      ignored(out, spec, imp, e.getFeatures().keySet(), "features");
      ignored(out, spec, imp, e.getDense().keySet(), "dense");
      for (String label : e.getLabels().keySet()) {
        if (!spec.labels().contains(label)) {
          // a label in other letters or a typo away (Click, clik) is named with the one meant
          String meant = io.streamrec.common.EditDistance.firstWithin(label, spec.labels(), 2);
          out.add(
              "impressions.labels."
                  + label
                  + " (not a label of the model"
                  + (meant == null ? ")" : ": '" + meant + "' meant?)"));
        }
      }
    }
    return List.copyOf(out);
  }

  /**
   * Adds the names of {@code sent} (under {@code field}) that {@code side}'s model features do not
   * read there: not declared, or declared under the other field (a dense feature sent as
   * categorical values is read as absent too).
   */
  private static void ignored(
      java.util.Set<String> out,
      io.streamrec.model.features.FeatureSpec spec,
      io.streamrec.model.features.Side side,
      java.util.Set<String> sent,
      String field) {
    String prefix = side == io.streamrec.model.features.Side.REQUEST ? "request." : "impressions.";
    String wanted = field.equals("dense") ? "dense" : "categorical";
    for (String n : sent) {
      String kind = spec.kindOf(side, n);
      if (kind == null) {
        out.add(prefix + n);
      } else if (!kind.equals(wanted)) {
        out.add(prefix + n + " (a " + kind + " feature, sent under \"" + field + "\")");
      }
    }
  }

  /**
   * Readiness: the replica serves a model, and it is not staler than the bound. The body says what
   * the replica is doing, how far behind the topic it is (records and versions), how old its model
   * is, and while it is not ready, why.
   */
  private Response health() {
    ObjectNode o = MAPPER.createObjectNode();
    boolean serving = replica.ready();
    long staleMs = replica.staleMs();
    long bound = settings.maxStaleness().toMillis();
    boolean stale = serving && staler(staleMs);
    boolean ready = serving && !stale;
    o.put("status", ready ? "serving" : "not ready");
    o.put("state", replica.state().name().toLowerCase(Locale.ROOT));
    o.put("version", replica.version());
    o.put("model", ModelLineage.format(replica.lineage()));
    o.put("lag_records", replica.lag());
    o.put("lag_versions", replica.versionLag());
    o.put("seconds_since_version", seconds(replica.msSinceApplied()));
    o.put("stale_seconds", seconds(staleMs));
    long uncommitted = replica.uncommittedRecords();
    if (uncommitted > 0) {
      o.put("uncommitted_records", uncommitted);
      o.put("held_seconds", seconds(replica.heldMs()));
    }
    if (bound > 0) {
      o.put("max_staleness_seconds", bound / 1000.0);
    }
    o.put("rows", replica.rows());
    long missing = replica.missingRows();
    if (missing >= 0) {
      o.put("missing_rows", missing);
    }
    if (replica.unreachable() != null) {
      o.put("unreachable", replica.unreachable());
    }
    if (replica.failure() != null) {
      o.put("failure", String.valueOf(replica.failure().getMessage()));
    }
    if (replica.topicPartitions() > 1) {
      // partitions added while it reads: the model is whole in the one read, but no replica or
      // job starts on the topic
      o.put("topic_partitions", replica.topicPartitions());
    }
    if (replica.unreadableSpec() != null) {
      o.put("unreadable_spec", replica.unreadableSpec());
    }
    if (!ready) {
      o.put("reason", notReadyReason(stale, staleMs, bound, missing));
    }
    return send(ready ? 200 : 503, "application/json", o.toString());
  }

  private String notReadyReason(boolean stale, long staleMs, long bound, long missing) {
    if (replica.failure() != null) {
      return "the replica failed";
    }
    if (stale) {
      return "the model is "
          + seconds(staleMs)
          + " s stale (last caught up with the topic then), over the bound of "
          + bound / 1000.0
          + " s"
          + (replica.unreachable() != null ? "; " + replica.unreachable() : "")
          + heldReason();
    }
    if (missing > 0) {
      return missing + " rows of the model not read yet (waiting for the trainer to publish them)";
    }
    if (replica.unreachable() != null) {
      return replica.unreachable();
    }
    if (replica.version() == 0 && replica.unreadableSpec() != null) {
      // a spec of a newer format is a model update this replica cannot read, not another topic's
      return "no complete model yet; the newest spec cannot be read: " + replica.unreadableSpec();
    }
    if (replica.version() == 0 && replica.badRecords() > 0) {
      return "no complete model yet; "
          + replica.badRecords()
          + " records read are not model updates: is --topic the model-updates topic?";
    }
    return "no complete model yet";
  }

  /**
   * Why the committed end stands still, when records wait past it for longer than an exactly-once
   * trainer's checkpoints leave them; empty otherwise.
   */
  private String heldReason() {
    long held = replica.heldMs();
    if (replica.uncommittedRecords() == 0 || held < settings.maxStaleness().toMillis()) {
      return "";
    }
    return "; "
        + replica.uncommittedRecords()
        + " records on the topic wait behind a transaction open for "
        + seconds(held)
        + " s and are not readable yet. A trainer's exactly-once transaction commits at its next"
        + " checkpoint; one left open by a trainer killed inside it holds every reader back until"
        + " the job starts again and aborts it, or the broker does (transaction.timeout.ms, 15 min"
        + " for the job's; docs/deploy.md)";
  }

  private static double seconds(long ms) {
    return ms < 0 ? -1 : Math.round(ms / 100.0) / 10.0;
  }

  /** Liveness: the replica's thread runs (this answer itself shows the server does). */
  private Response live() {
    ObjectNode o = MAPPER.createObjectNode();
    boolean alive = replica.alive() && server.alive();
    o.put("status", alive ? "alive" : "dead");
    o.put("replica_thread", replica.alive());
    if (replica.failure() != null) {
      o.put("failure", String.valueOf(replica.failure().getMessage()));
    }
    if (replica.unreadableSpec() != null) {
      o.put("unreadable_spec", replica.unreadableSpec());
    }
    return send(alive ? 200 : 503, "application/json", o.toString());
  }

  /** Whether a model {@code staleMs} old is staler than {@code --max-staleness} allows. */
  private boolean staler(long staleMs) {
    long bound = settings.maxStaleness().toMillis();
    return bound > 0 && staleMs > bound;
  }

  /** The metrics page, Prometheus text format 0.0.4. */
  String metrics() {
    StringBuilder b = new StringBuilder();
    // ready as /healthz says it: a replica whose model is staler than --max-staleness is out of
    // its Service, and with 1 here every replica of a broker outage was out while the alert on
    // this gauge kept quiet
    gauge(
        b,
        "streamrec_replica_ready",
        "1 when the replica serves a model no staler than --max-staleness (as /healthz).",
        replica.ready() && !staler(replica.staleMs()) ? 1 : 0);
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
        "streamrec_replica_lineage_switches_total",
        "Markers of another model's lineage while tailing (a replaced model).",
        replica.lineageSwitches());
    counter(
        b,
        "streamrec_replica_foreign_entries_total",
        "Rows and dense blocks dropped for a lineage not their version marker's.",
        replica.foreignEntries());
    counter(
        b,
        "streamrec_replica_retries_total",
        "Failed attempts to reach the broker or the topic, each retried after a wait.",
        replica.retries());
    gauge(
        b,
        "streamrec_replica_missing_rows",
        "Rows the newest marker says the model holds and the replica does not (-1: not told).",
        replica.missingRows());
    gauge(
        b,
        "streamrec_replica_topic_partitions",
        "Partitions of the model-updates topic (1; more where some were added while it was read).",
        replica.topicPartitions());
    gauge(
        b,
        "streamrec_replica_lag_versions",
        "Versions read past the one served (-1: none served).",
        replica.versionLag());
    gauge(
        b,
        "streamrec_replica_stale_seconds",
        "Seconds since the replica last knew it held everything on the topic (-1: none served).",
        seconds(replica.staleMs()));
    gauge(
        b,
        "streamrec_replica_uncommitted_records",
        "Records past the topic's committed end, in transactions not committed yet, unreadable"
            + " until they are.",
        replica.uncommittedRecords());
    gauge(
        b,
        "streamrec_replica_seconds_since_version",
        "Seconds since the served model last changed version (-1: none served).",
        seconds(replica.msSinceApplied()));
    gauge(
        b, "streamrec_serve_open_connections", "HTTP connections open.", server.openConnections());
    counter(
        b,
        "streamrec_serve_rejected_connections_total",
        "HTTP connections refused for the cap on connections.",
        server.rejectedConnections());
    counter(
        b,
        "streamrec_serve_timed_out_connections_total",
        "HTTP connections closed for a client slower than a timeout.",
        server.timedOutConnections());
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

  private Response error(int code, String reason) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("error", reason);
    return send(code, "application/json", o.toString());
  }

  private Response send(int code, String type, String body) {
    count(code);
    return new Response(code, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private void count(int code) {
    for (int i = 0; i < CODES.length; i++) {
      if (CODES[i] == code) {
        responses.incrementAndGet(i);
      }
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
