package io.streamrec.serving;

import io.streamrec.common.StreamrecException;
import picocli.CommandLine;

/**
 * The serving process on its own: {@code java -cp streamrec-serving.jar:...
 * io.streamrec.serving.ServingMain --bootstrap-servers HOST:PORT}. It takes the arguments of {@code
 * streamrec serve}; its class path holds the replica, the shared forward pass, Avro and the Kafka
 * client, and no Flink, broker or RocksDB.
 */
public final class ServingMain {
  private ServingMain() {}

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new ServeCommand()).setCommandName("streamrec-serve");
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof StreamrecException || e instanceof IllegalArgumentException) {
            line.getErr().println("streamrec-serve: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    System.exit(cl.execute(args));
  }
}
