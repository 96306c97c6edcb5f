package io.streamrec.schemas;

import java.util.List;

/** The reasons a record goes to the dead-letter topic. Each is also a counter name. */
public final class DeadLetterReasons {
  /** Bytes that are not a single-object Avro message of a known schema. */
  public static final String MALFORMED = "malformed";

  /** A single-object message whose schema fingerprint is not one streamrec knows. */
  public static final String UNKNOWN_SCHEMA = "unknown_schema";

  /** An event whose join window had already closed when it arrived. */
  public static final String LATE = "late";

  /** An impression whose request never arrived within the join window. */
  public static final String ORPHAN = "orphan";

  /** A NaN or infinite dense value or label. */
  public static final String NON_FINITE = "non_finite";

  /** A record over a configured size limit. */
  public static final String TOO_LARGE = "too_large";

  /**
   * An event time no clock could have given: before the configured floor, far ahead of the wall
   * clock, or far ahead of its partition's stream. Such a time never reaches a watermark.
   */
  public static final String IMPLAUSIBLE_TIME = "implausible_time";

  /** A label outside what the model's loss accepts ([0, 1]). */
  public static final String BAD_LABEL = "bad_label";

  /** A second copy of an event id whose content differs from the first copy's. */
  public static final String CONFLICTING_DUPLICATE = "conflicting_duplicate";

  public static final List<String> ALL =
      List.of(
          MALFORMED,
          UNKNOWN_SCHEMA,
          LATE,
          ORPHAN,
          NON_FINITE,
          TOO_LARGE,
          IMPLAUSIBLE_TIME,
          BAD_LABEL,
          CONFLICTING_DUPLICATE);

  private DeadLetterReasons() {}
}
