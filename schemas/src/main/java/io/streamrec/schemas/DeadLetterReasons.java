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

  public static final List<String> ALL =
      List.of(MALFORMED, UNKNOWN_SCHEMA, LATE, ORPHAN, NON_FINITE, TOO_LARGE);

  private DeadLetterReasons() {}
}
