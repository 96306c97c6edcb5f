package io.streamrec.job.trainer;

import io.streamrec.model.ModelConfig;
import io.streamrec.protocol.ModelUpdateEncoder;

/** The format a model's spec goes out in: the oldest whose readers can score the model. */
public final class SpecFormat {
  private SpecFormat() {}

  /**
   * {@link ModelUpdateEncoder#SPEC_FORMAT_5} when scoring {@code config} needs per-feature wide
   * pooling, which a reader of {@link ModelUpdateEncoder#SPEC_FORMAT_4} may not implement (it would
   * sum a history's wide weights); {@link ModelUpdateEncoder#SPEC_FORMAT_4} when scoring {@code
   * config} needs field-weighted wide crosses, which a reader of {@link
   * ModelUpdateEncoder#SPEC_FORMAT_3} may not implement; {@link ModelUpdateEncoder#SPEC_FORMAT_3}
   * when scoring {@code config} needs the field-weighted cross, which a reader of {@link
   * ModelUpdateEncoder#SPEC_FORMAT_2} may not implement; {@link ModelUpdateEncoder#SPEC_FORMAT_2}
   * when it needs wide crosses or dense normalisation, which a reader of {@link
   * ModelUpdateEncoder#SPEC_FORMAT} may not implement; {@link ModelUpdateEncoder#SPEC_FORMAT}
   * otherwise.
   */
  public static String of(ModelConfig config) {
    if (config.widePooling() != ModelConfig.WidePooling.SUM) {
      return ModelUpdateEncoder.SPEC_FORMAT_5;
    }
    if (config.wideCrosses() == ModelConfig.WideCrosses.FIELD_WEIGHTED) {
      return ModelUpdateEncoder.SPEC_FORMAT_4;
    }
    if (config.factorisedCross() != ModelConfig.FactorisedCross.SUM) {
      return ModelUpdateEncoder.SPEC_FORMAT_3;
    }
    boolean more =
        config.wideCrosses() != ModelConfig.WideCrosses.NONE
            || config.denseNormalization() != ModelConfig.DenseNormalization.NONE;
    return more ? ModelUpdateEncoder.SPEC_FORMAT_2 : ModelUpdateEncoder.SPEC_FORMAT;
  }
}
