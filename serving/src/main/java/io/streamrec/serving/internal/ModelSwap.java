package io.streamrec.serving.internal;

import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The replica's two models: the one readers see ({@link #visible}) and the one the topic's records
 * go to ({@link #building}). While tailing they are the same model and each change to it holds the
 * write lock; during a read from the earliest offset, {@code building} is a fresh model nobody
 * reads, changed without the lock, until {@link #swapIn} makes it visible in one step. Readers hold
 * the read lock, so a score never sees half a version nor two models. One writer thread, any number
 * of readers.
 */
public final class ModelSwap {
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile ReplicaModel visible;

  /** Written by the writer thread; volatile as the figures read it from others. */
  private volatile ReplicaModel building;

  /** Starts a fresh model for a read from the earliest offset; readers keep the visible one. */
  public void rebuild() {
    building = new ReplicaModel();
  }

  /** True while a rebuilt model is not yet visible. */
  public boolean rebuilding() {
    return building != visible;
  }

  /** The model being built (the visible one while tailing); other threads read it for figures. */
  public ReplicaModel building() {
    return building;
  }

  /** The model readers see, or null before the first swap. Without the lock: for figures only. */
  public ReplicaModel visible() {
    return visible;
  }

  /** Changes the model being built: under the write lock when readers see it. */
  public void write(Consumer<ReplicaModel> change) {
    if (rebuilding()) {
      change.accept(building);
      return;
    }
    lock.writeLock().lock();
    try {
      change.accept(building);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Makes the rebuilt model the visible one, at once. */
  public void swapIn() {
    lock.writeLock().lock();
    try {
      visible = building;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Reads the visible model (null before the first swap) under the read lock. */
  public <T> T read(Function<ReplicaModel, T> reader) {
    lock.readLock().lock();
    try {
      return reader.apply(visible);
    } finally {
      lock.readLock().unlock();
    }
  }
}
