package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.trainer.ModelLineageException;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model lineage on the model-updates topic: a second model is refused on a topic that holds
 * another, and replaces it only when told to, leaving no row of the first current; the newest
 * records alone, over one re-publication cycle, hold the whole model the marker counts.
 */
class ModelLineageITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  private static final long START_MS = 1_767_225_600_000L;

  @TempDir java.nio.file.Path dir;

  private static TopicsConfig inputs(String bootstrap, String prefix, int seed, int users) {
    TopicsConfig topics = PipelineSupport.topics(bootstrap, prefix);
    GeneratedTraffic traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(seed).withUsers(users).withItems(users / 2),
            FaultConfig.defaults().withSeed(seed).withAllRates(0.0).withJoinWindowMs(2_000),
            2_000,
            START_MS,
            60,
            1);
    PipelineSupport.produce(bootstrap, topics, traffic.records);
    return topics;
  }

  private static Configuration conf(
      String bootstrap, TopicsConfig in, String modelUpdates, String modelId) {
    Configuration conf = PipelineSupport.jobConf(bootstrap, in, 2_000);
    conf.set(JobOptions.MODEL_UPDATES_TOPIC, modelUpdates);
    conf.set(JobOptions.MODEL_ID, modelId);
    return conf;
  }

  /**
   * A live job whose model another job replaced (--replace) went on publishing: its version 58 came
   * after the new model's version 40, two models interleaved on one topic, and replicas re-read a
   * model whose rows the replace had tombstoned. It now stops at its next publish, saying why.
   */
  @Test
  void aLiveJobStopsOnceAnotherJobHasReplacedItsModel() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig a = inputs(bootstrap, "replaced-a-", 5, 600);
    TopicsConfig b = inputs(bootstrap, "replaced-b-", 6, 200);
    String topic = PipelineSupport.topics(bootstrap, "replaced-out-").modelUpdates();
    long live = 0x0ccc_0000_0000_0003L, other = 0x0ddd_0000_0000_0004L;

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(
        env,
        JobConfig.from(conf(bootstrap, a, topic, ModelLineage.format(live))),
        StreamrecJob.Bounds.live());
    JobClient job = env.executeAsync("it-replaced-live");
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, topic)).size() < 3) {
        assertThat(System.nanoTime()).as("the live job publishes").isLessThan(deadline);
        Thread.sleep(200);
      }
      Configuration replace = conf(bootstrap, b, topic, ModelLineage.format(other));
      replace.set(JobOptions.REPLACE_MODEL, true);
      PipelineSupport.backfill(replace);
      // later traffic for the live job: its next publish would follow the other model's versions
      GeneratedTraffic later =
          new GeneratedTraffic(
              TrafficConfig.defaults().withSeed(7).withUsers(600).withItems(300),
              FaultConfig.defaults().withSeed(7).withAllRates(0.0).withJoinWindowMs(2_000),
              2_000,
              START_MS + 3_600_000,
              60,
              1);
      PipelineSupport.produce(bootstrap, a, later.records);

      assertThat(catchThrowable(() -> job.getJobExecutionResult().get(120, TimeUnit.SECONDS)))
          .as("the live job's end")
          .rootCause()
          .isInstanceOf(ModelLineageException.class)
          .hasMessageContaining("now holds version")
          .hasMessageContaining("of model " + ModelLineage.format(other))
          .hasMessageContaining("another job replaced this model (" + ModelLineage.format(live));
    } finally {
      if (!job.getJobStatus().get().isTerminalState()) {
        job.cancel().get();
      }
    }
    List<ModelUpdate> all = ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic));
    boolean replaced = false;
    for (ModelUpdate u : all) {
      if (u instanceof ModelUpdate.Version v) {
        replaced |= v.model() == other;
        assertThat(replaced && v.model() == live)
            .as("a version of the replaced model after the other model's first")
            .isFalse();
      }
    }
    assertThat(replaced).isTrue();
  }

  /**
   * Two live jobs of one model (the second started from the first's checkpoint, savepoint or
   * handoff): the second found the first's versions on the topic, trained them again without
   * publishing, and then published its own rows under the next version numbers next to the first's.
   * Replicas served the two as one model. The second now stops at the first version of the model it
   * did not publish, before it publishes anything; the first goes on.
   */
  @Test
  void aSecondLiveJobOfTheSameModelStopsOnceItSeesTheOthersVersions() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig a = inputs(bootstrap, "twin-a-", 5, 600);
    TopicsConfig b = inputs(bootstrap, "twin-b-", 6, 200);
    String topic = PipelineSupport.topics(bootstrap, "twin-out-").modelUpdates();
    String model = ModelLineage.format(0x0eee_0000_0000_0005L);

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(
        env, JobConfig.from(conf(bootstrap, a, topic, model)), StreamrecJob.Bounds.live());
    JobClient first = env.executeAsync("it-twin-first");
    JobClient second = null;
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, topic)).size() < 3) {
        assertThat(System.nanoTime()).as("the first job publishes").isLessThan(deadline);
        Thread.sleep(200);
      }
      StreamExecutionEnvironment env2 = StreamExecutionEnvironment.getExecutionEnvironment();
      StreamrecJob.build(
          env2, JobConfig.from(conf(bootstrap, b, topic, model)), StreamrecJob.Bounds.live());
      second = env2.executeAsync("it-twin-second");
      while (second.getJobStatus().get() != org.apache.flink.api.common.JobStatus.RUNNING) {
        assertThat(System.nanoTime()).as("the second job runs").isLessThan(deadline);
        Thread.sleep(200);
      }
      Thread.sleep(5_000); // its trainer opened and follows the topic from its end
      int before = ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, topic)).size();
      PipelineSupport.produce(bootstrap, a, later(7, 600));
      while (ModelUpdateRecords.versions(TopicRecords.readAll(bootstrap, topic)).size() <= before) {
        assertThat(System.nanoTime()).as("the first job publishes again").isLessThan(deadline);
        Thread.sleep(200);
      }
      Thread.sleep(2_000);
      PipelineSupport.produce(bootstrap, b, later(8, 200));

      JobClient twin = second;
      assertThat(catchThrowable(() -> twin.getJobExecutionResult().get(120, TimeUnit.SECONDS)))
          .as("the second job's end")
          .rootCause()
          .isInstanceOf(ModelLineageException.class)
          .hasMessageContaining("that this job did not publish")
          .hasMessageContaining("(" + model + ", published at");
      assertThat(first.getJobStatus().get())
          .isEqualTo(org.apache.flink.api.common.JobStatus.RUNNING);
    } finally {
      for (JobClient job : new JobClient[] {first, second}) {
        if (job != null && !job.getJobStatus().get().isTerminalState()) {
          job.cancel().get();
        }
      }
    }
    Map<Long, Long> publishedAt = new HashMap<>();
    for (ModelUpdate u : ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic))) {
      if (u instanceof ModelUpdate.Version v) {
        Long earlier = publishedAt.put(v.version(), v.marker().getPublishedAtMs());
        assertThat(earlier == null || earlier == v.marker().getPublishedAtMs())
            .as("version %d published twice", v.version())
            .isTrue();
      }
    }
  }

  /** A minute of traffic an hour after the inputs' first. */
  private static List<io.streamrec.traffic.OutgoingRecord> later(int seed, int users) {
    return new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(seed).withUsers(users).withItems(users / 2),
            FaultConfig.defaults().withSeed(seed).withAllRates(0.0).withJoinWindowMs(2_000),
            2_000,
            START_MS + 3_600_000,
            60,
            1)
        .records;
  }

  @Test
  void aSecondModelIsRefusedUnlessItReplacesTheFirstAndThenNoRowOfTheFirstStaysCurrent()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig a = inputs(bootstrap, "lineage-a-", 3, 600);
    TopicsConfig b = inputs(bootstrap, "lineage-b-", 4, 200);
    String topic = PipelineSupport.topics(bootstrap, "lineage-out-").modelUpdates();
    long first = 0x0aaa_0000_0000_0001L, second = 0x0bbb_0000_0000_0002L;

    PipelineSupport.backfill(conf(bootstrap, a, topic, ModelLineage.format(first)));
    int before = TopicRecords.readAll(bootstrap, topic).size();

    assertThatThrownBy(
            () -> PipelineSupport.backfill(conf(bootstrap, b, topic, ModelLineage.format(second))))
        .hasStackTraceContaining("holds model " + ModelLineage.format(first))
        .hasStackTraceContaining("trainer.replace-model");
    assertThat(TopicRecords.readAll(bootstrap, topic))
        .as("what the refused job left on the topic")
        .hasSize(before);

    Configuration replace = conf(bootstrap, b, topic, ModelLineage.format(second));
    replace.set(JobOptions.REPLACE_MODEL, true);
    PipelineSupport.backfill(replace);

    List<ModelUpdate> all = ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic));
    Map<String, Long> current = new HashMap<>();
    ModelUpdate.Version last = null;
    int firstRows = 0;
    for (ModelUpdate u : all) {
      if (u instanceof ModelUpdate.Row r) {
        current.put(r.key(), r.model());
        firstRows += r.model() == first ? 1 : 0;
      } else if (u instanceof ModelUpdate.Tombstone t) {
        current.remove(t.key());
      } else if (u instanceof ModelUpdate.Version v) {
        last = v;
      }
    }
    assertThat(firstRows).as("rows the first model published").isGreaterThan(500);
    assertThat(current.values())
        .as("the lineage of every row current on the topic")
        .isNotEmpty()
        .containsOnly(second);
    assertThat(last.model()).isEqualTo(second);
    assertThat(last.marker().getLiveRows())
        .as("the newest marker's live rows against the rows current on the topic")
        .isEqualTo(current.size());
  }

  /**
   * A model that goes on from its state (a handoff here; a checkpoint or savepoint alike) and takes
   * its topic back from the model that replaced it: the replace had tombstoned every one of its
   * rows, and its first version carried only the rows it changed since. Replicas re-reading the
   * topic found fewer rows than the marker counted and never served it; a new replica had no model
   * at all. The first version after taking the topic back now carries the whole model.
   */
  @Test
  void aModelThatTakesItsTopicBackPublishesItsWholeModelInItsFirstVersion() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig a = inputs(bootstrap, "back-a-", 8, 600);
    TopicsConfig b = inputs(bootstrap, "back-b-", 9, 200);
    String topic = PipelineSupport.topics(bootstrap, "back-out-").modelUpdates();
    long first = 0x0eee_0000_0000_0005L, second = 0x0fff_0000_0000_0006L;
    String handoff = dir.resolve("first.handoff").toString();

    Configuration saving = conf(bootstrap, a, topic, ModelLineage.format(first));
    saving.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    PipelineSupport.backfill(saving);
    Configuration replacing = conf(bootstrap, b, topic, ModelLineage.format(second));
    replacing.set(JobOptions.REPLACE_MODEL, true);
    PipelineSupport.backfill(replacing);

    PipelineSupport.produce(bootstrap, a, later(10, 60));
    Configuration back = conf(bootstrap, a, topic, ModelLineage.format(first));
    back.set(JobOptions.HANDOFF_START_FROM, handoff);
    back.set(JobOptions.REPLACE_MODEL, true);
    PipelineSupport.backfill(back);

    Map<String, Long> current = new HashMap<>();
    ModelUpdate.Version last = null;
    for (ModelUpdate u : ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic))) {
      if (u instanceof ModelUpdate.Row r) {
        current.put(r.key(), r.model());
      } else if (u instanceof ModelUpdate.Tombstone t) {
        current.remove(t.key());
      } else if (u instanceof ModelUpdate.Version v) {
        last = v;
      }
    }
    assertThat(last.model()).isEqualTo(first);
    assertThat(current.values())
        .as("the lineage of every row current on the topic")
        .containsOnly(first);
    assertThat((long) current.size())
        .as("rows current on the topic against the newest marker's live rows")
        .isEqualTo(last.marker().getLiveRows());
  }

  @Test
  void theRecordsOfOneRepublicationCycleHoldTheWholeModel() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig in = inputs(bootstrap, "refresh-", 6, 400);
    String topic = PipelineSupport.topics(bootstrap, "refresh-out-").modelUpdates();
    int cycle = 3;
    Configuration conf = conf(bootstrap, in, topic, "");
    conf.set(JobOptions.PUBLISH_INTERVAL, Duration.ofSeconds(2));
    conf.set(JobOptions.REFRESH_VERSIONS, cycle);
    PipelineSupport.backfill(conf);

    List<ModelUpdate> all = ModelUpdateRecords.decodeAll(TopicRecords.readAll(bootstrap, topic));
    List<Integer> markers = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i) instanceof ModelUpdate.Version) {
        markers.add(i);
      }
    }
    assertThat(markers).as("versions published").hasSizeGreaterThan(2 * cycle + 2);
    // a reader that lost everything up to marker k: what the next `cycle` versions bring
    for (int k = 1; k + cycle < markers.size(); k += 2) {
      Set<String> rows = new HashSet<>();
      boolean spec = false;
      for (int i = markers.get(k) + 1; i <= markers.get(k + cycle); i++) {
        ModelUpdate u = all.get(i);
        if (u instanceof ModelUpdate.Row r) {
          rows.add(r.key());
        } else if (u instanceof ModelUpdate.Tombstone t) {
          rows.remove(t.key());
        } else if (u instanceof ModelUpdate.Spec) {
          spec = true;
        }
      }
      ModelUpdate.Version v = (ModelUpdate.Version) all.get(markers.get(k + cycle));
      assertThat(spec).as("a spec after marker %d", k).isTrue();
      assertThat((long) rows.size())
          .as("rows after marker %d through version %d", k, v.version())
          .isEqualTo(v.marker().getLiveRows());
    }
  }
}
