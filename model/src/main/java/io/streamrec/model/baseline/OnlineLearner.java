package io.streamrec.model.baseline;

import io.streamrec.schemas.RequestUnit;
import java.util.List;

/**
 * A model that learns online from request units, in two steps a benchmark can order: {@link #score}
 * predicts every impression of a batch, {@link #learn} then learns from the same batch. Under
 * request-level test-then-train every impression of a unit is scored before the model learns from
 * any of them, so a harness calls {@code score(batch)} and only then {@code learn(batch)}.
 */
public interface OnlineLearner {
  /** A short name for tables. */
  String name();

  /** The click probability of every impression of {@code units}, in unit and impression order. */
  float[] score(List<RequestUnit> units);

  /** Learns from {@code units}, the batch last passed to {@link #score}. */
  void learn(List<RequestUnit> units);
}
