package io.streamrec.job.source;

import io.streamrec.job.units.DecodedEvent;
import io.streamrec.model.units.EventPart;
import io.streamrec.schemas.DeadLetter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits a source's decoded records: event parts to the main output, dead letters to {@link
 * #DEAD_LETTERS}. It also applies the topic's throttle ({@code source.max-records-per-second},
 * shared evenly by the topic's subtasks). A throttled router runs in a task of its own, so that its
 * waits backpressure the source rather than hold the source's thread (see {@code
 * StreamrecJob.decodedEvents}); unthrottled, it is chained to the source.
 */
public final class EnvelopeRouter extends ProcessFunction<DecodedEvent, EventPart> {
  private static final long serialVersionUID = 1L;

  private final int maxRecordsPerSecond;
  private transient Throttle throttle;

  /**
   * A router passing on at most {@code maxRecordsPerSecond} records per second over all subtasks (0
   * = unlimited).
   */
  public EnvelopeRouter(int maxRecordsPerSecond) {
    if (maxRecordsPerSecond < 0) {
      throw new IllegalArgumentException(
          "max records per second must be >= 0 (0 = unlimited), got " + maxRecordsPerSecond);
    }
    this.maxRecordsPerSecond = maxRecordsPerSecond;
  }

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("source-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  @Override
  public void open(OpenContext openContext) throws Exception {
    super.open(openContext);
    throttle =
        Throttle.perSubtask(
            maxRecordsPerSecond, getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
  }

  @Override
  public void processElement(DecodedEvent e, Context ctx, Collector<EventPart> out) {
    if (throttle != null) {
      throttle.acquire();
    }
    if (e.deadLetter() != null) {
      ctx.output(DEAD_LETTERS, e.deadLetter());
      return;
    }
    out.collect(e.part());
  }
}
