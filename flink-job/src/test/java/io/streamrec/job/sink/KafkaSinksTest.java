package io.streamrec.job.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import java.util.ArrayList;
import java.util.List;
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
    String live = KafkaSinks.transactionalIdPrefix(ctr, false, "model-updates");
    // readable, and within the prefix the ACLs of docs/deploy.md grant
    assertThat(live).matches("streamrec-ctr-model-updates-model-updates-[0-9a-f]{12}");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, true, "model-updates"))
        .matches("streamrec-ctr-model-updates-backfill-model-updates-[0-9a-f]{12}");
    assertThat(KafkaSinks.transactionalIdPrefix(job("cvr", "cvr-updates"), false, "model-updates"))
        .startsWith("streamrec-cvr-cvr-updates-model-updates-");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, false, "request-units"))
        .startsWith("streamrec-ctr-model-updates-request-units-");
    assertThat(KafkaSinks.transactionalIdPrefix(ctr, false, "model-updates")).isEqualTo(live);
  }

  /**
   * Group "ctr" with topic "eu-model-updates" and group "ctr-eu" with topic "model-updates" had the
   * one prefix "streamrec-ctr-eu-model-updates-model-updates": the start of one aborted the other's
   * open transaction, whose commit then failed and lost its versions. And a job whose topic extends
   * another's name had a prefix that begins the other's transactional ids, which a listing by
   * prefix takes for its own.
   */
  @Test
  void jobsWhoseNamesReadAlikeShareNoTransactionalIds() {
    List<JobConfig> jobs =
        List.of(
            job("ctr", "eu-model-updates"),
            job("ctr-eu", "model-updates"),
            job("ctr", "model-updates"),
            job("ctr", "model-updates-model-updates"),
            job("ctr-model", "updates"));
    List<String> ids = new ArrayList<>();
    for (JobConfig j : jobs) {
      for (boolean backfill : new boolean[] {false, true}) {
        for (String kind : List.of("model-updates", "request-units")) {
          // a sink's ids: its prefix, the subtask and a number
          ids.add(KafkaSinks.transactionalIdPrefix(j, backfill, kind) + "-0-1");
        }
      }
    }
    for (String a : ids) {
      String prefix = a.substring(0, a.length() - "0-1".length());
      assertThat(ids.stream().filter(b -> b.startsWith(prefix)))
          .as("the ids the prefix of %s lists", a)
          .containsExactly(a);
    }
  }

  /**
   * {@code -D properties.transaction.timeout.ms=60000} was replaced by the sink's own 15 minutes
   * without a word: an exactly-once job could not run on a cluster whose transaction.max.timeout.ms
   * is lower, nor be tried with a short timeout.
   */
  @Test
  void theUsersTransactionTimeoutIsKeptAndTheGuaranteesSettingsAreNot() {
    org.apache.flink.configuration.Configuration c =
        new org.apache.flink.configuration.Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    c.setString("sink.delivery-guarantee", "exactly-once");
    c.setString("properties.transaction.timeout.ms", "60000");
    c.setString("properties.linger.ms", "20");
    c.setString("properties.acks", "1");
    java.util.Map<String, String> p =
        KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c));
    assertThat(p)
        .containsEntry("transaction.timeout.ms", "60000")
        .containsEntry("linger.ms", "20")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", "true");

    c.removeKey("properties.transaction.timeout.ms");
    assertThat(KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c)))
        .containsEntry("transaction.timeout.ms", KafkaSinks.TRANSACTION_TIMEOUT_MS);
    c.setString("sink.delivery-guarantee", "at-least-once");
    assertThat(KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c)))
        .doesNotContainKey("transaction.timeout.ms");
  }

  /**
   * An at-least-once sink's records wait for a broker that is away: with Kafka's 2 minutes, a
   * version published as an outage began expired in the producer and failed the job, and a send
   * waiting for the topic's metadata failed it after {@code max.block.ms}'s minute (a walk: "Topic
   * model-updates not present in metadata after 60000 ms", 60 s into an outage with two versions in
   * flight). The user's values win; an exactly-once sink's transactions keep Kafka's.
   */
  @Test
  void anAtLeastOnceSinkWaitsForTheBrokerUnlessTheUserSaysOtherwise() {
    org.apache.flink.configuration.Configuration c =
        new org.apache.flink.configuration.Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    assertThat(KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c)))
        .containsEntry("delivery.timeout.ms", String.valueOf(Integer.MAX_VALUE))
        .containsEntry("max.block.ms", String.valueOf(Integer.MAX_VALUE));
    c.setString("properties.delivery.timeout.ms", "300000");
    c.setString("properties.max.block.ms", "120000");
    assertThat(KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c)))
        .containsEntry("delivery.timeout.ms", "300000")
        .containsEntry("max.block.ms", "120000");
    c.removeKey("properties.delivery.timeout.ms");
    c.removeKey("properties.max.block.ms");
    c.setString("sink.delivery-guarantee", "exactly-once");
    assertThat(KafkaSinks.sinkSettings(io.streamrec.job.config.JobConfig.from(c)))
        .doesNotContainKey("delivery.timeout.ms")
        .doesNotContainKey("max.block.ms");
  }

  /**
   * Partitions added to the model-updates topic while the job runs: the producer spread the records
   * by key over them once it saw them, and a replica of the one partition served versions without
   * the rows and dense blocks sent to the others. Every record goes to partition 0.
   */
  @Test
  void everyRecordOfTheModelGoesToPartitionZero() {
    var ser = KafkaSinks.modelUpdateRecords("model-updates");
    for (int i = 0; i < 100; i++) {
      byte[] key = ("emb/user_id/" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      var r =
          ser.serialize(
              new io.streamrec.protocol.ModelUpdateRecord(key, new byte[] {1}, 1_000L + i),
              null,
              null);
      assertThat(r.partition()).as("record %d", i).isZero();
      assertThat(r.topic()).isEqualTo("model-updates");
      assertThat(r.key()).isEqualTo(key);
      assertThat(r.timestamp()).isEqualTo(1_000L + i);
    }
  }

  /**
   * A unit within the assembler's bounds (65,536 ids of a shared-vocabulary feature, each with its
   * wide id, over 1,000 impressions) encodes to about 1.3 MB, over the producer's default
   * max.request.size: the request-units sink failed with RecordTooLargeException, and the restart
   * made the same unit again. It is a too_large dead letter now, and a unit that fits passes.
   */
  @Test
  void aUnitOverTheProducersLimitIsATooLargeDeadLetter() {
    Configuration c = new Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    JobConfig cfg = JobConfig.from(c);
    UnitsThatFit fit = UnitsThatFit.of(cfg);

    io.streamrec.schemas.DeadLetter dead = fit.tooLarge(unit(cfg.limits().maxIdsPerUnit(), 1000));
    assertThat(dead).isNotNull();
    assertThat(dead.getReason()).isEqualTo("too_large");
    assertThat(dead.getKey()).isEqualTo("r-1");
    assertThat(dead.getPayloadBytes()).isGreaterThan(1_048_576);
    assertThat(dead.getDetail()).contains("max.request.size");

    assertThat(fit.tooLarge(unit(100, 10))).isNull();
  }

  @Test
  void aUnitIsRefusedExactlyWhenItsEncodedRecordIsOverTheLimit() {
    Configuration c = new Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    c.setString("properties.max.request.size", "200000");
    UnitsThatFit fit = UnitsThatFit.of(JobConfig.from(c));
    // the most ids whose record fits, found by encoding: then the units around it
    int lo = 1_000;
    int hi = 20_000;
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (record(unit(mid, 10)) <= 200_000) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    int refused = 0;
    for (int ids = lo - 40; ids <= lo + 40; ids++) {
      io.streamrec.model.units.CompactUnit u = unit(ids, 10);
      boolean over = record(u) > 200_000;
      assertThat(fit.tooLarge(u) != null)
          .as("%,d ids, a record of %,d bytes", ids, record(u))
          .isEqualTo(over);
      refused += over ? 1 : 0;
    }
    assertThat(refused).isEqualTo(40);
    assertThat(io.streamrec.model.units.CompactUnitCodec.maxEncodedSize(unit(lo, 10)))
        .as("the bound alone would refuse units that fit")
        .isGreaterThan(200_000 - UnitsThatFit.RECORD_OVERHEAD_BYTES);
  }

  private static long record(io.streamrec.model.units.CompactUnit u) {
    return io.streamrec.model.units.CompactUnitCodec.encode(u).length
        + u.requestId().length()
        + UnitsThatFit.RECORD_OVERHEAD_BYTES;
  }

  private static io.streamrec.model.units.CompactUnit unit(int idCount, int impressions) {
    long[] ids = new long[idCount];
    long[] wide = new long[idCount];
    for (int i = 0; i < idCount; i++) {
      ids[i] = 0x9E3779B97F4A7C15L * (i + 1);
      // a shared-vocabulary feature: its wide id differs from its embedding id
      wide[i] = ids[i] ^ 0x5555L;
    }
    int[] bagEnds = new int[impressions + 1];
    for (int b = 0; b <= impressions; b++) {
      bagEnds[b] = (int) ((long) idCount * b / impressions);
    }
    return new io.streamrec.model.units.CompactUnit(
        1L,
        "r-1",
        7L,
        1_000L,
        11_000L,
        impressions,
        bagEnds,
        ids,
        wide,
        new float[8],
        new float[impressions * 16],
        new float[impressions]);
  }

  /**
   * {@code properties.retries=0} beside the idempotence the sinks set themselves: Kafka's producer
   * refuses the pair, but only as each sink's task started, so the job restarted for ever after a
   * start that had passed every check. It is refused as the job is built, naming the setting.
   */
  @Test
  void settingsTheProducerRefusesAreRefusedAsTheJobIsBuilt() {
    for (String guarantee : List.of("at-least-once", "exactly-once")) {
      Configuration c = new Configuration();
      c.setString("kafka.bootstrap-servers", "localhost:9092");
      c.setString("sink.delivery-guarantee", guarantee);
      c.setString("properties.retries", "0");
      JobConfig cfg = JobConfig.from(c);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> KafkaSinks.modelUpdates(cfg, false))
          .as(guarantee)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("properties.*")
          .hasMessageContaining("retries");
      c.removeKey("properties.retries");
      org.assertj.core.api.Assertions.assertThatCode(
              () -> KafkaSinks.modelUpdates(JobConfig.from(c), false))
          .doesNotThrowAnyException();
    }
  }
}
