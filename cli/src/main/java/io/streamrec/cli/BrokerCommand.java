package io.streamrec.cli;

import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.TopicsConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
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
      description =
          "Keep the broker's data here; a directory an earlier broker left is started on as it is"
              + " (its topics, records and committed offsets), an empty one is formatted (default: a"
              + " temporary directory deleted on exit).")
  Path dataDir;

  @Option(
      names = "--partitions",
      defaultValue = "2",
      description = "Partitions of the input topics (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--sasl-user",
      paramLabel = "NAME=PASSWORD",
      description =
          "Ask clients to log in with SASL/PLAIN, as this user (repeatable): to try the Kafka"
              + " security settings (properties.*, --command-config) on one machine. The"
              + " password shows in the process list; --sasl-users-file keeps it off it.")
  Map<String, String> saslUsers = new LinkedHashMap<>();

  @Option(
      names = "--sasl-users-file",
      paramLabel = "FILE",
      description =
          "As --sasl-user, with the users read from FILE, one NAME=PASSWORD a line (blank lines"
              + " and lines starting with # are skipped).")
  Path saslUsersFile;

  @Override
  public Integer call() throws Exception {
    if (saslUsersFile != null) {
      readUsers(saslUsersFile).forEach(saslUsers::putIfAbsent);
    }
    EmbeddedKafka kafka =
        EmbeddedKafka.start(new EmbeddedKafkaConfig(dataDir, port, partitions, saslUsers));
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
    try (Admin admin = Admin.create(kafka.adminSettings())) {
      Topics.EnsureResult r = Topics.ensure(admin, topics);
      System.out.println(
          "streamrec broker: topics created " + r.created() + ", already there " + r.existing());
      r.advice().forEach(a -> System.out.println("streamrec broker: " + a));
    }
    System.out.println(
        "streamrec broker: listening at "
            + kafka.bootstrapServers()
            + (kafka.restarted() ? ", restarted on the data in " + kafka.dataDirectory() : "")
            + " (Ctrl-C to stop)");
    if (!saslUsers.isEmpty()) {
      System.out.println(
          "streamrec broker: clients log in with SASL/PLAIN, e.g. a --command-config file holding\n"
              + "  security.protocol=SASL_PLAINTEXT\n  sasl.mechanism=PLAIN\n"
              + "  sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
              + " username=\""
              + saslUsers.keySet().iterator().next()
              + "\" password=\"<password>\";");
    }
    System.out.flush();
    return untilStoppedOrFault(stopped, () -> kafka.firstFault(true), FAULT_POLL_MS, kafka::close);
  }

  /**
   * The users of a {@code --sasl-users-file}: one {@code NAME=PASSWORD} a line, the password what
   * follows the first {@code =}, spaces around it removed as in a properties file. A line that is
   * not one is refused by its number, without its text, since it may hold a password.
   */
  static Map<String, String> readUsers(Path file) {
    java.util.List<String> lines;
    try {
      lines = java.nio.file.Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("--sasl-users-file " + file + ": no such file");
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("--sasl-users-file " + file + ": " + e.getMessage());
    }
    Map<String, String> users = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      String name = eq < 0 ? "" : line.substring(0, eq).strip();
      if (name.isEmpty() || line.substring(eq + 1).isBlank()) {
        throw new IllegalArgumentException(
            "--sasl-users-file "
                + file
                + ", line "
                + (i + 1)
                + ": not NAME=PASSWORD (the line is not shown: it may hold a password)");
      }
      if (users.put(name, line.substring(eq + 1).strip()) != null) {
        throw new IllegalArgumentException(
            "--sasl-users-file " + file + ", line " + (i + 1) + ": user '" + name + "' again");
      }
    }
    if (users.isEmpty()) {
      throw new IllegalArgumentException("--sasl-users-file " + file + " names no user");
    }
    return users;
  }

  /** How often the foreground loop asks the broker whether it met a fatal fault. */
  static final long FAULT_POLL_MS = 1_000;

  /**
   * Waits for {@code stopped}; 0 then. A fatal fault the broker reports first (one that stops a
   * Kafka broker process: the embedded one records it and would go on running unable to serve) is
   * printed to standard error, {@code close} is run and 1 returned, so that a supervisor sees the
   * broker stop instead of a process that accepts connections and serves nothing.
   */
  static int untilStoppedOrFault(
      CountDownLatch stopped,
      Supplier<Optional<RuntimeException>> fatalFault,
      long pollMs,
      Runnable close)
      throws InterruptedException {
    while (!stopped.await(pollMs, TimeUnit.MILLISECONDS)) {
      Optional<RuntimeException> fault = fatalFault.get();
      if (fault.isPresent()) {
        System.err.println(
            "streamrec broker: the broker met a fatal fault and stops, as a Kafka broker process"
                + " does: "
                + fault.get()
                + (fault.get().getCause() == null
                    ? ""
                    : " (caused by " + fault.get().getCause() + ")"));
        close.run();
        return 1;
      }
    }
    return 0;
  }
}
