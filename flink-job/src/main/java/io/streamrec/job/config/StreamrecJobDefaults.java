package io.streamrec.job.config;

/** Defaults that depend on the kind of job (live or backfill). */
public final class StreamrecJobDefaults {
  /**
   * A live job re-publishes every row at least once per this many versions: at the default publish
   * interval of 5 s, every 5 minutes, about 1/60 of the model with each version.
   */
  public static final int LIVE_REFRESH_VERSIONS = 60;

  private StreamrecJobDefaults() {}
}
