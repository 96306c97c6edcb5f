package io.streamrec.traffic;

/**
 * One Kafka record to produce, with the outcome the job is expected to reach for it, so that a test
 * can check that every record ended in the right place. {@code value} is an array, so {@code
 * equals} compares it by identity; compare bytes with {@link java.util.Arrays#equals(byte[],
 * byte[])}.
 *
 * @param topic where to produce it
 * @param key the request id the record belongs to (a fresh one for an orphan); null for malformed
 *     bytes
 * @param timestampMs the record's timestamp: the event time inside it (for malformed bytes, that of
 *     the impression they were made from)
 * @param value Avro single-object bytes (or, for {@link Fate#MALFORMED}, bytes that are not)
 * @param fate what the job must do with it
 * @param trueCtr the true click probability of the impression it carries; NaN for requests,
 *     malformed bytes and non-finite positions. Over the {@link Fate#TRAIN} impressions these give
 *     the oracle AUC.
 * @param label the impression's click label (0 or 1); NaN for requests and malformed bytes
 */
public record OutgoingRecord(
    Topic topic,
    String key,
    long timestampMs,
    byte[] value,
    Fate fate,
    double trueCtr,
    float label) {

  public enum Topic {
    REQUESTS,
    IMPRESSIONS
  }

  /** Where a record must end up; each but TRAIN and DUPLICATE is a dead-letter reason. */
  public enum Fate {
    /** A request, or an original impression: trained on. */
    TRAIN,
    /** A byte-identical second copy of an impression: counted and dropped. */
    DUPLICATE,
    /** An impression whose request is never sent. */
    ORPHAN,
    /** An impression whose event time is at or past the end of its request's join window. */
    LATE,
    /** Bytes that are not a readable Avro single-object message. */
    MALFORMED,
    /** A readable impression with a NaN or infinite dense value. */
    NON_FINITE
  }

  public boolean isImpression() {
    return topic == Topic.IMPRESSIONS && fate != Fate.MALFORMED;
  }
}
