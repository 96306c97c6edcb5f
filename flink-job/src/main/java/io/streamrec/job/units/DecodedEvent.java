package io.streamrec.job.units;

import io.streamrec.model.units.EventPart;
import io.streamrec.schemas.DeadLetter;

/**
 * What a source hands the job for one Kafka record: the event's part, or the dead letter saying why
 * there is none. A dead letter's event time is {@link Long#MIN_VALUE}, so the watermark, which
 * takes the largest time seen, is never moved by a record whose time cannot be trusted.
 */
public final class DecodedEvent {
  private final EventPart part;
  private final DeadLetter deadLetter;

  private DecodedEvent(EventPart part, DeadLetter deadLetter) {
    this.part = part;
    this.deadLetter = deadLetter;
  }

  public static DecodedEvent of(EventPart part) {
    return new DecodedEvent(part, null);
  }

  public static DecodedEvent dead(DeadLetter deadLetter) {
    return new DecodedEvent(null, deadLetter);
  }

  /** The event's part; null for a dead letter. */
  public EventPart part() {
    return part;
  }

  /** The dead letter; null for an event. */
  public DeadLetter deadLetter() {
    return deadLetter;
  }

  public long timestampMs() {
    return part != null ? part.timestampMs() : Long.MIN_VALUE;
  }
}
