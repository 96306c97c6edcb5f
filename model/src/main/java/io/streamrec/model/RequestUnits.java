package io.streamrec.model;

import io.streamrec.schemas.Impression;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import java.util.ArrayList;
import java.util.List;

/** Builds {@link RequestUnit}s from events, for scoring and tests. */
public final class RequestUnits {
  private RequestUnits() {}

  /** The unit of {@code request} with {@code impressions} in the order given. */
  public static RequestUnit of(
      RequestEvent request, List<ImpressionEvent> impressions, long closedAtMs) {
    List<Impression> imps = new ArrayList<>(impressions.size());
    for (ImpressionEvent e : impressions) {
      imps.add(impression(e));
    }
    return RequestUnit.newBuilder()
        .setRequestId(request.getRequestId())
        .setTimestampMs(request.getTimestampMs())
        .setClosedAtMs(closedAtMs)
        .setFeatures(request.getFeatures())
        .setDense(request.getDense())
        .setImpressions(imps)
        .build();
  }

  /** The impression-side part of an impression event. */
  public static Impression impression(ImpressionEvent e) {
    return Impression.newBuilder()
        .setImpressionId(e.getImpressionId())
        .setTimestampMs(e.getTimestampMs())
        .setFeatures(e.getFeatures())
        .setDense(e.getDense())
        .setLabels(e.getLabels())
        .build();
  }
}
