package io.streamrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.cli.kafka.EmbeddedKafka;
import io.streamrec.cli.kafka.EmbeddedKafkaConfig;
import io.streamrec.cli.kafka.Topics;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.traffic.FaultConfig;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficFaults;
import io.streamrec.traffic.TrafficGenerator;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

class TrafficPumpITCase {
  /**
   * {@code demo --rate} above what the generator draws (1e9 requests a second) drew millions of
   * requests before it sent one, then more each pass, until the heap ran out; it sends as it draws,
   * a thousand requests at most between sends, behind the clock.
   */
  @Test
  void aRateAboveWhatTheGeneratorDrawsSendsAsItDraws() throws Exception {
    TopicsConfig topics = TopicsConfig.defaults().withPrefix("pump-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafkaConfig.defaults());
        Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Topics.ensure(admin, topics);
      try (ByteRecordProducer producer = new ByteRecordProducer(kafka.bootstrapServers());
          TrafficPump pump =
              new TrafficPump(
                  new TrafficGenerator(
                      TrafficConfig.defaults().withSeed(1).withUsers(100).withItems(100)),
                  new TrafficFaults(FaultConfig.defaults().withSeed(1)),
                  producer,
                  topics,
                  1e9,
                  100)) {
        pump.start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (pump.requestsSent() < 5 * TrafficPump.MAX_DRAWN_PER_PASS) {
          // drawn first: the sends counted after it are at least those before it
          long drawn = pump.requestsDrawn();
          long sent = pump.requestsSent();
          assertThat(drawn - sent)
              .as("requests drawn and not sent (%d sent)", sent)
              .isLessThanOrEqualTo(TrafficPump.MAX_DRAWN_PER_PASS);
          assertThat(System.currentTimeMillis()).as("requests sent: %d", sent).isLessThan(deadline);
          Thread.sleep(5);
        }
      }
    }
  }
}
