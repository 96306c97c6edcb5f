package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.job.trainer.ModelLineageException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.junit.jupiter.api.Test;

/**
 * The command line's own log configuration ({@code log4j2.properties}), as a user's terminal gets
 * it: what of Flink's and Kafka's logging reaches it.
 */
class LogConfigTest {
  /** What {@code logging} writes to standard error under the command line's configuration. */
  private static String stderrOf(java.util.function.Consumer<LoggerContext> logging)
      throws Exception {
    return stderrOf("/log4j2.properties", logging);
  }

  /** The same, under the configuration {@code resource}. */
  private static String stderrOf(
      String resource, java.util.function.Consumer<LoggerContext> logging) throws Exception {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    LoggerContext ctx = new LoggerContext("cli-log-config");
    try {
      ctx.setConfigLocation(LogConfigTest.class.getResource(resource).toURI());
      TerminalLogFilter.install(ctx);
      logging.accept(ctx);
    } finally {
      ctx.stop();
      System.setErr(err);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  /**
   * A failure of the whole job, which Flink's job master logs at INFO while it restarts the job,
   * shows with its cause; a restart after a task's failure shows as that task's WARN. Before, a job
   * that failed as a whole and restarted said nothing of it.
   */
  @Test
  void aFailureOfTheWholeJobShowsWithItsCauseAndNoOtherInfoOfTheJobMaster() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              Logger jm = ctx.getLogger("org.apache.flink.runtime.jobmaster.JobMaster");
              jm.info(
                  "Trying to recover from a global failure.", new IllegalStateException("boom"));
              jm.info("Starting execution of job 'streamrec'");
              jm.warn("a warning of the job master");
              ctx.getLogger("org.apache.flink.runtime.taskmanager.Task")
                  .info("switched to RUNNING");
            });

