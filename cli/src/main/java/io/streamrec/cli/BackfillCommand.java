package io.streamrec.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.job.StreamrecJob;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.config.JobSettings;
import io.streamrec.job.config.Timestamps;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.job.trainer.Handoff;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code streamrec backfill}: the same job, bounded, over what the topics hold. */
@Command(
    name = "backfill",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the job over a bounded range of the requests and impressions topics and exits once the "
          + "model of that range is published. A replay of the same range publishes the same model.",
      "Reads from the earliest offset (or --from) to the end as it is now (or --until).",
      "With --source units it trains from the request-units topic another run wrote "
          + "(sink.request-units.enabled): no join, the same model as from the events."
    })
final class BackfillCommand implements Callable<Integer> {
  /** How often the report's timeline samples the run. */
  static final Duration TIMELINE_INTERVAL = Duration.ofSeconds(1);

  @Mixin JobSettings settings;

  @Option(
      names = "--from",
      paramLabel = "TIME",
      converter = Timestamps.class,
      description =
          "First event time to read: epoch milliseconds or an ISO-8601 instant (2026-01-01T00:00:00Z);"
              + " with --source units, a unit's close time. Each partition is read from its first"
              + " record at or after it.")
  Long from;

  @Option(
      names = "--until",
      paramLabel = "TIME",
      converter = Timestamps.class,
      description =
          "Stop before this time (same forms as --from): each partition stops at its first record"
              + " at or after it.")
  Long until;

  @Option(
      names = "--source",
      paramLabel = "events|units",
      description =
          "Train from the events (requests + impressions, joined; the default) or from the"
              + " request-units topic (sets source.kind).")
  String source;

  @Option(
      names = "--handoff",
      paramLabel = "FILE",
      description =
          "Once done, write the trainer's state and the offsets the next job reads from to FILE"
              + " (a path or a Flink file system URI), for 'streamrec run --from-handoff FILE' to go"
              + " on from this model live (sets trainer.handoff.save-to). Without --until it stops"
              + " a minute, a join window and the allowed disorder before now, and the next job"
              + " trains the rest.")
  String handoff;

  @Option(
      names = "--from-handoff",
      paramLabel = "FILE",
      description =
          "Train on from the model an earlier backfill handed over (its --handoff FILE), over the"
              + " range after it: from the offsets it handed on (instead of --from) to the end"
              + " or --until (sets trainer.handoff.start-from).")
  String fromHandoff;

  @Mixin ReportOptions reports = new ReportOptions();

  @Mixin ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    io.streamrec.job.config.Timestamps.requireOrder(from, until);
    reports.checkWritable();
    Configuration conf = settings.configuration();
    if (source != null) {
      conf.setString(JobOptions.SOURCE_KIND.key(), source);
    }
    if (handoff != null) {
      conf.set(JobOptions.HANDOFF_SAVE_TO, handoff);
    }
    if (fromHandoff != null) {
      conf.set(JobOptions.HANDOFF_START_FROM, fromHandoff);
    }
    // a backfill survives a failure from its checkpoints; kept in the JobManager's memory (Flink's
    // default, 5 MB at most), a model's state failed every checkpoint and the job started over and
    // over; on disk, in a scratch directory of its own, gone when it ends
    java.nio.file.Path scratch =
        conf.contains(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
            ? null
            : java.nio.file.Files.createTempDirectory("streamrec-backfill-");
    // gone on a stop (Ctrl-C, SIGTERM) too, when the finally below does not run
    Thread cleanup = scratch == null ? null : new Thread(() -> deleteTree(scratch));
    if (cleanup != null) {
      Runtime.getRuntime().addShutdownHook(cleanup);
    }
    try {
      return run(withCheckpoints(conf, scratch));
    } finally {
      if (scratch != null) {
        deleteTree(scratch);
        try {
          Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
          // the JVM is going away: the hook runs, and finds nothing to delete
        }
      }
    }
  }

