package io.streamrec.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a script or program for a test: its exit status and its output, stdout and stderr merged.
 */
record ScriptRun(int exit, String output) {
  /**
   * Runs {@code command} with {@code env} added to this process's environment; fails the test after
   * {@code timeoutS} seconds, with what it printed.
   */
  static ScriptRun run(List<String> command, Map<String, String> env, int timeoutS)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("streamrec-script", ".out");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError(
            "timed out after " + timeoutS + " s: " + command + "\n" + Files.readString(out));
      }
      return new ScriptRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
