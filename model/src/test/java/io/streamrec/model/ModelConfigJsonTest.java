package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelConfigJsonTest {
  @Test
  void theSpecCarriesTheDenseNormalization() {
    ModelConfig running =
        ModelConfig.defaults().withDenseNormalization(ModelConfig.DenseNormalization.RUNNING);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(running))).isEqualTo(running);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(ModelConfig.defaults())))
        .isEqualTo(ModelConfig.defaults());
  }

  @Test
  void aSpecWithoutTheFieldReadsAsNoNormalization() throws Exception {
    ModelConfig running =
        ModelConfig.defaults().withDenseNormalization(ModelConfig.DenseNormalization.RUNNING);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(running));
    assertThat(o.get("denseNormalization").asText()).isEqualTo("running");
    o.remove("denseNormalization");
    assertThat(ModelConfigJson.fromJson(o.toString()).denseNormalization())
        .isEqualTo(ModelConfig.DenseNormalization.NONE);
  }

  @Test
  void theSpecCarriesTheWideCrossesAndTheInitialAccumulator() throws Exception {
    ModelConfig c =
        ModelConfig.defaults()
            .withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION)
            .withAdagradInitialAccumulator(0.25f)
            .withDenseRateImpressions(7);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(c))).isEqualTo(c);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(c));
    assertThat(o.get("wideCrosses").asText()).isEqualTo("request-impression");
    // a spec from before these fields: no crosses (what its trainer did), the default accumulator
    o.remove("wideCrosses");
    o.remove("adagradInitialAccumulator");
    o.remove("denseRateImpressions");
    ModelConfig old = ModelConfigJson.fromJson(o.toString());
    assertThat(old.wideCrosses()).isEqualTo(ModelConfig.WideCrosses.NONE);
    assertThat(old.adagradInitialAccumulator())
        .isEqualTo(ModelConfig.DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR);
    assertThat(old.denseRateImpressions()).isEqualTo(ModelConfig.DEFAULT_DENSE_RATE_IMPRESSIONS);
  }

  /** Label weights are in the spec where given, and a spec without them weighs every label 1. */
  @Test
  void theSpecCarriesLabelWeightsOnlyWhereGiven() throws Exception {
    ModelConfig base = ModelConfig.defaults();
    ModelConfig two =
        base.withFeatures(
            new io.streamrec.model.features.FeatureSpec(
                base.features().categorical(), base.features().dense(), List.of("click", "like")));
    ObjectNode plain = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(two));
    assertThat(plain.has("labelWeights")).isFalse();
    ModelConfig weighted = two.withLabelWeights(Map.of("like", 0.25f));
    ModelConfig read = ModelConfigJson.fromJson(ModelConfigJson.toJson(weighted));
    assertThat(read).isEqualTo(weighted);
    assertThat(read.labelWeightsInOrder()).containsExactly(1f, 0.25f);
    assertThat(ModelConfigJson.fromJson(plain.toString()).labelWeightsInOrder()).isNull();
  }

  @Test
  void theSpecCarriesTheFieldWeightedCrossAndASummedSpecIsAsBefore() throws Exception {
    ModelConfig c = ModelConfig.defaults();
    assertThat(c.factorisedCross()).isEqualTo(ModelConfig.FactorisedCross.FIELD_WEIGHTED);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(c))).isEqualTo(c);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(c));
    assertThat(o.get("factorisedCross").asText()).isEqualTo("field-weighted");
    // a summed model's spec has no such field, so it reads as every earlier reader read it
    ModelConfig summed = c.withFactorisedCross(ModelConfig.FactorisedCross.SUM);
    ObjectNode plain = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(summed));
    assertThat(plain.has("factorisedCross")).isFalse();
    assertThat(ModelConfigJson.fromJson(plain.toString())).isEqualTo(summed);
    // and a spec from before the option (no field) is the sum its trainer computed
    o.remove("factorisedCross");
    assertThat(ModelConfigJson.fromJson(o.toString()).factorisedCross())
        .isEqualTo(ModelConfig.FactorisedCross.SUM);
  }

  @Test
  void theSpecCarriesFtrlsWideRowsAndAnAdagradSpecIsAsBefore() throws Exception {
    ModelConfig c =
        ModelConfig.defaults()
            .withWideOptimizer(
                new ModelConfig.WideOptimizer(ModelConfig.WideOptimizer.Kind.FTRL, 0.5f, 2f, 0f));
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(c))).isEqualTo(c);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(c));
    assertThat(o.path("wideOptimizer").path("kind").asText()).isEqualTo("ftrl");
    assertThat(o.path("wideOptimizer").path("l1").asDouble()).isEqualTo(2.0);
    // the default's spec has no such field, so it reads as every earlier reader read it, and a
    // spec from before the option is a model whose wide rows learnt by Adagrad
    ObjectNode plain =
        (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(ModelConfig.defaults()));
    assertThat(plain.has("wideOptimizer")).isFalse();
    o.remove("wideOptimizer");
    assertThat(ModelConfigJson.fromJson(o.toString()).wideOptimizer())
        .isEqualTo(ModelConfig.WideOptimizer.ADAGRAD);
  }

  @Test
  void theSpecCarriesPerFeatureWidePoolingAndASpecFromBeforeItSums() throws Exception {
    ModelConfig c = ModelConfig.defaults().withWidePooling(ModelConfig.WidePooling.PER_FEATURE);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(c))).isEqualTo(c);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(c));
    assertThat(o.path("widePooling").asText()).isEqualTo("per-feature");
    ModelConfig summed = c.withWidePooling(ModelConfig.WidePooling.SUM);
    ObjectNode plain = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(summed));
    assertThat(plain.has("widePooling")).isFalse();
    assertThat(ModelConfigJson.fromJson(plain.toString())).isEqualTo(summed);
    // a spec from before the option (no field) is a model that summed its wide weights
    o.remove("widePooling");
    assertThat(ModelConfigJson.fromJson(o.toString()).widePooling())
        .isEqualTo(ModelConfig.WidePooling.SUM);
  }

  @Test
  void theSpecCarriesAnInitSeedAndTheDefaultsSpecHasNone() throws Exception {
    ModelConfig c = ModelConfig.defaults().withInitSeed(-77L);
    assertThat(ModelConfigJson.fromJson(ModelConfigJson.toJson(c))).isEqualTo(c);
    ObjectNode o = (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(c));
    assertThat(o.path("initSeed").asLong()).isEqualTo(-77L);
    ObjectNode plain =
        (ObjectNode) new ObjectMapper().readTree(ModelConfigJson.toJson(ModelConfig.defaults()));
    assertThat(plain.has("initSeed")).isFalse();
    o.remove("initSeed");
    assertThat(ModelConfigJson.fromJson(o.toString()).initSeed()).isZero();
  }
}
