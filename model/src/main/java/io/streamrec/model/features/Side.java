package io.streamrec.model.features;

/** Which event a feature comes from: the request (shared by its impressions) or one impression. */
public enum Side {
  REQUEST,
  IMPRESSION
}
