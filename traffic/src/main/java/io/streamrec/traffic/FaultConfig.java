package io.streamrec.traffic;

/**
 * Which faults {@link TrafficFaults} adds to generated traffic, and how often. Each rate is a
 * probability per original impression, drawn independently per fault kind, and each fault adds an
 * extra record: the original impressions are always sent intact. All rates default to 0.
 *
 * @param seed fixes which impressions get which faults (together with each request's id). Default
 *     0.
 * @param duplicateRate the impression is sent a second time, byte for byte. The job must count it
 *     as a duplicate and train on it once.
 * @param orphanRate a copy of the impression is sent under a fresh request id ({@code
 *     orphan-<impressionId>}) whose request is never sent. The job must dead-letter it as an
 *     orphan.
 * @param lateRate a copy with a new impression id ({@code <requestId>-<n+k>}) is sent for the real
 *     request with an event time at least {@code joinWindowMs} after the request's. The job must
 *     dead-letter it as late.
 * @param malformedRate bytes that are not a readable message are sent with a null key: random
 *     bytes, or the impression's encoding with a truncated body or a negative string length in it.
 * @param nonFiniteRate a copy with a new impression id whose {@code position} is NaN or ±Infinity
 *     is sent (Avro carries non-finite floats; JSON cannot). The job must dead-letter it as
 *     non-finite.
 * @param joinWindowMs the job's join window: how long after a request's event time its impressions
 *     are accepted. Late copies fall at or after its end, and every original impression must fall
 *     before it (keep TrafficConfig.impressionDelayMaxMs below it). Default 5000.
 */
public record FaultConfig(
    long seed,
    double duplicateRate,
    double orphanRate,
    double lateRate,
    double malformedRate,
    double nonFiniteRate,
    long joinWindowMs) {

  /** A join window longer than a day would hold every request's state for days. */
  static final long MAX_JOIN_WINDOW_MS = 86_400_000L;

  public FaultConfig {
    rate("duplicateRate", duplicateRate);
    rate("orphanRate", orphanRate);
    rate("lateRate", lateRate);
    rate("malformedRate", malformedRate);
    rate("nonFiniteRate", nonFiniteRate);
    if (joinWindowMs <= 0 || joinWindowMs > MAX_JOIN_WINDOW_MS) {
      throw new IllegalArgumentException(
          "FaultConfig.joinWindowMs must be in [1, "
              + MAX_JOIN_WINDOW_MS
              + "], got "
              + joinWindowMs);
    }
  }

  /** No faults, a 5 s join window. */
  public static FaultConfig defaults() {
    return new FaultConfig(0L, 0, 0, 0, 0, 0, 5_000L);
  }

  /** Every fault kind at the same rate. */
  public FaultConfig withAllRates(double rate) {
    return new FaultConfig(seed, rate, rate, rate, rate, rate, joinWindowMs);
  }

  public FaultConfig withSeed(long v) {
    return new FaultConfig(
        v, duplicateRate, orphanRate, lateRate, malformedRate, nonFiniteRate, joinWindowMs);
  }

  public FaultConfig withDuplicateRate(double v) {
    return new FaultConfig(
        seed, v, orphanRate, lateRate, malformedRate, nonFiniteRate, joinWindowMs);
  }

  public FaultConfig withOrphanRate(double v) {
    return new FaultConfig(
        seed, duplicateRate, v, lateRate, malformedRate, nonFiniteRate, joinWindowMs);
  }

  public FaultConfig withLateRate(double v) {
    return new FaultConfig(
        seed, duplicateRate, orphanRate, v, malformedRate, nonFiniteRate, joinWindowMs);
  }

  public FaultConfig withMalformedRate(double v) {
    return new FaultConfig(
        seed, duplicateRate, orphanRate, lateRate, v, nonFiniteRate, joinWindowMs);
  }

  public FaultConfig withNonFiniteRate(double v) {
    return new FaultConfig(
        seed, duplicateRate, orphanRate, lateRate, malformedRate, v, joinWindowMs);
  }

  public FaultConfig withJoinWindowMs(long v) {
    return new FaultConfig(
        seed, duplicateRate, orphanRate, lateRate, malformedRate, nonFiniteRate, v);
  }

  private static void rate(String field, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException(
          "FaultConfig." + field + " must be in [0, 1], got " + value);
    }
  }
}
