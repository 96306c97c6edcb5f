package io.streamrec.cli;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.TopicsConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code streamrec broker}: a real single-node KRaft Kafka broker in the foreground. */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description =
        "Runs an embedded single-node Kafka broker (KRaft) in the foreground, creates streamrec's topics "
            + "and prints its bootstrap address. Ctrl-C stops it.")
final class BrokerCommand implements Callable<Integer> {
  @Option(
      names = "--port",
      defaultValue = "9092",
      description = "Client port (0 = any free port; default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Keep the broker's data here (default: a temporary directory deleted on exit).")
  Path dataDir;

  @Option(
      names = "--partitions",
      defaultValue = "2",
      description = "Partitions of the input topics (default ${DEFAULT-VALUE}).")
  int partitions;

  @Override
  public Integer call() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start(new EmbeddedKafkaConfig(dataDir, port, partitions));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  kafka.close();
                  stopped.countDown();
                },
                "broker-stop"));
    TopicsConfig topics = TopicsConfig.defaults().withInputPartitions(partitions);
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      Topics.EnsureResult r = Topics.ensure(admin, topics);
      System.out.println(
          "streamrec broker: topics created " + r.created() + ", already there " + r.existing());
    }
    System.out.println(
        "streamrec broker: listening at " + kafka.bootstrapServers() + " (Ctrl-C to stop)");
    System.out.flush();
    stopped.await();
    return 0;
  }
}