    assertThat(out)
        .contains("JobMaster - Trying to recover from a global failure.")
        .contains("java.lang.IllegalStateException: boom")
        .contains("JobMaster - a warning of the job master")
        .doesNotContain("Starting execution")
        .doesNotContain("switched to RUNNING");
    assertThat(out.split("Trying to recover", -1)).as("the line once").hasSize(2);
  }

  /**
   * A task stopped by one of streamrec's refusals: the command prints the refusal as one line at
   * the end, so Flink's WARN of it, the same message under a page of stack trace, stays off the
   * terminal. A task that failed otherwise shows as before.
   */
  @Test
  void aRefusalIsLeftToTheCommandAndAnyOtherFailureShows() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              Logger task = ctx.getLogger("org.apache.flink.runtime.taskmanager.Task");
              task.warn(
                  "trainer (1/1) switched from INITIALIZING to FAILED with failure cause:",
                  new SuppressRestartsException(new ModelLineageException("holds model 3f2a")));
              task.warn(
                  "decode (1/2) switched from RUNNING to FAILED with failure cause:",
                  new IllegalStateException("disk full"));
              task.warn(
                  "sink (1/1) switched from RUNNING to FAILED with failure cause:",
                  new SuppressRestartsException(new IllegalStateException("not ours")));
            });

    assertThat(out)
        .doesNotContain("trainer (1/1)")
        .doesNotContain("holds model 3f2a")
        .contains("decode (1/2) switched from RUNNING to FAILED", "disk full")
        .contains("sink (1/1) switched", "not ours");
  }

  /**
   * A checkpoint declined because its tasks were finishing, at the end of a backfill's input: a
   * WARN with a page of trace at the end of about one backfill in eight, and nothing wrong; one
   * declined because they were still starting; or one a failover cut short. Any other checkpoint
   * failure shows.
   */
  @Test
  void aCheckpointDeclinedByFinishingTasksIsQuietAndAnyOtherShows() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              Logger cfm =
                  ctx.getLogger("org.apache.flink.runtime.checkpoint.CheckpointFailureManager");
              cfm.warn(
                  "Failed to trigger or complete checkpoint 2 for job a1.",
                  new CheckpointException(
                      CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING));
              cfm.warn(
                  "Failed to trigger or complete checkpoint 3 for job a1.",
                  new CheckpointException(
                      "TaskManager received a checkpoint request for unknown task x.",
                      CheckpointFailureReason.TASK_CHECKPOINT_FAILURE));
              cfm.warn(
                  "Failed to trigger or complete checkpoint 4 for job a1.",
                  new CheckpointException(CheckpointFailureReason.CHECKPOINT_EXPIRED));
              // triggered while a backfill's tasks were still starting: a page of trace in about
              // one backfill of fifteen
              cfm.warn(
                  "Failed to trigger or complete checkpoint 6 for job a1.",
                  new CheckpointException(
                      CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY));
              // cut short by a failover (each restart of an exactly-once job in a broker outage,
              // some 45 frames), after the failure that caused it, logged itself
              cfm.warn(
                  "Failed to trigger or complete checkpoint 5 for job a1.",
                  new CheckpointException(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SUSPEND));
            });

    assertThat(out)
        .doesNotContain("checkpoint 2 ")
        .doesNotContain("checkpoint 3 ")
        .doesNotContain("checkpoint 5 ")
        .doesNotContain("checkpoint 6 ")
        .contains("checkpoint 4 for job a1", "expired");
  }

  /** Flink's RPC endpoints' warnings of commands scheduled while they shut down stay quiet. */
  @Test
  void anRpcEndpointsWarningAtShutdownIsQuietAndItsErrorsShow() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              Logger rpc =
                  ctx.getLogger("org.apache.flink.runtime.rpc.RpcEndpoint$MainThreadExecutor");
              rpc.warn("The scheduled executor service is shutdown and ignores the command x");
              rpc.error("an endpoint failed");
            });

    assertThat(out).doesNotContain("ignores the command").contains("an endpoint failed");
  }

  /** A YAML file that does not parse: the command's own line says where and why. */
  @Test
  void flinksYamlParserErrorIsLeftToTheCommand() throws Exception {
    String out =
        stderrOf(
            ctx ->
                ctx.getLogger("org.apache.flink.configuration.YamlParserUtils")
                    .error("Failed to parse YAML configuration", new RuntimeException("line 2")));

    assertThat(out).isEmpty();
  }

  /**
   * A second broker on a data directory in use: Kafka's "Fatal error during broker startup" and a
   * page of trace came before the command's own line, which says it.
   */
  @Test
  void theEmbeddedBrokersFatalErrorIsLeftToTheBrokerCommand() throws Exception {
    String out =
        stderrOf(
            ctx ->
                ctx.getLogger("kafka.server.BrokerServer")
                    .error(
                        "[BrokerServer id=0] Fatal error during broker startup. Prepare to shutdown",
                        new RuntimeException("Failed to acquire lock on file .lock")));

    assertThat(out).isEmpty();
  }

  @Test
  void streamrecsOwnInfoLinesShowAndKafkasDoNot() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              ctx.getLogger("io.streamrec.cli.kafka.Topics").info("topics created");
              ctx.getLogger("org.apache.kafka.clients.NetworkClient").warn("connection refused");
              // a refused login, which the command says in its own line (serve printed four)
              ctx.getLogger("org.apache.kafka.clients.NetworkClient")
                  .error("Connection to node -1 failed authentication due to: Invalid password");
            });

    assertThat(out)
        .contains("Topics - topics created")
        .doesNotContain("connection refused")
        .doesNotContain("failed authentication");
  }

  /**
   * The newest failure Flink logs, a task's WARN or the job master's global failure, is recorded
   * with its root cause for the progress line of a job being restarted.
   */
  @Test
  void theNewestFailureIsRecordedForTheProgressLine() throws Exception {
    stderrOf(
        ctx ->
            ctx.getLogger("org.apache.flink.runtime.taskmanager.Task")
                .warn(
                    "trainer (1/1) switched from RUNNING to FAILED with failure cause:",
                    new RuntimeException(
                        "cold tier", new java.io.IOException("No space left on device"))));
    assertThat(RecentFailure.newest().cause()).isEqualTo("IOException: No space left on device");
    stderrOf(
        ctx ->
            ctx.getLogger("org.apache.flink.runtime.checkpoint.CheckpointCoordinator")
                .warn("Failed to trigger checkpoint 7", new IllegalStateException("declined")));
    assertThat(RecentFailure.newest().cause())
        .as("a warning that restarts nothing")
        .isEqualTo("IOException: No space left on device");

    stderrOf(
        ctx ->
            ctx.getLogger("org.apache.flink.runtime.jobmaster.JobMaster")
                .info(
                    "Trying to recover from a global failure.",
                    new IllegalStateException("Failed to get metadata for topics [requests]")));
    assertThat(RecentFailure.newest().cause())
        .isEqualTo("IllegalStateException: Failed to get metadata for topics [requests]");

    // a source's coordinator failing the job: the job master logs nothing of it, and the line
    // said "job RESTARTING" alone while a bad client setting restarted the job for ever
    stderrOf(
        ctx ->
            ctx.getLogger("org.apache.flink.runtime.source.coordinator.SourceCoordinator")
                .error(
                    "Uncaught exception in the SplitEnumerator for Source Source: impressions"
                        + " while starting the SplitEnumerator.. Triggering job failover.",
                    new RuntimeException(
                        "Failed to create new KafkaAdminClient",
                        new IllegalArgumentException(
                            "The specified value of default.api.timeout.ms must be no smaller"
                                + " than the value of request.timeout.ms."))));
    assertThat(RecentFailure.newest().cause())
        .isEqualTo(
            "IllegalArgumentException: The specified value of default.api.timeout.ms must be no"
                + " smaller than the value of request.timeout.ms.");
  }

  /**
   * A job that Flink restarts because a checkpoint failed (a full disk under the checkpoint
   * directory) is recorded with the checkpoint's own cause: the failure the job master logs says
   * only that a threshold was exceeded and to look at a web page, and has no cause of its own.
   */
  @Test
  void aRestartForAFailedCheckpointIsRecordedWithTheCheckpointsCause() throws Exception {
    stderrOf(
        ctx -> {
          ctx.getLogger("org.apache.flink.runtime.checkpoint.CheckpointFailureManager")
              .warn(
                  "Failed to trigger or complete checkpoint 6 for job bc49. (0 consecutive failed"
                      + " attempts so far)",
                  new CheckpointException(
                      "Asynchronous task checkpoint failed.",
                      CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION,
                      new org.apache.flink.util.SerializedThrowable(
                          new Exception(
                              "Could not materialize checkpoint 6 for operator trainer (1/1)#5.",
                              new java.io.IOException("No space left on device")))));
          ctx.getLogger("org.apache.flink.runtime.jobmaster.JobMaster")
              .info(
                  "Trying to recover from a global failure.",
                  new org.apache.flink.util.FlinkRuntimeException(
                      "Exceeded checkpoint tolerable failure threshold. The latest checkpoint"
                          + " failed due to Asynchronous task checkpoint failed., view the"
                          + " Checkpoint History tab or the Job Manager log to find out why"
                          + " continuous checkpoints failed."));
        });
    assertThat(RecentFailure.newest().cause())
        .isEqualTo("checkpoint 6 failed: IOException: No space left on device");
  }

  /**
   * A task that failed to deploy for want of network buffers is recorded as such (every restart of
   * the local cluster's job meets the same), and another failure is not.
   */
  @Test
  void aTaskWithoutNetworkBuffersIsRecorded() throws Exception {
    long before = System.currentTimeMillis();
    stderrOf(
        ctx ->
            ctx.getLogger("org.apache.flink.runtime.taskmanager.Task")
                .warn(
                    "decode (1/2) switched from RUNNING to FAILED with failure cause:",
                    new java.io.IOException("No space left on device")));
    RecentFailure.Failure none = RecentFailure.tooFewNetworkBuffers();
    assertThat(none == null || none.atMs() < before).as("another failure").isTrue();
    String out =
        stderrOf(
            ctx ->
                ctx.getLogger("org.apache.flink.runtime.taskmanager.Task")
                    .warn(
                        "Source: requests -> decode-requests (32/64)#0 switched from DEPLOYING to"
                            + " FAILED with failure cause:",
                        new java.io.IOException(
                            "Insufficient number of network buffers: required 65, but only 38"
                                + " available. The total number of network buffers is currently set"
                                + " to 2048 of 32768 bytes each.")));
    assertThat(out).as("the terminal").doesNotContain("Insufficient number of network buffers");
    assertThat(RecentFailure.tooFewNetworkBuffers().atMs()).isGreaterThanOrEqualTo(before);
    assertThat(RecentFailure.tooFewNetworkBuffers().cause())
        .startsWith("IOException: Insufficient number of network buffers: required 65");
  }

  /**
   * An error fatal to the local cluster's task manager (Flink's ERROR "TaskManager #0 failed.",
   * after an exception in its clean-up of a failed task) is recorded: the local cluster closes that
   * task manager and starts none, and the job waited for task slots for ever.
   */
  @Test
  void aLostLocalTaskManagerIsRecorded() throws Exception {
    long before = System.currentTimeMillis();
    stderrOf(
        ctx ->
            ctx.getLogger(RecentFailure.LOCAL_CLUSTER_LOGGER)
                .warn(
                    "Error in MiniCluster. Shutting the MiniCluster down.",
                    new IllegalStateException("not a task manager's")));
    RecentFailure.Failure none = RecentFailure.taskManagerLost();
    assertThat(none == null || none.atMs() < before).as("a warning is not recorded").isTrue();
    stderrOf(
        ctx ->
            ctx.getLogger(RecentFailure.LOCAL_CLUSTER_LOGGER)
                .error(
                    "TaskManager #0 failed.",
                    new org.apache.kafka.common.errors.TimeoutException(
                        "Timeout expired after 60000ms while awaiting EndTxn(false)")));
    assertThat(RecentFailure.taskManagerLost().atMs()).isGreaterThanOrEqualTo(before);
    assertThat(RecentFailure.taskManagerLost().cause())
        .isEqualTo("TimeoutException: Timeout expired after 60000ms while awaiting EndTxn(false)");

    // under a configuration of the user's own, which names no logger of Flink's
    long later = System.currentTimeMillis() + 1;
    Thread.sleep(2);
    stderrOf(
        "/log4j2-users-own.properties",
        ctx ->
            ctx.getLogger(RecentFailure.LOCAL_CLUSTER_LOGGER)
                .error("TaskManager #1 failed.", new IllegalStateException("in its clean-up")));
    assertThat(RecentFailure.taskManagerLost().atMs()).isGreaterThanOrEqualTo(later);
    assertThat(RecentFailure.taskManagerLost().cause())
        .isEqualTo("IllegalStateException: in its clean-up");
  }

  /**
   * Kafka's committer logged "... this most likely signals data loss" at nearly every start of an
   * exactly-once job that resumed a checkpoint, for transactions committed before the stop; the
   * job's own check says what it means in its line. A failure of unknown reason still shows.
   */
  @Test
  void theCommittersAlarmAboutAKnownFailureIsLeftToTheJobsOwnLine() throws Exception {
    String out =
        stderrOf(
            ctx -> {
              Logger c = ctx.getLogger(TerminalLogFilter.KAFKA_COMMITTER);
              c.error(
                  "Unable to commit transaction (CommitRequestImpl{committable=t-0-8}) because its"
                      + " producer is already fenced. ... In both cases this most likely signals"
                      + " data loss, please consult the Flink documentation for more details.",
                  new org.apache.kafka.common.errors.ProducerFencedException("fenced"));
              c.error(
                  "Transaction (CommitRequestImpl{committable=t-0-9}) encountered error and data"
                      + " has been potentially lost.",
                  new IllegalStateException("something else"));
            });
    assertThat(out)
        .doesNotContain("already fenced")
        .contains("encountered error and data has been potentially lost");
  }
}
