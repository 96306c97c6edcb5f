package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo stopped as a user stops it (Ctrl-C, SIGTERM) while it trains: it cancelled its job and
 * exited, and left its embedded broker's whole log (megabytes a minute) in the temporary directory
 * every time, its clean-up never run. The broker is closed and its data deleted once the job ended.
 */
class DemoStopITCase {
  private static final Pattern BROKER_DATA = Pattern.compile("data in (\\S+?),");

  @TempDir Path dir;

  @Test
  void aStoppedDemoLeavesNoBrokerDataBehind() throws Exception {
    Path output = dir.resolve("demo.out");
    Path data;
    try (RunProcess demo = RunProcess.start(List.of("demo", "--duration", "5min"), output)) {
      long deadline = System.currentTimeMillis() + 120_000;
      while (!demo.output().contains("trained ")) {
        assertThat(demo.isAlive()).as(demo.output()).isTrue();
        assertThat(System.currentTimeMillis()).as(demo.output()).isLessThan(deadline);
        Thread.sleep(200);
      }
      Matcher m = BROKER_DATA.matcher(demo.output());
      assertThat(m.find()).as(demo.output()).isTrue();
      data = Path.of(m.group(1));
      assertThat(data).exists();
      demo.stop();
    }
    String printed = Files.readString(output);
    assertThat(printed).contains("streamrec demo: stopped");
    assertThat(data).as("the broker's data after the stop").doesNotExist();
  }
}
