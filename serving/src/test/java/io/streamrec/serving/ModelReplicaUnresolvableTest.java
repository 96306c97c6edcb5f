package io.streamrec.serving;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A replica whose broker's name does not resolve yet (a Kubernetes service made with the replica)
 * ended {@code serve} at once ("No resolvable bootstrap urls"), where a broker that does not answer
 * is waited for: it waits for the name too, saying why it is not ready.
 */
class ModelReplicaUnresolvableTest {
  @Test
  void aBrokerWhoseNameDoesNotResolveIsWaitedForAndTheReplicaClosesWhileWaiting() throws Exception {
    long t0 = System.nanoTime();
    try (ModelReplica r =
        ModelReplica.start("streamrec-no-such-host.invalid:9092", "model-updates")) {
      Thread.sleep(1_500);
      assertThat(r.alive()).as("still trying").isTrue();
      assertThat(r.ready()).isFalse();
      assertThat(r.failure()).isNull();
      assertThat(r.state()).isEqualTo(ModelReplica.State.BOOTSTRAPPING);
      assertThat(r.unreachable())
          .contains("streamrec-no-such-host.invalid:9092 does not resolve")
          .contains("is the address right");
    }
    assertThat((System.nanoTime() - t0) / 1_000_000).as("closed while waiting").isLessThan(10_000);
  }
}
