package io.streamrec.cli;

import io.streamrec.cli.kafka.ByteRecordProducer;
import io.streamrec.common.Auc;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.OutgoingRecord;
import io.streamrec.traffic.TrafficFaults;
import io.streamrec.traffic.TrafficGenerator;
import java.util.Arrays;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Sends generated traffic to the input topics in real time: requests at a steady rate, each with
 * the wall-clock time as its event time, and every record (impressions come up to a second after
 * their request; faults may come later) when the clock reaches its event time. Keeps what the job
 * is expected to do with each record, and the true click probability of every trainable impression
 * for the oracle AUC.
 */
final class TrafficPump implements AutoCloseable {
  /**
   * How long the pump sleeps when nothing is due: fine enough for rates up to tens of thousands/s.
   */
  private static final long IDLE_SLEEP_MS = 2;

  /**
   * The most requests drawn before what is due is sent: a rate above what the generator draws
   * (traffic falls behind the clock) still sends as it goes, where it drew without end and sent
   * nothing until the heap ran out.
   */
  static final int MAX_DRAWN_PER_PASS = 1_000;

  private final TrafficGenerator generator;
  private final TrafficFaults faults;
  private final ByteRecordProducer producer;
  private final TopicsConfig topics;
  private final double requestsPerSecond;
  private final int oracleWindow;
  private final Thread thread;
  private final PriorityQueue<OutgoingRecord> due =
      new PriorityQueue<>(Comparator.comparingLong(OutgoingRecord::timestampMs));

  private volatile boolean generating = true;
  private volatile long requestsDrawn;
  private volatile long requestsSent;
  private volatile long impressionsSent;
  private volatile long trainable;
  private final long[] fates = new long[OutgoingRecord.Fate.values().length];
  private volatile Throwable failure;

  // the newest trainable impressions' truths and labels, a ring of oracleWindow
  private final double[] truth;
  private final float[] label;
  private long truths;

  TrafficPump(
      TrafficGenerator generator,
      TrafficFaults faults,
      ByteRecordProducer producer,
      TopicsConfig topics,
      double requestsPerSecond,
      int oracleWindow) {
    this.generator = generator;
    this.faults = faults;
    this.producer = producer;
    this.topics = topics;
    this.requestsPerSecond = requestsPerSecond;
    this.oracleWindow = oracleWindow;
    this.truth = new double[oracleWindow];
    this.label = new float[oracleWindow];
    this.thread = new Thread(this::loop, "traffic");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  private void loop() {
    try {
      long start = System.currentTimeMillis();
      long generated = 0;
      while (generating) {
        long now = System.currentTimeMillis();
        long target =
            Math.min(
                (long) ((now - start) * requestsPerSecond / 1000.0),
                generated + MAX_DRAWN_PER_PASS);
        while (generated < target) {
          long ts = start + (long) (generated * 1000.0 / requestsPerSecond);
          GeneratedRequest g = generator.next(ts);
          for (OutgoingRecord r : faults.toRecords(g)) {
            due.add(r);
          }
          generated++;
          requestsDrawn = generated;
        }
        sendDue(now);
        Thread.sleep(IDLE_SLEEP_MS);
      }
      sendDue(Long.MAX_VALUE);
      producer.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  private void sendDue(long now) {
    while (!due.isEmpty() && due.peek().timestampMs() <= now) {
      OutgoingRecord r = due.poll();
      boolean request = r.topic() == OutgoingRecord.Topic.REQUESTS;
      producer.send(
          request ? topics.requests() : topics.impressions(), r.key(), r.timestampMs(), r.value());
      synchronized (this) {
        fates[r.fate().ordinal()]++;
        if (request) {
          requestsSent++;
        } else {
          impressionsSent++;
          if (r.fate() == OutgoingRecord.Fate.TRAIN) {
            int k = (int) (truths++ % oracleWindow);
            truth[k] = r.trueCtr();
            label[k] = r.label();
            trainable++;
          }
        }
      }
    }
  }

  /** Stops generating, sends what is still queued and waits until the producer has flushed it. */
  void finish() throws InterruptedException {
    generating = false;
    thread.join();
    if (failure != null) {
      throw new IllegalStateException("sending traffic failed: " + failure.getMessage(), failure);
    }
  }

  /** AUC of the true click probabilities over the newest trainable impressions (the oracle's). */
  synchronized double oracleAuc() {
    int n = (int) Math.min(truths, oracleWindow);
    return Auc.exact(Arrays.copyOf(truth, n), Arrays.copyOf(label, n), n);
  }

  /** Requests drawn from the generator so far, sent or not. */
  long requestsDrawn() {
    return requestsDrawn;
  }

  long requestsSent() {
    return requestsSent;
  }

  long impressionsSent() {
    return impressionsSent;
  }

  /** Records sent with each expected fate, by {@link OutgoingRecord.Fate} ordinal. */
  synchronized long[] fates() {
    return fates.clone();
  }

  @Override
  public void close() {
    generating = false;
    thread.interrupt();
  }
}
