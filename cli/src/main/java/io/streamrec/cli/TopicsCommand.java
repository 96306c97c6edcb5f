package io.streamrec.cli;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.ClientSettings;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.job.kafka.KafkaPreflight;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamrec topics}: creates on a Kafka of one's own the topics a job of this configuration
 * uses, as {@code streamrec broker} does on its own, for a machine without Kafka's tools (a topic
 * of its own for a backfill, {@code -D topics.model-updates=...}).
 */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = {
      "Creates the topics a job of this configuration reads and writes (topics.* names them) that do"
          + " not exist yet, each with its partitions and settings (model-updates compacted, one"
          + " partition) and --replication-factor replicas (default: the cluster's"
          + " default.replication.factor), and checks the ones that exist. Topics already there"
          + " are left as they are."
    })
final class TopicsCommand implements Callable<Integer> {
  @Mixin ClientSettings settings;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description =
          "Partitions of the requests, impressions and request-units topics it creates (default:"
              + " ${DEFAULT-VALUE}, or assembler.parallelism when that is more).")
  int partitions = TopicsConfig.DEFAULT_INPUT_PARTITIONS;

  @Option(
      names = "--replication-factor",
      paramLabel = "N",
      description =
          "Replicas of each topic it creates (default: the cluster's default.replication.factor,"
              + " which Kafka leaves at 1). Give 3 on a production cluster, as"
              + " k8s/kafka-topics.yaml does.")
  Short replicationFactor;

  @Override
  public Integer call() {
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
    }
    if (replicationFactor != null && replicationFactor < 1) {
      throw new IllegalArgumentException(
          "--replication-factor must be at least 1, got " + replicationFactor);
    }
    JobConfig cfg = JobConfig.from(settings.configuration());
    TopicsConfig topics = cfg.topics(Math.max(partitions, cfg.assemblerParallelism()));
    try (Admin admin = KafkaPreflight.admin(cfg.bootstrapServers(), cfg.kafkaProperties())) {
      // a refused login or no answer, said as every command says it, before any topic is asked for
      KafkaPreflight.reachable(admin, cfg.bootstrapServers(), cfg.kafkaProperties());
      Topics.EnsureResult r = Topics.ensure(admin, topics, Optional.ofNullable(replicationFactor));
      System.out.println(
          "streamrec topics: at "
              + cfg.bootstrapServers()
              + ", created "
              + r.created()
              + ", already there "
              + r.existing());
      r.advice().forEach(a -> System.out.println("streamrec topics: " + a));
    }
    return 0;
  }
}
