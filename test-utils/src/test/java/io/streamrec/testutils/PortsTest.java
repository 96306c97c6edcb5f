package io.streamrec.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
  @Test
  void portsLieBelowTheEphemeralRangeAndAreNeverHandedOutTwice() throws Exception {
    String[] range = Ports.range().split("-");
    int low = Integer.parseInt(range[0]);
    int high = Integer.parseInt(range[1]);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      int port = Ports.free();
      assertThat(port).isBetween(low, high);
      assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
    }
    try (ServerSocket ephemeral = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      assertThat(ephemeral.getLocalPort()).as("a port bound to 0").isGreaterThan(high);
    }
  }

  @Test
  void aPortSomethingListensOnIsPassedOver() throws Exception {
    int first = Ports.free();
    // the next port in the draw, taken before it is drawn
    int next = first + 1 <= Integer.parseInt(Ports.range().split("-")[1]) ? first + 1 : -1;
    if (next < 0) {
      next = Integer.parseInt(Ports.range().split("-")[0]);
    }
    try (ServerSocket taken = new ServerSocket(next, 1, InetAddress.getByName("localhost"))) {
      int port = Ports.free();
      assertThat(port).isNotEqualTo(taken.getLocalPort()).isNotEqualTo(first);
    }
  }
}
