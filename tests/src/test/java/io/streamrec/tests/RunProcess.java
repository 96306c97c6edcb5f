package io.streamrec.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code streamrec <command> ...} in a JVM of its own, as a user starts it: the command line's main
 * class on this test's class path, its output to a file. It can be stopped as Ctrl-C stops it
 * ({@link #stop}) or killed outright with SIGKILL ({@link #kill}), which runs no shutdown hook.
 */
final class RunProcess implements AutoCloseable {
  /** The JDK packages Flink's serializers reflect into, as the {@code streamrec} launcher opens. */
  private static final List<String> OPENS =
      List.of(
          "java.base/java.lang",
          "java.base/java.lang.invoke",
          "java.base/java.lang.reflect",
          "java.base/java.io",
          "java.base/java.net",
          "java.base/java.nio",
          "java.base/sun.nio.ch",
          "java.base/java.text",
          "java.base/java.time",
          "java.base/java.util",
          "java.base/java.util.concurrent",
          "java.base/java.util.concurrent.atomic",
          "java.base/java.util.concurrent.locks",
          "java.base/java.math",
          "java.base/java.security");

  /** Enough heap for a small model and a local Flink. */
  private static final String HEAP = "-Xmx1g";

  /** How long a stopped process may take to cancel its job and exit. */
  private static final long STOP_TIMEOUT_S = 60;

  private final Process process;
  private final Path output;

  private RunProcess(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /** Starts {@code streamrec args...}; its output goes to {@code output}. */
  static RunProcess start(List<String> args, Path output) throws IOException {
    return start(args, output, Path.of(""));
  }

  /** As {@link #start(List, Path)}, in the working directory {@code dir}. */
  static RunProcess start(List<String> args, Path output, Path dir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(HEAP);
    for (String p : OPENS) {
      cmd.add("--add-opens=" + p + "=ALL-UNNAMED");
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.streamrec.cli.StreamrecCli");
    cmd.addAll(args);
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toAbsolutePath().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
            .start();
    return new RunProcess(p, output);
  }

  /** What it printed so far. */
  String output() {
    try {
      return Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + output + ": " + e + ")";
    }
  }

  /** Waits for the process to end by itself; its exit status, or -1 past {@code seconds}. */
  int await(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: the process ends at once, without its shutdown hooks. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(STOP_TIMEOUT_S, TimeUnit.SECONDS)) {
      throw new AssertionError("the process survived SIGKILL");
    }
  }

  /** SIGTERM, as Ctrl-C: the command cancels its job and exits. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(STOP_TIMEOUT_S, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(STOP_TIMEOUT_S, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
