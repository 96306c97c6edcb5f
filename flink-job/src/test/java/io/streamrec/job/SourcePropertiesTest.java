package io.streamrec.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.config.JobConfig;
import io.streamrec.job.source.EventKind;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The sources' Kafka settings: the user's, over streamrec's defaults. */
class SourcePropertiesTest {
  private static Properties of(Configuration c) {
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    return StreamrecJob.sourceProperties(JobConfig.from(c));
  }

  /**
   * Partitions added to a live job's topics: with the connector's 5 minutes between looks, what
   * producers wrote there before the source found them was read behind event time and dead-lettered
   * as late. The source looks every 5 s unless told otherwise.
   */
  @Test
  void aLiveSourceLooksForAddedPartitionsWithinTheJoinWindow() {
    assertThat(of(new Configuration()))
        .containsEntry("partition.discovery.interval.ms", "5000")
        .containsEntry("isolation.level", "read_committed");

    Configuration c = new Configuration();
    c.setString("properties.partition.discovery.interval.ms", "60000");
    c.setString("properties.isolation.level", "read_uncommitted");
    assertThat(of(c))
        .containsEntry("partition.discovery.interval.ms", "60000")
        .containsEntry("isolation.level", "read_uncommitted");
  }

  /**
   * A user's properties.client.id.prefix was accepted and then replaced by streamrec's own, so
   * every job on a cluster shared its sources' client ids and quotas. It is kept, with the source's
   * role after it.
   */
  @Test
  void aUsersClientIdPrefixIsKept() {
    Configuration c = new Configuration();
    c.setString("kafka.bootstrap-servers", "localhost:9092");
    assertThat(StreamrecJob.sourceClientIdPrefix(JobConfig.from(c), EventKind.REQUEST))
        .isEqualTo("streamrec-request");
    c.setString("properties.client.id.prefix", "team-a");
    assertThat(StreamrecJob.sourceClientIdPrefix(JobConfig.from(c), EventKind.IMPRESSION))
        .isEqualTo("team-a-streamrec-impression");
  }

  /**
   * A user's enable.auto.commit=true reached the consumers (Flink keeps a value it is given): a
   * backfill, which reads with the live job's group, committed its positions into that group every
   * 5 s. The sources never auto-commit.
   */
  @Test
  void theSourcesNeverAutoCommitOffsets() {
    assertThat(of(new Configuration())).containsEntry("enable.auto.commit", "false");

    Configuration c = new Configuration();
    c.setString("properties.enable.auto.commit", "true");
    assertThat(of(c)).containsEntry("enable.auto.commit", "false");
  }
}
