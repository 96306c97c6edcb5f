package io.streamrec.testutils;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports for the servers a test starts. */
public final class Ports {
  private Ports() {}

  /** A port on localhost that nothing listened on a moment ago. */
  public static int free() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      return s.getLocalPort();
    }
  }
}
