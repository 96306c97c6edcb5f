package io.streamrec.tests;

import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.cli.metrics.InJvmMetricReporter;
import io.streamrec.cli.metrics.InJvmMetrics;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.trainer.TrainerOperator;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.CompactUnitCodec;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.OutgoingRecord;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The data path against the trainer, in one run on an in-process KRaft broker (run it with {@code
 * scripts/bench-pipeline.sh}). One generated stream is loaded into the requests and impressions
 * topics, then:
 *
 * <ol>
 *   <li>the trainer alone: the job's trainer operator fed the stream's units in memory, already
 *       encoded (the ceiling of the whole job);
 *   <li>a backfill end to end from the events (sources, decode, assembler, encoding, the trainer,
 *       the sinks), on a local Flink;
 *   <li>a backfill from the request-units topic holding the same units (no join);
 *   <li>a bare Kafka consumer reading the events' bytes (the I/O floor);
 *   <li>a backfill of a stream sparse in event time: requests 700 ms apart, so that a batch (one
 *       second at most) holds one or two units.
 * </ol>
 *
 * A backfill's rate is impressions trained over the trainer's active time (first batch to last
 * publish: {@code trainer_active_seconds}); the wall time, start-up included, is printed too. It
 * also sizes the units log against an impression-level log (every impression an Avro record with
 * its request's features), and profiles the trainer thread during the events' backfill with JFR.
 */
public final class PipelineBench {
  private static final String RESULT = "RESULT ";
  private static final long START_MS = 1_767_225_600_000L;

  /** The events' join window and out-of-orderness, as a production job would set them. */
  private static final Duration JOIN_WINDOW = Duration.ofSeconds(10);

  private static final Duration OUT_OF_ORDERNESS = Duration.ofSeconds(2);

  private PipelineBench() {}

  public static void main(String[] args) throws Exception {
    int requests = 100_000;
    int sparseRequests = 20_000;
    int parallelism = 2;
    int rounds = 3;
    Path profileOut = null;
    Path trainerProfile = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--requests" -> requests = Integer.parseInt(args[++i]);
        case "--sparse-requests" -> sparseRequests = Integer.parseInt(args[++i]);
        case "--parallelism" -> parallelism = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--profile-trainer" -> trainerProfile = Path.of(args[++i]);
        case "--profile" -> profileOut = Path.of(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; use --requests N --sparse-requests N --parallelism N --rounds N --profile FILE.jfr");
      }
    }
    Configuration base = jobConf(parallelism);
    JobConfig cfg0 = JobConfig.from(withServers(base, "localhost:1"));
    UnitLayout layout = new UnitLayout(cfg0.model().features());

    // a stream: about 100 requests per second of event time, 4 impressions each on average
    Stream dense = Stream.generate(requests, 10, cfg0, layout);
    Stream sparse = Stream.generate(sparseRequests, 700, cfg0, layout);
    System.out.printf(
        Locale.ROOT,
        "stream: %,d requests, %,d impressions; sparse stream: %,d requests, %,d impressions;"
            + " assembler parallelism %d on %d cores%n",
        requests,
        dense.impressions,
        sparseRequests,
        sparse.impressions,
        parallelism,
        Runtime.getRuntime().availableProcessors());

    // the units log against an impression-level log
    long unitBytes = 0, impressionBytes = 0;
    for (int i = 0; i < dense.units.size(); i++) {
      CompactUnit c = dense.compact.get(i);
      unitBytes += CompactUnitCodec.encode(c).length + c.requestId().length();
      RequestUnit u = dense.units.get(i);
      for (Impression im : u.getImpressions()) {
        RequestUnit one = RequestUnit.newBuilder(u).setImpressions(List.of(im)).build();
        impressionBytes += AvroCodec.encode(one).length + im.getImpressionId().length();
      }
    }
    result(
        "bytes",
        unitBytes / (double) dense.impressions,
        impressionBytes / (double) dense.impressions,
        unitBytes / (double) impressionBytes);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults())) {
      String servers = kafka.bootstrapServers();
      TopicsConfig topics = topics(servers, "bench-", parallelism, rounds);
      TopicsConfig sparseTopics = topics(servers, "sparse-", parallelism, rounds);
      load(servers, topics, dense);
      load(servers, sparseTopics, sparse);

      // rounds of every measurement, interleaved, the best of each reported: the first round also
      // warms the JIT up for the job's code paths, as a long backfill's first minutes do
      Map<String, double[]> best = new HashMap<>();
      for (int round = 1; round <= rounds; round++) {
        Recording alone = trainerProfile != null && round == rounds ? startRecording() : null;
        double alone0 = keep(best, "trainer alone", trainerAlone(cfg0, dense));
        if (alone != null) {
          alone.stop();
          alone.dump(trainerProfile);
          alone.close();
        }

        long t0 = System.nanoTime();
        long records = readAll(servers, List.of(topics.requests(), topics.impressions()));
        double sec = (System.nanoTime() - t0) / 1e9;
        keep(best, "bare consumer", new double[] {dense.impressions / sec, records / sec, sec});

        Configuration events = withTopics(withServers(base, servers), topics, "e2e" + round);
        boolean profiled = profileOut != null && round == rounds;
        Recording rec = profiled ? startRecording() : null;
        double events0 = keep(best, "backfill from events", backfill(events, dense.impressions));
        if (rec != null) {
          rec.stop();
          rec.dump(profileOut);
          rec.close();
        }

        Configuration units = withTopics(withServers(base, servers), topics, "units" + round);
        units.set(JobOptions.SOURCE_KIND, "units");
        double units0 = keep(best, "backfill from units", backfill(units, dense.impressions));

        Configuration sp = withTopics(withServers(base, servers), sparseTopics, "sparse" + round);
        double sparse0 = keep(best, "backfill, sparse stream", backfill(sp, sparse.impressions));
        System.out.printf(
            Locale.ROOT,
            "round %d of %d: trainer alone %.0f, events %.0f, units %.0f, sparse %.0f impressions/s"
                + " (the best of each over the rounds is reported)%n",
            round,
            rounds,
            alone0,
            events0,
            units0,
            sparse0);
      }
      for (String name :
          List.of(
              "trainer alone",
              "bare consumer",
              "backfill from events",
              "backfill from units",
              "backfill, sparse stream")) {
        Object[] v = new Object[best.get(name).length];
        for (int i = 0; i < v.length; i++) {
          v[i] = best.get(name)[i];
        }
        result(name, v);
      }
      double ceiling = best.get("trainer alone")[0];
      result(
          "ratios",
          best.get("backfill from events")[0] / ceiling,
          best.get("backfill from units")[0] / ceiling);
      if (profileOut != null) {
        profile(profileOut);
      }
    }
  }

  /** Keeps the run with the higher rate (its first figure). */
  /** Keeps {@code run} under {@code name} if it is the best so far; returns its rate. */
  private static double keep(Map<String, double[]> best, String name, double[] run) {
    double[] b = best.get(name);
    if (b == null || run[0] > b[0]) {
      best.put(name, run);
    }
    return run[0];
  }

  private static void result(String name, Object... values) {
    StringBuilder b = new StringBuilder(RESULT).append(name);
    for (Object v : values) {
      b.append(" | ").append(v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : v);
    }
    System.out.println(b);
  }

  /** The generated stream: its units as strings and encoded, its raw records. */
  private record Stream(
      List<RequestUnit> units,
      List<CompactUnit> compact,
      List<OutgoingRecord> records,
      long impressions) {
    static Stream generate(int requests, long spacingMs, JobConfig cfg, UnitLayout layout) {
      TrafficGenerator g =
          new TrafficGenerator(
              TrafficConfig.defaults().withSeed(42).withUsers(20_000).withItems(5_000));
      UnitEncoder enc = new UnitEncoder(layout);
      List<RequestUnit> units = new ArrayList<>(requests);
      List<CompactUnit> compact = new ArrayList<>(requests);
      List<OutgoingRecord> records = new ArrayList<>();
      long imps = 0;
      for (int i = 0; i < requests; i++) {
        long t = START_MS + i * spacingMs;
        GeneratedRequest r = g.next(t);
        RequestUnit u = RequestUnits.of(r.request(), r.impressions(), t + cfg.joinWindowMs());
        units.add(u);
        compact.add(enc.encode(u));
        imps += r.size();
        records.add(
            new OutgoingRecord(
                OutgoingRecord.Topic.REQUESTS,
                r.request().getRequestId(),
                t,
                AvroCodec.encode(r.request()),
                OutgoingRecord.Fate.TRAIN,
                Double.NaN,
                Float.NaN));
        for (var im : r.impressions()) {
          records.add(
              new OutgoingRecord(
                  OutgoingRecord.Topic.IMPRESSIONS,
                  im.getRequestId(),
                  im.getTimestampMs(),
                  AvroCodec.encode(im),
                  OutgoingRecord.Fate.TRAIN,
                  Double.NaN,
                  Float.NaN));
        }
      }
      records.sort(java.util.Comparator.comparingLong(OutgoingRecord::timestampMs));
      return new Stream(units, compact, records, imps);
    }
  }

  private static Configuration jobConf(int parallelism) {
    Configuration c = new Configuration();
    c.set(JobOptions.JOIN_WINDOW, JOIN_WINDOW);
    c.set(JobOptions.MAX_OUT_OF_ORDERNESS, OUT_OF_ORDERNESS);
    c.set(JobOptions.ASSEMBLER_PARALLELISM, parallelism);
    c.set(JobOptions.BACKEND, "cpu");
    return c;
  }

  private static Configuration withServers(Configuration base, String servers) {
    Configuration c = new Configuration(base);
    c.set(JobOptions.BOOTSTRAP_SERVERS, servers);
    return c;
  }

  private static Configuration withTopics(Configuration c, TopicsConfig t, String run) {
    c.set(JobOptions.REQUESTS_TOPIC, t.requests());
    c.set(JobOptions.IMPRESSIONS_TOPIC, t.impressions());
    c.set(JobOptions.REQUEST_UNITS_TOPIC, t.requestUnits());
    c.set(JobOptions.DEAD_LETTERS_TOPIC, t.deadLetters() + "-" + run);
    c.set(JobOptions.MODEL_UPDATES_TOPIC, t.modelUpdates() + "-" + run);
    c.set(JobOptions.GROUP_ID, "bench-" + run);
    return c;
  }

  private static TopicsConfig topics(String servers, String prefix, int partitions, int rounds) {
    TopicsConfig t = TopicsConfig.defaults().withPrefix(prefix).withInputPartitions(partitions);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
      Topics.ensure(admin, t);
      for (int r = 1; r <= rounds; r++) {
        for (String run : List.of("e2e" + r, "units" + r, "sparse" + r)) {
          Topics.ensure(
              admin,
              new TopicsConfig(
                  t.requests(),
                  t.impressions(),
                  t.deadLetters() + "-" + run,
                  t.modelUpdates() + "-" + run,
                  t.requestUnits(),
                  partitions));
        }
      }
    }
    return t;
  }

  /** The events into their topics, the units (as the job's sink writes them) into the log. */
  private static void load(String servers, TopicsConfig t, Stream s) {
    try (ByteRecordProducer p = new ByteRecordProducer(servers)) {
      for (OutgoingRecord r : s.records) {
        p.send(
            r.topic() == OutgoingRecord.Topic.REQUESTS ? t.requests() : t.impressions(),
            r.key(),
            r.timestampMs(),
            r.value());
      }
      for (CompactUnit u : s.compact) {
        p.send(t.requestUnits(), u.requestId(), u.closedAtMs(), CompactUnitCodec.encode(u));
      }
      p.flush();
    }
  }

  private static long readAll(String servers, List<String> topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    long n = 0;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      for (String topic : topics) {
        c.partitionsFor(topic).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          n += r.value().length > 0 ? 1 : 0;
        }
      }
    }
    return n;
  }

  /**
   * The job's trainer operator alone, fed the units in close-time order with a watermark after
   * every 100 (as a source would advance it), then the end of input; impressions per second.
   */
  private static double[] trainerAlone(JobConfig cfg, Stream s) throws Exception {
    List<CompactUnit> units = new ArrayList<>(s.compact);
    units.sort(CompactUnit.TRAINING_ORDER);
    long t0;
    long published;
    try (OneInputStreamOperatorTestHarness<CompactUnit, ModelUpdateRecord> h =
        new OneInputStreamOperatorTestHarness<>(new TrainerOperator(cfg))) {
      h.open();
      t0 = System.nanoTime();
      for (int i = 0; i < units.size(); i++) {
        CompactUnit u = units.get(i);
        h.processElement(new StreamRecord<>(u, u.closedAtMs()));
        if (i % 100 == 99) {
          h.processWatermark(new Watermark(u.closedAtMs()));
        }
      }
      h.processWatermark(new Watermark(Long.MAX_VALUE));
      published = h.extractOutputValues().size();
    }
    double sec = (System.nanoTime() - t0) / 1e9;
    return new double[] {s.impressions / sec, sec, published};
  }

  private static double[] backfill(Configuration conf, long expectImpressions) throws Exception {
    String name = "streamrec-bench-" + conf.get(JobOptions.GROUP_ID);
    Configuration flink = new Configuration(conf);
    InJvmMetricReporter.configure(flink);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.backfill(null, null));
    long t0 = System.nanoTime();
    JobExecutionResult r = env.execute(name);
    double wall = (System.nanoTime() - t0) / 1e9;
    Map<String, Double> m = InJvmMetrics.snapshot(r.getJobID().toHexString());
    double trained = m.getOrDefault(JobMetrics.IMPRESSIONS_TRAINED, 0.0);
    double active = m.getOrDefault(JobMetrics.TRAINER_ACTIVE_SECONDS, Double.NaN);
    double busy = m.getOrDefault(JobMetrics.TRAINER_BUSY_SECONDS, Double.NaN);
    double cpu = m.getOrDefault(JobMetrics.TRAINER_CPU_SECONDS, Double.NaN);
    double batches = m.getOrDefault(JobMetrics.BATCHES_TRAINED, 0.0);
    if (Math.round(trained) != expectImpressions) {
      System.out.printf(
          Locale.ROOT,
          "warning: %s trained %.0f of %d impressions%n",
          name,
          trained,
          expectImpressions);
    }
    return new double[] {
      trained / active, active, wall, busy / active, trained / Math.max(1, batches), cpu / busy
    };
  }

  private static Recording startRecording() {
    Recording rec = new Recording();
    rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(5));
    rec.enable("jdk.ThreadCPULoad").withPeriod(Duration.ofMillis(500));
    for (String blocking :
        List.of(
            "jdk.ThreadPark",
            "jdk.JavaMonitorEnter",
            "jdk.JavaMonitorWait",
            "jdk.ThreadSleep",
            "jdk.SocketRead",
            "jdk.GarbageCollection",
            "jdk.SafepointBegin")) {
      rec.enable(blocking).withThreshold(Duration.ofMillis(1)).withStackTrace();
    }
    rec.start();
    return rec;
  }

  /** Where the trainer thread's samples fall, by the innermost frame of ours that names a stage. */
  private static void profile(Path file) throws Exception {
    String[][] stages = {
      {"io.streamrec.gpu.", "forward, backward, optimizer (compute backend)"},
      {"io.streamrec.embedding.", "embedding store (prepare, write-back, drain)"},
      {"io.streamrec.model.UnitBatch.", "batch layout (UnitBatch)"},
      {"io.streamrec.model.metrics.", "progressive metrics"},
      {"io.streamrec.protocol.", "publish (encoding deltas)"},
      {"io.streamrec.job.sink.", "publish (encoding deltas)"},
      {"io.streamrec.model.units.CompactUnitCodec", "units in (decoding)"},
      {"io.streamrec.job.units.", "units in (decoding)"},
      {"java.util.PriorityQueue", "waiting units (ordering)"},
      {"io.streamrec.model.", "model, other"},
      {"io.streamrec.job.trainer.", "trainer operator, other"},
      {"org.apache.flink.", "Flink runtime (input, watermarks, output)"},
    };
    Map<String, Integer> byStage = new HashMap<>();
    Map<String, Integer> bySelf = new HashMap<>();
    int total = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      var thread = e.getThread("sampledThread");
      if (thread == null
          || thread.getJavaName() == null
          || !thread.getJavaName().startsWith("trainer")) {
        continue;
      }
      RecordedStackTrace st = e.getStackTrace();
      if (st == null || st.getFrames().isEmpty()) {
        continue;
      }
      total++;
      String stage = "other (JDK)";
      outer:
      for (RecordedFrame f : st.getFrames()) {
        String m = f.getMethod().getType().getName() + "." + f.getMethod().getName();
        for (String[] s : stages) {
          if (m.startsWith(s[0])) {
            stage = s[1];
            break outer;
          }
        }
      }
      byStage.merge(stage, 1, Integer::sum);
      RecordedFrame top = st.getFrames().get(0);
      bySelf.merge(
          top.getMethod().getType().getName() + "." + top.getMethod().getName(), 1, Integer::sum);
    }
    final int n = Math.max(1, total);
    byStage.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(en -> result("profile stage", en.getKey(), 100.0 * en.getValue() / n));
    bySelf.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(12)
        .forEach(en -> result("profile self", en.getKey(), 100.0 * en.getValue() / n));
    result("profile samples", total);
  }
}
