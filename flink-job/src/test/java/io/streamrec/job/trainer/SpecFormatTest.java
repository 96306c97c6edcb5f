package io.streamrec.job.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.model.ModelConfig;
import io.streamrec.protocol.ModelUpdateEncoder;
import org.junit.jupiter.api.Test;

class SpecFormatTest {
  @Test
  void aModelThatNeedsMoreOfItsReaderGoesOutInTheNewerFormat() {
    // the default model pools its wide weights per feature: readers of /5 score it
    assertThat(SpecFormat.of(ModelConfig.defaults())).isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_5);
    ModelConfig summedWide = ModelConfig.defaults().withWidePooling(ModelConfig.WidePooling.SUM);
    // and weighs its cross's field pairs: readers of /3 score it with the wide weights summed
    assertThat(SpecFormat.of(summedWide)).isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_3);
    ModelConfig plain =
        ModelConfig.defaults()
            .withFactorisedCross(ModelConfig.FactorisedCross.SUM)
            .withWidePooling(ModelConfig.WidePooling.SUM);
    assertThat(SpecFormat.of(plain)).isEqualTo(ModelUpdateEncoder.SPEC_FORMAT);
    assertThat(SpecFormat.of(plain.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_2);
    assertThat(SpecFormat.of(plain.withDenseNormalization(ModelConfig.DenseNormalization.RUNNING)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_2);
    ModelConfig weighted = plain.withFactorisedCross(ModelConfig.FactorisedCross.FIELD_WEIGHTED);
    assertThat(SpecFormat.of(weighted)).isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_3);
    assertThat(SpecFormat.of(weighted.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_3);
    // crosses weighed per field pair: readers of /4, whatever the factorised cross
    assertThat(SpecFormat.of(plain.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_4);
    assertThat(SpecFormat.of(weighted.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_4);
    // wide weights pooled per feature: readers of /5, whatever else the model has
    ModelConfig.WidePooling perFeature = ModelConfig.WidePooling.PER_FEATURE;
    assertThat(SpecFormat.of(plain.withWidePooling(perFeature)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_5);
    assertThat(
            SpecFormat.of(
                weighted
                    .withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED)
                    .withWidePooling(perFeature)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT_5);
    // settings that only change training keep the format every reader knows
    assertThat(SpecFormat.of(plain.withAdagradInitialAccumulator(0.5f).withDenseRateImpressions(0)))
        .isEqualTo(ModelUpdateEncoder.SPEC_FORMAT);
    assertThat(ModelUpdateEncoder.SPEC_FORMATS)
        .containsExactlyInAnyOrder(
            ModelUpdateEncoder.SPEC_FORMAT,
            ModelUpdateEncoder.SPEC_FORMAT_2,
            ModelUpdateEncoder.SPEC_FORMAT_3,
            ModelUpdateEncoder.SPEC_FORMAT_4,
            ModelUpdateEncoder.SPEC_FORMAT_5);
  }
}
