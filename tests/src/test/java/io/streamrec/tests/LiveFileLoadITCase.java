package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.StreamrecCli;
import io.streamrec.cli.kafka.JsonlProducer;
import io.streamrec.cli.metrics.InJvmMetrics;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.testutils.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Files loaded with {@code streamrec produce} into a live job whose input topics have been silent
 * for longer than {@code source.idle-timeout}, as the README's session and anyone trying the job by
 * hand does. Loaded one file after the other, the requests carried the job's event time past the
 * impressions still to come while the silent impressions topic counted as idle: five in six of them
 * arrived late. Merged in event time, the impressions join their requests and are trained on.
 */
class LiveFileLoadITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(1);

  /** The idle timeout of the stalled-producer test, and how far apart its partitions come back. */
  private static final Duration STALL_IDLE_TIMEOUT = Duration.ofSeconds(3);

  private static final Duration PARTITION_GAP = Duration.ofSeconds(1);

  @Test
  void filesLoadedIntoALiveJobWhoseInputsWereIdleJoinAndNoneArriveLate(@TempDir Path dir)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "quiet-");
    Path[] files = generate(dir, "a", 42, "2026-01-01T00:00:00Z");

    JobClient job = startLive(bootstrap, topics, Duration.ZERO);
    String id = job.getJobID().toHexString();
    try {
      awaitRunning(job);
      // the inputs stay silent for several idle timeouts: every partition counts as idle
      Thread.sleep(IDLE_TIMEOUT.toMillis() * 4);

      JsonlProducer.Summary loaded = load(bootstrap, topics, files[0], files[1]);

      Map<String, Double> m = awaitRead(id, loaded.requestsSent(), loaded.impressionsSent());
      long trained = PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED);
      long open = loaded.impressionsSent() - trained;
      System.out.printf(
          "live file load: %,d impressions loaded, %,d trained, %,d dead letters%n",
          loaded.impressionsSent(),
          trained,
          PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS));
      assertThat(PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS))
          .as("impressions sent to the dead-letter topic (late: their request's window had closed)")
          .isZero();
      // the units of the last join window (a sixth of the load) stay open until later traffic
      // moves event time on
      assertThat(open).as("impressions not trained yet").isLessThan(loaded.impressionsSent() / 4);
    } finally {
      job.cancel().get();
      InJvmMetrics.forget(id);
    }
  }

  /**
   * The impressions' producer stalls while the requests' goes on: the second batch's requests come,
   * the impressions topic stays silent past the partitions' idle timeout, then its impressions
   * come. Before the assembler waited for a silent topic ({@code assembler.silent-input-wait}), the
   * requests alone carried event time past the units still waiting, and the stalled impressions
   * were dead letters (late); now they join, and the wait is counted.
   *
   * <p>The stalled impressions come back a partition at a time, the second half a second after the
   * first, within the idle timeout. The source left the partition still silent out of its
   * watermark, so the first partition back alone carried the topic's event time past the second's
   * impressions, which were late unless the assembler held the topic once it moved again (521 of
   * them in one run of this test when the consumer happened to hand over the partitions a moment
   * apart; every run since the load is split).
   */
  @Test
  void impressionsOfAProducerThatStalledWhileRequestsWentOnStillJoin(@TempDir Path dir)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "stall-");
    Path[] first = generate(dir, "a", 42, "2026-01-01T00:00:00Z");
    Path[] second = generate(dir, "b", 43, "2026-01-01T00:02:00Z");
    Path[] stalled = byPartition(dir, second[1], topics.inputPartitions());

    Configuration conf = liveConf(bootstrap, topics, Duration.ofMinutes(1));
    conf.set(JobOptions.IDLE_TIMEOUT, STALL_IDLE_TIMEOUT);
    JobClient job = start(conf, topics);
    String id = job.getJobID().toHexString();
    try {
      awaitRunning(job);
      JsonlProducer.Summary a = load(bootstrap, topics, first[0], first[1]);
      awaitRead(id, a.requestsSent(), a.impressionsSent());

      JsonlProducer.Summary requests = load(bootstrap, topics, second[0], null);
      awaitRead(id, a.requestsSent() + requests.requestsSent(), a.impressionsSent());
      // the impressions topic silent for several idle timeouts while the requests have moved on
      Thread.sleep(STALL_IDLE_TIMEOUT.toMillis() * 4);
      long back = System.nanoTime();
      long impressionsSent = 0;
      for (Path partition : stalled) {
        Thread.sleep(Math.max(0, back / 1_000_000 - System.nanoTime() / 1_000_000));
        impressionsSent += load(bootstrap, topics, null, partition).impressionsSent();
        back += PARTITION_GAP.toNanos();
      }
      long impressionsSentBack = impressionsSent;

      Map<String, Double> m =
          awaitRead(
              id,
              STALL_IDLE_TIMEOUT.plusSeconds(2),
              a.requestsSent() + requests.requestsSent(),
              a.impressionsSent() + impressionsSentBack);
      System.out.printf(
          "stalled impressions: %,d + %,d impressions loaded, %,d trained, %,d dead letters, %d"
              + " waits%n",
          a.impressionsSent(),
          impressionsSentBack,
          PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED),
          PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS),
          PipelineSupport.count(m, JobMetrics.SILENT_INPUT_WAITS));
      assertThat(PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS))
          .as("impressions sent to the dead-letter topic (late: their request's window had closed)")
          .isZero();
      assertThat(PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED))
          .as("the first batch and most of the second trained")
          .isGreaterThan(a.impressionsSent() + impressionsSentBack * 3 / 4);
      assertThat(PipelineSupport.count(m, JobMetrics.SILENT_INPUT_WAITS))
          .as("event time waited for the silent impressions topic")
          .isPositive();
      assertThat(PipelineSupport.count(m, JobMetrics.SILENT_INPUT_WAITS_GIVEN_UP)).isZero();
    } finally {
      job.cancel().get();
      InJvmMetrics.forget(id);
    }
  }

  /**
   * A live job throttled ({@code source.max-records-per-second}) over a backlog. The throttle paced
   * the records where it held the source's own thread, so a partition whose turn had not come (the
   * consumer hands over one partition's fetched records at a time) emitted nothing for longer than
   * the idle timeout, counted as idle, and the watermark went on without it: its impressions, read
   * afterwards, were late (a quarter of them in a walk). Paced downstream of the source, the
   * throttle backpressures it instead, and a backpressured source's partitions do not turn idle.
   */
  @Test
  void aThrottledLiveJobOverABacklogLosesNoImpressionToLateness(@TempDir Path dir)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "paced-");
    Path[] files = generate(dir, "a", 44, "2026-01-01T00:00:00Z", 1_500);
    JsonlProducer.Summary loaded = load(bootstrap, topics, files[0], files[1]);

    Configuration conf = liveConf(bootstrap, topics, Duration.ZERO);
    conf.set(JobOptions.MAX_RECORDS_PER_SECOND, 400);
    JobClient job = start(conf, topics);
    String id = job.getJobID().toHexString();
    try {
      Map<String, Double> m = awaitRead(id, loaded.requestsSent(), loaded.impressionsSent());
      System.out.printf(
          "throttled backlog: %,d impressions loaded, %,d trained, %,d dead letters%n",
          loaded.impressionsSent(),
          PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED),
          PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS));
      assertThat(PipelineSupport.count(m, JobMetrics.DEAD_LETTER_IMPRESSIONS))
          .as(
              "impressions sent to the dead-letter topic (late: their partition was taken for idle)")
          .isZero();
    } finally {
      job.cancel().get();
      InJvmMetrics.forget(id);
    }
  }

  /** Requests and impressions files of 3,000 generated requests, 20 ms apart from {@code start}. */
  private static Path[] generate(Path dir, String name, int seed, String start) {
    return generate(dir, name, seed, start, 3_000);
  }

  private static Path[] generate(Path dir, String name, int seed, String start, int count) {
    Path requests = dir.resolve(name + "-requests.jsonl");
    Path impressions = dir.resolve(name + "-impressions.jsonl");
    assertThat(
            new CommandLine(new StreamrecCli())
                .execute(
                    "generate",
                    "--count",
                    Integer.toString(count),
                    "--seed",
                    Integer.toString(seed),
                    "--start",
                    start,
                    "--requests",
                    requests.toString(),
                    "--impressions",
                    impressions.toString()))
        .isZero();
    return new Path[] {requests, impressions};
  }

  /**
   * The impressions of {@code impressions} split by the partition their key (the request id) goes
   * to, as Kafka's default partitioner picks it: a file per partition.
   */
  private static Path[] byPartition(Path dir, Path impressions, int partitions) throws Exception {
    List<List<String>> lines = new ArrayList<>();
    for (int i = 0; i < partitions; i++) {
      lines.add(new ArrayList<>());
    }
    Pattern requestId = Pattern.compile("\"requestId\":\"([^\"]+)\"");
    for (String line : Files.readAllLines(impressions)) {
      Matcher m = requestId.matcher(line);
      assertThat(m.find()).as("a request id in %s", line).isTrue();
      byte[] key = m.group(1).getBytes(StandardCharsets.UTF_8);
      lines.get(Utils.toPositive(Utils.murmur2(key)) % partitions).add(line);
    }
    Path[] files = new Path[partitions];
    for (int i = 0; i < partitions; i++) {
      assertThat(lines.get(i)).as("impressions of partition %d", i).isNotEmpty();
      files[i] = Files.write(dir.resolve("impressions-" + i + ".jsonl"), lines.get(i));
    }
    return files;
  }

  private static JsonlProducer.Summary load(
      String bootstrap, TopicsConfig topics, Path requests, Path impressions) {
    JsonlProducer.Summary s =
        JsonlProducer.load(
            bootstrap, topics, requests, impressions, JsonlProducer.loggingListener());
    assertThat(s.badLines()).isZero();
    return s;
  }

  /**
   * A live job on {@code topics} whose partitions count as idle after a second of silence, waiting
   * {@code silentWait} for a topic gone silent (zero in the first test: its inputs never moved
   * before the load, so there is nothing to wait for, and the merged load alone keeps them
   * together).
   */
  private static JobClient startLive(String bootstrap, TopicsConfig topics, Duration silentWait)
      throws Exception {
    return start(liveConf(bootstrap, topics, silentWait), topics);
  }

  private static Configuration liveConf(
      String bootstrap, TopicsConfig topics, Duration silentWait) {
    Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 10_000);
    conf.set(JobOptions.IDLE_TIMEOUT, IDLE_TIMEOUT);
    conf.set(JobOptions.SILENT_INPUT_WAIT, silentWait);
    return conf;
  }

  private static JobClient start(Configuration conf, TopicsConfig topics) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.live());
    return env.executeAsync("it-live-" + topics.requests());
  }

  private static void awaitRunning(JobClient job) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (job.getJobStatus().get() != JobStatus.RUNNING) {
      assertThat(System.nanoTime()).as("the job runs in time").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /**
   * The metrics once the job has read these counts and its trained count has stopped moving for 2
   * s.
   */
  private static Map<String, Double> awaitRead(String id, long requests, long impressions)
      throws InterruptedException {
    return awaitRead(id, Duration.ofSeconds(2), requests, impressions);
  }

  /**
   * The same, its trained count still for {@code settle} (longer than the assembler holds an input
   * that moves again: the sources' idle timeout).
   */
  private static Map<String, Double> awaitRead(
      String id, Duration settle, long requests, long impressions) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    long last = -1;
    int still = 0;
    while (true) {
      Map<String, Double> m = InJvmMetrics.snapshot(id);
      boolean read =
          PipelineSupport.count(m, JobMetrics.REQUESTS_IN) == requests
              && PipelineSupport.count(m, JobMetrics.IMPRESSIONS_IN) == impressions;
      long trained = PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED);
      still = read && trained == last ? still + 1 : 0;
      last = trained;
      if (still >= settle.toMillis() / 200) {
        return m;
      }
      assertThat(System.nanoTime())
          .as("the job reads the load in time: %s", m)
          .isLessThan(deadline);
      Thread.sleep(200);
    }
  }
}
