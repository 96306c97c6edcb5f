package io.streamrec.job.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * With exactly-once, a sink aborts the open transactions of its prefix when it starts. Every job
 * had the one prefix "streamrec-model-updates": two models' live jobs, or a live job and a backfill
 * on one cluster, would abort each other's transactions.
 */
class KafkaSinksTest {
  private static JobConfig job(String group, String topic) {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "b:9092");
    c.set(JobOptions.GROUP_ID, group);
    c.set(JobOptions.MODEL_UPDATES_TOPIC, topic);
    return JobConfig.from(c);
  }

  @Test
  void eachJobHasTransactionalIdsOfItsOwn() {
    JobConfig ctr = job("ctr", "model-updates");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, false, "model-updates"))
        .isEqualTo("streamrec-ctr-model-updates-model-updates");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, true, "model-updates"))
        .isEqualTo("streamrec-ctr-model-updates-backfill-model-updates");
    assertThat(KafkaSinks.transactionalIdPrefix(job("cvr", "cvr-updates"), false, "model-updates"))
        .isEqualTo("streamrec-cvr-cvr-updates-model-updates");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, false, "request-units"))
        .isEqualTo("streamrec-ctr-model-updates-request-units");
  }
}
