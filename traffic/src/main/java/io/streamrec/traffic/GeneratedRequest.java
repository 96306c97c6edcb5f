package io.streamrec.traffic;

import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import java.util.List;

/**
 * One request drawn by {@link TrafficGenerator}: the request event, its impressions in position
 * order (impression {@code i} is at position {@code i}), and the true click probability of each,
 * which is what a perfect model would predict (the oracle).
 *
 * <p>{@code trueCtr} is an array, so this record's {@code equals} compares it by identity; compare
 * generated traffic through its events (or their JSON lines) instead.
 */
public record GeneratedRequest(
    RequestEvent request, List<ImpressionEvent> impressions, double[] trueCtr) {

  public GeneratedRequest {
    if (impressions.size() != trueCtr.length) {
      throw new IllegalArgumentException(
          "impressions ("
              + impressions.size()
              + ") and trueCtr ("
              + trueCtr.length
              + ") differ in length");
    }
  }

  public String requestId() {
    return request.getRequestId();
  }

  public int size() {
    return trueCtr.length;
  }

  /** The sampled click of impression {@code i}: 1 or 0. */
  public float click(int i) {
    return impressions.get(i).getLabels().get(TrafficGenerator.LABEL_CLICK);
  }
}
