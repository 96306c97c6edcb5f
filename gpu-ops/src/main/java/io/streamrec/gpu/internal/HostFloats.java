package io.streamrec.gpu.internal;

import io.streamrec.gpu.Floats;

/** {@link Floats} in host memory: a Java array. */
public final class HostFloats implements Floats {
  public final float[] a;

  public HostFloats(float[] a) {
    this.a = a;
  }

  @Override
  public int length() {
    return a.length;
  }

  @Override
  public void close() {}
}
