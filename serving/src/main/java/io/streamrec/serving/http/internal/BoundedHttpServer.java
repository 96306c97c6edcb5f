package io.streamrec.serving.http.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server that slow or idle clients cannot stall.
 *
 * <p>The JDK's {@code HttpServer} reads a request's headers and body on its worker threads, so as
 * many connections as there are workers that send their request slowly (or not at all) hold every
 * worker for as long as they like, and its timeouts and connection cap are JVM-wide system
 * properties. Here the work and the waiting are apart:
 *
 * <ul>
 *   <li>Each connection has a thread of its own (up to {@link Limits#maxConnections}; a connection
 *       over the cap is answered 503 and closed at once), which reads requests and writes answers.
 *       A thread waiting on a slow client costs a thread, never a worker.
 *   <li>A request's handler runs only once the whole request is read, and holds one of {@link
 *       Limits#workers} permits while it runs: slow clients never hold a permit. A probe ({@link
 *       Handler#isProbe}) holds none: it is cheap, and must answer while every worker is busy.
 *   <li>Every wait on the client has a deadline, enforced by one watchdog thread that closes the
 *       connection when it passes: the headers within {@link Limits#headerTimeout} (from the
 *       connection's start, or from a kept-alive connection's first byte), the body within {@link
 *       Limits#bodyTimeout}, the answer's write within the same, and a kept-alive connection may be
 *       idle between requests for {@link Limits#idleTimeout}. A deadline for the whole read, not
 *       per read, so a client that trickles a byte at a time gets no more.
 * </ul>
 *
 * <p>It speaks what scoring clients use: {@code Content-Length} and chunked request bodies, {@code
 * Expect: 100-continue}, keep-alive (HTTP/1.1's default), {@code HEAD}. Bodies over {@link
 * Limits#maxRequestBytes} are refused with 413 before they are read into memory.
 */
public final class BoundedHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BoundedHttpServer.class);

  /** How often the watchdog looks for connections past their deadline. */
  private static final long WATCHDOG_TICK_MS = 100;

  /** The request line and headers together at most: more is refused with 431. */
  static final int MAX_HEAD_BYTES = 32 * 1024;

  /**
   * A body over the limit whose length is known and at most this is read and dropped before the
   * 413, so that the client, still sending, reads the answer rather than a reset connection.
   */
  private static final long DRAIN_MAX_BYTES = 4L << 20;

  /** After a failed accept (e.g. out of file descriptors), the acceptor waits this long. */
  private static final long ACCEPT_RETRY_MS = 100;

  /** What the server allows its clients. */
  public record Limits(
      int workers,
      int maxConnections,
      Duration headerTimeout,
      Duration bodyTimeout,
      Duration idleTimeout,
      int maxRequestBytes) {
    public Limits {
      if (workers < 1) {
        throw new IllegalArgumentException("threads must be >= 1, got " + workers);
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("max connections must be >= 1, got " + maxConnections);
      }
      for (Duration d : new Duration[] {headerTimeout, bodyTimeout, idleTimeout}) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("timeouts must be positive, got " + d);
        }
      }
      if (maxRequestBytes < 1) {
        throw new IllegalArgumentException("max request bytes must be >= 1");
      }
    }
  }

  /**
   * One request, read whole: header names in lower case, the path without its query, {@code
   * version} as in its request line ({@code HTTP/1.1}).
   */
  public record Request(
      String method, String path, String version, Map<String, String> headers, byte[] body) {
    /** A header's value (the first, when repeated), or null; {@code name} in any case. */
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** An answer: status, content type, body, and any further headers. */
  public record Response(int code, String contentType, byte[] body, Map<String, String> headers) {
    public Response(int code, String contentType, byte[] body) {
      this(code, contentType, body, Map.of());
    }
  }

  /** What the server serves. */
  public interface Handler {
    /** The answer to a request read whole. Runs holding a worker permit, unless a probe. */
    Response handle(Request request);

    /** The answer to a request the server refuses itself (413, 400, 431), with the reason. */
    Response refuse(Request partial, int code, String reason);

    /**
     * Whether a request to {@code path} is a probe (liveness, readiness): it is handled without a
     * worker permit, and answered on one of a few connections kept for probes when every other is
     * taken. A probe that waits behind busy workers, or is refused for a crowd of kept-alive
     * clients, would have the replica restarted, healthy as it is. Its handling must be cheap and
     * must not wait on the model.
     */
    default boolean isProbe(String method, String path) {
      return false;
    }
  }

  /** Connections kept, past the cap, for probes only (one request each). */
  static final int PROBE_CONNECTIONS = 4;

  /** A client's request the server refuses before its handler sees it. */
  private static final class Refusal extends Exception {
    final int code;
    final boolean close;

    Refusal(int code, String reason, boolean close) {
      super(reason, null, false, false);
      this.code = code;
      this.close = close;
    }
  }

  /** One open connection and the time its current wait on the client must end by. */
  private static final class Connection {
    final Socket socket;
    volatile long deadlineNanos = Long.MAX_VALUE;

    Connection(Socket socket) {
      this.socket = socket;
    }

    void waitAtMost(Duration d) {
      deadlineNanos = System.nanoTime() + d.toNanos();
    }

    void noDeadline() {
      deadlineNanos = Long.MAX_VALUE;
    }
  }

  private final Limits limits;
  private final Handler handler;
  private final ServerSocket server;
  private final Thread acceptor;
  private final ExecutorService connectionThreads;
  private final ScheduledExecutorService watchdog;
  private final Semaphore workers;
  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger openCount = new AtomicInteger();
  private final AtomicInteger probeCount = new AtomicInteger();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();
  private volatile boolean closed;

  private BoundedHttpServer(InetSocketAddress address, Limits limits, Handler handler, String name)
      throws IOException {
    this.limits = limits;
    this.handler = handler;
    this.workers = new Semaphore(limits.workers());
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(address, Math.max(50, limits.maxConnections()));
    this.connectionThreads =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE, // bounded by maxConnections: the acceptor counts before it submits
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            daemon(name + "-conn"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon(name + "-watchdog"));
    watchdog.scheduleWithFixedDelay(
        this::closeOverdue, WATCHDOG_TICK_MS, WATCHDOG_TICK_MS, TimeUnit.MILLISECONDS);
    this.acceptor = new Thread(this::acceptLoop, name + "-accept");
    acceptor.setDaemon(true);
  }

  /** Starts serving on {@code address} (port 0: any free port). */
  public static BoundedHttpServer start(
      InetSocketAddress address, Limits limits, Handler handler, String name) throws IOException {
    BoundedHttpServer s = new BoundedHttpServer(address, limits, handler, name);
    s.acceptor.start();
    return s;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** True while the server accepts connections (its acceptor and watchdog run). */
  public boolean alive() {
    return !closed && acceptor.isAlive() && !watchdog.isShutdown();
  }

  /** Connections open now. */
  public int openConnections() {
    return openCount.get();
  }

  /** Connections refused for the cap on connections. */
  public long rejectedConnections() {
    return rejected.get();
  }

  /** Connections closed because the client was slower than a deadline. */
  public long timedOutConnections() {
    return timedOut.get();
  }

  // ---- accepting

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        LOG.warn("accepting a connection failed: {}", e.toString());
        sleepQuietly(ACCEPT_RETRY_MS);
        continue;
      }
      if (openCount.incrementAndGet() > limits.maxConnections()) {
        openCount.decrementAndGet();
        if (probeCount.incrementAndGet() <= PROBE_CONNECTIONS) {
          Connection c = new Connection(s);
          c.waitAtMost(limits.headerTimeout());
          open.add(c);
          try {
            connectionThreads.execute(() -> serveProbe(c));
            continue;
          } catch (RuntimeException e) {
            open.remove(c);
          }
        }
        probeCount.decrementAndGet();
        rejected.incrementAndGet();
        refuseConnection(s);
        continue;
      }
      Connection c = new Connection(s);
      c.waitAtMost(limits.headerTimeout());
      open.add(c);
      try {
        connectionThreads.execute(() -> serve(c));
      } catch (RuntimeException e) {
        open.remove(c);
        openCount.decrementAndGet();
        closeQuietly(s);
      }
    }
  }

  /** Answers 503 to a connection over the cap; the answer fits the socket's buffer, so no wait. */
  private void refuseConnection(Socket s) {
    try (s) {
      Response r =
          handler.refuse(
              null, 503, "too many connections (at most " + limits.maxConnections() + ")");
      OutputStream out = s.getOutputStream();
      writeResponse(out, r, false, true);
      out.flush();
      s.shutdownOutput();
    } catch (IOException e) {
      // the client went away; nothing to tell it
    }
  }

  private void closeOverdue() {
    long now = System.nanoTime();
    for (Connection c : open) {
      if (now - c.deadlineNanos > 0 && c.deadlineNanos != Long.MAX_VALUE) {
        timedOut.incrementAndGet();
        c.noDeadline();
        closeQuietly(c.socket);
      }
    }
  }

  // ---- one connection

  private void serve(Connection c) {
    Socket s = c.socket;
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      boolean first = true;
      while (!closed) {
        if (!first) {
          c.waitAtMost(limits.idleTimeout());
        }
        int b = in.read();
        // empty lines after a request (a client's CRLF after its body) are still the idle wait
        // between requests, not the start of the next one: its header deadline starts after them
        for (int skipped = 0;
            !first && (b == '\r' || b == '\n') && skipped < MAX_HEAD_BYTES;
            skipped++) {
          b = in.read();
        }
        if (b < 0) {
          return;
        }
        if (!first) {
          c.waitAtMost(limits.headerTimeout());
        }
        first = false;
        if (!exchange(c, b, in, out)) {
          return;
        }
      }
    } catch (IOException e) {
      // the client went away, or a deadline passed and the watchdog closed the connection
    } finally {
      open.remove(c);
      openCount.decrementAndGet();
    }
  }

  /**
   * One request on a connection past the cap: answered when it is a probe, refused as the cap
   * refuses otherwise; then closed.
   */
  private void serveProbe(Connection c) {
    Socket s = c.socket;
    try (s) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      int b = in.read();
      if (b < 0) {
        return;
      }
      Request head;
      try {
        head = readHead(b, in);
      } catch (Refusal r) {
        answer(c, out, handler.refuse(null, r.code, r.getMessage()), false, true);
        return;
      }
      if (!handler.isProbe(head.method(), head.path())) {
        rejected.incrementAndGet();
        answer(
            c,
            out,
            handler.refuse(
                head, 503, "too many connections (at most " + limits.maxConnections() + ")"),
            false,
            true);
        return;
      }
      Request request;
      try {
        request = readBody(head, in, out);
      } catch (Refusal r) {
        answer(c, out, handler.refuse(head, r.code, r.getMessage()), false, true);
        return;
      }
      c.noDeadline();
      answer(c, out, handler.handle(request), head.method().equals("HEAD"), true);
    } catch (IOException e) {
      // the client went away, or its deadline passed
    } finally {
      open.remove(c);
      probeCount.decrementAndGet();
    }
  }

  /** Reads one request (its first byte read already) and answers it; false: close. */
  private boolean exchange(Connection c, int firstByte, InputStream in, OutputStream out)
      throws IOException {
    Request head;
    try {
      head = readHead(firstByte, in);
    } catch (Refusal r) {
      answer(c, out, handler.refuse(null, r.code, r.getMessage()), false, true);
      return false;
    }
    boolean keepAlive = keepAlive(head);
    boolean isHead = head.method().equals("HEAD");
    Request request;
    try {
      c.waitAtMost(limits.bodyTimeout());
      request = readBody(head, in, out);
    } catch (Refusal r) {
      answer(c, out, handler.refuse(head, r.code, r.getMessage()), isHead, r.close || !keepAlive);
      return !r.close && keepAlive;
    }
    c.noDeadline();
    Response response;
    if (handler.isProbe(head.method(), head.path())) {
      // a probe waits for no worker: behind a busy pool it would time out, and a liveness probe
      // that times out has a healthy replica restarted just when it is needed most
      response = handler.handle(request);
    } else {
      workers.acquireUninterruptibly();
      try {
        response = handler.handle(request);
      } finally {
        workers.release();
      }
    }
    answer(c, out, response, isHead, !keepAlive);
    return keepAlive;
  }

  private void answer(
      Connection c, OutputStream out, Response r, boolean isHead, boolean closeAfter)
      throws IOException {
    c.waitAtMost(limits.bodyTimeout());
    writeResponse(out, r, isHead, closeAfter);
    out.flush();
  }

  private static boolean keepAlive(Request head) {
    String connection = head.header("connection");
    String v = connection == null ? "" : connection.toLowerCase(Locale.ROOT);
    return head.version().equals("HTTP/1.0") ? v.contains("keep-alive") : !v.contains("close");
  }

  /** The request line and headers; the body is still to read. */
  private static Request readHead(int firstByte, InputStream in) throws IOException, Refusal {
    // empty lines before the request line (a client's CRLF after its last body) are skipped (RFC
    // 9112 2.2), as many as a head may hold
    for (int skipped = 0; firstByte == '\r' || firstByte == '\n'; skipped++) {
      if (skipped >= MAX_HEAD_BYTES) {
        throw new Refusal(431, "the request's headers exceed " + MAX_HEAD_BYTES + " bytes", true);
      }
      firstByte = in.read();
      if (firstByte < 0) {
        throw new SocketException("the client closed the connection mid-request");
      }
    }
    ByteArrayOutputStream head = new ByteArrayOutputStream(256);
    head.write(firstByte);
    int newlines = firstByte == '\n' ? 1 : 0;
    while (newlines < 2) {
      int b = in.read();
      if (b < 0) {
        throw new SocketException("the client closed the connection mid-request");
      }
      head.write(b);
      if (head.size() > MAX_HEAD_BYTES) {
        throw new Refusal(431, "the request's headers exceed " + MAX_HEAD_BYTES + " bytes", true);
      }
      if (b == '\n') {
        newlines++;
      } else if (b != '\r') {
        newlines = 0;
      }
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r?\n");
    String[] start = lines[0].split(" ");
    if (start.length != 3 || !start[2].startsWith("HTTP/1.")) {
      throw new Refusal(400, "not an HTTP/1.x request line: '" + lines[0] + "'", true);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isEmpty()) {
        continue;
      }
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        throw new Refusal(400, "a bad header line: '" + lines[i] + "'", true);
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      String before = headers.putIfAbsent(name, value);
      if (before != null && name.equals("content-length") && !before.equals(value)) {
        // a proxy before the server that takes the other one sees another body, and another
        // request after it (RFC 9112 6.3)
        throw new Refusal(
            400,
            "two Content-Length headers that differ ('" + before + "', '" + value + "')",
            true);
      }
    }
    String target = start[1];
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    if (path.startsWith("http://") || path.startsWith("https://")) {
      int slash = path.indexOf('/', path.indexOf("//") + 2);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    return new Request(start[0], path, start[2], headers, new byte[0]);
  }

  private Request readBody(Request head, InputStream in, OutputStream out)
      throws IOException, Refusal {
    int max = limits.maxRequestBytes();
    String te = head.header("transfer-encoding");
    String cl = head.header("content-length");
    String coding = te == null ? "identity" : te.trim().toLowerCase(Locale.ROOT);
    if (!coding.equals("chunked") && !coding.equals("identity")) {
      // a body whose length chunked does not give (RFC 9112 6.3), or one compressed in transit:
      // read as no body, it was answered as a request the client did not send, and its bytes were
      // taken for the next request's head
      throw new Refusal(
          400,
          "Transfer-Encoding '"
              + te.trim()
              + "' is not read; send the body with Content-Length, or chunked alone",
          true);
    }
    boolean chunked = coding.equals("chunked");
    if (chunked && cl != null) {
      // two framings of one body: where this server and a proxy before it disagree on which one
      // holds, the rest of the connection is another request than the proxy saw (RFC 9112 6.3)
      throw new Refusal(
          400, "both Transfer-Encoding: chunked and Content-Length; send one of them", true);
    }
    long length = 0;
    if (!chunked && cl != null) {
      try {
        length = Long.parseLong(cl.trim());
      } catch (NumberFormatException e) {
        throw new Refusal(400, "bad Content-Length '" + cl + "'", true);
      }
      if (length < 0) {
        throw new Refusal(400, "bad Content-Length '" + cl + "'", true);
      }
      if (length > max) {
        boolean drain = length <= DRAIN_MAX_BYTES;
        if (drain) {
          continueIfAsked(head, out);
          in.skipNBytes(length);
        }
        throw new Refusal(
            413, "the body has " + length + " bytes; at most " + max + " are accepted", !drain);
      }
    }
    if (!chunked && length == 0) {
      return head;
    }
    continueIfAsked(head, out);
    byte[] body;
    if (chunked) {
      body = readChunked(in, max);
    } else {
      body = in.readNBytes((int) length);
      if (body.length < length) {
        throw new SocketException("the client closed the connection mid-body");
      }
    }
    return new Request(head.method(), head.path(), head.version(), head.headers(), body);
  }

  private static void continueIfAsked(Request head, OutputStream out) throws IOException {
    String expect = head.header("expect");
    if (expect != null && expect.equalsIgnoreCase("100-continue")) {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }
  }

  private static byte[] readChunked(InputStream in, int max) throws IOException, Refusal {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = line(in);
      int semi = sizeLine.indexOf(';');
      long size;
      try {
        size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new Refusal(400, "a bad chunk size '" + sizeLine + "'", true);
      }
      if (size == 0) {
        while (!line(in).isEmpty()) {
          // trailers: ignored
        }
        return body.toByteArray();
      }
      if (size < 0 || size > max - body.size()) { // not body.size() + size: it can overflow
        throw new Refusal(413, "the body is longer than " + max + " bytes", true);
      }
      byte[] chunk = in.readNBytes((int) size);
      if (chunk.length < size) {
        throw new SocketException("the client closed the connection mid-body");
      }
      body.write(chunk);
      line(in);
    }
  }

  private static String line(InputStream in) throws IOException, Refusal {
    StringBuilder b = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new SocketException("the client closed the connection mid-body");
      }
      if (c == '\n') {
        int n = b.length();
        return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
      }
      if (b.length() > MAX_HEAD_BYTES) {
        throw new Refusal(400, "a chunk line too long", true);
      }
      b.append((char) c);
    }
  }

  private static void writeResponse(
      OutputStream out, Response r, boolean isHead, boolean closeAfter) throws IOException {
    StringBuilder h =
        new StringBuilder("HTTP/1.1 ")
            .append(r.code())
            .append(' ')
            .append(reason(r.code()))
            .append("\r\nContent-Type: ")
            .append(r.contentType())
            .append("\r\nContent-Length: ")
            .append(r.body().length)
            .append("\r\n");
    for (Map.Entry<String, String> e : r.headers().entrySet()) {
      h.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
    }
    if (closeAfter) {
      h.append("Connection: close\r\n");
    }
    h.append("\r\n");
    out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (!isHead) {
      out.write(r.body());
    }
  }

  private static String reason(int code) {
    return switch (code) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 413 -> "Content Too Large";
      case 415 -> "Unsupported Media Type";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Connection c : open) {
      closeQuietly(c.socket);
    }
    watchdog.shutdownNow();
    connectionThreads.shutdownNow();
    try {
      acceptor.join(1_000);
      connectionThreads.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
