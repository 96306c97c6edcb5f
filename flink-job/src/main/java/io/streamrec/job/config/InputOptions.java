package io.streamrec.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/**
 * Keys of the bounds that keep a hostile or broken producer from stopping, freezing or exhausting
 * the job: which event times are believed, how large a feature list, a unit and a dead letter may
 * be. {@link InputLimits#from} validates them.
 */
public final class InputOptions {
  private InputOptions() {}

  public static final ConfigOption<String> MIN_TIMESTAMP =
      key("source.min-timestamp")
          .stringType()
          .defaultValue("1970-01-01T00:00:00Z")
          .withDescription(
              "Events timed before this (epoch ms or an ISO-8601 instant) go to the dead-letter topic"
                  + " as implausible_time.");
  public static final ConfigOption<Duration> MAX_FUTURE =
      key("source.max-future")
          .durationType()
          .defaultValue(Duration.ofMinutes(5))
          .withDescription(
              "Events timed more than this ahead of the wall clock go to the dead-letter topic as"
                  + " implausible_time, before they reach a watermark (0 = no bound). An event"
                  + " within it moves event time on for every event: one producer whose clock runs"
                  + " this much fast (a time zone taken for UTC) makes events on time late by as"
                  + " much.");
  public static final ConfigOption<Duration> MAX_TIME_JUMP =
      key("source.max-time-jump")
          .durationType()
          .defaultValue(Duration.ofHours(1))
          .withDescription(
              "An event more than this ahead of the newest time of its partition goes to the"
                  + " dead-letter topic as implausible_time, unless the partition's next record"
                  + " confirms the jump (a quiet spell then costs its first record). A partition's"
                  + " newest time is not kept in checkpoints: after a restart, the first record read"
                  + " from each partition is its reference, unchecked against this bound. 0 = no"
                  + " bound. With source.kind=units it bounds only how far a record's timestamp may"
                  + " be from its unit's close (further: malformed): the log's writer held its events"
                  + " to it, and a quiet spell in the log costs no unit.");
  public static final ConfigOption<Integer> MAX_IDS_PER_FEATURE =
      key("source.max-ids-per-feature")
          .intType()
          .defaultValue(1000)
          .withDescription(
              "An event with more values than this in one categorical feature goes to the"
                  + " dead-letter topic as too_large.");
  public static final ConfigOption<Integer> MAX_IDS_PER_UNIT =
      key("assembler.max-ids-per-unit")
          .intType()
          .defaultValue(1 << 16)
          .withDescription(
              "Ids one unit may hold, its request's and all its impressions': an impression that"
                  + " would take its unit past this goes to the dead-letter topic as too_large when"
                  + " it arrives. (A unit also never takes more rows of a table than the table keeps"
                  + " hot, model.table.hot-capacity-rows: what is beyond is too_large too.)");
  public static final ConfigOption<Integer> MAX_UNIT_BYTES =
      key("assembler.max-unit-bytes")
          .intType()
          .defaultValue(16 << 20)
          .withDescription(
              "Bytes of events one open unit may keep in the assembler's state: an impression that"
                  + " would take its unit past this goes to the dead-letter topic as too_large when it"
                  + " arrives.");
  public static final ConfigOption<Integer> DEAD_LETTER_MAX_PAYLOAD_BYTES =
      key("sink.dead-letters.max-payload-bytes")
          .intType()
          .defaultValue(64 << 10)
          .withDescription(
              "A dead letter keeps at most this many of its record's bytes, with their full length"
                  + " and SHA-256, so that writing one never fails for size (at most 512 KiB).");
}
