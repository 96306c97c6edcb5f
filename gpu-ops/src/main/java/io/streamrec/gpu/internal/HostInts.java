package io.streamrec.gpu.internal;

import io.streamrec.gpu.Ints;

/** {@link Ints} in host memory: a Java array. */
public final class HostInts implements Ints {
  public final int[] a;

  public HostInts(int[] a) {
    this.a = a;
  }

  @Override
  public int length() {
    return a.length;
  }

  @Override
  public void close() {}
}
