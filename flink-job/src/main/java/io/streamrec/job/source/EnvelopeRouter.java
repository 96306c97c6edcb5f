package io.streamrec.job.source;

import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.InputEnvelope;
import io.streamrec.schemas.RequestEvent;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Splits a source's envelopes: events to the main output, dead letters to {@link #DEAD_LETTERS}. */
public abstract class EnvelopeRouter<T> extends ProcessFunction<InputEnvelope, T> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("source-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  abstract T event(InputEnvelope e);

  @Override
  public void processElement(InputEnvelope e, Context ctx, Collector<T> out) {
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

    @Override
    RequestEvent event(InputEnvelope e) {
      return e.getRequest();
    }
  }

  /** The impressions source's router. */
  public static final class Impressions extends EnvelopeRouter<ImpressionEvent> {
    private static final long serialVersionUID = 1L;

    @Override
    ImpressionEvent event(InputEnvelope e) {
      return e.getImpression();
    }
  }
}
