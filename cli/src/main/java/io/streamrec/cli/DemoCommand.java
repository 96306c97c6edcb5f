package io.streamrec.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.cli.report.HtmlReport;
import io.streamrec.common.Auc;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.JobSettings;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.model.RequestUnits;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.serving.ModelReplica;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.OutgoingRecord;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficFaults;
import io.streamrec.traffic.TrafficGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code streamrec demo}: the whole system on one machine. A real Kafka broker in-process,
 * generated traffic with a known truth (and a sprinkle of bad records), the job on a local Flink
 * environment, and a serving replica tailing the model-updates topic. At the end the job is drained
 * (stop with savepoint, event time to the end), the replica catches up with the final version and
 * scores held-out traffic it never trained on.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Runs everything on this machine: an embedded Kafka broker, generated traffic, the job and a "
            + "serving replica; prints progress and a summary.",
    modelTransformer = DemoCommand.OwnBroker.class)
final class DemoCommand implements Callable<Integer> {
  /**
   * The demo brings its broker: the options that name another one (the broker's address, a Kafka
   * client file) are not the demo's. Taken from the shared settings, they were ignored without a
   * word, and a demo "on" a user's broker ran on its own, its records gone with it.
   */
  static final class OwnBroker implements CommandLine.IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      for (String name : List.of("--bootstrap-servers", "--command-config")) {
        spec.remove(spec.findOption(name));
      }
      return spec;
    }
  }

  /** The demo's own defaults, for a stream that moves in seconds rather than minutes. */
  static final Map<String, String> DEMO_DEFAULTS =
      Map.of(
          JobOptions.JOIN_WINDOW.key(), "3 s",
          JobOptions.MAX_OUT_OF_ORDERNESS.key(), "500 ms",
          JobOptions.PUBLISH_INTERVAL.key(), "2 s",
          JobOptions.BATCH_MAX_WAIT.key(), "500 ms",
          JobOptions.METRICS_WINDOW.key(), "20000",
          JobOptions.IDLE_TIMEOUT.key(), "10 s");

  /** Held-out requests the replica scores at the end. */
  static final int HELD_OUT_REQUESTS = 5_000;

  /** How long to wait for the job to read what was sent before draining it anyway. */
  static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(60);

  /** How often the report's timeline samples the run. */
  static final Duration TIMELINE_INTERVAL = Duration.ofSeconds(1);

  /** How long a drain (stop with savepoint) may take. */
  static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(2);

  @Mixin JobSettings settings;

  @Option(
      names = "--duration",
      defaultValue = "60s",
      converter = Durations.class,
      description = "How long to send traffic (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--rate",
      defaultValue = "500",
      description = "Requests per second (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--users",
      defaultValue = "2000",
      description = "Synthetic users (default ${DEFAULT-VALUE}).")
  int users;

  @Option(
      names = "--items",
      defaultValue = "1000",
      description = "Synthetic items (default ${DEFAULT-VALUE}).")
  int items;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Seed of the traffic (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--fault-rate",
      defaultValue = "0.002",
      description =
          "Rate of each kind of bad record (duplicate, orphan, late, malformed, non-finite) per impression; "
              + "0 sends none (default ${DEFAULT-VALUE}).")
  double faultRate;

  @Mixin ReportOptions reports = new ReportOptions();

  @Mixin ProgressOptions progress = new ProgressOptions();

  /** Keys of places (storage) a configuration file may name for {@code run}, not the demo's. */
  static final List<String> PLACE_KEYS =
      java.util.stream.Stream.of(
              org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
              org.apache.flink.configuration.CheckpointingOptions.SAVEPOINT_DIRECTORY,
              org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH)
          .flatMap(
              o ->
                  java.util.stream.Stream.concat(
                      java.util.stream.Stream.of(o.key()),
                      // the older names Flink still reads (state.checkpoints.dir, ...)
                      java.util.stream.StreamSupport.stream(o.fallbackKeys().spliterator(), false)
                          .map(org.apache.flink.configuration.FallbackKey::getKey)))
          .toList();

  /**
   * What of a configuration file names a broker or a place of the user's own, taken out of {@code
   * given}, and the line that says so; null where it names none. The file the README shows for
   * {@code run} names a broker, and {@code demo --config} with it was refused; a file's Kafka
   * client settings ({@code properties.*}) would have the demo's clients speak SASL_SSL to its
   * plaintext broker, and its checkpoint, savepoint or restore paths would have the demo write
   * into, or restore from, the user's storage. The rest of the file (the model, its features) is
   * the demo's to run. A key given with {@code -D} stays ({@code kafka.bootstrap-servers} is then
   * refused, {@link #refuseOtherBroker}).
   */
  static String withoutTheFilesPlaces(Configuration given, JobSettings settings) {
    if (settings.configFile() == null) {
      return null;
    }
    List<String> left = new java.util.ArrayList<>();
    for (String key : new java.util.TreeSet<>(given.keySet())) {
      boolean place =
          key.equals(JobOptions.BOOTSTRAP_SERVERS.key())
              || key.startsWith(io.streamrec.common.KafkaClientProperties.PREFIX)
              || PLACE_KEYS.contains(key);
      if (place && !settings.setOnTheCommandLine(key)) {
        left.add(
            key.equals(JobOptions.BOOTSTRAP_SERVERS.key())
                ? key + " " + given.getString(key, "")
                : key);
        given.removeKey(key);
      }
    }
    if (left.isEmpty()) {
      return null;
    }
    return "streamrec demo: "
        + settings.configFile()
        + " names a broker or places of your own, left out ("
        + String.join(", ", left)
        + "): the demo runs on a Kafka broker of its own and keeps its state in a temporary"
        + " directory; the file's other settings apply";
  }

  /**
   * Refuses {@code kafka.bootstrap-servers} set with {@code -D}: the demo runs on a broker of its
   * own.
   */
  static void refuseOtherBroker(Configuration given) {
    given
        .getOptional(JobOptions.BOOTSTRAP_SERVERS)
        .ifPresent(
            servers -> {
              throw new IllegalArgumentException(
                  "the demo runs on a Kafka broker of its own, not on "
                      + servers
                      + " ("
                      + JobOptions.BOOTSTRAP_SERVERS.key()
                      + "): to train on your broker, feed it with 'streamrec generate' and"
                      + " 'streamrec produce' and start 'streamrec run --bootstrap-servers "
                      + servers
                      + "'");
            });
  }

  /**
   * Refuses a join window that the demo's own traffic does not fit: its impressions follow their
   * requests by up to {@code TrafficConfig.impressionDelayMaxMs}, and {@code -D
   * assembler.join-window=500ms} failed the sending with the generator's internal names after the
   * broker and the job had started.
   */
  static void refuseAJoinWindowTheTrafficOutlasts(Configuration given) {
    Configuration probe = new Configuration(given);
    probe.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092"); // the demo's own, not known yet
    long window = JobConfig.from(probe).joinWindowMs();
    long delay = TrafficConfig.defaults().impressionDelayMaxMs();
    if (window <= delay) {
      throw new IllegalArgumentException(
          "the demo's traffic sends impressions up to "
              + delay
              + " ms after their requests, and "
              + JobOptions.JOIN_WINDOW.key()
              + " is "
              + window
              + " ms: give the demo a join window longer than "
              + delay
              + " ms (the default is "
              + JobOptions.JOIN_WINDOW.defaultValue().toSeconds()
              + " s), or try a shorter one on traffic of your own ('streamrec generate',"
              + " 'streamrec produce', 'streamrec run')");
    }
  }

  /**
   * Refuses a model that reads features or labels the demo's traffic does not send as it reads
   * them: {@code demo --config} with a file of one's own features trained every one of them as an
   * empty bag, and a label of one's own as 0 on every impression, one warning each, a model of
   * nothing; so did one of the traffic's names on another side, of another kind ({@code hour} as a
   * categorical feature), or as a label ({@code item_cat}).
   */
  static void refuseFeaturesTheTrafficLacks(Configuration given) {
    Configuration probe = new Configuration(given);
    probe.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092"); // the demo's own, not known yet
    java.util.List<String> lacking =
        readsWhatItLacks(
            JobConfig.from(probe).model().features(),
            io.streamrec.model.features.FeatureSpec.defaults());
    if (!lacking.isEmpty()) {
      throw new IllegalArgumentException(
          "the model reads "
              + String.join(", ", lacking)
              + ", which the demo's traffic does not send (it sends the request features"
              + " user_id, country, recent_items (categorical) and hour (dense), the impression"
              + " features item_id, item_cat (categorical) and position (dense), and the label"
              + " click): the demo would train them as empty, and a label of your own as 0"
              + " everywhere. Leave model.features.* and model.labels out of what you give the"
              + " demo, or train on your own data ('streamrec produce', then 'streamrec run' or"
              + " 'streamrec backfill')");
    }
  }

  /** What {@code model} reads that {@code traffic} does not send so, in words, in order. */
  static java.util.List<String> readsWhatItLacks(
      io.streamrec.model.features.FeatureSpec model,
      io.streamrec.model.features.FeatureSpec traffic) {
    java.util.Set<String> sent = new java.util.HashSet<>();
    traffic.categorical().forEach(f -> sent.add(categorical(f)));
    traffic.dense().forEach(f -> sent.add(dense(f)));
    traffic.labels().forEach(l -> sent.add("label '" + l + "'"));
    java.util.List<String> read = new java.util.ArrayList<>();
    model.categorical().forEach(f -> read.add(categorical(f)));
    model.dense().forEach(f -> read.add(dense(f)));
    model.labels().forEach(l -> read.add("label '" + l + "'"));
    read.removeAll(sent);
    return read;
  }

  private static String categorical(io.streamrec.model.features.CategoricalFeature f) {
    return f.side().name().toLowerCase(java.util.Locale.ROOT) + " categorical '" + f.name() + "'";
  }

  private static String dense(io.streamrec.model.features.DenseFeature f) {
    return f.side().name().toLowerCase(java.util.Locale.ROOT) + " dense '" + f.name() + "'";
  }

  @Override
  public Integer call() throws Exception {
    if (!(rate > 0) || Double.isInfinite(rate) || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(
          "--rate must be a number > 0 (requests per second) and --duration > 0, got --rate "
              + rate
              + " and --duration "
              + fmt(duration));
    }
    // the traffic's settings are checked before the broker and the job start, in the options'
    // terms: refused by the generator afterwards, they cost half a minute and named its fields
    TrafficConfig traffic = trafficConfig();
    FaultConfig faults = faultConfig();
    reports.checkWritable();
    long t0 = System.currentTimeMillis();
    Configuration given = settings.configuration(); // a bad key fails here, before anything starts
    String ignored = withoutTheFilesPlaces(given, settings);
    if (ignored != null) {
      System.out.println(ignored);
    }
    refuseOtherBroker(given);
    refuseAJoinWindowTheTrafficOutlasts(given);
    refuseFeaturesTheTrafficLacks(given);
    System.out.println("streamrec demo: starting an embedded Kafka broker...");
    // the drain's savepoint (and any checkpoint -D turns on) goes here, removed at the end
    Path state = Files.createTempDirectory("streamrec-demo-state");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults())) {
      Configuration conf = configuration(given, state);
      conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
      TopicsConfig topics = JobConfig.from(conf).topics(TopicsConfig.DEFAULT_INPUT_PARTITIONS);
      try (Admin admin = Admin.create(kafka.adminSettings())) {
        Topics.ensure(admin, topics);
      }
      System.out.println(
          "streamrec demo: broker at " + kafka.bootstrapServers() + ", topics " + topics.all());

      JobRunner.Started job = JobRunner.start(conf, StreamrecJob.Bounds.live(), "streamrec-demo");
      // a stop (Ctrl-C, SIGTERM) before the drain cancels the job and waits for it to end, so that
      // the trainer deletes its working directory
      JobRunner.CancelOnExit exit =
          job.cancelOnExit(
                  "streamrec demo: stopping: cancelling the job", "streamrec demo: stopped")
              // a stop leaves no broker log or savepoint behind in the temporary directory
              .afterStop(
                  () -> {
                    kafka.close();
                    org.apache.flink.util.FileUtils.deleteDirectoryQuietly(state.toFile());
                  });
      FaultConfig faultCfg = faults.withJoinWindowMs(job.config().joinWindowMs());
      TrafficGenerator generator = new TrafficGenerator(traffic);
      try (ModelReplica replica =
              ModelReplica.start(kafka.bootstrapServers(), topics.modelUpdates());
          ByteRecordProducer producer = new ByteRecordProducer(kafka.bootstrapServers());
          TrafficPump pump =
              new TrafficPump(
                  generator,
                  new TrafficFaults(faultCfg),
                  producer,
                  topics,
                  rate,
                  job.config().metricsWindow())) {
        System.out.printf(
            Locale.ROOT,
            "streamrec demo: job %s running; sending %.0f requests/s for %s "
                + "(%d users, %d items, fault rate %s)%n",
            job.client().getJobID(),
            rate,
            fmt(duration),
            users,
            items,
            faultRate);
        pump.start();
        com.fasterxml.jackson.databind.node.ArrayNode samples;
        try (Timeline timeline =
                new Timeline(
                    t0,
                    TIMELINE_INTERVAL.toMillis(),
                    job::metrics,
                    () ->
                        Map.of(
                            HtmlReport.ORACLE_AUC,
                            pump.oracleAuc(),
                            HtmlReport.REPLICA_FRESHNESS_P50_MS,
                            replica.freshnessPercentileMs(0.5),
                            HtmlReport.REPLICA_FRESHNESS_P99_MS,
                            replica.freshnessPercentileMs(0.99)));
            Progress p =
                new Progress(
                    System.out,
                    progress.millis(),
                    t0,
                    job::metrics,
                    m ->
                        String.format(
                            Locale.ROOT,
                            "oracle AUC %s | replica v%d, freshness p50 %s p99 %s",
                            Progress.fmt(pump.oracleAuc()),
                            replica.version(),
                            ms(replica.freshnessPercentileMs(0.5)),
                            ms(replica.freshnessPercentileMs(0.99))))) {
          Thread.sleep(duration.toMillis());
          pump.finish();
          awaitConsumed(job, pump);
          System.out.println(
              "streamrec demo: traffic done; draining the job (stop with savepoint, event time to the end)...");
          drain(
              () ->
                  job.client()
                      .stopWithSavepoint(
                          true,
                          conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY),
                          SavepointFormatType.CANONICAL),
              DRAIN_TIMEOUT);
          job.client().getJobExecutionResult().get(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          exit.close();
          replica.awaitVersion(
              Progress.count(job.metrics(), JobMetrics.MODEL_VERSION), Duration.ofSeconds(30));
          timeline.sample();
          samples = timeline.toJson();
        }
        long trainedAt = System.currentTimeMillis();
        Map<String, Double> m = job.metrics();
        long finalVersion = Progress.count(m, JobMetrics.MODEL_VERSION);
        boolean caughtUp = replica.awaitVersion(finalVersion, Duration.ofSeconds(30));
        if (replica.version() == 0 && finalVersion > 0) {
          throw new io.streamrec.common.StreamrecException(
              String.format(
                  Locale.ROOT,
                  "the trainer published %d model version(s) but the demo's replica applied none"
                      + " within 30 s (replica %s, %d records it could not read%s)",
                  finalVersion,
                  replica.state(),
                  replica.badRecords(),
                  replica.unreachable() != null
                      ? "; " + replica.unreachable()
                      : replica.unreadableSpec() != null ? "; " + replica.unreadableSpec() : ""));
        }
        if (replica.version() == 0) {
          // no held-out score without a model: one line, where the replica's refusal was a trace
          throw new io.streamrec.common.StreamrecException(
              String.format(
                  Locale.ROOT,
                  "no model version was published in %d s of traffic (%,d impressions trained;"
                      + " the trainer publishes every %d s of event time): run it longer"
                      + " (--duration) or faster (--rate)",
                  duration.toSeconds(),
                  Progress.count(m, JobMetrics.IMPRESSIONS_TRAINED),
                  job.config().publishIntervalMs() / 1000));
        }

        // the same world, later: traffic the model has not seen (the pump's thread is done with the
        // generator)
        TrafficGenerator future = generator;
        List<RequestUnit> heldOut = new ArrayList<>();
        List<Double> truths = new ArrayList<>();
        List<Float> labels = new ArrayList<>();
        for (int i = 0; i < HELD_OUT_REQUESTS; i++) {
          GeneratedRequest g = future.next(trainedAt + i);
          heldOut.add(RequestUnits.of(g.request(), g.impressions(), trainedAt + i));
          for (int k = 0; k < g.size(); k++) {
            truths.add(g.trueCtr()[k]);
            labels.add(g.click(k));
          }
        }
        float[] scores = replica.score(heldOut);
        double[] s = new double[scores.length];
        double[] o = new double[scores.length];
        float[] y = new float[scores.length];
        for (int i = 0; i < s.length; i++) {
          s[i] = scores[i];
          o[i] = truths.get(i);
          y[i] = labels.get(i);
        }
        double replicaAuc = Auc.exact(s, y);
        double heldOutOracle = Auc.exact(o, y);
        double seconds = (trainedAt - t0) / 1000.0;

        ObjectNode r =
            Report.of(m, duration.toMillis() / 1000.0, job.config().model().features().labels());
        r.put("command", "demo");
        r.put("backend", io.streamrec.gpu.Backends.resolvedName(job.config().backend()));
        r.put("duration_s", seconds);
        Report.putNumber(r, "oracle_auc", pump.oracleAuc());
        // version event time -> applied in the replica (docs/model-updates.md §6)
        Report.putNumber(r, "freshness_p50_ms", replica.freshnessPercentileMs(0.5));
        Report.putNumber(r, "freshness_p99_ms", replica.freshnessPercentileMs(0.99));
        ObjectNode t = r.putObject("traffic");
        t.put("requests_sent", pump.requestsSent());
        t.put("impressions_sent", pump.impressionsSent());
        long[] fates = pump.fates();
        ObjectNode f = t.putObject("records_by_expected_fate");
        for (OutgoingRecord.Fate fate : OutgoingRecord.Fate.values()) {
          f.put(fate.name().toLowerCase(Locale.ROOT), fates[fate.ordinal()]);
        }
        ObjectNode rep = r.putObject("replica");
        rep.put("version", replica.version());
        rep.put("caught_up", caughtUp);
        rep.put("rows", replica.rows());
        rep.put("versions_applied", replica.versionsApplied());
        rep.put("gaps", replica.gaps());
        rep.put("duplicates", replica.duplicates());
        rep.put("rereads", replica.rereads());
        rep.put("freshness_samples", replica.freshnessSamples());
        rep.put("held_out_impressions_scored", scores.length);
        Report.putNumber(rep, "held_out_auc", replicaAuc);
        Report.putNumber(rep, "held_out_oracle_auc", heldOutOracle);

        System.out.println(
            Progress.line(
                trainedAt - t0,
                m,
                "oracle AUC "
                    + Progress.fmt(pump.oracleAuc())
                    + " | replica v"
                    + replica.version()));
        System.out.printf(
            Locale.ROOT,
            "streamrec demo: %s of traffic, %,d impressions trained, progressive AUC %s (oracle %s), %,d versions / %,d deltas "
                + "published; replica v%d scored %,d held-out impressions: AUC %.4f (oracle %.4f); dead letters %,d%n",
            fmt(duration),
            Progress.count(m, JobMetrics.IMPRESSIONS_TRAINED),
            Progress.fmt(m.get(JobMetrics.PROGRESSIVE_AUC)),
            Progress.fmt(pump.oracleAuc()),
            finalVersion,
            Progress.count(m, JobMetrics.DELTAS_PUBLISHED),
            replica.version(),
            scores.length,
            replicaAuc,
            heldOutOracle,
            Progress.deadLetters(m));
        r.set("timeline", samples);
        reports.write(r, "streamrec demo");
        return caughtUp ? 0 : 1;
      }
    } finally {
      org.apache.flink.util.FileUtils.deleteDirectoryQuietly(state.toFile());
    }
  }

  /**
   * The job's configuration in the demo: {@link #DEMO_DEFAULTS}, then the user's settings ({@code
   * -D}), with checkpoints and savepoints on the file system under {@code state} unless the
   * settings name a storage: the drain's savepoint holds the whole model, more than the 5 MB that
   * Flink's default (the JobManager's heap) takes once the model is larger than the demo's default
   * one.
   */
  static Configuration configuration(Configuration settings, Path state) {
    Configuration conf = new Configuration();
    DEMO_DEFAULTS.forEach(conf::setString);
    conf.addAll(settings);
    return RetainedCheckpoints.withFileSystemStorage(conf, state);
  }

  /** The generator's settings of {@code --seed}, {@code --users} and {@code --items}. */
  private TrafficConfig trafficConfig() {
    try {
      return TrafficConfig.defaults().withSeed(seed).withUsers(users).withItems(items);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--users "
              + users
              + " and --items "
              + items
              + " are not a world the demo's traffic can be drawn from: "
              + e.getMessage(),
          e);
    }
  }

  /** The bad records' settings of {@code --fault-rate}. */
  private FaultConfig faultConfig() {
    if (!(faultRate >= 0 && faultRate <= 1)) {
      throw new IllegalArgumentException(
          "--fault-rate must be in [0, 1] (bad records of each kind per impression), got "
              + faultRate);
    }
    return FaultConfig.defaults().withSeed(seed).withAllRates(faultRate);
  }

  /**
   * Stops the job with a savepoint ({@code stop}), again while Flink refuses it because the job's
   * tasks are not all running yet: a demo of little traffic (or a loaded machine) reached its drain
   * before every task had started, and failed with a page of Flink's trace.
   */
  static String drain(
      java.util.function.Supplier<java.util.concurrent.CompletableFuture<String>> stop,
      Duration timeout)
      throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (true) {
      try {
        return stop.get()
            .get(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        boolean starting =
            org.apache.flink.util.ExceptionUtils.findThrowable(
                        e, org.apache.flink.runtime.checkpoint.CheckpointException.class)
                    .map(
                        c ->
                            c.getCheckpointFailureReason()
                                == org.apache.flink.runtime.checkpoint.CheckpointFailureReason
                                    .NOT_ALL_REQUIRED_TASKS_RUNNING)
                    .orElse(false)
                || org.apache.flink.util.ExceptionUtils.findThrowableWithMessage(
                        e, "Not all required tasks are currently running")
                    .isPresent();
        if (!starting || System.currentTimeMillis() + DRAIN_RETRY_MS >= deadline) {
          throw e;
        }
        Thread.sleep(DRAIN_RETRY_MS);
      }
    }
  }

  /** How long a drain refused for tasks not yet running waits before it asks again. */
  private static final long DRAIN_RETRY_MS = 200;

  /** Waits until the job has read every record the pump sent (its sources' counters say so). */
  private static void awaitConsumed(JobRunner.Started job, TrafficPump pump)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + CATCH_UP_TIMEOUT.toMillis();
    while (System.currentTimeMillis() < deadline) {
      Map<String, Double> m = job.metrics();
      if (Progress.count(m, JobMetrics.REQUESTS_IN) >= pump.requestsSent()
          && Progress.count(m, JobMetrics.IMPRESSIONS_IN) >= pump.impressionsSent()) {
        return;
      }
      Thread.sleep(100);
    }
    System.out.println(
        "streamrec demo: the job has not read everything after "
            + fmt(CATCH_UP_TIMEOUT)
            + "; draining anyway");
  }

  private static String ms(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f ms", v);
  }

  private static String fmt(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
