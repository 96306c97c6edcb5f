package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell the image and compose run, run here with bash: the image's {@code streamrec} launcher
 * (from the Dockerfile) against this build's classes, and the compose generator's loop with that
 * launcher, checking that what it sends is one continuous, duplicate-free stream.
 */
class ImageScriptsTest {
  private static final Pattern REQUEST =
      Pattern.compile("\"requestId\":\"(r(\\d+)-\\d+)\",\"timestampMs\":(\\d+)");

  @TempDir Path tmp;

  /**
   * Not a {@code @TempDir}: it holds links to the classpath's jars, which this class removes
   * itself.
   */
  private static Path home;

  private static Path launcher;

  /**
   * An install laid out as the image has it, {@code $STREAMREC_HOME/{bin,classes,lib}}, from this
   * test's classpath, with the launcher script taken from the Dockerfile.
   */
  @BeforeAll
  static void install() throws Exception {
    assumeThat(run(List.of("bash", "-c", "true"), Map.of(), 10).exit())
        .as("bash is available")
        .isZero();
    home = Files.createTempDirectory("streamrec-home");
    Path lib = Files.createDirectories(home.resolve("lib"));
    Files.createDirectories(home.resolve("classes"));
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    int n = 0;
    for (String entry : cp.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        Files.createSymbolicLink(lib.resolve(n++ + "-" + p.getFileName()), p);
      } else if (Files.isRegularFile(p.resolve("io/streamrec/cli/StreamrecCli.class"))) {
        Files.delete(home.resolve("classes"));
        Files.createSymbolicLink(home.resolve("classes"), p);
      }
    }
    launcher = Files.createDirectories(home.resolve("bin")).resolve("streamrec");
    Files.writeString(launcher, DeploymentFiles.imageLauncher());
    assertThat(launcher.toFile().setExecutable(true)).isTrue();
  }

  @AfterAll
  static void uninstall() throws IOException {
    if (home != null) {
      try (Stream<Path> files = Files.walk(home)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p); // a link is removed, never followed
        }
      }
    }
  }

  @Test
  void theLauncherOpensWhatTheRepositorysLauncherOpens() {
    List<String> image = DeploymentFiles.bashArray(DeploymentFiles.imageLauncher(), "opens");
    List<String> repo =
        DeploymentFiles.bashArray(
            DeploymentFiles.read(DeploymentFiles.root().resolve("streamrec")), "opens");
    assertThat(image).isNotEmpty().containsExactlyElementsOf(repo);
  }

  @Test
  void theLauncherRunsTheCommandLine() throws Exception {
    ScriptRun r =
        run(List.of(launcher.toString(), "--help"), Map.of("STREAMREC_HOME", home.toString()), 120);
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("Usage: streamrec", "generate", "produce", "run", "backfill");
  }

  @Test
  void theTopicScriptsAreValidBash() throws Exception {
    for (String script :
        List.of(DeploymentFiles.composeTopicsScript(), DeploymentFiles.k8sTopicsScript())) {
      ScriptRun r = run(List.of("bash", "-n", "-c", script), Map.of(), 10);
      assertThat(r.exit()).as(r.output()).isZero();
    }
  }

  /**
   * Runs the generator service's script for three 1-second batches, with {@code produce} replaced
   * by a stand-in that keeps what it is given: the three batches together are exactly what one
   * {@code generate} of the whole span writes, so the stream has no gap, no overlap and no repeat.
   */
  @Test
  void theComposeGeneratorSendsOneContinuousStream() throws Exception {
    List<String> cmd =
        DeploymentFiles.strings(
            DeploymentFiles.composeServices().get("generator").get("command"), "generator");
    assertThat(cmd.subList(0, 2)).containsExactly("bash", "-c");
    String script = cmd.get(2).replace("$$", "$");

    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path sent = Files.createDirectories(tmp.resolve("sent"));
    Files.writeString(
        bin.resolve("streamrec"),
        String.join(
            "\n",
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            "if [[ $1 == produce ]]; then",
            "  shift",
            "  while (( $# )); do",
            "    case $1 in",
            "      --requests) cat \"$2\" >> \"$SENT/requests.jsonl\"; shift 2 ;;",
            "      --impressions) cat \"$2\" >> \"$SENT/impressions.jsonl\"; shift 2 ;;",
            "      *) shift ;;",
            "    esac",
            "  done",
            "  echo batch >> \"$SENT/batches\"",
            "  if (( $(wc -l < \"$SENT/batches\") >= 3 )); then exit 42; fi",
            "  exit 0",
            "fi",
            "exec \"$LAUNCHER\" \"$@\"",
            ""));
    assertThat(bin.resolve("streamrec").toFile().setExecutable(true)).isTrue();

    Map<String, String> env =
        Map.of(
            "PATH",
            bin + File.pathSeparator + System.getenv("PATH"),
            "STREAMREC_HOME",
            home.toString(),
            "LAUNCHER",
            launcher.toString(),
            "SENT",
            sent.toString(),
            "RATE",
            "50",
            "BATCH_SECONDS",
            "1",
            "WORLD_BATCHES",
            "5");
    ScriptRun r = run(List.of("bash", "-c", script), env, 300);
    assertThat(r.exit())
        .as("the stand-in stops the loop after three batches\n" + r.output())
        .isEqualTo(42);

    List<String> requests = Files.readAllLines(sent.resolve("requests.jsonl"));
    List<String> impressions = Files.readAllLines(sent.resolve("impressions.jsonl"));
    assertThat(requests).hasSize(3 * 50);
    Set<String> ids = new HashSet<>();
    List<Long> times = new ArrayList<>();
    String seed = null;
    for (String line : requests) {
      Matcher m = REQUEST.matcher(line);
      assertThat(m.find()).as(line).isTrue();
      ids.add(m.group(1));
      seed = m.group(2);
      times.add(Long.parseLong(m.group(3)));
    }
    assertThat(ids).hasSize(requests.size());
    for (int i = 1; i < times.size(); i++) {
      assertThat(times.get(i) - times.get(i - 1))
          .as("event time step at request " + i)
          .isEqualTo(20);
    }
    assertThat(times.get(0))
        .isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(300_000L));

    // the same world in one go: what was sent, batch after batch, is exactly this
    Path allR = tmp.resolve("all-r.jsonl");
    Path allI = tmp.resolve("all-i.jsonl");
    ScriptRun g =
        run(
            List.of(
                launcher.toString(),
                "generate",
                "--seed",
                seed,
                "--start",
                String.valueOf(times.get(0)),
                "--spacing",
                "20ms",
                "--count",
                "150",
                "--requests",
                allR.toString(),
                "--impressions",
                allI.toString()),
            Map.of("STREAMREC_HOME", home.toString()),
            120);
    assertThat(g.exit()).as(g.output()).isZero();
    assertThat(requests).containsExactlyElementsOf(Files.readAllLines(allR));
    assertThat(impressions).isNotEmpty().containsExactlyElementsOf(Files.readAllLines(allI));
  }

  private static ScriptRun run(List<String> command, Map<String, String> env, int timeoutS)
      throws IOException, InterruptedException {
    return ScriptRun.run(command, env, timeoutS);
  }
}
