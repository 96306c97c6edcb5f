package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.sink.KafkaSinks;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A job killed inside an exactly-once publish and started again at-least-once: the transaction its
 * exactly-once run left open held every reader of committed records (replicas) back until the
 * broker timed it out, 15 minutes, the at-least-once run's own versions included. The at-least-once
 * start now aborts the transactions of its own job's prefix, and no other job's.
 */
class LeftOpenTransactionsITCase {
  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void anAtLeastOnceStartAbortsWhatItsExactlyOnceRunLeftOpenAndNoOtherJobsTransaction()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "left-open-");
    Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 10_000);
    JobConfig exactlyOnce = JobConfig.from(withGuarantee(conf, "exactly-once"));
    JobConfig atLeastOnce = JobConfig.from(withGuarantee(conf, "at-least-once"));
    Configuration otherJob = withGuarantee(conf, "exactly-once");
    otherJob.set(JobOptions.GROUP_ID, "another-model");
    TopicPartition part = new TopicPartition(topics.modelUpdates(), 0);

    String ours = KafkaSinks.transactionalIdPrefix(exactlyOnce, false, "model-updates") + "-0-3";
    String theirs =
        KafkaSinks.transactionalIdPrefix(JobConfig.from(otherJob), false, "model-updates") + "-0-7";
    try (KafkaProducer<byte[], byte[]> killed = openTransaction(bootstrap, ours, part);
        KafkaProducer<byte[], byte[]> other = openTransaction(bootstrap, theirs, part);
        KafkaProducer<byte[], byte[]> plain = ModelUpdatesSupport.producer(bootstrap)) {
      plain.send(record(part, "after")).get();
      assertThat(committedEnd(bootstrap, part)).as("held by the first open transaction").isZero();

      // an exactly-once start leaves the aborting to its sink
      KafkaSinks.abortLeftOpenTransactions(exactlyOnce, false);
      assertThat(committedEnd(bootstrap, part)).isZero();

      KafkaSinks.abortLeftOpenTransactions(atLeastOnce, false);
      // ours (offset 0) is aborted; the other job's (offset 1) now holds the committed end
      awaitCommittedEnd(bootstrap, part, 1);
      Thread.sleep(500);
      assertThat(committedEnd(bootstrap, part))
          .as("the other job's transaction is still open")
          .isEqualTo(1);

      other.commitTransaction();
      awaitCommittedEnd(bootstrap, part, highWatermark(bootstrap, part));
    }
  }

  /**
   * A transaction of an exactly-once job's model-updates sink aborted after its last write and
   * before its commit (fenced here, as another producer of its id does; the broker does the same to
   * one open past transaction.timeout.ms). Kafka's committer logged "this most likely signals data
   * loss" and the job went on: its versions never reached the topic, the next versions carried only
   * their own changes, and a replica had rows of a model the trainer never had. Now the commit
   * fails the job, which restores, finds the topic short of its versions, and publishes the whole
   * model in its next version.
   */
  @Test
  void aTransactionAbortedBeforeItsCommitRestartsTheJobAndTheTopicGetsTheWholeModel(
      @InjectClusterClient ClusterClient<?> client) throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "fenced-");
    TopicPartition part = new TopicPartition(topics.modelUpdates(), 0);
    GeneratedTraffic first = slice(41, 1_767_225_600_000L);
    PipelineSupport.produce(bootstrap, topics, first.records);
    Configuration conf =
        withGuarantee(PipelineSupport.jobConf(bootstrap, topics, 2_000), "exactly-once");
    conf.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(5));
    String prefix = KafkaSinks.transactionalIdPrefix(JobConfig.from(conf), false, "model-updates");

    Configuration flink = new Configuration();
    flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
    // checkpoints when the test says: Flink starts the periodic ones after a random delay between
    // the least pause and the interval, once within a second of the start (a commit before the
    // test looked), so the least pause is the interval too
    env.enableCheckpointing(Duration.ofHours(1).toMillis());
    env.getCheckpointConfig().setMinPauseBetweenCheckpoints(Duration.ofHours(1).toMillis());
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.live());
    JobClient job = env.executeAsync("it-fenced");
    try {
      awaitWrittenAndIdle(bootstrap, part);
      assertThat(committedEnd(bootstrap, part)).isZero();
      String open;
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        open =
            admin
                .listTransactions(
                    new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING)))
                .all()
                .get()
                .stream()
                .map(TransactionListing::transactionalId)
                .filter(id -> id.startsWith(prefix + "-"))
                .findFirst()
                .orElseThrow();
      }
      Properties props = new Properties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, open);
      try (KafkaProducer<byte[], byte[]> fencing =
          new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
        fencing.initTransactions(); // aborts the open transaction
      }
      // the checkpoint completes; the commit of its transaction finds it aborted
      checkpoint(client, job);

      // more traffic: its version is the first the topic keeps
      PipelineSupport.produce(bootstrap, topics, slice(42, first.lastEventMs + 30_000).records);
      List<ConsumerRecord<byte[], byte[]>> records = List.of();
      long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (ModelUpdateRecords.versions(records).isEmpty()) {
        assertThat(System.nanoTime()).as("a version committed").isLessThan(until);
        awaitWrittenAndIdle(bootstrap, part);
        checkpoint(client, job);
        records =
            TopicRecords.readAll(
                bootstrap, Map.of("isolation.level", "read_committed"), topics.modelUpdates());
      }
      List<ModelUpdate> updates = ModelUpdateRecords.decodeAll(records);
      ModelUpdate.Version marker =
          updates.stream()
              .filter(u -> u instanceof ModelUpdate.Version)
              .map(u -> (ModelUpdate.Version) u)
              .findFirst()
              .orElseThrow();
      assertThat(marker.version())
          .as("the first version committed: those of the aborted transaction are missing")
          .isGreaterThan(1);
      java.util.Set<String> rows = new java.util.HashSet<>();
      for (ModelUpdate u : updates) {
        if (u instanceof ModelUpdate.Version) {
          break;
        }
        if (u instanceof ModelUpdate.Row r) {
          rows.add(r.key());
        }
      }
      assertThat((long) rows.size())
          .as("rows in version %d, the first on the topic: the whole model", marker.version())
          .isEqualTo(marker.marker().getLiveRows())
          .isPositive();
    } finally {
      job.cancel().get();
    }
  }

  /** Waits until the topic has records and no more came for two seconds. */
  private static void awaitWrittenAndIdle(String bootstrap, TopicPartition part)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    long seen = -1;
    while (true) {
      Thread.sleep(2_000);
      long high = highWatermark(bootstrap, part);
      if (high > 0 && high == seen) {
        return;
      }
      seen = high;
      assertThat(System.nanoTime()).as("records written, then none").isLessThan(deadline);
    }
  }

  /** A checkpoint of {@code job}, retried while the job restarts. */
  private static void checkpoint(ClusterClient<?> client, JobClient job) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        client.triggerCheckpoint(job.getJobID(), CheckpointType.DEFAULT).get();
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(System.nanoTime()).as("a checkpoint (%s)", e.getCause()).isLessThan(deadline);
        Thread.sleep(500);
      }
    }
  }

  private static GeneratedTraffic slice(int seed, long startMs) {
    return new GeneratedTraffic(
        TrafficConfig.defaults().withSeed(seed).withUsers(300).withItems(200),
        FaultConfig.defaults().withSeed(seed).withAllRates(0.0).withJoinWindowMs(2_000),
        600,
        startMs,
        60,
        1);
  }

  private static Configuration withGuarantee(Configuration conf, String guarantee) {
    Configuration c = new Configuration(conf);
    c.set(JobOptions.DELIVERY_GUARANTEE, guarantee);
    return c;
  }

  /** A producer of {@code transactionalId} inside a transaction holding one record of {@code p}. */
  private static KafkaProducer<byte[], byte[]> openTransaction(
      String bootstrap, String transactionalId, TopicPartition p) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    producer.beginTransaction();
    producer.send(record(p, transactionalId)).get();
    return producer;
  }

  private static ProducerRecord<byte[], byte[]> record(TopicPartition p, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(p.topic(), p.partition(), b, b);
  }

  private static long committedEnd(String bootstrap, TopicPartition p) {
    return endOffset(bootstrap, p, "read_committed");
  }

  private static long highWatermark(String bootstrap, TopicPartition p) {
    return endOffset(bootstrap, p, "read_uncommitted");
  }

  private static long endOffset(String bootstrap, TopicPartition p, String isolation) {
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                isolation),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      return c.endOffsets(List.of(p), WAIT).get(p);
    }
  }

  private static void awaitCommittedEnd(String bootstrap, TopicPartition p, long atLeast)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (committedEnd(bootstrap, p) < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(committedEnd(bootstrap, p)).isGreaterThanOrEqualTo(atLeast);
  }
}
