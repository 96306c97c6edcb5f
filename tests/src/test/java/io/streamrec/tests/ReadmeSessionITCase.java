package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.testutils.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "session with a broker of your own", run as written: each {@code ./streamrec} line
 * in a JVM of its own, in one working directory, with the broker's and the replica's ports swapped
 * for free ones (and so in the copy of {@code examples/streamrec.yaml} it names). Each command that
 * ends must end with status 0; the {@code curl} line's request must get the response the README
 * shows under it (its version exactly, its score to the 4 digits shown, give or take a unit of the
 * last on a GPU); and the live {@code run}, started from the backfill's handoff, must train the
 * traffic produced after it, so that the replica goes on to newer versions of the model it served,
 * without a switch. (Before the session's {@code run} said {@code --replace}, it stopped at once:
 * the topic held the backfill's model; with {@code --replace} it retrained from the topics' start.)
 */
class ReadmeSessionITCase {
  private static final Path ROOT = DeploymentFiles.root();
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

  @TempDir Path dir;

  /** The lines of the README's session block, continuation lines joined. */
  private static List<String> session() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    int at = readme.indexOf("A session with a broker of your own:");
    assertThat(at).as("the README's session").isNotNegative();
    int start = readme.indexOf("```bash\n", at) + "```bash\n".length();
    int end = readme.indexOf("```", start);
    List<String> lines = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String l : readme.substring(start, end).split("\n")) {
      if (cur.length() > 0 && l.startsWith("  ")) {
        cur.append(' ').append(l.strip()); // the curl line goes on
        continue;
      }
      if (cur.length() > 0) {
        lines.add(cur.toString());
      }
      cur = new StringBuilder(l);
    }
    if (cur.length() > 0) {
      lines.add(cur.toString());
    }
    return lines;
  }

  /** A command line's words: no quotes in the session's streamrec lines, a comment after '#'. */
  private static List<String> words(String line) {
    int hash = line.indexOf(" #");
    String l = (hash >= 0 ? line.substring(0, hash) : line).strip();
    List<String> w = new ArrayList<>(Arrays.asList(l.split("\\s+")));
    if (w.get(w.size() - 1).equals("&")) {
      w.remove(w.size() - 1);
    }
    return w.subList(1, w.size()); // without ./streamrec
  }

  private static void awaitOutput(RunProcess p, String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!p.output().contains(text)) {
      assertThat(p.isAlive()).as("still running, waiting for '%s':%n%s", text, p.output()).isTrue();
      assertThat(System.nanoTime()).as("'%s' in time:%n%s", text, p.output()).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private static JsonNode get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    return new ObjectMapper().readTree(r.body());
  }

  @Test
  void theReadmesSessionRunsAsWritten() throws Exception {
    int kafkaPort = Ports.free();
    int httpPort = Ports.free();
    String kafka = "localhost:" + kafkaPort;
    Files.createDirectories(dir.resolve("examples"));
    Files.writeString(
        dir.resolve("examples/streamrec.yaml"),
        Files.readString(ROOT.resolve("examples/streamrec.yaml")).replace("localhost:9092", kafka));

    List<RunProcess> background = new ArrayList<>();
    HttpClient http = HttpClient.newHttpClient();
    String backfillModel = null;
    int commands = 0;
    boolean scored = false;
    RunProcess live = null;
    long backfillVersion = 0;
    try {
      List<String> lines = session();
      for (int i = 0; i < lines.size(); i++) {
        String line =
            lines
                .get(i)
                .replace("localhost:9092", kafka)
                .replace("--port 9092", "--port " + kafkaPort)
                .replace("localhost:8080", "localhost:" + httpPort)
                .replace("--port 8080", "--port " + httpPort);
        if (line.startsWith("curl ")) {
          Matcher body = Pattern.compile("-d '(.*)'").matcher(line);
          assertThat(body.find()).as(line).isTrue();
          Matcher url = Pattern.compile("curl -s (\\S+)").matcher(line);
          assertThat(url.find()).isTrue();
          String shown = lines.get(i + 1);
          assertThat(shown).as("the response the README shows").startsWith("# {");
          JsonNode expected = new ObjectMapper().readTree(shown.substring(2));
          JsonNode got = scoreOnceServing(http, "http://" + url.group(1), body.group(1), httpPort);
          assertThat(got.path("version").asLong()).isEqualTo(expected.path("version").asLong());
          assertThat(got.path("scores").get(0).asDouble())
              .isCloseTo(expected.path("scores").get(0).asDouble(), within(2e-4));
          JsonNode health = get(http, "http://localhost:" + httpPort + "/healthz");
          backfillModel = health.path("model").asText();
          backfillVersion = health.path("version").asLong();
          scored = true;
          continue;
        }
        if (!line.startsWith("./streamrec ")) {
          continue;
        }
        List<String> args = words(line);
        commands++;
        Path out = dir.resolve("out-" + i + "-" + args.get(0) + ".txt");
        RunProcess p = RunProcess.start(args, out, dir);
        switch (args.get(0)) {
          case "broker" -> {
            background.add(p);
            awaitOutput(p, "listening at", COMMAND_TIMEOUT);
          }
          case "serve" -> background.add(p); // ready once the curl line below finds it so
          case "run" -> {
            background.add(p);
            assertThat(backfillModel).as("the replica served the backfill first").isNotNull();
            awaitOutput(p, "going on from the handoff", COMMAND_TIMEOUT);
            live = p;
          }
          default -> {
            int status = p.await(COMMAND_TIMEOUT.toSeconds());
            assertThat(status).as("%s:%n%s", line, p.output()).isZero();
            p.close();
          }
        }
      }
      assertThat(live).as("the session runs the live job").isNotNull();
      assertThat(live.output().split("present and served", -1))
          .as("run checks its topics once before it starts:%n%s", live.output())
          .hasSize(2);
      // the traffic produced after run reaches the replica as new versions of the same model
      long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
      while (true) {
        assertThat(live.isAlive()).as("run still runs:%n%s", live.output()).isTrue();
        JsonNode h = get(http, "http://localhost:" + httpPort + "/healthz");
        assertThat(h.path("model").asText())
            .as("the replica keeps the backfill's model; run said:%n%s", live.output())
            .isEqualTo(backfillModel);
        if (h.path("version").asLong() > backfillVersion + 3) {
          break;
        }
        assertThat(System.nanoTime())
            .as("the replica reaches run's versions; run said:%n%s", live.output())
            .isLessThan(deadline);
        Thread.sleep(500);
      }
    } finally {
      for (int k = background.size() - 1; k >= 0; k--) {
        background.get(k).stop();
      }
    }
    assertThat(commands).as("streamrec lines in the session").isGreaterThanOrEqualTo(7);
    assertThat(scored).as("the curl line was sent").isTrue();
  }

  /** POSTs {@code body} to {@code url} once the replica on {@code port} is ready. */
  private static JsonNode scoreOnceServing(HttpClient http, String url, String body, int port)
      throws Exception {
    long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
    while (true) {
      try {
        JsonNode h = get(http, "http://localhost:" + port + "/healthz");
        if (h.path("status").asText().equals("serving") && h.path("lag_records").asLong() == 0) {
          break;
        }
      } catch (IOException notYet) {
        // the server is not listening yet
      }
      assertThat(System.nanoTime()).as("the replica serves in time").isLessThan(deadline);
      Thread.sleep(300);
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body());
  }
}
