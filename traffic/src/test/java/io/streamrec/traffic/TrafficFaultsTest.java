package io.streamrec.traffic;

import static io.streamrec.traffic.TrafficGeneratorTest.START_MS;
import static io.streamrec.traffic.TrafficGeneratorTest.STEP_MS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrec.common.Auc;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetterReasons;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.MalformedRecordException;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.traffic.OutgoingRecord.Fate;
import io.streamrec.traffic.OutgoingRecord.Topic;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrafficFaultsTest {
  private static final double RATE = 0.03;
  private static final long WINDOW_MS = 5_000;
  private static final TrafficConfig SMALL_WORLD =
      TrafficConfig.defaults().withSeed(17).withUsers(20_000).withItems(5_000);

  /** All records of {@code requests} generated requests, one list per request. */
  private static List<List<OutgoingRecord>> produce(TrafficFaults faults, long seed, int requests) {
    TrafficGenerator gen = new TrafficGenerator(SMALL_WORLD.withSeed(seed));
    List<List<OutgoingRecord>> out = new ArrayList<>(requests);
    for (int r = 0; r < requests; r++) {
      out.add(faults.toRecords(gen.next(START_MS + r * STEP_MS)));
    }
    return out;
  }

  @Test
  void faultRatesAreRealisedAndEveryFateHolds() {
    FaultConfig config =
        FaultConfig.defaults().withSeed(3).withAllRates(RATE).withJoinWindowMs(WINDOW_MS);
    List<List<OutgoingRecord>> perRequest = produce(new TrafficFaults(config), 17, 20_000);

    Map<String, Long> requestTime = new HashMap<>();
    for (List<OutgoingRecord> records : perRequest) {
      for (OutgoingRecord r : records) {
        if (r.topic() == Topic.REQUESTS && r.fate() == Fate.TRAIN) {
          RequestEvent e = AvroCodec.decode(r.value(), RequestEvent.class);
          assertThat(e.getRequestId()).isEqualTo(r.key());
          assertThat(e.getTimestampMs()).isEqualTo(r.timestampMs());
          requestTime.put(r.key(), r.timestampMs());
        }
      }
    }
    assertThat(requestTime).hasSize(20_000);

    EnumMap<Fate, Integer> count = new EnumMap<>(Fate.class);
    Set<String> impressionIds = new HashSet<>();
    Set<String> malformedShapes = new HashSet<>();
    for (List<OutgoingRecord> records : perRequest) {
      for (int i = 0; i < records.size(); i++) {
        OutgoingRecord r = records.get(i);
        count.merge(r.fate(), 1, Integer::sum);
        if (i > 0) {
          assertThat(r.timestampMs()).isGreaterThanOrEqualTo(records.get(i - 1).timestampMs());
        }
        if (r.fate() == Fate.MALFORMED) {
          assertThat(r.key()).isNull();
          assertThatThrownBy(() -> AvroCodec.decodeAny(r.value()))
              .isInstanceOfSatisfying(
                  MalformedRecordException.class,
                  ex -> assertThat(ex.reason()).isEqualTo(DeadLetterReasons.MALFORMED));
          malformedShapes.add(
              r.value().length < TrafficFaults.SINGLE_OBJECT_HEADER_BYTES
                      || r.value()[0] != (byte) 0xC3
                  ? "random"
                  : "valid header");
          continue;
        }
        if (r.topic() == Topic.REQUESTS) {
          assertThat(r.fate()).isEqualTo(Fate.TRAIN);
          assertThat(i).as("a request comes first among its records").isZero();
          continue;
        }
        ImpressionEvent e = AvroCodec.decode(r.value(), ImpressionEvent.class);
        assertThat(e.getRequestId()).isEqualTo(r.key());
        assertThat(e.getTimestampMs()).isEqualTo(r.timestampMs());
        if (r.fate() != Fate.DUPLICATE) {
          assertThat(impressionIds.add(e.getImpressionId()))
              .as("unique id %s", e.getImpressionId())
              .isTrue();
        }
        float position = e.getDense().get(TrafficGenerator.POSITION);
        switch (r.fate()) {
          case TRAIN -> {
            assertThat(r.timestampMs()).isLessThan(requestTime.get(r.key()) + WINDOW_MS);
            assertThat(position).isFinite();
            assertThat(r.trueCtr()).isStrictlyBetween(0.0, 1.0);
            assertThat(e.getLabels().get("click")).isEqualTo(r.label());
          }
          case DUPLICATE -> {
            boolean copyOfEarlierTrain = false;
            for (int j = 0; j < i; j++) {
              OutgoingRecord earlier = records.get(j);
              copyOfEarlierTrain |=
                  earlier.fate() == Fate.TRAIN && Arrays.equals(earlier.value(), r.value());
            }
            assertThat(copyOfEarlierTrain).as("duplicate of an earlier TRAIN record").isTrue();
          }
          case ORPHAN -> {
            assertThat(requestTime).doesNotContainKey(r.key());
            assertThat(r.key()).startsWith("orphan-");
          }
          case LATE -> {
            assertThat(requestTime).containsKey(r.key());
            assertThat(r.timestampMs())
                .isGreaterThanOrEqualTo(requestTime.get(r.key()) + WINDOW_MS);
          }
          case NON_FINITE -> {
            assertThat(requestTime).containsKey(r.key());
            assertThat(Float.isFinite(position)).isFalse();
            assertThat(r.trueCtr()).isNaN();
          }
          default -> throw new AssertionError(r.fate());
        }
      }
    }

    int train = count.get(Fate.TRAIN) - 20_000; // less the requests
    System.out.printf("fates over %d TRAIN impressions: %s%n", train, count);
    double expected = RATE * train;
    double tolerance = 5 * Math.sqrt(expected); // five standard deviations of a Poisson count
    for (Fate f :
        List.of(Fate.DUPLICATE, Fate.ORPHAN, Fate.LATE, Fate.MALFORMED, Fate.NON_FINITE)) {
      assertThat((double) count.get(f)).as("count of %s", f).isCloseTo(expected, within(tolerance));
    }
    assertThat(malformedShapes).containsExactlyInAnyOrder("random", "valid header");
  }

  @Test
  void eachMalformedShapeFailsToDecode() {
    // rate 1 gives every impression a malformed record; over many, each of the three shapes occurs
    FaultConfig config = FaultConfig.defaults().withMalformedRate(1.0);
    int truncated = 0;
    int negativeLength = 0;
    int random = 0;
    for (List<OutgoingRecord> records : produce(new TrafficFaults(config), 5, 300)) {
      byte[] valid = null;
      for (OutgoingRecord r : records) {
        if (r.fate() != Fate.MALFORMED) {
          continue;
        }
        assertThatThrownBy(() -> AvroCodec.decodeAny(r.value()))
            .isInstanceOf(MalformedRecordException.class);
        byte[] v = r.value();
        if (v.length >= TrafficFaults.SINGLE_OBJECT_HEADER_BYTES
            && v[0] == (byte) 0xC3
            && v[1] == 0x01) {
          if (v.length > TrafficFaults.SINGLE_OBJECT_HEADER_BYTES
              && v[TrafficFaults.SINGLE_OBJECT_HEADER_BYTES] == TrafficFaults.NEGATIVE_LENGTH) {
            negativeLength++;
          } else {
            truncated++;
          }
        } else {
          random++;
        }
      }
    }
    assertThat(truncated).isPositive();
    assertThat(negativeLength).isPositive();
    assertThat(random).isPositive();
  }

  @Test
  void withoutFaultsEveryRecordIsTrainAndMatchesTheGeneratedEvents() {
    TrafficFaults faults = new TrafficFaults(FaultConfig.defaults());
    TrafficGenerator gen = new TrafficGenerator(SMALL_WORLD);
    List<Double> scores = new ArrayList<>();
    List<Float> labels = new ArrayList<>();
    for (int r = 0; r < 2_000; r++) {
      GeneratedRequest g = gen.next(START_MS + r * STEP_MS);
      List<OutgoingRecord> records = faults.toRecords(g);
      assertThat(records).hasSize(1 + g.size()).allMatch(x -> x.fate() == Fate.TRAIN);
      assertThat(records.get(0).value()).isEqualTo(AvroCodec.encode(g.request()));
      for (int p = 0; p < g.size(); p++) {
        OutgoingRecord x = records.get(1 + p);
        assertThat(AvroCodec.decode(x.value(), ImpressionEvent.class))
            .isEqualTo(g.impressions().get(p));
        assertThat(x.trueCtr()).isEqualTo(g.trueCtr()[p]);
        assertThat(x.label()).isEqualTo(g.click(p));
        scores.add(x.trueCtr());
        labels.add(x.label());
      }
    }
    double[] s = scores.stream().mapToDouble(d -> d).toArray();
    float[] l = new float[labels.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = labels.get(i);
    }
    assertThat(Auc.exact(s, l)).isBetween(0.6, 0.95);
  }

  @Test
  void sameSeedGivesIdenticalRecordsAndOtherSeedsDiffer() {
    FaultConfig config = FaultConfig.defaults().withSeed(8).withAllRates(0.05);
    List<List<OutgoingRecord>> a = produce(new TrafficFaults(config), 17, 2_000);
    List<List<OutgoingRecord>> b = produce(new TrafficFaults(config), 17, 2_000);
    List<List<OutgoingRecord>> c = produce(new TrafficFaults(config.withSeed(9)), 17, 2_000);
    assertThat(fingerprint(a)).isEqualTo(fingerprint(b)).isNotEqualTo(fingerprint(c));
  }

  @Test
  void faultsDependOnTheRequestNotOnCallOrder() {
    TrafficFaults faults = new TrafficFaults(FaultConfig.defaults().withAllRates(0.2));
    TrafficGenerator gen = new TrafficGenerator(SMALL_WORLD);
    GeneratedRequest first = gen.next(START_MS);
    GeneratedRequest second = gen.next(START_MS + 10);
    List<String> forward = fingerprint(List.of(faults.toRecords(first), faults.toRecords(second)));
    List<OutgoingRecord> secondAgain = faults.toRecords(second);
    List<String> backward = fingerprint(List.of(faults.toRecords(first), secondAgain));
    assertThat(forward).isEqualTo(backward);
  }

  @Test
  void impressionsOutsideTheJoinWindowAreRejected() {
    TrafficGenerator gen =
        new TrafficGenerator(SMALL_WORLD.withImpressionDelayMaxMs(60_000).withImpressions(12, 12));
    TrafficFaults faults = new TrafficFaults(FaultConfig.defaults().withJoinWindowMs(1_000));
    assertThatThrownBy(() -> faults.toRecords(gen.next(START_MS)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("impressionDelayMaxMs");
  }

  @Test
  void invalidFaultConfigIsRejectedNamingTheFieldAndValue() {
    assertThatThrownBy(() -> FaultConfig.defaults().withLateRate(1.5))
        .hasMessageContaining("lateRate")
        .hasMessageContaining("1.5");
    assertThatThrownBy(() -> FaultConfig.defaults().withOrphanRate(Double.NaN))
        .hasMessageContaining("orphanRate")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> FaultConfig.defaults().withJoinWindowMs(0))
        .hasMessageContaining("joinWindowMs")
        .hasMessageContaining("0");
  }

  private static List<String> fingerprint(List<List<OutgoingRecord>> perRequest) {
    List<String> out = new ArrayList<>();
    for (List<OutgoingRecord> records : perRequest) {
      for (OutgoingRecord r : records) {
        out.add(
            r.topic()
                + " "
                + r.key()
                + " "
                + r.timestampMs()
                + " "
                + r.fate()
                + " "
                + Arrays.toString(r.value()));
      }
    }
    return out;
  }
}
