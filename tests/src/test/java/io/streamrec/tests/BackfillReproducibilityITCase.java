package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.testutils.KafkaBroker;
import io.streamrec.testutils.ModelUpdateRecords;
import io.streamrec.testutils.TopicRecords;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replay of the same topics publishes the same model: two backfills, with different source
 * parallelism (so records reach the assembler and trainer in a different order), write identical
 * model-update streams, record for record, but for the wall-clock time in each version marker.
 * Requests share event times three at a time, so the order among equal times matters too.
 */
class BackfillReproducibilityITCase {
  @RegisterExtension static final MiniClusterExtension FLINK = PipelineSupport.miniCluster();

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void twoBackfillsOfTheSameTopicsPublishIdenticalDeltas() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "replay-");
    GeneratedTraffic traffic =
        new GeneratedTraffic(
            TrafficConfig.defaults().withSeed(5).withUsers(800).withItems(400),
            FaultConfig.defaults().withSeed(5).withAllRates(0.01).withJoinWindowMs(2_000),
            4_000,
            1_767_225_600_000L,
            60,
            3);
    PipelineSupport.produce(bootstrap, topics, traffic.records);

    List<List<String>> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      TopicsConfig out = PipelineSupport.topics(bootstrap, "replay-out" + run + "-");
      Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 2_000);
      conf.set(JobOptions.MODEL_UPDATES_TOPIC, out.modelUpdates());
      conf.set(JobOptions.DEAD_LETTERS_TOPIC, out.deadLetters());
      conf.set(JobOptions.ASSEMBLER_PARALLELISM, run + 1);
      conf.set(JobOptions.MODEL_ID, "5eed000000000002");
      PipelineSupport.backfill(conf);
      runs.add(describe(TopicRecords.readAll(bootstrap, out.modelUpdates())));
    }
    assertThat(runs.get(0)).hasSizeGreaterThan(1_000);
    assertThat(runs.get(1)).containsExactlyElementsOf(runs.get(0));
  }

  /** Each record as text: key and value bytes, with a marker's wall-clock publish time left out. */
  private static List<String> describe(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(ModelUpdateRecords::text).toList();
  }
}
