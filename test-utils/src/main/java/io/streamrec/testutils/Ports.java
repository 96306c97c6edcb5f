package io.streamrec.testutils;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports for the servers a test gives a fixed address (a broker started again where its clients left
 * it, a server a subprocess is told to use).
 *
 * <p>They are drawn below the system's ephemeral range, and never twice in one JVM. A port the
 * system hands out for {@code bind(0)} is also the one it hands the next broker that binds port 0
 * and the local end of outgoing connections; a client an earlier test left retrying its broker's
 * address would then reach the server of a later test that was given that same port. Below the
 * ephemeral range no server bound to port 0 and no outgoing connection has been.
 */
public final class Ports {
  /** Where the range of ports handed out lies when the system does not say its ephemeral range. */
  private static final int EPHEMERAL_LOW_DEFAULT = 32768;

  /** How many ports below the ephemeral range are drawn from. */
  private static final int SPAN = 12_000;

  private static final int HIGH = ephemeralLow(); // exclusive
  private static final int LOW = Math.max(1024, HIGH - SPAN);
  private static final AtomicInteger NEXT =
      new AtomicInteger(ThreadLocalRandom.current().nextInt(HIGH - LOW));

  private Ports() {}

  /**
   * A port on localhost that nothing listens on now, below the ephemeral range and not handed out
   * before in this JVM.
   *
   * @throws IOException when every port of the range was tried
   */
  public static int free() throws IOException {
    for (int tries = 0; tries < HIGH - LOW; tries++) {
      int port = LOW + Math.floorMod(NEXT.getAndIncrement(), HIGH - LOW);
      if (bindable(port)) {
        return port;
      }
    }
    throw new IOException("no free port on localhost in " + LOW + "-" + (HIGH - 1));
  }

  /** The range {@link #free} draws from, as {@code low-high} (both inclusive). */
  static String range() {
    return LOW + "-" + (HIGH - 1);
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
      return s.getLocalPort() == port;
    } catch (IOException inUse) {
      return false;
    }
  }

  /** The first port of Linux's ephemeral range, or its default's where the system does not say. */
  private static int ephemeralLow() {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    try {
      String[] bounds = Files.readString(range).trim().split("\\s+");
      int low = Integer.parseInt(bounds[0]);
      return low > 1024 + 1000 ? low : EPHEMERAL_LOW_DEFAULT;
    } catch (IOException | RuntimeException unknown) {
      return EPHEMERAL_LOW_DEFAULT;
    }
  }
}
