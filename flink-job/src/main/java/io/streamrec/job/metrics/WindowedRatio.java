package io.streamrec.job.metrics;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.flink.metrics.Gauge;

/**
 * A gauge of a ratio over a recent window, made from two running totals: {@code (numerator now −
 * numerator then) / (denominator now − denominator then)}, "then" being the window's length ago.
 * The store's hit rate since start, say, barely moves after a day of training, while this one shows
 * what the last minute did.
 *
 * <p>The totals are sampled when the gauge is read (reporters read every few seconds), at most once
 * per {@link #RESOLUTION}: the ratio spans the window as closely as the reads allow, and from the
 * first totals until they are a window old. NaN while nothing was counted in the window, and while
 * the totals are not there yet (null). Safe to read from any thread.
 */
public final class WindowedRatio implements Gauge<Double> {
  /** Samples closer together than this are not kept: at most window / resolution of them. */
  static final Duration RESOLUTION = Duration.ofSeconds(1);

  /** Two running totals read together. */
  public record Totals(double numerator, double denominator) {}

  private record Sample(long nanos, Totals totals) {}

  private final Supplier<Totals> totals;
  private final LongSupplier clock;
  private final long windowNanos;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  /** A ratio over the last {@code window} of the totals {@code totals} reads. */
  public WindowedRatio(Duration window, Supplier<Totals> totals) {
    this(window, totals, System::nanoTime);
  }

  WindowedRatio(Duration window, Supplier<Totals> totals, LongSupplier clock) {
    this.totals = totals;
    this.clock = clock;
    this.windowNanos = window.toNanos();
    Totals first = totals.get();
    if (first != null) {
      samples.add(new Sample(clock.getAsLong(), first));
    }
  }

  @Override
  public synchronized Double getValue() {
    long now = clock.getAsLong();
    Totals current = totals.get();
    if (current == null) {
      return Double.NaN;
    }
    if (samples.isEmpty() || now - samples.peekLast().nanos() >= RESOLUTION.toNanos()) {
      samples.addLast(new Sample(now, current));
    }
    // keep one sample at or before the window's start as the baseline
    while (samples.size() > 1 && first(1).nanos() <= now - windowNanos) {
      samples.removeFirst();
    }
    Totals base = samples.peekFirst().totals();
    double den = current.denominator() - base.denominator();
    return den > 0 ? (current.numerator() - base.numerator()) / den : Double.NaN;
  }

  private Sample first(int index) {
    var it = samples.iterator();
    for (int i = 0; i < index; i++) {
      it.next();
    }
    return it.next();
  }
}
