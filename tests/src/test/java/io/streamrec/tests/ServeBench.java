package io.streamrec.tests;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.protocol.RowValues;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeltaKind;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.ModelDelta;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.ModelUpdateConsumers;
import io.streamrec.serving.http.ScoringServer;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Serving benchmark on a real in-process broker: how fast a {@link ModelReplica} bootstraps from a
 * model-updates topic (rows/s), against reading the same topic's bytes with a bare consumer and
 * against decoding its records in memory, both in the same run; then how fast the replica scores
 * (impressions/s) in-process on 1 and 2 threads and over HTTP ({@code POST /score}).
 *
 * <p>The topic is what a trainer writes: the spec, a version trained on generated traffic, then
 * versions of further rows until it holds {@code --rows} rows, in the publish order of
 * docs/model-updates.md. Run it with {@code scripts/bench-serve.sh}.
 */
public final class ServeBench {
  private static final String RESULT = "RESULT ";

  /** Rows per padding version: about what one publish of a busy trainer carries. */
  private static final int ROWS_PER_VERSION = 100_000;

  private ServeBench() {}

  public static void main(String[] args) throws Exception {
    int rows = 1_000_000;
    int units = 20_000;
    int rounds = 3;
    double scoreSeconds = 5;
    List<RowEncoding> encodings = List.of(RowEncoding.FLOAT32, RowEncoding.FLOAT16);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Integer.parseInt(args[++i]);
        case "--units" -> units = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--score-seconds" -> scoreSeconds = Double.parseDouble(args[++i]);
        case "--encodings" ->
            encodings =
                Arrays.stream(args[++i].split(","))
                    .map(s -> RowEncoding.valueOf(s.trim().toUpperCase(Locale.ROOT)))
                    .toList();
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; use --rows N --units N --rounds N --score-seconds S --encodings float32,float16,bfloat16");
      }
    }
    System.out.printf(
        "serve benchmark: %,d rows per topic, %,d trained units, %d rounds, %d cores%n",
        rows, units, rounds, Runtime.getRuntime().availableProcessors());
    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults())) {
      String bootstrap = kafka.bootstrapServers();
      ModelReplica served = null;
      for (RowEncoding enc : encodings) {
        String topic = "bench-model-updates-" + enc.name().toLowerCase(Locale.ROOT);
        List<ModelUpdateRecord> records = writeTopic(bootstrap, topic, enc, rows, units);
        int rowRecords = (int) records.stream().filter(r -> r.key[0] == 'r').count();
        long bytes =
            records.stream()
                .mapToLong(r -> r.key.length + (r.value == null ? 0 : r.value.length))
                .sum();
        System.out.printf(
            "%s: %,d records (%,d rows), %.1f MB of keys and values%n",
            topic, records.size(), rowRecords, bytes / 1e6);
        double bestRaw = 0;
        double bestDecode = 0;
        double bestReplica = 0;
        double firstReplica = 0;
        for (int round = 1; round <= rounds; round++) {
          System.gc(); // the benchmark's own copy of the topic moves to the old generation, out of
          // the rounds' way
          double raw = rawRead(bootstrap, topic);
          double decode = decodeOnly(records);
          if (served != null) {
            served.close();
          }
          long t0 = System.nanoTime();
          served = ModelReplica.start(bootstrap, topic);
          while (!served.ready()) {
            if (served.state() == ModelReplica.State.FAILED) {
              throw new IllegalStateException("replica failed", served.failure());
            }
            Thread.sleep(1);
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          if (served.rows() != countLiveRows(records)) {
            throw new IllegalStateException(
                "replica holds " + served.rows() + " rows, the topic " + countLiveRows(records));
          }
          double replica = records.size() / secs;
          System.out.printf(
              "  round %d: raw consumer %,.0f records/s, decode only %,.0f records/s, "
                  + "replica bootstrap %,.0f records/s (%,.0f rows/s, %.2f s)%n",
              round, raw, decode, replica, rowRecords / secs, secs);
          bestRaw = Math.max(bestRaw, raw);
          bestDecode = Math.max(bestDecode, decode);
          bestReplica = Math.max(bestReplica, replica);
          if (round == 1) {
            firstReplica =
                replica; // the replica's code not yet compiled, as in a replica that just started
          }
        }
        System.out.printf(
            Locale.ROOT,
            "%sbootstrap %s | %.0f | %.0f | %.0f | %.3f | %.0f%n",
            RESULT,
            enc.name().toLowerCase(Locale.ROOT),
            bestRaw,
            bestDecode,
            bestReplica,
            bestReplica / bestRaw,
            firstReplica);
      }
      score(served, units, rounds, scoreSeconds);
      served.close();
    }
  }

  /** Writes the topic as a trainer would and returns its records in order. */
  private static List<ModelUpdateRecord> writeTopic(
      String bootstrap, String topic, RowEncoding enc, int rows, int units) {
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    List<ModelUpdateRecord> all = new ArrayList<>();
    ModelConfig config = ModelConfig.defaults();
    try (ModelUpdatesSupport.Trainer t =
        new ModelUpdatesSupport.Trainer(config, 7, 100_000, 20_000, enc)) {
      List<RequestUnit> batch = new ArrayList<>();
      for (RequestUnit u : t.units(units, 50)) {
        batch.add(u);
        if (batch.size() == 128) {
          t.trainer.trainRequestUnits(batch);
          batch.clear();
        }
      }
      all.addAll(t.publish());
      SplittableRandom rnd = new SplittableRandom(11);
      List<String> tables = config.features().tables();
      float[] values = new float[config.embeddingDim()];
      long version = t.version;
      int written = (int) all.stream().filter(r -> r.key[0] == 'r').count();
      while (written < rows) {
        version++;
        ModelUpdateEncoder e =
            new ModelUpdateEncoder(
                ModelUpdatesSupport.MODEL_ID, version, t.time + version, enc, all::add);
        for (int i = 0; i < ROWS_PER_VERSION && written < rows; i++, written++) {
          for (int d = 0; d < values.length; d++) {
            values[d] = (float) (rnd.nextGaussian() * 0.05);
          }
          e.row(tables.get(rnd.nextInt(tables.size())), rnd.nextLong(), values, 0, values.length);
        }
        e.close(VersionMarker.newBuilder().setPublishedAtMs(System.currentTimeMillis()));
      }
    }
    try (KafkaProducer<byte[], byte[]> p = producer(bootstrap)) {
      for (ModelUpdateRecord r : all) {
        p.send(new ProducerRecord<>(topic, 0, r.timestampMs, r.key, r.value));
      }
      p.flush();
    }
    return all;
  }

  /**
   * A producer with the trainer's sink settings (idempotent, lz4, 256 KiB batches, 5 ms linger).
   */
  private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  /**
   * Rows a reader of everything ends with: distinct row keys whose last value is not a tombstone.
   */
  private static long countLiveRows(List<ModelUpdateRecord> records) {
    return ModelUpdatesSupport.compact(records, false).stream()
        .filter(r -> r.key[0] == 'r')
        .count();
  }

  /** Records/s of a bare consumer reading the topic's bytes from the earliest offset to its end. */
  private static double rawRead(String bootstrap, String topic) {
    Properties p = ModelUpdateConsumers.properties(bootstrap, "bench-raw-reader");
    long t0 = System.nanoTime();
    long n = 0;
    long sink = 0;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
          n++;
          sink += r.key().length;
        }
      }
    }
    if (sink == 0) {
      throw new IllegalStateException("read nothing");
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /**
   * Records/s of decoding the topic's values (Avro, then the row's floats) in memory, one thread.
   */
  private static double decodeOnly(List<ModelUpdateRecord> records) {
    long t0 = System.nanoTime();
    double sink = 0;
    for (ModelUpdateRecord r : records) {
      if (r.value != null && r.key[0] != 'v' && r.key[0] != 's') {
        ModelDelta d = AvroCodec.decode(r.value, ModelDelta.class);
        float[] v =
            d.getKind() == DeltaKind.ROW ? RowValues.get(d) : new float[] {d.getValues().get(0)};
        sink += v[0];
      } else if (r.value != null) {
        sink += AvroCodec.decodeAny(r.value).hashCode() & 1;
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    if (Double.isNaN(sink)) {
      throw new IllegalStateException("NaN in the rows");
    }
    return records.size() / secs;
  }

  /** Scoring rates on held-out traffic: in-process on 1 and 2 threads, then over HTTP. */
  private static void score(ModelReplica replica, int units, int rounds, double seconds)
      throws Exception {
    TrafficGenerator g =
        new TrafficGenerator(
            TrafficConfig.defaults().withSeed(99).withUsers(100_000).withItems(20_000));
    List<RequestUnit> requests = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    long time = ModelUpdatesSupport.START_MS;
    for (int i = 0; i < Math.max(1_000, units / 4); i++) {
      GeneratedRequest r = g.next(time += 50);
      requests.add(RequestUnits.of(r.request(), r.impressions(), r.request().getTimestampMs()));
      StringBuilder b =
          new StringBuilder("{\"request\":")
              .append(JsonEvents.toJson(r.request()))
              .append(",\"impressions\":[");
      int k = 0;
      for (ImpressionEvent e : r.impressions()) {
        b.append(k++ == 0 ? "" : ",").append(JsonEvents.toJson(e));
      }
      bodies.add(b.append("]}").toString());
    }
    double impsPerRequest =
        requests.stream().mapToInt(u -> u.getImpressions().size()).average().orElse(0);
    System.out.printf(
        "scoring: %,d distinct requests, %.2f impressions each, model version %d, %,d rows%n",
        requests.size(), impsPerRequest, replica.version(), replica.rows());
    try (ScoringServer server =
        ScoringServer.start(replica, new InetSocketAddress("127.0.0.1", 0), 2, 1 << 20, 1_000)) {
      String url = "http://127.0.0.1:" + server.port() + "/score";
      // every measurement once as a warm-up, then `rounds` interleaved rounds; the best of each is
      // reported
      double[] best = new double[6];
      for (int round = 0; round <= rounds; round++) {
        double s = round == 0 ? Math.min(2, seconds) : seconds;
        double one = inProcess(replica, requests, 1, 1, s);
        double two = inProcess(replica, requests, 2, 1, s);
        double batched = inProcess(replica, requests, 1, 32, s);
        double[] h = http(url, bodies, requests, 2, s);
        System.out.printf(
            "  %s: in-process %,.0f (1 thread), %,.0f (2 threads), %,.0f (32 per call), "
                + "HTTP %,.0f impressions/s (p50 %.2f ms, p99 %.2f ms)%n",
            round == 0 ? "warm-up" : "round " + round, one, two, batched, h[0], h[1], h[2]);
        if (round > 0 && h[0] > best[3]) {
          best[3] = h[0];
          best[4] = h[1];
          best[5] = h[2];
        }
        if (round > 0) {
          best[0] = Math.max(best[0], one);
          best[1] = Math.max(best[1], two);
          best[2] = Math.max(best[2], batched);
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%sscore in-process, 1 thread, 1 request per call | %.0f%n",
          RESULT,
          best[0]);
      System.out.printf(
          Locale.ROOT,
          "%sscore in-process, 2 threads, 1 request per call | %.0f%n",
          RESULT,
          best[1]);
      System.out.printf(
          Locale.ROOT,
          "%sscore in-process, 1 thread, 32 requests per call | %.0f%n",
          RESULT,
          best[2]);
      System.out.printf(
          Locale.ROOT,
          "%sscore over HTTP, 2 server + 2 client threads | %.0f | p50 %.2f ms | p99 %.2f ms%n",
          RESULT,
          best[3],
          best[4],
          best[5]);
    }
  }

  /**
   * Impressions/s scored by {@code threads} threads calling the replica with {@code perCall}
   * requests.
   */
  private static double inProcess(
      ModelReplica replica, List<RequestUnit> requests, int threads, int perCall, double seconds)
      throws InterruptedException {
    AtomicLong imps = new AtomicLong();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int start = t * 7919;
      ts.add(
          started(
              () -> {
                long n = 0;
                int i = start;
                while (System.nanoTime() < deadline) {
                  List<RequestUnit> call = new ArrayList<>(perCall);
                  for (int k = 0; k < perCall; k++) {
                    call.add(requests.get(i++ % requests.size()));
                  }
                  n += replica.score(call).length;
                }
                imps.addAndGet(n);
              }));
    }
    long t0 = System.nanoTime();
    for (Thread t : ts) {
      t.join();
    }
    return imps.get() / Math.max(seconds, (System.nanoTime() - t0) / 1e9);
  }

  private static Thread started(Runnable r) {
    Thread t = new Thread(r, "bench-client");
    t.start();
    return t;
  }

  /**
   * Impressions/s, p50 and p99 latency (ms) of {@code clients} threads posting to /score one at a
   * time.
   */
  private static double[] http(
      String url, List<String> bodies, List<RequestUnit> requests, int clients, double seconds)
      throws InterruptedException {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicLong imps = new AtomicLong();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<long[]> latencies = new ArrayList<>();
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < clients; t++) {
      long[] lat = new long[1 << 20];
      latencies.add(lat);
      int start = t * 7919;
      ts.add(
          started(
              () -> {
                int i = start;
                int n = 0;
                long scored = 0;
                while (System.nanoTime() < deadline && n < lat.length - 1) {
                  int k = i++ % bodies.size();
                  long t0 = System.nanoTime();
                  HttpResponse<String> resp;
                  try {
                    resp =
                        client.send(
                            HttpRequest.newBuilder(URI.create(url))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(bodies.get(k)))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                  } catch (Exception e) {
                    throw new IllegalStateException("POST /score failed", e);
                  }
                  lat[n++] = System.nanoTime() - t0;
                  if (resp.statusCode() != 200) {
                    throw new IllegalStateException(
                        "POST /score answered " + resp.statusCode() + ": " + resp.body());
                  }
                  scored += requests.get(k).getImpressions().size();
                }
                lat[lat.length - 1] = n;
                imps.addAndGet(scored);
              }));
    }
    long t0 = System.nanoTime();
    for (Thread t : ts) {
      t.join();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    long[] all =
        latencies.stream()
            .flatMapToLong(l -> Arrays.stream(l, 0, (int) l[l.length - 1]))
            .sorted()
            .toArray();
    return new double[] {
      imps.get() / secs, all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6
    };
  }
}
