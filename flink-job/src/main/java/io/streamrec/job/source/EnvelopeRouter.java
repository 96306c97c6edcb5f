package io.streamrec.job.source;

import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.InputEnvelope;
import io.streamrec.schemas.RequestEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits a source's envelopes: events to the main output, dead letters to {@link #DEAD_LETTERS}.
 * Chained to its source, it also applies the topic's throttle ({@code
 * source.max-records-per-second}, shared evenly by the topic's subtasks): waiting here holds the
 * source back.
 */
public abstract class EnvelopeRouter<T> extends ProcessFunction<InputEnvelope, T> {
  private static final long serialVersionUID = 1L;

  private final int maxRecordsPerSecond;
  private transient Throttle throttle;

  EnvelopeRouter(int maxRecordsPerSecond) {
    if (maxRecordsPerSecond < 0) {
      throw new IllegalArgumentException(
          "max records per second must be >= 0 (0 = unlimited), got " + maxRecordsPerSecond);
    }
    this.maxRecordsPerSecond = maxRecordsPerSecond;
  }

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("source-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  abstract T event(InputEnvelope e);

  @Override
  public void open(OpenContext openContext) throws Exception {
    super.open(openContext);
    if (maxRecordsPerSecond > 0) {
      throttle =
          new Throttle(
              (double) maxRecordsPerSecond
                  / getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
    }
  }

  @Override
  public void processElement(InputEnvelope e, Context ctx, Collector<T> out) {
    if (throttle != null) {
      throttle.acquire();
    }
    if (e.getDeadLetter() != null) {
      ctx.output(DEAD_LETTERS, e.getDeadLetter());
      return;
    }
    T event = event(e);
    if (event != null) {
      out.collect(event);
    }
  }

  /** The requests source's router. */
  public static final class Requests extends EnvelopeRouter<RequestEvent> {
    private static final long serialVersionUID = 1L;

    /**
     * A router passing on at most {@code maxRecordsPerSecond} records per second over all subtasks
     * (0 = unlimited).
     */
    public Requests(int maxRecordsPerSecond) {
      super(maxRecordsPerSecond);
    }

    @Override
    RequestEvent event(InputEnvelope e) {
      return e.getRequest();
    }
  }

  /** The impressions source's router. */
  public static final class Impressions extends EnvelopeRouter<ImpressionEvent> {
    private static final long serialVersionUID = 1L;

    /**
     * A router passing on at most {@code maxRecordsPerSecond} records per second over all subtasks
     * (0 = unlimited).
     */
    public Impressions(int maxRecordsPerSecond) {
      super(maxRecordsPerSecond);
    }

    @Override
    ImpressionEvent event(InputEnvelope e) {
      return e.getImpression();
    }
  }
}
