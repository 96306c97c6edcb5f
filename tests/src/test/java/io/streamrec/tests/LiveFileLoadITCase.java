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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
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

  @Test
  void filesLoadedIntoALiveJobWhoseInputsWereIdleJoinAndNoneArriveLate(@TempDir Path dir)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    TopicsConfig topics = PipelineSupport.topics(bootstrap, "quiet-");
    Path requests = dir.resolve("requests.jsonl");
    Path impressions = dir.resolve("impressions.jsonl");
    assertThat(
            new CommandLine(new StreamrecCli())
                .execute(
                    "generate",
                    "--count",
                    "3000",
                    "--requests",
                    requests.toString(),
                    "--impressions",
                    impressions.toString()))
        .isZero();

    Configuration conf = PipelineSupport.jobConf(bootstrap, topics, 10_000);
    conf.set(JobOptions.IDLE_TIMEOUT, IDLE_TIMEOUT);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    StreamrecJob.build(env, JobConfig.from(conf), StreamrecJob.Bounds.live());
    JobClient job = env.executeAsync("it-live-file-load");
    String id = job.getJobID().toHexString();
    try {
      awaitRunning(job);
      // the inputs stay silent for several idle timeouts: every partition counts as idle
      Thread.sleep(IDLE_TIMEOUT.toMillis() * 4);

      JsonlProducer.Summary loaded =
          JsonlProducer.load(
              bootstrap, topics, requests, impressions, JsonlProducer.loggingListener());
      assertThat(loaded.badLines()).isZero();

      Map<String, Double> m = awaitRead(id, loaded);
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

  private static void awaitRunning(JobClient job) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (job.getJobStatus().get() != JobStatus.RUNNING) {
      assertThat(System.nanoTime()).as("the job runs in time").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** The metrics once every loaded record is read and the trained count has stopped moving. */
  private static Map<String, Double> awaitRead(String id, JsonlProducer.Summary loaded)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    long last = -1;
    int still = 0;
    while (true) {
      Map<String, Double> m = InJvmMetrics.snapshot(id);
      boolean read =
          PipelineSupport.count(m, JobMetrics.REQUESTS_IN) == loaded.requestsSent()
              && PipelineSupport.count(m, JobMetrics.IMPRESSIONS_IN) == loaded.impressionsSent();
      long trained = PipelineSupport.count(m, JobMetrics.IMPRESSIONS_TRAINED);
      still = read && trained == last ? still + 1 : 0;
      last = trained;
      if (still >= 10) {
        return m;
      }
      assertThat(System.nanoTime())
          .as("the job reads the load in time: %s", m)
          .isLessThan(deadline);
      Thread.sleep(200);
    }
  }
}
