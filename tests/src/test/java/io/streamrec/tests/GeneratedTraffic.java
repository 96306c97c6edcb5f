package io.streamrec.tests;

import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.OutgoingRecord;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficFaults;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A slice of generated traffic with faults, as records in event-time order, plus what each should
 * become.
 */
final class GeneratedTraffic {
  final TrafficGenerator generator;
  final List<OutgoingRecord> records = new ArrayList<>();
  final List<GeneratedRequest> generated = new ArrayList<>();
  final Map<OutgoingRecord.Fate, Long> impressionFates = new EnumMap<>(OutgoingRecord.Fate.class);
  final Map<OutgoingRecord.Fate, Long> requestFates = new EnumMap<>(OutgoingRecord.Fate.class);
  long lastEventMs;

  /**
   * {@code requests} requests from {@code startMs}, {@code perTimestamp} of them sharing each event
   * time, successive times {@code spacingMs} apart.
   */
  GeneratedTraffic(
      TrafficConfig traffic,
      FaultConfig faults,
      int requests,
      long startMs,
      long spacingMs,
      int perTimestamp) {
    generator = new TrafficGenerator(traffic);
    TrafficFaults f = new TrafficFaults(faults);
    for (int i = 0; i < requests; i++) {
      GeneratedRequest g = generator.next(startMs + (i / perTimestamp) * spacingMs);
      generated.add(g);
      records.addAll(f.toRecords(g));
    }
    records.sort(Comparator.comparingLong(OutgoingRecord::timestampMs));
    for (OutgoingRecord r : records) {
      Map<OutgoingRecord.Fate, Long> m =
          r.topic() == OutgoingRecord.Topic.REQUESTS ? requestFates : impressionFates;
      m.merge(r.fate(), 1L, Long::sum);
      lastEventMs = Math.max(lastEventMs, r.timestampMs());
    }
  }

  long impressions() {
    return impressionFates.values().stream().mapToLong(Long::longValue).sum();
  }

  long requests() {
    return requestFates.values().stream().mapToLong(Long::longValue).sum();
  }

  long impressions(OutgoingRecord.Fate fate) {
    return impressionFates.getOrDefault(fate, 0L);
  }

  long requests(OutgoingRecord.Fate fate) {
    return requestFates.getOrDefault(fate, 0L);
  }

  /**
   * Traffic from the same world after this slice: units the model never trained on, with their
   * labels.
   */
  HeldOut heldOut(int requests, long startMs) {
    HeldOut h = new HeldOut();
    for (int i = 0; i < requests; i++) {
      GeneratedRequest g = generator.next(startMs + i);
      h.units.add(RequestUnits.of(g.request(), g.impressions(), startMs + i));
      for (int k = 0; k < g.size(); k++) {
        h.labels.add(g.click(k));
        h.truth.add(g.trueCtr()[k]);
      }
    }
    return h;
  }

  static final class HeldOut {
    final List<RequestUnit> units = new ArrayList<>();
    final List<Float> labels = new ArrayList<>();
    final List<Double> truth = new ArrayList<>();

    float[] labelArray() {
      float[] y = new float[labels.size()];
      for (int i = 0; i < y.length; i++) {
        y[i] = labels.get(i);
      }
      return y;
    }
  }
}
