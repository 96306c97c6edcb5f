package io.streamrec.job;

import io.streamrec.job.config.JobArguments;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.sink.KafkaSinks;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's entry point on a Flink cluster: the {@code Main-Class} of {@code streamrec-job.jar}
 * (flink-job/target/streamrec-job.jar, built by {@code package}) and the {@code entryClass} of the
 * Kubernetes deployment. For example:
 *
 * <pre>
 *   flink run flink-job/target/streamrec-job.jar --config streamrec.yaml
 *   flink run flink-job/target/streamrec-job.jar --config streamrec.yaml --mode backfill --from 2026-01-01T00:00:00Z
 * </pre>
 *
 * <p>Arguments are described in {@link JobArguments}. The configuration they give (streamrec's keys
 * and Flink's) is handed to the execution environment, so job-level Flink settings such as
 * checkpointing can live in the same file. Unlike {@code streamrec run}, which starts its own local
 * Flink, this runs on whatever environment launched it: the cluster's under {@code flink run} or in
 * application mode, a local one when started as a plain Java program.
 *
 * <p>Bad arguments or configuration throw with a message naming the argument or key; nothing here
 * calls {@code System.exit}, which in application mode would take the JobManager down with it.
 */
public final class JobMain {
  private static final Logger LOG = LoggerFactory.getLogger(JobMain.class);

  private JobMain() {}

  public static void main(String[] args) throws Exception {
    if (JobArguments.helpRequested(args)) {
      System.out.println(JobArguments.usage());
      return;
    }
    JobArguments.Parsed a = JobArguments.parse(args);
    // a refused login or a missing topic fails the submission here, in words, rather than the
    // running job after the clients' timeouts
    KafkaPreflight.checkJob(a.config());
    KafkaSinks.abortLeftOpenTransactions(a.config(), a.bounds().bounded());
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(a.configuration());
    StreamrecJob.build(env, a.config(), a.bounds());
    LOG.info(
        "streamrec: submitting '{}' ({}) reading {} + {} at {} ({}), publishing to {}",
        a.jobName(),
        a.bounds().bounded() ? "backfill" : "live",
        a.config().requestsTopic(),
        a.config().impressionsTopic(),
        a.config().bootstrapServers(),
        a.config().kafkaProperties().describe(),
        a.config().modelUpdatesTopic());
    env.execute(a.jobName());
  }
}
