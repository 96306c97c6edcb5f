package io.streamrec.job.assembler;

import io.streamrec.model.units.EventPart;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a job's range of the event topics meets the job before it or after it, in offsets, so that
 * the requests near a handoff are trained whole and every impression is counted by one job.
 *
 * <p>A backfill that hands on stops the requests at its cut (the first request at time T) but reads
 * the impressions on past it, for a join window and the allowed disorder, so that the units of its
 * last requests close with all their impressions. The job after it reads the impressions from a
 * join window and the disorder before the cut (offsets {@code pastFrom}), for the requests after
 * the cut in their partition timed before it, and the requests from twice that before it (offsets
 * {@code nearFrom}): those requests, the earlier job's, are {@code prior} there, and tell it which
 * of the impressions it reads again the earlier job had already trained or dead-lettered.
 *
 * <ul>
 *   <li>This job, before its cut: an impression the next job reads too ({@link #past}) is this
 *       job's only where its request is one near the cut ({@link #near}), which the next job knows
 *       as prior; any other (its request later, earlier, or none) is left to the next job, and
 *       counted as handed on.
 *   <li>This job, after a cut: a prior request ({@link #prior}) trains nothing here; its
 *       impressions that the earlier job read ({@link #overlap}) were counted there, and those it
 *       never read (beyond where it stopped) are late.
 * </ul>
 *
 * Offsets are per partition; a partition a map does not name has no cut.
 *
 * @param nearFrom requests topic: a request at or after this offset is near this job's cut
 * @param pastFrom impressions topic: an impression at or after this offset the next job reads too
 * @param priorBefore requests topic: a request before this offset is the earlier job's
 * @param overlapBefore impressions topic: an impression before this offset the earlier job read
 */
public record SegmentCut(
    Map<Integer, Long> nearFrom,
    Map<Integer, Long> pastFrom,
    Map<Integer, Long> priorBefore,
    Map<Integer, Long> overlapBefore)
    implements Serializable {
  /** No cut on either side: a live job of its own, or a backfill that hands nothing on. */
  public static final SegmentCut NONE = new SegmentCut(Map.of(), Map.of(), Map.of(), Map.of());

  public SegmentCut {
    nearFrom = new HashMap<>(nearFrom);
    pastFrom = new HashMap<>(pastFrom);
    priorBefore = new HashMap<>(priorBefore);
    overlapBefore = new HashMap<>(overlapBefore);
  }

  /** This cut, and the earlier job's: its requests before {@code priorBefore}, and so on. */
  public SegmentCut after(Map<Integer, Long> priorBefore, Map<Integer, Long> overlapBefore) {
    return new SegmentCut(nearFrom, pastFrom, priorBefore, overlapBefore);
  }

  /** Whether this job's range meets no other's. */
  public boolean none() {
    return nearFrom.isEmpty()
        && pastFrom.isEmpty()
        && priorBefore.isEmpty()
        && overlapBefore.isEmpty();
  }

  /** Whether request {@code r} is near this job's cut: the next job reads it again, as prior. */
  public boolean near(EventPart r) {
    return atOrAfter(nearFrom, r);
  }

  /** Whether impression {@code e} is one the next job reads too. */
  public boolean past(EventPart e) {
    return atOrAfter(pastFrom, e);
  }

  /** Whether request {@code r} is the earlier job's, read again here for its impressions. */
  public boolean prior(EventPart r) {
    return before(priorBefore, r);
  }

  /** Whether impression {@code e} was read by the earlier job too, which counted it. */
  public boolean overlap(EventPart e) {
    return before(overlapBefore, e);
  }

  private static boolean atOrAfter(Map<Integer, Long> offsets, EventPart p) {
    Long at = offsets.get(p.sourcePartition());
    return at != null && p.sourceOffset() >= at;
  }

  private static boolean before(Map<Integer, Long> offsets, EventPart p) {
    Long at = offsets.get(p.sourcePartition());
    return at != null && p.sourceOffset() < at;
  }
}
