package io.streamrec.gpu.internal.cuda;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Device allocations of one backend: each is {@link AutoCloseable} and waits for the stream before
 * it frees (a queued kernel may still use it); what is still allocated when the backend closes is
 * freed then, newest first.
 */
public final class DeviceAllocator implements AutoCloseable {
  /** Smallest size at which closed allocations are pruned from the list of live ones. */
  private static final int PRUNE_MIN = 64;

  private final CudaContext ctx;
  private final DeviceMemory.Owner owner;

  /** Every allocation not yet seen closed, newest first: what {@link #close} frees. */
  private final Deque<DeviceMemory> live = new ArrayDeque<>();

  /** Closed allocations leave {@link #live} when it passes this size (amortised O(1) per alloc). */
  private int pruneAt = PRUNE_MIN;

  public DeviceAllocator(CudaContext ctx, StagingBuffers staging) {
    this.ctx = ctx;
    this.owner =
        () -> {
          if (ctx.isOpen()) {
            ctx.makeCurrent();
            staging.sync();
          }
        };
  }

  /** The owner every buffer of this backend carries: a buffer of another owner is refused. */
  public DeviceMemory.Owner owner() {
    return owner;
  }

  /** {@code bytes} of device memory, freed by its {@code close} or by this allocator's. */
  public DeviceMemory alloc(long bytes) {
    ctx.ensureOpen();
    DeviceMemory m = new DeviceMemory(owner, bytes);
    live.push(m);
    if (live.size() > pruneAt) {
      live.removeIf(x -> !x.isOpen());
      pruneAt = Math.max(PRUNE_MIN, 2 * live.size());
    }
    return m;
  }

  /** Frees every allocation still open, newest first; the first error is thrown at the end. */
  @Override
  public void close() {
    RuntimeException first = null;
    while (!live.isEmpty()) {
      try {
        live.pop().close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
