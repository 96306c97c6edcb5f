package io.streamrec.serving.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.serving.http.internal.BoundedHttpServer.Limits;
import io.streamrec.serving.http.internal.BoundedHttpServer.Request;
import io.streamrec.serving.http.internal.BoundedHttpServer.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BoundedHttpServerTest {
  /** What every answer here must come within, however busy the slow clients keep the server. */
  private static final Duration ANSWER_BOUND = Duration.ofSeconds(5);

  /** Echoes the method, path and body; counts the requests it handled. */
  private static class Echo implements BoundedHttpServer.Handler {
    final AtomicInteger handled = new AtomicInteger();

    @Override
    public Response handle(Request r) {
      handled.incrementAndGet();
      return new Response(
          200,
          "text/plain",
          (r.method() + " " + r.path() + " " + new String(r.body(), StandardCharsets.UTF_8))
              .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public Response refuse(Request partial, int code, String reason) {
      return new Response(code, "text/plain", reason.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public boolean isProbe(String method, String path) {
      return method.equals("GET") && path.equals("/livez");
    }
  }

  private static BoundedHttpServer start(Echo echo, int workers, int maxConnections, long timeoutMs)
      throws IOException {
    Duration t = Duration.ofMillis(timeoutMs);
    return BoundedHttpServer.start(
        new InetSocketAddress("127.0.0.1", 0),
        new Limits(workers, maxConnections, t, t, t, 1024),
        echo,
        "test-http");
  }

  private static HttpResponse<String> post(HttpClient http, int port, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/score"))
            .timeout(ANSWER_BOUND)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A connection that sends {@code prefix} of a request and then nothing. */
  private static Socket stalled(int port, String prefix) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    if (!prefix.isEmpty()) {
      s.getOutputStream().write(prefix.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
    }
    return s;
  }

  /** True when the server closed {@code s} within {@code ms}. */
  private static boolean closedWithin(Socket s, long ms) throws IOException {
    s.setSoTimeout((int) ms);
    InputStream in = s.getInputStream();
    try {
      while (in.read() >= 0) {
        // an answer (e.g. 503) before the close is fine
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  @Test
  void idleAndSlowClientsBeyondTheWorkersDoNotStallOthers() throws Exception {
    Echo echo = new Echo();
    int workers = 2;
    try (BoundedHttpServer server = start(echo, workers, 64, 60_000)) {
      int port = server.address().getPort();
      List<Socket> slow = new ArrayList<>();
      for (int i = 0; i < 3 * workers; i++) {
        slow.add(stalled(port, "")); // connected, nothing sent
        slow.add(stalled(port, "POST /score HTTP/1.1\r\nHost: x\r\n")); // headers never end
        slow.add(
            stalled(
                port, "POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")); // body
      }
      HttpClient http = HttpClient.newHttpClient();
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = post(http, port, "{\"n\":" + i + "}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("POST /score {\"n\":" + i + "}");
      }
      assertThat(echo.handled.get()).isEqualTo(20);
      assertThat(server.openConnections()).isGreaterThanOrEqualTo(slow.size());
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void aClientSlowerThanTheTimeoutsIsDisconnected() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 64, 500)) {
      int port = server.address().getPort();
      Socket idle = stalled(port, "");
      Socket headers = stalled(port, "GET / HTTP/1.1\r\n");
      Socket body = stalled(port, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12");
      // a client that trickles a byte now and then, each within the timeout, still gets cut off
      Socket trickle = stalled(port, "G");
      long deadline = System.currentTimeMillis() + 10_000;
      boolean cut = false;
      try {
        OutputStream out = trickle.getOutputStream();
        while (System.currentTimeMillis() < deadline) {
          Thread.sleep(200);
          out.write('E');
          out.flush();
        }
      } catch (IOException e) {
        cut = true;
      }
      assertThat(cut).as("the trickling client was cut off").isTrue();
      for (Socket s : List.of(idle, headers, body)) {
        assertThat(closedWithin(s, 10_000)).isTrue();
        s.close();
      }
      assertThat(server.timedOutConnections()).isGreaterThanOrEqualTo(4);
      assertThat(echo.handled.get()).isZero();
      trickle.close();
    }
  }

  @Test
  void connectionsOverTheCapAreRefusedAndTheServerRecoversWhenTheyClose() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 4, 60_000)) {
      int port = server.address().getPort();
      List<Socket> held = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        held.add(stalled(port, ""));
      }
      long deadline = System.currentTimeMillis() + 5_000;
      while (server.openConnections() < 4 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      try (Socket over = stalled(port, "GET / HTTP/1.1\r\n\r\n")) {
        over.setSoTimeout(5_000);
        String answer =
            new String(over.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(answer).startsWith("HTTP/1.1 503 ").contains("too many connections");
      }
      assertThat(server.rejectedConnections()).isEqualTo(1);
      // a probe is answered all the same: refused, it had a healthy replica restarted
      try (Socket probe = stalled(port, "GET /livez HTTP/1.1\r\n\r\n")) {
        probe.setSoTimeout(5_000);
        String answer =
            new String(probe.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(answer).startsWith("HTTP/1.1 200 ").contains("GET /livez");
      }
      assertThat(server.rejectedConnections()).isEqualTo(1);
      for (Socket s : held) {
        s.close();
      }
      deadline = System.currentTimeMillis() + 5_000;
      while (server.openConnections() > 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertThat(post(HttpClient.newHttpClient(), port, "again").statusCode()).isEqualTo(200);
    }
  }

  /**
   * Every request took a worker permit, probes included: with every worker busy scoring, a {@code
   * GET /livez} on a connection of its own got no answer until a worker was free, so a liveness
   * probe under load failed and had a healthy replica restarted.
   */
  @Test
  void aProbeIsAnsweredWhileEveryWorkerIsBusy() throws Exception {
    java.util.concurrent.CountDownLatch scoring = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Echo blocking =
        new Echo() {
          @Override
          public Response handle(Request r) {
            if (r.path().equals("/score")) {
              scoring.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return super.handle(r);
          }
        };
    try (BoundedHttpServer server = start(blocking, 1, 16, 60_000);
        Socket busy = stalled(server.address().getPort(), "POST /score HTTP/1.1\r\n\r\n");
        Socket probe = new Socket("127.0.0.1", server.address().getPort())) {
      scoring.await();
      probe.setSoTimeout((int) ANSWER_BOUND.toMillis());
      probe
          .getOutputStream()
          .write(
              "GET /livez HTTP/1.1\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      String answer;
      try {
        answer = new String(probe.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      } catch (SocketTimeoutException e) {
        answer = "no answer while the worker was busy";
      } finally {
        release.countDown();
      }
      assertThat(answer).startsWith("HTTP/1.1 200 ").endsWith("GET /livez ");
      // the worker's request is answered too, once it is let go
      busy.setSoTimeout((int) ANSWER_BOUND.toMillis());
      assertThat(response(busy.getInputStream())).startsWith("HTTP/1.1 200 ");
    }
  }

  @Test
  void chunkedBodiesContinueAndKeepAliveAreSpokenAndLargeBodiesGet413() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 8, 5_000);
        Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          ("POST /a?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("POST /a abcde");
      // the same connection: Expect: 100-continue
      out.write(
          "POST /b HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(line(in)).isEqualTo("HTTP/1.1 100 Continue");
      line(in);
      out.write("hi".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(response(in)).endsWith("POST /b hi");
      // over the limit of 1024 bytes, with the body drained so the answer is read
      out.write(
          ("POST /c HTTP/1.1\r\nContent-Length: 2000\r\n\r\n" + "x".repeat(2000))
              .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(response(in)).startsWith("HTTP/1.1 413 ").contains("at most 1024");
      // HEAD: the length, no body; then a close
      out.write(
          "HEAD /d HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String head = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(head)
          .startsWith("HTTP/1.1 200 OK")
          .contains("Content-Length: 8")
          .endsWith("\r\n\r\n");
      assertThat(echo.handled.get()).isEqualTo(3);
    }
  }

  /**
   * A chunk size near the largest long, after a first chunk, overflowed the check against the
   * limit: the connection's thread died on a negative read length and the client got no answer.
   */
  @Test
  void aChunkSizeThatOverflowsTheLimitsSumIsRefusedWith413() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 8, 5_000);
        Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout((int) ANSWER_BOUND.toMillis());
      s.getOutputStream()
          .write(
              ("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + "a\r\n0123456789\r\n7fffffffffffffff\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all;
      try {
        all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      } catch (SocketTimeoutException e) {
        all = "no answer";
      }
      assertThat(all).startsWith("HTTP/1.1 413 ").contains("longer than 1024");
      assertThat(echo.handled.get()).isZero();
    }
  }

  /**
   * A request with both a chunked body and a Content-Length was read as chunked and its connection
   * kept: what follows may be another request than a proxy before the server saw. It is refused and
   * the connection closed.
   */
  @Test
  void aBodyFramedBothChunkedAndByLengthIsRefusedAndTheConnectionClosed() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 8, 5_000);
        Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout(5_000);
      s.getOutputStream()
          .write(
              ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(all).startsWith("HTTP/1.1 400 ").contains("send one of them");
      assertThat(echo.handled.get()).isZero();
    }
  }

  /**
   * Two Content-Length headers that differ: the first was taken, where a proxy before the server
   * may take the last, and each would then see other requests on the connection. It is refused and
   * the connection closed; the same length twice is one length.
   */
  @Test
  void twoContentLengthsThatDifferAreRefusedAndTheConnectionClosed() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 8, 5_000)) {
      try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
        s.setSoTimeout((int) ANSWER_BOUND.toMillis());
        s.getOutputStream()
            .write(
                ("POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 8\r\n\r\n"
                        + "abcGET /b HTTP/1.1\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
        String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(all).startsWith("HTTP/1.1 400 ").contains("differ").doesNotContain("200 OK");
      }
      try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
        s.setSoTimeout((int) ANSWER_BOUND.toMillis());
        s.getOutputStream()
            .write(
                ("POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
                        + "Connection: close\r\n\r\nabc")
                    .getBytes(StandardCharsets.ISO_8859_1));
        String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(all).startsWith("HTTP/1.1 200 ").endsWith("POST /a abc");
      }
      assertThat(echo.handled.get()).isEqualTo(1);
    }
  }

  /**
   * A body sent under a transfer coding other than chunked (gzip, or chunked under another) was
   * read as no body at all: the handler answered a request the client did not send (an empty body,
   * "not a JSON object"), and the body's bytes were then read as the next request's head, the
   * connection held until the header timeout. It is refused naming the coding, and closed.
   */
  @Test
  void aTransferEncodingOtherThanChunkedIsRefusedNamingItAndTheConnectionClosed() throws Exception {
    Echo echo = new Echo();
    // timeouts far past the socket's: a connection held, not closed, fails the read
    try (BoundedHttpServer server = start(echo, 1, 8, 600_000)) {
      for (String coding : List.of("gzip", "chunked, gzip", "gzip, chunked")) {
        try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
          s.setSoTimeout((int) ANSWER_BOUND.toMillis());
          s.getOutputStream()
              .write(
                  ("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                          + coding
                          + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                      .getBytes(StandardCharsets.ISO_8859_1));
          String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
          assertThat(all)
              .as(coding)
              .startsWith("HTTP/1.1 400 ")
              .contains("Transfer-Encoding '" + coding + "'")
              .contains("Connection: close");
        }
      }
      assertThat(echo.handled.get()).isZero();
    }
  }

  /**
   * A client that ends a body with an extra CRLF (as some do after a POST) had its next request on
   * the kept-alive connection refused as "not an HTTP/1.x request line: ''" and the connection
   * closed. Empty lines before a request line are skipped (RFC 9112, 2.2).
   */
  @Test
  void emptyLinesBeforeARequestLineAreSkipped() throws Exception {
    Echo echo = new Echo();
    try (BoundedHttpServer server = start(echo, 1, 8, 5_000);
        Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout((int) ANSWER_BOUND.toMillis());
      s.getOutputStream()
          .write(
              ("\r\nPOST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\r\n"
                      + "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("POST /a hi");
      assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("GET /b ");
      assertThat(echo.handled.get()).isEqualTo(2);
    }
  }

  /**
   * A client that ends its body with an extra CRLF and then keeps its connection idle, as a pool
   * does between requests, is idle: its connection lasts the idle timeout, not the header timeout
   * that a request begun gets.
   */
  @Test
  void aConnectionIdleAfterAnExtraCrlfLastsTheIdleTimeout() throws Exception {
    Echo echo = new Echo();
    Duration header = Duration.ofMillis(300);
    try (BoundedHttpServer server =
            BoundedHttpServer.start(
                new InetSocketAddress("127.0.0.1", 0),
                new Limits(1, 8, header, header, Duration.ofSeconds(30), 1024),
                echo,
                "test-http");
        Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout((int) ANSWER_BOUND.toMillis());
      s.getOutputStream()
          .write(
              "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("POST /a hi");
      Thread.sleep(4 * header.toMillis()); // idle, well within the idle timeout
      s.getOutputStream()
          .write(
              "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("GET /b ");
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  /** One response: status line, headers, and its Content-Length of body, as text. */
  private static String response(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int length = 0;
    String l;
    while (!(l = line(in)).isEmpty()) {
      b.append(l).append('\n');
      if (l.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(l.substring(15).trim());
      }
    }
    b.append(new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
    return b.toString();
  }
}
