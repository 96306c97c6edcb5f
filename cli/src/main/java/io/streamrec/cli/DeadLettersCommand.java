package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code streamrec dead-letters}: the dead-letter topic in readable form, one line per record the
 * job could not train on (its reason, where it came from, its key and what was wrong), and the
 * count per reason.
 */
@Command(
    name = "dead-letters",
    mixinStandardHelpOptions = true,
    description =
        "Prints the dead-letters topic readably: per record the job could not train on, its reason,"
            + " the topic, partition and offset it was read at, its key and what was wrong; then the"
            + " count per reason. Reads from the earliest offset to the end, or keeps following"
            + " with --follow.")
final class DeadLettersCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--topic",
      description =
          "The dead-letter topic (default: --config's topics.dead-letters, else dead-letters).")
  String topic;

  @Option(
      names = "--reason",
      paramLabel = "REASON",
      description = "Print only the dead letters of this reason (late, orphan, malformed, ...).")
  String reason;

  @Option(
      names = "--payload",
      description =
          "Also print each record's event as it was sent, or the first 64 bytes in hex when they"
              + " are not an event.")
  boolean payload;

  @Mixin TopicReading reading = new TopicReading();

  /**
   * How many of the newest origins are kept to tell repeats: more than a restore writes again (the
   * dead letters since its checkpoint) at any rate a job sees, in about 40 MB.
   */
  static final int ORIGINS_KEPT = 1 << 20;

  /**
   * The newest records' origins listed: one seen again was written again by a restore. Bounded,
   * since a followed topic never ends.
   */
  private final RecentOrigins seen;

  private long repeats;

  DeadLettersCommand() {
    this(ORIGINS_KEPT);
  }

  DeadLettersCommand(int originsKept) {
    seen = new RecentOrigins(originsKept);
  }

  /** Origins kept now to tell repeats. */
  int originsKept() {
    return seen.size();
  }

  @Override
  public Integer call() {
    if (reason != null && !DeadLetterReasons.ALL.contains(reason)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--reason '"
              + reason
              + "' is not a reason a dead letter has; the reasons: "
              + String.join(", ", DeadLetterReasons.ALL));
    }
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Long> byReason = new TreeMap<>();
    reading.print(
        TopicSpec.deadLetters(reading.topic(topic, JobOptions.DEAD_LETTERS_TOPIC)),
        "streamrec-dead-letters",
        out,
        r -> describe(r, byReason),
        () -> summary(out, byReason));
    return 0;
  }

  /** The count of dead letters by reason, and of repeats, after the records. */
  void summary(PrintWriter out, Map<String, Long> byReason) {
    long total = byReason.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder sum = new StringBuilder(String.format(Locale.ROOT, "-- %,d dead letters", total));
    String sep = ": ";
    for (var e : byReason.entrySet()) {
      sum.append(sep)
          .append(printable(e.getKey()))
          .append(String.format(Locale.ROOT, " %,d", e.getValue()));
      sep = ", ";
    }
    if (repeats > 0) {
      sum.append(
          String.format(
              Locale.ROOT,
              "; %,d of them again a record listed before (a restore writes the dead letters"
                  + " since its checkpoint again, at least once; and jobs that read the same"
                  + " records, backfills of one range, each write their own)",
              repeats));
    }
    if (seen.forgot()) {
      sum.append(
          String.format(
              Locale.ROOT,
              "; repeats more than %,d dead letters apart are not told",
              seen.capacity()));
    }
    out.println(sum);
    out.flush();
  }

  /** The line of one record, or null when --reason leaves it out (it is still counted). */
  String describe(ConsumerRecord<byte[], byte[]> r, Map<String, Long> byReason) {
    String at = String.format(Locale.ROOT, "%s[%d]@%d", r.topic(), r.partition(), r.offset());
    DeadLetter d;
    try {
      d = AvroCodec.decode(r.value(), DeadLetter.class);
    } catch (StreamrecException e) {
      byReason.merge("(unreadable)", 1L, Long::sum);
      return at + " unreadable: " + printable(e.getMessage());
    }
    byReason.merge(d.getReason(), 1L, Long::sum);
    boolean again =
        d.getSourceOffset() >= 0
            && seen.seenAgain(
                d.getSourceTopic().toString(), d.getSourcePartition(), d.getSourceOffset());
    if (again) {
      repeats++;
    }
    if (reason != null && !reason.equals(d.getReason())) {
      return null;
    }
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%s %s: %s[%d]@%d key %s, %d bytes: %s",
                at,
                d.getReason(),
                d.getSourceTopic(),
                d.getSourcePartition(),
                d.getSourceOffset(),
                d.getKey() == null ? "-" : "'" + printable(d.getKey()) + "'",
                d.getPayloadBytes(),
                printable(d.getDetail())));
    if (again) {
      line.append(" (again: listed before)");
    }
    if (payload) {
      line.append("\n    ").append(event(d.getPayload()));
    }
    return line.toString();
  }

  /**
   * {@code s} with its control characters escaped ({@code \n}, {@code \u001b}): a key or value a
   * producer sent is printed as one line of text, not as lines or terminal codes of its own (a
   * request id holding a newline and "-- 999 dead letters" printed a summary of its own).
   */
  static String printable(CharSequence s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c == '\t') {
        out.append("\\t");
      } else if (Character.isISOControl(c)) {
        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  static String event(ByteBuffer payload) {
    byte[] bytes = new byte[payload.remaining()];
    payload.duplicate().get(bytes);
    try {
      return printable(AvroCodec.decodeAny(bytes).toString());
    } catch (StreamrecException e) {
      String unit = unit(bytes);
      if (unit != null) {
        return unit;
      }
      return "("
          + bytes.length
          + " bytes kept, not an event streamrec reads: "
          + printable(e.getMessage())
          + ")"
          + (bytes.length == 0 ? "" : "\n    " + hex(bytes));
    }
  }

  /**
   * A request unit of the request-units log (its compact form, never Avro), said in brief; null if
   * the bytes are none.
   */
  private static String unit(byte[] bytes) {
    io.streamrec.model.units.CompactUnit u;
    try {
      u = io.streamrec.model.units.CompactUnitCodec.decode(bytes);
    } catch (RuntimeException e) {
      return null;
    }
    return String.format(
        Locale.ROOT,
        "a request unit (the request-units log's form): request '%s', %d impressions, %d ids,"
            + " timed %d, closed at %d, layout %s",
        printable(u.requestId()),
        u.impressions(),
        u.ids().length,
        u.timestampMs(),
        u.closedAtMs(),
        Long.toHexString(u.layoutFingerprint()));
  }

  /** How many bytes of an unreadable payload --payload shows, in hex. */
  static final int HEX_BYTES = 64;

  /**
   * The first {@link #HEX_BYTES} bytes in hex, in groups of four, "..." after when there are more.
   */
  static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    int n = Math.min(bytes.length, HEX_BYTES);
    for (int i = 0; i < n; i++) {
      if (i > 0 && i % 4 == 0) {
        out.append(' ');
      }
      out.append(String.format(Locale.ROOT, "%02x", bytes[i]));
    }
    return out.append(bytes.length > n ? " ..." : "").toString();
  }
}
