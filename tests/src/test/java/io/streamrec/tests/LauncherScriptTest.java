package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's {@code ./streamrec} launcher, run with bash against a stand-in Maven wrapper and
 * Java: the first build says what it is doing (each module, the downloads), a failed build shows
 * the end of its log with a hint, and a missing JDK or wrapper is named with the fix.
 */
class LauncherScriptTest {
  /** What the launcher and the stand-ins run. */
  private static final List<String> TOOLS =
      List.of(
          "bash", "sh", "env", "find", "sed", "tee", "tail", "grep", "mkdir", "touch", "cat", "tr",
          "dirname", "head", "rm", "flock", "sleep");

  @TempDir Path root;
  private Path bin;

  /** A copy of the launcher in a tree of its own, a stand-in mvnw and java on the PATH. */
  @BeforeEach
  void layOut() throws IOException, InterruptedException {
    assumeThat(run(List.of("bash", "-c", "true"), Map.of()).exit()).as("bash").isZero();
    Path repo = DeploymentFiles.root();
    Files.copy(repo.resolve("streamrec"), root.resolve("streamrec"));
    Files.createDirectories(root.resolve(".mvn/wrapper"));
    Files.copy(
        repo.resolve(".mvn/wrapper/maven-wrapper.properties"),
        root.resolve(".mvn/wrapper/maven-wrapper.properties"));
    bin = Files.createDirectories(root.resolve("fake-bin"));
    // the PATH holds these tools and no others: no real java, javac or mvn
    for (String tool : TOOLS) {
      for (String dir : List.of("/usr/bin", "/bin")) {
        Path real = Path.of(dir, tool);
        if (Files.isExecutable(real) && !Files.exists(bin.resolve(tool))) {
          Path shim = bin.resolve(tool);
          Files.writeString(shim, "#!/bin/sh\nexec " + real + " \"$@\"\n");
          assertThat(shim.toFile().setExecutable(true)).isTrue();
        }
      }
    }
    script(bin.resolve("java"), "echo \"java ran: ${@: -1}\"");
    script(bin.resolve("javac"), "true");
  }

  private static void script(Path file, String body) throws IOException {
    Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
    assertThat(file.toFile().setExecutable(true)).isTrue();
  }

  /** A stand-in wrapper that prints what Maven prints, then succeeds or fails. */
  private void mvnw(boolean succeed) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append("echo '[INFO] Scanning for projects...'\n");
    for (int i = 0; i < 250; i++) {
      b.append("echo '[INFO] Downloading from central: https://repo/x")
          .append(i)
          .append(".jar'\necho '[INFO] Downloaded from central: https://repo/x")
          .append(i)
          .append(".jar (1 kB at 2 kB/s)'\n");
    }
    b.append(
        "echo '[INFO] Building streamrec :: common 0.1.0-SNAPSHOT                     [2/13]'\n");
    if (succeed) {
      b.append("mkdir -p cli/target/classes && echo /x.jar > cli/target/classpath.txt\n")
          .append("echo '[INFO] BUILD SUCCESS'\n");
    } else {
      b.append(
              "echo '[ERROR] Failed to execute goal on project streamrec-common: Could not transfer"
                  + " artifact org.x:y:jar:1 from/to central: Connection refused'\n")
          .append("echo '[INFO] BUILD FAILURE'\nexit 1\n");
    }
    script(root.resolve("mvnw"), b.toString());
  }

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", bin.toString());
    env.put("MAVEN_USER_HOME", root.resolve("m2").toString());
    env.put("JAVA_HOME", "/nonexistent");
    return env;
  }

  @Test
  void theFirstBuildSaysWhatItDoesThenRunsTheCommand() throws Exception {
    mvnw(true);
    ScriptRun r = run(List.of("bash", root.resolve("streamrec").toString(), "--help"), env());
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output())
        .contains(
            "streamrec: building streamrec (./mvnw -DskipTests install; log: ",
            "the Maven wrapper first downloads Maven 3.9.9 (about 10 MB)",
            "streamrec:   ... 100 files downloaded",
            "streamrec:   250 files downloaded",
            "streamrec:   Building streamrec :: common 0.1.0-SNAPSHOT [2/13]",
            "java ran: --help");

    ScriptRun again = run(List.of("bash", root.resolve("streamrec").toString(), "demo"), env());
    assertThat(again.output()).doesNotContain("building").contains("java ran: demo");
  }

  /**
   * Two commands started together on a tree that needs building (the README's {@code ./streamrec
   * broker &} then {@code ./streamrec generate}) build once: the second waits for the first's
   * build. Before, both built over each other, and the broker's failed with classes half written.
   */
  @Test
  void twoCommandsStartedTogetherBuildOnceTheSecondWaitingForTheFirst() throws Exception {
    assumeThat(Files.exists(bin.resolve("flock"))).as("flock").isTrue();
    script(
        root.resolve("mvnw"),
        "echo build >> builds.txt\nsleep 2\n"
            + "mkdir -p cli/target/classes && echo /x.jar > cli/target/classpath.txt\n"
            + "echo '[INFO] BUILD SUCCESS'");
    Path firstOut = root.resolve("first.out");
    ProcessBuilder first =
        new ProcessBuilder("bash", root.resolve("streamrec").toString(), "broker")
            .redirectErrorStream(true)
            .redirectOutput(firstOut.toFile());
    first.environment().putAll(env());
    Process started = first.start();
    Thread.sleep(500); // the first is building
    ScriptRun second =
        run(List.of("bash", root.resolve("streamrec").toString(), "generate"), env());
    assertThat(started.waitFor()).isZero();

    assertThat(second.exit()).as(second.output()).isZero();
    assertThat(second.output())
        .contains("another streamrec command is building streamrec; waiting for it")
        .contains("java ran: generate")
        .doesNotContain("building streamrec (");
    assertThat(Files.readString(firstOut)).contains("java ran: broker");
    assertThat(Files.readAllLines(root.resolve("builds.txt"))).hasSize(1);
  }

  @Test
  void aFailedBuildShowsTheEndOfItsLogAndWhatToCheck() throws Exception {
    mvnw(false);
    ScriptRun r = run(List.of("bash", root.resolve("streamrec").toString(), "demo"), env());
    assertThat(r.exit()).isNotZero();
    assertThat(r.output())
        .contains(
            "streamrec:   [ERROR] Failed to execute goal",
            "streamrec: the build failed (exit 1); the end of its log:",
            "could not download what it needs: check the network",
            "the whole log: " + root.resolve("cli/target/launcher-build.log"))
        .doesNotContain("java ran");
  }

  @Test
  void withoutAJdkOrTheWrapperItSaysWhatToInstall() throws Exception {
    mvnw(true);
    Files.delete(bin.resolve("javac"));
    ScriptRun noJdk = run(List.of("bash", root.resolve("streamrec").toString(), "demo"), env());
    assertThat(noJdk.exit()).isEqualTo(3);
    assertThat(noJdk.output()).contains("needs a JDK 17 or newer", "javac is not on the PATH");

    script(bin.resolve("javac"), "true");
    Files.delete(root.resolve("mvnw"));
    ScriptRun noWrapper = run(List.of("bash", root.resolve("streamrec").toString(), "demo"), env());
    assertThat(noWrapper.exit()).isEqualTo(3);
    assertThat(noWrapper.output()).contains("the Maven wrapper that builds streamrec, is missing");
  }

  private static ScriptRun run(List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    return ScriptRun.run(command, env, 60);
  }
}
