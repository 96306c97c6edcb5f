package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The foreground broker stops with an error on a fatal fault, and cleanly on Ctrl-C. */
class BrokerCommandTest {
  @Test
  void aFatalFaultStopsTheBrokerWithAnErrorNamingIt() throws Exception {
    AtomicInteger polls = new AtomicInteger();
    AtomicInteger closes = new AtomicInteger();
    RuntimeException fault =
        new RuntimeException("metadata loader", new IllegalStateException("cannot apply delta"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream before = System.err;
    int rc;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      rc =
          BrokerCommand.untilStoppedOrFault(
              new CountDownLatch(1),
              () -> polls.incrementAndGet() < 3 ? Optional.empty() : Optional.of(fault),
              1,
              closes::incrementAndGet);
    } finally {
      System.setErr(before);
    }

    assertThat(rc).isEqualTo(1);
    assertThat(polls).hasValue(3);
    assertThat(closes).as("broker closed").hasValue(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("fatal fault", "metadata loader", "cannot apply delta");
  }

  @Test
  void aStopWithoutAFaultEndsCleanlyAndLeavesClosingToTheShutdownHook() throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicInteger closes = new AtomicInteger();
    AtomicInteger polls = new AtomicInteger();

    int rc =
        BrokerCommand.untilStoppedOrFault(
            stopped,
            () -> {
              if (polls.incrementAndGet() == 2) {
                stopped.countDown();
              }
              return Optional.empty();
            },
            1,
            closes::incrementAndGet);

    assertThat(rc).isZero();
    assertThat(closes).hasValue(0);
  }

  @Test
  void aUsersFileGivesEachLinesUserAndRefusesABadLineWithoutShowingIt(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, "# test users\nstreamrec=pw 1=x\n\n  admin = s3cret\n");

    assertThat(BrokerCommand.readUsers(file))
        .containsExactly(Map.entry("streamrec", "pw 1=x"), Map.entry("admin", "s3cret"));

    Files.writeString(file, "streamrec=pw\nhunter2\n");
    assertThatThrownBy(() -> BrokerCommand.readUsers(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2: not NAME=PASSWORD")
        .hasMessageNotContaining("hunter2");
    Files.writeString(file, "a=1\na=2\n");
    assertThatThrownBy(() -> BrokerCommand.readUsers(file)).hasMessageContaining("user 'a' again");
    Files.writeString(file, "# none\n");
    assertThatThrownBy(() -> BrokerCommand.readUsers(file)).hasMessageEndingWith("names no user");
    assertThatThrownBy(() -> BrokerCommand.readUsers(dir.resolve("missing")))
        .hasMessageEndingWith(": no such file");
  }
}
