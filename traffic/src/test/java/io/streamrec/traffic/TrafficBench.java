package io.streamrec.traffic;

/**
 * How fast the generator makes traffic, and makes and encodes it into records, on one thread:
 * {@code ./mvnw -q -o -pl traffic test-compile && java -cp
 * traffic/target/test-classes:traffic/target/classes:$(./mvnw -q -o -pl traffic
 * dependency:build-classpath -Dmdep.outputFile=/dev/stdout) io.streamrec.traffic.TrafficBench}.
 */
public final class TrafficBench {
  private TrafficBench() {}

  public static void main(String[] args) {
    long built = System.nanoTime();
    TrafficGenerator gen = new TrafficGenerator(TrafficConfig.defaults().withSeed(21));
    System.out.printf("built the default world in %.0f ms%n", (System.nanoTime() - built) / 1e6);
    long t = TrafficGeneratorTest.START_MS;
    for (int r = 0; r < 100_000; r++) { // warm-up
      gen.next(t += TrafficGeneratorTest.STEP_MS);
    }
    long impressions = 0;
    long requests = 0;
    long begin = System.nanoTime();
    while (impressions < 2_000_000) {
      impressions += gen.next(t += TrafficGeneratorTest.STEP_MS).size();
      requests++;
    }
    double seconds = (System.nanoTime() - begin) / 1e9;
    System.out.printf(
        "generated %d impressions (%d requests) in %.2f s: %.0f impressions/s on one thread%n",
        impressions, requests, seconds, impressions / seconds);

    TrafficFaults encoder = new TrafficFaults(FaultConfig.defaults());
    long records = 0;
    begin = System.nanoTime();
    for (int r = 0; r < 50_000; r++) {
      records += encoder.toRecords(gen.next(t += TrafficGeneratorTest.STEP_MS)).size();
    }
    seconds = (System.nanoTime() - begin) / 1e9;
    System.out.printf(
        "generated and encoded %d records in %.2f s: %.0f records/s%n",
        records, seconds, records / seconds);
  }
}
