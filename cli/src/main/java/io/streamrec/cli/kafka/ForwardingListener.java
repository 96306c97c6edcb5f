package io.streamrec.cli.kafka;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.schemas.ImpressionEvent;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A load's listener that passes everything on to {@code next}: a check of the events a load sends
 * ({@link LabelCheck}, {@link TimeCheck}) extends it and looks at what it checks on the way.
 */
public abstract class ForwardingListener implements JsonlProducer.Listener {
  private final JsonlProducer.Listener next;

  protected ForwardingListener(JsonlProducer.Listener next) {
    this.next = Objects.requireNonNull(next, "next");
  }

  @Override
  public void onBadLine(JsonlProducer.BadLine badLine) {
    next.onBadLine(badLine);
  }

  @Override
  public void onProgress(JsonlProducer.Progress progress) {
    next.onProgress(progress);
  }

  @Override
  public void onImpression(ImpressionEvent impression, Path file, long lineNumber) {
    next.onImpression(impression, file, lineNumber);
  }

  @Override
  public void onEvent(long timestampMs, Path file, long lineNumber) {
    next.onEvent(timestampMs, file, lineNumber);
  }

  @Override
  public void onLine(ObjectNode event, boolean request, Path file, long lineNumber) {
    next.onLine(event, request, file, lineNumber);
  }
}
