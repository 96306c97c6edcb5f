package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.common.KafkaClientProperties;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.ConfigException;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.TopicOffsets;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.trainer.Handoff;
import io.streamrec.job.trainer.ModelLineageException;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backfill hands its model on: the backfill of what the topics hold writes a handoff; more
 * traffic arrives and a second backfill trains it from that handoff, writing its own; more arrives,
 * and a live job started from the second handoff (no checkpoint) reads on from where that backfill
 * stopped. All three train one model, on one lineage and topic, and what they publish together is,
 * record for record, what one backfill over all of the traffic publishes (the slices of traffic lie
 * more than a join window and a publish period apart, so no unit and no batch spans a handoff).
 */
class HandoffITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final long START_MS = 1_767_225_600_000L;
  private static final String MODEL = "5eed00000000000a";

  @TempDir Path dir;

  private static GeneratedTraffic slice(int seed, long startMs) {
    return new GeneratedTraffic(
        TrafficConfig.defaults().withSeed(seed).withUsers(500).withItems(300),
        FaultConfig.defaults().withSeed(seed).withAllRates(0.0).withJoinWindowMs(2_000),
        1_500,
        startMs,
        60,
        1);
  }

  private static Configuration conf(String bootstrap, TopicsConfig in, String modelUpdates) {
    Configuration c = PipelineSupport.jobConf(bootstrap, in, 2_000);
    c.set(JobOptions.MODEL_UPDATES_TOPIC, modelUpdates);
    c.set(JobOptions.MODEL_ID, MODEL);
    // rows go out when they change, live as in a backfill, so that the two runs' records compare
    c.set(JobOptions.REFRESH_VERSIONS, 0);
    return c;
  }

  @Test
  void aLiveJobGoingOnFromABackfillsHandoffPublishesWhatOneBackfillOfEverythingDoes()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "handoff-");
    // compacted, as streamrec creates it: the test fails if a segment of its months-old versions
    // rolls and is compacted under it (when records carried event times, they were)
    long startedMs = System.currentTimeMillis();
    String handed = PipelineSupport.topics(bootstrap, "handoff-out-").modelUpdates();
    String whole = PipelineSupport.topics(bootstrap, "handoff-whole-").modelUpdates();
    String handoff = dir.resolve("model.handoff").toString();

    GeneratedTraffic first = slice(21, START_MS);
    PipelineSupport.produce(bootstrap, in, first.records);
    Configuration backfill = conf(bootstrap, in, handed);
    backfill.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    PipelineSupport.backfill(backfill);

    Handoff.Header h = Handoff.readHeader(handoff);
    List<Long> backfilled = ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, handed));
    assertThat(h.model()).isEqualTo(ModelLineage.parse(MODEL));
    assertThat(h.version()).isEqualTo(backfilled.get(backfilled.size() - 1)).isGreaterThan(3);
    assertThat(h.offsets().get(new TopicPartition(in.requests(), 0))).isNotNull();
    assertThat(
            h.offsets().entrySet().stream().filter(e -> e.getKey().topic().equals(in.requests())))
        .as("the requests' offsets: every request of the first slice")
        .extracting(e -> e.getValue())
        .satisfies(
            o ->
                assertThat(o.stream().mapToLong(Long::longValue).sum())
                    .isEqualTo(first.requests()));

    // the second slice: after the first by more than a join window and a publish period, trained
    // by a backfill from the first's handoff
    GeneratedTraffic second = slice(22, first.lastEventMs + 30_000);
    PipelineSupport.produce(bootstrap, in, second.records);
    String handoff2 = dir.resolve("model-2.handoff").toString();
    Configuration chained = conf(bootstrap, in, handed);
    chained.set(JobOptions.HANDOFF_START_FROM, handoff);
    chained.set(JobOptions.HANDOFF_SAVE_TO, handoff2);
    PipelineSupport.backfill(chained);
    Handoff.Header h2 = Handoff.readHeader(handoff2);
    assertThat(h2.model()).isEqualTo(h.model());
    assertThat(h2.version()).isGreaterThan(h.version() + 3);

    GeneratedTraffic third = slice(25, second.lastEventMs + 30_000);
    PipelineSupport.produce(bootstrap, in, third.records);

    PipelineSupport.backfill(conf(bootstrap, in, whole));
    List<String> reference = texts(bootstrap, whole);

    Configuration live = conf(bootstrap, in, handed);
    live.set(JobOptions.HANDOFF_START_FROM, handoff2);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(env, JobConfig.from(live), StreamrecJob.Bounds.live());
    JobClient job = env.executeAsync("it-live-from-handoff");
    List<String> published;
    try {
      published = awaitVersion(bootstrap, handed, h2.version() + 3, 5_000);
    } finally {
      job.cancel().get();
    }
    assertThat(ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, handed)))
        .as("the second backfill's and the live job's versions follow the first's on its lineage")
        .startsWith(backfilled.toArray(Long[]::new))
        .doesNotHaveDuplicates()
        .isSorted();
    assertThat(TopicRecords.readAll(bootstrap, handed))
        .as("records stamped by the broker when written, not with their versions' event times")
        .allSatisfy(r -> assertThat(r.timestamp()).isGreaterThanOrEqualTo(startedMs));
    assertThat(published.size()).isLessThanOrEqualTo(reference.size());
    assertThat(published).containsExactlyElementsOf(reference.subList(0, published.size()));

    // another job from the first handoff, whose model the topic holds far past it: it would have
    // published other versions 2, 3, ... of the model over the ones there (a backfill of a later
    // range did, and a replica served the rows of both as one model)
    long before = TopicRecords.readAll(bootstrap, handed).size();
    Configuration again = conf(bootstrap, in, handed);
    again.set(JobOptions.HANDOFF_START_FROM, handoff);
    assertThatThrownBy(() -> PipelineSupport.backfill(again))
        .rootCause()
        .isInstanceOf(ModelLineageException.class)
        .hasMessageContaining(
            "already holds version "
                + ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, handed)).stream()
                    .mapToLong(Long::longValue)
                    .max()
                    .orElseThrow())
        .hasMessageContaining("past the version " + h.version() + " the handoff at " + handoff)
        .hasMessageContaining("another job has gone on from it");
    assertThat(TopicRecords.readAll(bootstrap, handed)).hasSize((int) before);
  }

  /**
   * A topic short of versions the trainer published: here a second backfill's versions went to
   * another topic (as a transaction the broker aborted, or a topic made again, leaves them
   * missing). The third, from the second's handoff, published its changes over a topic that never
   * had the second's: a replica reading it again served rows of the first backfill's values next to
   * the third's, a model the trainer never had. Now the version after the gap publishes the whole
   * model, and the topic read whole is the model one backfill of everything publishes.
   */
  @Test
  void aTopicShortOfVersionsGetsTheWholeModelInTheVersionAfterThem() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "short-");
    String handed = PipelineSupport.topics(bootstrap, "short-out-").modelUpdates();
    String elsewhere = PipelineSupport.topics(bootstrap, "short-elsewhere-").modelUpdates();
    String whole = PipelineSupport.topics(bootstrap, "short-whole-").modelUpdates();
    String h1 = dir.resolve("short-1.handoff").toString();
    String h2 = dir.resolve("short-2.handoff").toString();

    GeneratedTraffic first = slice(31, START_MS);
    PipelineSupport.produce(bootstrap, in, first.records);
    Configuration one = conf(bootstrap, in, handed);
    one.set(JobOptions.HANDOFF_SAVE_TO, h1);
    PipelineSupport.backfill(one);

    GeneratedTraffic second = slice(32, first.lastEventMs + 30_000);
    PipelineSupport.produce(bootstrap, in, second.records);
    Configuration two = conf(bootstrap, in, elsewhere);
    two.set(JobOptions.HANDOFF_START_FROM, h1);
    two.set(JobOptions.HANDOFF_SAVE_TO, h2);
    PipelineSupport.backfill(two);

    PipelineSupport.produce(bootstrap, in, slice(33, second.lastEventMs + 30_000).records);
    Configuration three = conf(bootstrap, in, handed);
    three.set(JobOptions.HANDOFF_START_FROM, h2);
    PipelineSupport.backfill(three);

    PipelineSupport.backfill(conf(bootstrap, in, whole));

    List<Long> versions = ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, handed));
    long firstEnd = Handoff.readHeader(h1).version();
    long secondEnd = Handoff.readHeader(h2).version();
    assertThat(versions)
        .as("the first backfill's versions, then the third's after the second's")
        .contains(firstEnd, secondEnd + 1)
        .doesNotContain(secondEnd);
    Map<String, String> expected = model(bootstrap, whole);
    Map<String, String> got = model(bootstrap, handed);
    java.util.Set<String> keys = new java.util.TreeSet<>(expected.keySet());
    keys.addAll(got.keySet());
    List<String> differing =
        keys.stream().filter(k -> !java.util.Objects.equals(expected.get(k), got.get(k))).toList();
    assertThat(expected).isNotEmpty();
    assertThat(differing)
        .as(
            "rows and dense blocks unlike one backfill of everything's (%d of %d)",
            differing.size(), keys.size())
        .isEmpty();
  }

  /**
   * The model a reader of the whole topic has: each row's and dense block's latest values, rows a
   * tombstone removed gone (the versions that carried them aside).
   */
  private static Map<String, String> model(String bootstrap, String topic) {
    Map<String, String> m = new java.util.TreeMap<>();
    for (var u : ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic))) {
      if (u instanceof io.streamrec.protocol.ModelUpdate.Row r) {
        m.put(r.key(), java.util.Arrays.toString(r.values()));
      } else if (u instanceof io.streamrec.protocol.ModelUpdate.Tombstone t) {
        m.remove(t.key());
      } else if (u instanceof io.streamrec.protocol.ModelUpdate.DenseBlock d) {
        m.put(d.key(), java.util.Arrays.toString(d.values()));
      }
    }
    return m;
  }

  /**
   * A backfill stopped with a drain ({@code flink stop --drain}) before its input's end writes no
   * handoff: the drain finishes the trainer as the input's end would, but the handoff would name
   * the offsets the sources were to stop at, which they had not reached.
   */
  @Test
  void aBackfillStoppedWithADrainWritesNoHandoff() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "drained-");
    PipelineSupport.produce(bootstrap, in, slice(24, START_MS).records);
    String handoff = dir.resolve("drained.handoff").toString();
    Configuration c = conf(bootstrap, in, in.modelUpdates());
    c.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    c.set(JobOptions.MAX_RECORDS_PER_SECOND, 200); // slow enough to stop halfway
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(env, JobConfig.from(c), StreamrecJob.Bounds.backfill(null, null));
    JobClient job = env.executeAsync("it-drained-backfill");
    awaitVersion(bootstrap, in.modelUpdates(), 1, 0);
    String savepoint =
        job.stopWithSavepoint(
                true,
                dir.resolve("savepoints").toUri().toString(),
                org.apache.flink.core.execution.SavepointFormatType.CANONICAL)
            .get();
    assertThat(savepoint).isNotBlank();
    job.getJobExecutionResult().get();
    List<Long> versions =
        ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, in.modelUpdates()));
    assertThat(versions).as("the drain published what it trained").isNotEmpty();
    assertThat(Path.of(handoff)).doesNotExist();
    assertThat(Path.of(handoff + ".inprogress")).doesNotExist();
  }

  /**
   * A backfill from a handoff that is to stop before where the handoff's backfill stopped is
   * refused before it starts, whether it writes a handoff of its own or not. Without one it used to
   * run, train nothing and end as if it had done its work.
   */
  @Test
  void aBackfillFromAHandoffUntilBeforeWhereItStoppedIsRefused() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "rewind-");
    PipelineSupport.produce(bootstrap, in, slice(26, START_MS).records);
    String handoff = dir.resolve("rewind.handoff").toString();
    Configuration first = conf(bootstrap, in, in.modelUpdates());
    first.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    PipelineSupport.backfill(first);

    for (boolean save : new boolean[] {false, true}) {
      Configuration c = conf(bootstrap, in, in.modelUpdates());
      c.set(JobOptions.HANDOFF_START_FROM, handoff);
      if (save) {
        c.set(JobOptions.HANDOFF_SAVE_TO, dir.resolve("later.handoff").toString());
      }
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      assertThatThrownBy(
              () ->
                  StreamrecJob.build(
                      env,
                      JobConfig.from(c),
                      StreamrecJob.Bounds.backfill(null, START_MS + 10_000)))
          .as(save ? "with a handoff of its own" : "without")
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("after where this backfill is to stop")
          .hasMessageContaining("backfill until a later time");
    }
  }

  /**
   * A backfill {@code --until T} that hands on, and a job from its handoff, cut the traffic where
   * it is dense: together they train every unit whole, as one backfill of everything does, and
   * count every impression once. Before, the backfill stopped reading the impressions at T: the
   * units of the requests in its last join window closed without their later impressions, which the
   * job after it dead-lettered as orphans.
   */
  @Test
  void aCutInsideTheTrafficSplitsNoUnit() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "cut-");
    GeneratedTraffic traffic = slice(27, START_MS);
    PipelineSupport.produce(bootstrap, in, traffic.records);
    String handoff = dir.resolve("cut.handoff").toString();
    long until = START_MS + 45_000;

    Map<String, Double> whole =
        PipelineSupport.backfill(
            conf(bootstrap, in, PipelineSupport.topics(bootstrap, "cut-whole-").modelUpdates()));
    Configuration first = conf(bootstrap, in, in.modelUpdates());
    first.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    Map<String, Double> before = backfill(first, until);
    Handoff.Header h = Handoff.readHeader(handoff);
    assertThat(h.overlaps()).as("it read the impressions on past its cut").isTrue();
    Configuration second = conf(bootstrap, in, in.modelUpdates());
    second.set(JobOptions.HANDOFF_START_FROM, handoff);
    Configuration tooShort = new Configuration(second);
    tooShort.set(JobOptions.HANDOFF_SAVE_TO, dir.resolve("short.handoff").toString());
    assertThatThrownBy(
            () ->
                StreamrecJob.build(
                    StreamExecutionEnvironment.getExecutionEnvironment(),
                    JobConfig.from(tooShort),
                    StreamrecJob.Bounds.backfill(null, until + 3_000)))
        .as("a segment that would hand on from before where the backfill read to")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("less than two join windows and the allowed disorder (5000 ms)")
        .hasMessageContaining("backfill until a later time");
    Map<String, Double> after = backfill(second, null);

    assertMakeOneRun(before, after, whole, traffic);
  }

  /**
   * A backfill that hands on and names no end, started while the traffic still comes: the
   * impressions of its newest requests are written after it starts. It read the topics to their
   * end, the units of those requests closed short, and their impressions reached the next job as
   * orphans. It now cuts a minute, a join window and the allowed disorder before it starts, and the
   * next job trains the requests after the cut whole.
   */
  @Test
  void aBackfillToNowHandsOnTheRequestsWhoseImpressionsAreStillToCome() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "now-");
    long now = System.currentTimeMillis();
    // a request every 60 ms for 90 s, the newest now: a cut a minute before now lies inside it
    GeneratedTraffic traffic = slice(29, now - 90_000);
    List<io.streamrec.traffic.OutgoingRecord> written =
        traffic.records.stream().filter(r -> r.timestampMs() <= now).toList();
    assertThat(written).hasSizeLessThan(traffic.records.size());
    PipelineSupport.produce(bootstrap, in, written);
    String handoff = dir.resolve("now.handoff").toString();
    Configuration first = conf(bootstrap, in, in.modelUpdates());
    first.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    Map<String, Double> before = backfill(first, null);

    // the impressions written since, and a job from the handoff
    PipelineSupport.produce(
        bootstrap, in, traffic.records.subList(written.size(), traffic.records.size()));
    Configuration second = conf(bootstrap, in, in.modelUpdates());
    second.set(JobOptions.HANDOFF_START_FROM, handoff);
    Map<String, Double> after = backfill(second, null);
    Map<String, Double> whole =
        PipelineSupport.backfill(
            conf(bootstrap, in, PipelineSupport.topics(bootstrap, "now-whole-").modelUpdates()));

    assertMakeOneRun(before, after, whole, traffic);
    assertThat(Handoff.readHeader(handoff).overlaps()).as("it cut inside the traffic").isTrue();
  }

  /**
   * {@code before}, a backfill handing on at a cut, and {@code after}, the job from its handoff,
   * made between them the units one backfill of all the {@code traffic} ({@code whole}) makes, with
   * no dead letter, and counted every impression each read once.
   */
  private static void assertMakeOneRun(
      Map<String, Double> before,
      Map<String, Double> after,
      Map<String, Double> whole,
      GeneratedTraffic traffic) {
    for (String m :
        List.of(JobMetrics.UNITS, JobMetrics.IMPRESSIONS_JOINED, JobMetrics.UNITS_TRAINED)) {
      assertThat(PipelineSupport.count(before, m) + PipelineSupport.count(after, m))
          .as(m)
          .isEqualTo(PipelineSupport.count(whole, m))
          .isPositive();
    }
    assertThat(PipelineSupport.count(whole, JobMetrics.IMPRESSIONS_JOINED))
        .isEqualTo(traffic.impressions());
    assertThat(PipelineSupport.count(before, JobMetrics.UNITS)).isPositive();
    assertThat(PipelineSupport.count(after, JobMetrics.UNITS)).isPositive();
    for (Map<String, Double> m : List.of(before, after)) {
      assertThat(PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS)).isZero();
      assertThat(PipelineSupport.count(m, JobMetrics.REQUESTS_WITHOUT_IMPRESSIONS)).isZero();
    }
    // every impression read is counted once: the backfill's past its cut handed on, the next
    // job's of the backfill's requests counted there
    assertThat(
            PipelineSupport.count(before, JobMetrics.IMPRESSIONS_JOINED)
                + PipelineSupport.count(before, JobMetrics.IMPRESSIONS_HANDED_ON))
        .isEqualTo(PipelineSupport.count(before, JobMetrics.IMPRESSIONS_IN));
    assertThat(
            PipelineSupport.count(after, JobMetrics.IMPRESSIONS_JOINED)
                + PipelineSupport.count(after, JobMetrics.IMPRESSIONS_BEFORE_HANDOFF))
        .isEqualTo(PipelineSupport.count(after, JobMetrics.IMPRESSIONS_IN));
    assertThat(
            PipelineSupport.count(after, JobMetrics.UNITS)
                + PipelineSupport.count(after, JobMetrics.REQUESTS_BEFORE_HANDOFF))
        .isEqualTo(PipelineSupport.count(after, JobMetrics.REQUESTS_IN));
    assertThat(PipelineSupport.count(after, JobMetrics.REQUESTS_BEFORE_HANDOFF)).isPositive();
  }

  private static Map<String, Double> backfill(Configuration conf, Long untilMs) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.backfill(null, untilMs));
    return io.streamrec.cli.metrics.InJvmMetrics.snapshot(
        env.execute("it-backfill-until").getJobID().toHexString());
  }

  /**
   * Where a backfill {@code --until T} stops, per partition: at its first record of time T or later
   * (so every record before T is read), or at its end where none is that late; as Flink's source
   * resolves a timestamp.
   */
  @Test
  void aBackfillUntilATimeStopsEachPartitionAtItsFirstRecordOfThatTime() {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = PipelineSupport.topics(bootstrap, "until-");
    GeneratedTraffic traffic = slice(23, START_MS);
    PipelineSupport.produce(bootstrap, in, traffic.records);
    long until = START_MS + 30_000;
    Map<TopicPartition, Long> stops =
        TopicOffsets.stoppingOffsets(
            bootstrap,
            KafkaClientProperties.empty(),
            List.of(in.requests(), in.impressions()),
            until);
    Map<TopicPartition, Long> ends =
        TopicOffsets.stoppingOffsets(
            bootstrap, KafkaClientProperties.empty(), List.of(in.requests()), null);
    List<ConsumerRecord<byte[], byte[]>> requests = TopicRecords.readAll(bootstrap, in.requests());
    for (TopicPartition tp : ends.keySet()) {
      List<ConsumerRecord<byte[], byte[]>> p =
          requests.stream().filter(r -> r.partition() == tp.partition()).toList();
      assertThat(ends.get(tp)).as("the end of %s", tp).isEqualTo(p.size());
      long before = p.stream().filter(r -> r.timestamp() < until).count();
      assertThat(stops.get(tp)).as("%s until %d", tp, until).isEqualTo(before).isLessThan(p.size());
    }
    assertThat(stops.keySet().stream().map(TopicPartition::topic).distinct())
        .containsExactlyInAnyOrder(in.requests(), in.impressions());
    assertThat(
            TopicOffsets.stoppingOffsets(
                bootstrap,
                KafkaClientProperties.empty(),
                List.of(in.requests()),
                traffic.lastEventMs + 1))
        .as("no record that late: the end")
        .isEqualTo(ends);
  }

  private static List<String> texts(String bootstrap, String topic) {
    return TopicRecords.readAll(bootstrap, topic).stream().map(ModelUpdateRecords::text).toList();
  }

  /**
   * The topic's records once it has a version past {@code version} and no record came for {@code
   * quietMs} (a live job has then published every period its watermark passed; the newest units
   * wait for events that never come).
   */
  private static List<String> awaitVersion(
      String bootstrap, String topic, long version, long quietMs) throws InterruptedException {
    long deadline = System.nanoTime() + 120_000_000_000L;
    List<ConsumerRecord<byte[], byte[]>> seen = List.of();
    long quietSince = System.nanoTime();
    while (true) {
      List<ConsumerRecord<byte[], byte[]>> now = TopicRecords.readAll(bootstrap, topic);
      if (now.size() != seen.size()) {
        seen = now;
        quietSince = System.nanoTime();
      }
      List<Long> versions = ModelUpdateRecords.versions(seen);
      boolean past = !versions.isEmpty() && versions.get(versions.size() - 1) > version;
      if (past && System.nanoTime() - quietSince >= quietMs * 1_000_000L) {
        return seen.stream().map(ModelUpdateRecords::text).toList();
      }
      assertThat(System.nanoTime())
          .as("the live job publishes past version %d; the topic holds %s", version, versions)
          .isLessThan(deadline);
      Thread.sleep(500);
    }
  }
}
