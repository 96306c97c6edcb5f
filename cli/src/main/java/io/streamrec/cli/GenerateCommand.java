package io.streamrec.cli;

import io.streamrec.job.config.Timestamps;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code streamrec generate}: synthetic traffic as JSON-lines files in the interchange shape. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Writes synthetic requests and impressions (users and items with latent factors, Zipf popularity, "
          + "position bias, a country x category cross) as JSON-lines files in the interchange shape, "
          + "ready for 'streamrec produce'.",
      "Event times start at --start and advance by --spacing per request; the same seed writes the same files.",
      "--skip N with the seed, --start and --spacing of files of N requests writes the traffic that "
          + "follows them: the same users and items, new request ids, times going on from theirs."
    })
final class GenerateCommand implements Callable<Integer> {
  @Option(
      names = "--requests",
      paramLabel = "FILE",
      required = true,
      description = "Where to write the requests.")
  Path requests;

  @Option(
      names = "--impressions",
      paramLabel = "FILE",
      required = true,
      description = "Where to write the impressions.")
  Path impressions;

  @Option(
      names = "--count",
      defaultValue = "10000",
      description = "Requests to write (default ${DEFAULT-VALUE}).")
  int count;

  @Option(
      names = "--start",
      defaultValue = "2026-01-01T00:00:00Z",
      converter = Timestamps.class,
      description = "Event time of the first request (default ${DEFAULT-VALUE}).")
  long start;

  @Option(
      names = "--spacing",
      defaultValue = "20ms",
      converter = Durations.class,
      description = "Event time between requests (default ${DEFAULT-VALUE}).")
  java.time.Duration spacing;

  @Option(
      names = "--users",
      defaultValue = "2000",
      description = "Synthetic users (default ${DEFAULT-VALUE}).")
  int users;

  @Option(
      names = "--items",
      defaultValue = "1000",
      description = "Synthetic items (default ${DEFAULT-VALUE}).")
  int items;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}).")
  long seed;

  /**
   * Requests drawn before the first one written. Another seed was the only way to new request ids,
   * and it draws another world: every user's country and tastes, every item's category.
   */
  @Option(
      names = "--skip",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Draw the first N requests without writing them, so that the files go on from earlier"
              + " ones of N requests (default ${DEFAULT-VALUE}).")
  int skip;

  @Override
  public Integer call() throws IOException {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be >= 1, got " + count);
    }
    if (skip < 0) {
      throw new IllegalArgumentException("--skip must be >= 0, got " + skip);
    }
    if (start < 0) {
      throw new IllegalArgumentException(
          "--start must be at or after 1970-01-01T00:00:00Z (event times are ms since then), got "
              + java.time.Instant.ofEpochMilli(start));
    }
    try {
      Math.addExact(start, Math.multiplyExact((long) skip + count - 1, spacing.toMillis()));
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "--start "
              + java.time.Instant.ofEpochMilli(start)
              + " with --spacing "
              + spacing
              + " over "
              + ((long) skip + count)
              + " requests runs past the last event time there is: a smaller --spacing or --count");
    }
    if (requests.toAbsolutePath().normalize().equals(impressions.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException(
          "--requests and --impressions name the same file, "
              + requests
              + ": give each a file of its own");
    }
    for (Path p : new Path[] {requests, impressions}) {
      Path dir = p.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        throw new IllegalArgumentException(
            "cannot write " + p + ": there is no directory " + dir + " (create it first)");
      }
      if (Files.isDirectory(p)) {
        throw new IllegalArgumentException(
            "cannot write " + p + ": it is a directory; name a file (in it, or elsewhere)");
      }
    }
    TrafficGenerator g =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(seed).withUsers(users).withItems(items));
    for (int n = 0; n < skip; n++) {
      g.next(start + n * spacing.toMillis());
    }
    long imps = 0;
    try (Output r = new Output(requests);
        Output i = new Output(impressions)) {
      for (long n = skip; n < (long) skip + count; n++) {
        GeneratedRequest req = g.next(start + n * spacing.toMillis());
        r.line(JsonEvents.toJson(req.request()));
        for (ImpressionEvent e : req.impressions()) {
          i.line(JsonEvents.toJson(e));
          imps++;
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "streamrec generate: %,d requests to %s, %,d impressions to %s%n",
        count,
        requests,
        imps,
        impressions);
    return 0;
  }

  /**
   * One of the files written, whose failures (a full disk, a file of another user's) name it in one
   * line rather than a stack trace.
   */
  private static final class Output implements AutoCloseable {
    private final Path path;
    private final BufferedWriter writer;

    Output(Path path) {
      this.path = path;
      try {
        this.writer = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw cannotWrite(path, e);
      }
    }

    void line(String s) {
      try {
        writer.write(s);
        writer.newLine();
      } catch (IOException e) {
        throw cannotWrite(path, e);
      }
    }

    @Override
    public void close() {
      try {
        writer.close();
      } catch (IOException e) {
        throw cannotWrite(path, e);
      }
    }

    private static IllegalArgumentException cannotWrite(Path path, IOException e) {
      String why =
          e instanceof java.nio.file.FileSystemException f
              ? StreamrecCli.reason(f)
              : e.getMessage() != null ? e.getMessage() : e.toString();
      return new IllegalArgumentException("cannot write " + path + ": " + why, e);
    }
  }
}
