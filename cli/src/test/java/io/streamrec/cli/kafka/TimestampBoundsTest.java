package io.streamrec.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.junit.jupiter.api.Test;

class TimestampBoundsTest {
  private static final long NOW = 1_767_225_600_000L;

  private static Config settings(String type, String before, String after) {
    return new Config(
        List.of(
            new ConfigEntry(TimestampBounds.TYPE, type),
            new ConfigEntry(TimestampBounds.BEFORE, before),
            new ConfigEntry(TimestampBounds.AFTER, after)));
  }

  @Test
  void aTopicOfCreateTimeTakesTheTimesWithinItsBoundsOnly() {
    TimestampBounds b =
        TimestampBounds.of(settings("CreateTime", "86400000", "3600000")); // a day back, 1 h on
    assertThat(b.refusal("requests", NOW + 3_600_000, NOW)).isNull();
    assertThat(b.refusal("requests", NOW - 86_400_000, NOW)).isNull();
    assertThat(b.refusal("requests", NOW + 3_600_001 + 7_200_000, NOW))
        .isEqualTo(
            "topic 'requests' takes record times up to 60 min ahead of the broker's clock"
                + " (message.timestamp.after.max.ms): this event is 3.0 h ahead of this"
                + " machine's, not sent (the broker would refuse it, and every event sent with"
                + " it)");
    assertThat(b.refusal("requests", NOW - 3L * 86_400_000, NOW))
        .startsWith(
            "topic 'requests' takes record times up to 24.0 h behind the broker's clock"
                + " (message.timestamp.before.max.ms): ")
        .contains("this event is 3.0 days behind this machine's");
  }

  /**
   * A time in microseconds was refused as "this event is 20773860.3 days ahead of this machine's"
   * alone: refused before the load's check of units saw it, it never got the warning that names
   * microseconds.
   */
  @Test
  void aRefusedTimeInAnotherUnitNamesTheUnit() {
    TimestampBounds b = TimestampBounds.of(settings("CreateTime", "86400000", "3600000"));
    assertThat(b.refusal("requests", NOW * 1000, NOW))
        .contains("days ahead of this machine's")
        .endsWith(
            ". Its timestampMs, "
                + NOW * 1000
                + ", looks like microseconds, not milliseconds since"
                + " the epoch");
    assertThat(b.refusal("requests", NOW * 1_000_000, NOW))
        .endsWith("looks like nanoseconds, not milliseconds since the epoch");
    assertThat(b.refusal("requests", NOW / 1000, NOW))
        .contains("behind this machine's")
        .endsWith("looks like seconds, not milliseconds since the epoch");
    assertThat(b.refusal("requests", NOW + 7_200_000, NOW)).doesNotContain("looks like");
  }

  @Test
  void aTopicThatStampsRecordsItselfOrSaysNothingTakesEveryTime() {
    TimestampBounds appended = TimestampBounds.of(settings("LogAppendTime", "0", "0"));
    assertThat(appended.refusal("requests", NOW + 10 * 86_400_000L, NOW)).isNull();
    TimestampBounds unknown = TimestampBounds.of(new Config(List.of()));
    assertThat(unknown.refusal("requests", Long.MAX_VALUE, NOW)).isNull();
    assertThat(unknown.refusal("requests", 1, NOW)).isNull();
  }

  /**
   * A broker before Kafka 3.6 has one bound each way, message.timestamp.difference.max.ms; one of
   * 3.6 to 3.9 takes it for a bound of the new names left at its default (which it reports).
   */
  @Test
  void anOlderBrokersOneBoundCountsBothWays() {
    for (TimestampBounds b :
        List.of(
            TimestampBounds.of(
                new Config(
                    List.of(
                        new ConfigEntry(TimestampBounds.TYPE, "CreateTime"),
                        new ConfigEntry(TimestampBounds.DIFFERENCE, "3600000")))),
            TimestampBounds.of(
                new Config(
                    List.of(
                        new ConfigEntry(TimestampBounds.TYPE, "CreateTime"),
                        new ConfigEntry(TimestampBounds.BEFORE, String.valueOf(Long.MAX_VALUE)),
                        new ConfigEntry(TimestampBounds.AFTER, String.valueOf(Long.MAX_VALUE)),
                        new ConfigEntry(TimestampBounds.DIFFERENCE, "3600000")))))) {
      assertThat(b.refusal("requests", NOW + 7_200_000, NOW))
          .contains("ahead of the broker's clock (message.timestamp.difference.max.ms)");
      assertThat(b.refusal("requests", NOW - 7_200_000, NOW)).contains("behind");
      assertThat(b.refusal("requests", NOW - 1_800_000, NOW)).isNull();
    }
  }
}
