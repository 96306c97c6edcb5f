package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.deadletter.DeadLetters;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.JsonEvents;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * A dead letter reads as its reason, where its record came from and what was wrong; before, {@code
 * tail} took every one for an unknown model-update record, and nothing showed why records were
 * dead-lettered.
 */
class DeadLettersCommandTest {
  private static ConsumerRecord<byte[], byte[]> record(long offset, DeadLetter d) {
    return new ConsumerRecord<>(
        "dead-letters",
        0,
        offset,
        d.getKey() == null ? null : d.getKey().getBytes(StandardCharsets.UTF_8),
        AvroCodec.encode(d));
  }

  private static final String IMPRESSION =
      "{\"impressionId\":\"r7-0\",\"requestId\":\"r7\",\"timestampMs\":5,\"labels\":{\"click\":1}}";

  private static DeadLetter orphan() {
    return DeadLetters.of(
        "orphan",
        new DeadLetters.Origin("impressions", 1, 586, "r7", 5),
        "no request 'r7' arrived within the join window of 10000 ms",
        AvroCodec.encode(JsonEvents.parseImpression(IMPRESSION)),
        65_536);
  }

  @Test
  void aDeadLetterReadsAsItsReasonOriginKeyAndDetailAndIsCounted() {
    DeadLettersCommand c = new DeadLettersCommand();
    Map<String, Long> counts = new TreeMap<>();

    String line = c.describe(record(12, orphan()), counts);

    assertThat(line)
        .startsWith("dead-letters[0]@12 orphan: impressions[1]@586 key 'r7', ")
        .endsWith(" bytes: no request 'r7' arrived within the join window of 10000 ms");
    c.payload = true;
    // the same record's dead letter again (a restore writes those since its checkpoint again)
    assertThat(c.describe(record(13, orphan()), counts))
        .contains("10000 ms (again: listed before)\n")
        .contains("\n    {\"impressionId\": \"r7-0\", \"requestId\": \"r7\"");
    DeadLetter garbage =
        DeadLetters.of(
            "malformed",
            new DeadLetters.Origin("requests", 0, 3, null, -1),
            "not an Avro single-object message",
            new byte[] {1, 2, 3},
            65_536);
    assertThat(c.describe(record(14, garbage), counts))
        .contains("malformed: requests[0]@3 key -, 3 bytes")
        .contains("(3 bytes kept, not an event streamrec reads")
        .endsWith("\n    010203"); // the bytes themselves, which no event shows
    byte[] long70 = new byte[70];
    long70[0] = (byte) 0xab;
    assertThat(DeadLettersCommand.hex(long70))
        .startsWith("ab000000 00000000 ")
        .endsWith(" ...")
        .hasSize(64 * 2 + 15 + 4);
    assertThat(counts).containsExactly(Map.entry("malformed", 1L), Map.entry("orphan", 2L));
  }

  /**
   * A request id holding a newline and "-- 999 dead letters: late 999" printed a forged summary
   * line of its own; terminal codes in a key reached the terminal.
   */
  @Test
  void aProducersKeyAndValuesPrintAsOneLineWithTheirControlCharactersEscaped() {
    DeadLetter forged =
        DeadLetters.of(
            "orphan",
            new DeadLetters.Origin("impressions", 1, 586, "r7\n-- 999 dead letters: late 999", 5),
            "no request 'r7\n-- 999' arrived \u001b[2J",
            AvroCodec.encode(
                JsonEvents.parseImpression(IMPRESSION.replace("\"r7-0\"", "\"r7\\n-0\""))),
            65_536);
    DeadLettersCommand c = new DeadLettersCommand();
    c.payload = true;
    String line = c.describe(record(12, forged), new TreeMap<>());
    assertThat(line.lines()).hasSize(2); // the record's line and its payload's
    assertThat(line)
        .contains("key 'r7\\n-- 999 dead letters: late 999'")
        .contains("arrived \\u001b[2J")
        .contains("r7\\n-0");
  }