  /**
   * {@code conf} checkpointing every 30 s unless it says otherwise, to {@code scratch} on the file
   * system when not null (the configuration names no checkpoint directory).
   */
  static Configuration withCheckpoints(Configuration conf, java.nio.file.Path scratch) {
    Configuration c =
        scratch == null
            ? new Configuration(conf)
            : RetainedCheckpoints.withFileSystemStorage(conf, scratch);
    if (!c.contains(CheckpointingOptions.CHECKPOINTING_INTERVAL)) {
      c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, RetainedCheckpoints.DEFAULT_INTERVAL);
    }
    return c;
  }

  private static void deleteTree(java.nio.file.Path dir) {
    try {
      io.streamrec.common.Directories.deleteRecursively(dir);
    } catch (java.io.IOException | RuntimeException e) {
      // a scratch directory left in the temporary directory; nothing depends on it, and a backfill
      // that has done its work does not fail for it
    }
  }

  private Integer run(Configuration conf) throws Exception {
    JobRunner.Started job =
        JobRunner.start(conf, StreamrecJob.Bounds.backfill(from, until), "streamrec-backfill");
    System.out.println(
        "streamrec: backfill job "
            + job.client().getJobID()
            + " over "
            + (job.config().sourceKind() == JobConfig.SourceKind.UNITS
                ? job.config().requestUnitsTopic()
                : job.config().requestsTopic() + " + " + job.config().impressionsTopic())
            + " at "
            + job.config().bootstrapServers());
    ArrayNode samples;
    try (JobRunner.CancelOnExit exit =
            job.cancelOnExit(stoppingLine(job.config()), "streamrec backfill: stopped");
        Timeline timeline =
            new Timeline(job.startedAtMs(), TIMELINE_INTERVAL.toMillis(), job::metrics, Map::of);
        Progress p = Progress.of(job, progress.millis())) {
      job.awaitEnd(exit);
      timeline.sample();
      samples = timeline.toJson();
    }
    double seconds = (System.currentTimeMillis() - job.startedAtMs()) / 1000.0;
    Map<String, Double> m = job.metrics();
    long now = System.currentTimeMillis();
    System.out.println(
        Progress.line(
            now - job.startedAtMs(), now, m, "done", job.config().model().features().labels()));
    String nothing = nothingTrained(job.config(), m);
    if (nothing != null) {
      System.out.println(nothing);
    }
    ObjectNode r = Report.of(m, seconds, job.config().model().features().labels());
    r.put("command", "backfill");
    r.put("backend", io.streamrec.gpu.Backends.resolvedName(job.config().backend()));
    r.set("timeline", samples);
    String saved = job.config().handoffSaveTo();
    if (!saved.isEmpty()) {
      Handoff.Header h = Handoff.readHeader(saved);
      System.out.println(
          "streamrec: handoff at "
              + saved
              + ": "
              + h
              + ", "
              + h.describeStop()
              + "; 'streamrec run --from-handoff "
              + saved
              + "' goes on from it live");
      ObjectNode o = r.putObject("handoff");
      o.put("path", saved);
      o.put("model", io.streamrec.protocol.ModelLineage.format(h.model()));
      o.put("version", h.version());
    }
    reports.write(r, "streamrec");
    return 0;
  }

  /** What a backfill stopped early (Ctrl-C, SIGTERM) leaves behind, said as it stops. */
  static String stoppingLine(JobConfig cfg) {
    return "streamrec backfill: stopping early: cancelling the job; no handoff is written"
        + (cfg.handoffSaveTo().isEmpty()
            ? ""
            : " (one already at " + cfg.handoffSaveTo() + " stays as it was)")
        + "; the versions it has published stay on '"
        + cfg.modelUpdatesTopic()
        + "': "
        + (cfg.handoffStartFrom().isEmpty()
            ? "a backfill started again trains a new model, which takes that topic over with"
                + " --replace"
            // the handoff's model, not a new one: --replace does not take its own topic over
            : "a backfill started again from the handoff at "
                + cfg.handoffStartFrom()
                + " goes on from that handoff's model, and is refused while those versions are"
                + " there unless started with -D "
                + JobOptions.HANDOFF_CONTINUE_PUBLISHED.key()
                + "=true (it trains them again and publishes none twice)");
  }

  /**
   * Why a backfill that ended trained nothing, or null when it trained: an empty range, a units log
   * nobody writes, every record a dead letter. It ended as if it had done its work, silently, and
   * its handoff held a model of nothing.
   */
  static String nothingTrained(JobConfig cfg, Map<String, Double> m) {
    if (Progress.count(m, JobMetrics.IMPRESSIONS_TRAINED) > 0) {
      return null;
    }
    String why;
    if (cfg.sourceKind() == JobConfig.SourceKind.UNITS) {
      why =
          Progress.count(m, JobMetrics.UNITS_IN) == 0
              ? "the request-units topic '"
                  + cfg.requestUnitsTopic()
                  + "' held no unit in the range (the live job writes it only with"
                  + " sink.request-units.enabled; docs/request-units.md)"
              : "no unit it read could be trained on (streamrec dead-letters says why)";
    } else {
      long requests = Progress.count(m, JobMetrics.REQUESTS_IN);
      long impressions = Progress.count(m, JobMetrics.IMPRESSIONS_IN);
      if (requests + impressions == 0) {
        why =
            "the topics '"
                + cfg.requestsTopic()
                + "' and '"
                + cfg.impressionsTopic()
                + "' held no event in the range";
      } else if (requests == 0 || impressions == 0) {
        why =
            String.format(
                java.util.Locale.ROOT,
                "it read %,d %s and no %s: the topic '%s' held none in the range",
                Math.max(requests, impressions),
                requests == 0 ? "impressions" : "requests",
                requests == 0 ? "request" : "impression",
                requests == 0 ? cfg.requestsTopic() : cfg.impressionsTopic());
      } else {
        why =
            String.format(
                java.util.Locale.ROOT,
                "of the %,d events it read, no request was joined with an impression (streamrec"
                    + " dead-letters says why)",
                requests + impressions);
      }
    }
    return "streamrec backfill: nothing was trained: "
        + why
        + (cfg.handoffSaveTo().isEmpty() ? "" : "; the handoff holds a model that learnt nothing");
  }
}
