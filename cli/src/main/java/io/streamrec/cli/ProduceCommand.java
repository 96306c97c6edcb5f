package io.streamrec.cli;

import io.streamrec.cli.kafka.BadLineCauses;
import io.streamrec.cli.kafka.FieldCheck;
import io.streamrec.cli.kafka.JsonlProducer;
import io.streamrec.cli.kafka.LabelCheck;
import io.streamrec.cli.kafka.TimeCheck;
import io.streamrec.job.config.ClientSettings;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import io.streamrec.job.kafka.TopicSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code streamrec produce}: loads JSONL event files into the input topics. */
@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    description = {
      "Loads JSON-lines files of requests and impressions (the interchange shape in the README) into "
          + "the requests and impressions topics, keyed by request id, timestamped with the event time.",
      "A bad line is reported with its line number and skipped; every good line is still produced."
    })
final class ProduceCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientSettings settings;

  @Option(names = "--requests", paramLabel = "FILE", description = "JSONL file of requests.")
  Path requests;

  @Option(names = "--impressions", paramLabel = "FILE", description = "JSONL file of impressions.")
  Path impressions;

  @Override
  public Integer call() {
    if (requests == null && impressions == null) {
      throw new ParameterException(
          spec.commandLine(), "give --requests FILE, --impressions FILE or both");
    }
    for (Path p : new Path[] {requests, impressions}) {
      if (p != null && !Files.isReadable(p)) {
        throw new ParameterException(spec.commandLine(), "cannot read " + p);
      }
      if (p != null && Files.isDirectory(p)) {
        throw new ParameterException(
            spec.commandLine(), "cannot read " + p + ": it is a directory, not a file of events");
      }
    }
    JobConfig cfg = JobConfig.from(settings.configuration());
    String servers = cfg.bootstrapServers();
    TopicsConfig topics = cfg.topics(TopicsConfig.DEFAULT_INPUT_PARTITIONS);
    // a refused login or a missing topic fails here, in words, not after the producer's timeout
    List<TopicSpec> targets = new ArrayList<>();
    for (TopicSpec t : TopicSpec.all(topics)) {
      if (requests != null && t.name().equals(topics.requests())
          || impressions != null && t.name().equals(topics.impressions())) {
        targets.add(t);
      }
    }
    // ... and returns once they are served: a topic created a moment before is written only then.
    // The same client reads the topics' record time bounds before the events are sent, and their
    // retention after
    try (org.apache.kafka.clients.admin.Admin admin =
        KafkaPreflight.admin(servers, cfg.kafkaProperties())) {
      KafkaPreflight.checkTopics(
          admin,
          servers,
          cfg.kafkaProperties(),
          targets,
          org.apache.kafka.common.acl.AclOperation.WRITE);
      return load(cfg, topics, admin);
    }
  }

  private int load(JobConfig cfg, TopicsConfig topics, org.apache.kafka.clients.admin.Admin admin) {
    String servers = cfg.bootstrapServers();
    TimeCheck times =
        new TimeCheck(
            JsonlProducer.loggingListener(),
            cfg.maxOutOfOrdernessMs(),
            cfg.limits().maxFutureMs(),
            System.currentTimeMillis());
    LabelCheck labels = new LabelCheck(cfg.model().features().labels(), times);
    FieldCheck fields = new FieldCheck(labels, cfg.model().features());
    BadLineCauses causes = new BadLineCauses(fields);
    JsonlProducer.Summary s =
        JsonlProducer.load(
            servers,
            cfg.kafkaProperties().asMap(),
            admin,
            topics,
            requests,
            impressions,
            causes,
            cfg.model().features());
    System.out.printf(
        Locale.ROOT,
        "streamrec produce: %,d requests and %,d impressions sent to %s, %,d bad line(s) skipped, "
            + "%.1f s (%,.0f events/s)%n",
        s.requestsSent(),
        s.impressionsSent(),
        servers,
        s.badLines(),
        s.elapsedMs() / 1000.0,
        s.eventsPerSecond());
    causes.summary().forEach(w -> System.out.println("streamrec produce: " + w));
    times.warnings().forEach(w -> System.out.println("streamrec produce: warning: " + w));
    retentionAdvice(admin, times, topics)
        .forEach(w -> System.out.println("streamrec produce: warning: " + w));
    labels.warnings().forEach(w -> System.out.println("streamrec produce: warning: " + w));
    fields.warnings().forEach(w -> System.out.println("streamrec produce: warning: " + w));
    return s.badLines() > 0 ? 3 : 0;
  }

  /**
   * A line for each topic whose retention is shorter than the age of the events sent to it: the
   * broker deletes history within minutes (its retention counts from the record's timestamp, the
   * event time), and a backfill then found nothing, with no word from produce.
   */
  private List<String> retentionAdvice(
      org.apache.kafka.clients.admin.Admin admin, TimeCheck times, TopicsConfig topics) {
    List<String> out = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (Object[] f :
        new Object[][] {{requests, topics.requests()}, {impressions, topics.impressions()}}) {
      if (f[0] != null) {
        var oldest = times.oldest((Path) f[0]);
        if (oldest.isPresent()) {
          String advice =
              KafkaPreflight.retentionAdvice(admin, (String) f[1], oldest.getAsLong(), now);
          if (advice != null) {
            out.add(advice);
          }
        }
      }
    }
    return out;
  }
}