  /**
   * {@code dead-letters --follow} kept the origin of every dead letter it ever printed, to tell the
   * ones a restore writes again: following a live job's dead letters for weeks, its memory grew
   * with each one until the process ran out of heap. It keeps the newest origins only, as many as a
   * restore writes again, and says when repeats further apart are not told.
   */
  @Test
  void theOriginsKeptToTellRepeatsStayBoundedWhateverIsFollowed() {
    DeadLettersCommand c = new DeadLettersCommand(1_000);
    Map<String, Long> counts = new TreeMap<>();
    for (long offset = 0; offset < 5_000; offset++) {
      DeadLetter d =
          DeadLetters.of(
              "late",
              new DeadLetters.Origin("impressions", 1, offset, "r" + offset, 5),
              "its unit had already closed",
              new byte[] {1},
              65_536);
      assertThat(c.describe(record(offset, d), counts)).doesNotContain("(again");
    }
    assertThat(c.originsKept()).isLessThanOrEqualTo(1_000);
    // a repeat among the newest is still told
    DeadLetter again =
        DeadLetters.of(
            "late",
            new DeadLetters.Origin("impressions", 1, 4_990, "r4990", 5),
            "its unit had already closed",
            new byte[] {1},
            65_536);
    assertThat(c.describe(record(5_000, again), counts)).contains("(again: listed before)");
    java.io.StringWriter out = new java.io.StringWriter();
    c.summary(new java.io.PrintWriter(out), counts);
    assertThat(out.toString())
        .contains("1 of them again a record listed before")
        .contains("more than 1,000 dead letters apart are not told");
  }

  /** A reason no dead letter has (a typo: orphans) printed nothing and the whole summary. */
  @Test
  void aReasonThatIsNoneIsRefusedWithTheReasons() {
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cl = StreamrecCli.commandLine();
    cl.setErr(new java.io.PrintWriter(err, true));
    int rc =
        cl.execute("dead-letters", "--bootstrap-servers", "localhost:1", "--reason", "orphans");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .startsWith(
            "streamrec dead-letters: --reason 'orphans' is not a reason a dead letter has; the"
                + " reasons: malformed,")
        .contains(" orphan,")
        .doesNotContain("Usage:");
  }

  @Test
  void aReasonFilterPrintsOnlyItsOwnButCountsEvery() {
    DeadLettersCommand c = new DeadLettersCommand();
    c.reason = "late";
    Map<String, Long> counts = new TreeMap<>();

    assertThat(c.describe(record(1, orphan()), counts)).isNull();
    assertThat(
            c.describe(
                new ConsumerRecord<>("dead-letters", 0, 2, null, "not avro".getBytes()), counts))
        .startsWith("dead-letters[0]@2 unreadable: ");
    assertThat(counts).containsEntry("orphan", 1L).containsEntry("(unreadable)", 1L);
  }

  /**
   * A dead letter of the request-units log kept its unit's bytes, which --payload called "not an
   * Avro single-object message": units are never Avro. It says the unit in brief.
   */
  @Test
  void aUnitsLogPayloadIsShownAsTheUnitItHolds() {
    io.streamrec.traffic.GeneratedRequest g =
        new io.streamrec.traffic.TrafficGenerator(io.streamrec.traffic.TrafficConfig.defaults())
            .next(1_000);
    byte[] bytes =
        io.streamrec.model.units.CompactUnitCodec.encode(
            new io.streamrec.model.units.UnitEncoder(
                    new io.streamrec.model.units.UnitLayout(
                        io.streamrec.model.ModelConfig.defaults().features()))
                .encode(io.streamrec.model.RequestUnits.of(g.request(), g.impressions(), 11_000)));
    assertThat(DeadLettersCommand.event(java.nio.ByteBuffer.wrap(bytes)))
        .startsWith("a request unit (the request-units log's form): request '")
        .contains(g.impressions().size() + " impressions", "timed 1000, closed at 11000");
    assertThat(DeadLettersCommand.event(java.nio.ByteBuffer.wrap(new byte[] {9, 9, 9})))
        .startsWith("(3 bytes kept, not an event streamrec reads");
  }
}
