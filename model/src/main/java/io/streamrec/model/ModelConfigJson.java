package io.streamrec.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.common.StreamrecException;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ModelConfig} as JSON: the model-update topic carries it under its {@code spec} key, so a
 * replica that reads nothing but the topic knows the model it is serving. Readers ignore fields
 * they do not know.
 */
public final class ModelConfigJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ModelConfigJson() {}

  public static String toJson(ModelConfig c) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("model", "request-only");
    ArrayNode cat = o.putArray("categorical");
    for (CategoricalFeature f : c.features().categorical()) {
      cat.addObject()
          .put("name", f.name())
          .put("side", f.side().name())
          .put("table", f.table())
          .put("vocabulary", f.vocabulary())
          .put("pooling", f.pooling().name());
    }
    ArrayNode dense = o.putArray("dense");
    for (DenseFeature f : c.features().dense()) {
      dense.addObject().put("name", f.name()).put("side", f.side().name());
    }
    ArrayNode labels = o.putArray("labels");
    c.features().labels().forEach(labels::add);
    o.put("embeddingDim", c.embeddingDim());
    o.put("hotCapacityRows", c.hotCapacityRows());
    o.put("admissionThreshold", c.admissionThreshold());
    o.put("ttlMs", c.ttlMs());
    o.put("initScale", c.initScale());
    o.put("embeddingLr", c.embeddingLr());
    o.put("wideLr", c.wideLr());
    o.put("denseLr", c.denseLr());
    ObjectNode towers = o.putObject("towers");
    c.towers().request().forEach(towers.putArray("request")::add);
    c.towers().impression().forEach(towers.putArray("impression")::add);
    c.towers().head().forEach(towers.putArray("head")::add);
    ObjectNode tables = o.putObject("tables");
    c.tableSettings()
        .forEach(
            (name, t) -> {
              ObjectNode n = tables.putObject(name);
              if (t.hotCapacityRows() != null) {
                n.put("hotCapacityRows", t.hotCapacityRows());
              }
              if (t.admissionThreshold() != null) {
                n.put("admissionThreshold", t.admissionThreshold());
              }
              if (t.ttlMs() != null) {
                n.put("ttlMs", t.ttlMs());
              }
              if (t.learningRate() != null) {
                n.put("learningRate", t.learningRate());
              }
            });
    o.put("clipNorm", c.clipNorm());
    o.put("denseNormalization", c.denseNormalization().key());
    o.put("adagradInitialAccumulator", c.adagradInitialAccumulator());
    o.put("wideCrosses", c.wideCrosses().key());
    if (c.factorisedCross() != ModelConfig.FactorisedCross.SUM) {
      // written only when not the default, so a spec of the default model reads as it always has
      o.put("factorisedCross", c.factorisedCross().key());
    }
    o.put("denseRateImpressions", c.denseRateImpressions());
    if (!c.labelWeights().isEmpty()) {
      // likewise: training's alone, written only where given
      ObjectNode w = o.putObject("labelWeights");
      c.labelWeights().forEach(w::put);
    }
    if (c.wideOptimizer().kind() != ModelConfig.WideOptimizer.Kind.ADAGRAD) {
      // likewise: a spec of a model with Adagrad's wide rows reads as it always has
      ObjectNode w = o.putObject("wideOptimizer");
      w.put("kind", c.wideOptimizer().kind().key());
      w.put("beta", c.wideOptimizer().beta());
      w.put("l1", c.wideOptimizer().l1());
      w.put("l2", c.wideOptimizer().l2());
    }
    if (c.widePooling() != ModelConfig.WidePooling.SUM) {
      // likewise: a spec of a model that sums its wide weights reads as it always has
      o.put("widePooling", c.widePooling().key());
    }
    if (c.initSeed() != 0) {
      // only a trainer starting afresh reads it (a replica scores with the published weights)
      o.put("initSeed", c.initSeed());
    }
    return o.toString();
  }

  private static List<Integer> ints(JsonNode a) {
    List<Integer> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asInt()));
    return out;
  }

  private static java.util.Map<String, ModelConfig.TableSettings> tables(JsonNode o) {
    java.util.Map<String, ModelConfig.TableSettings> out = new java.util.TreeMap<>();
    o.fields()
        .forEachRemaining(
            e -> {
              JsonNode n = e.getValue();
              out.put(
                  e.getKey(),
                  new ModelConfig.TableSettings(
                      n.has("hotCapacityRows") ? n.get("hotCapacityRows").asInt() : null,
                      n.has("admissionThreshold") ? n.get("admissionThreshold").asInt() : null,
                      n.has("ttlMs") ? n.get("ttlMs").asLong() : null,
                      n.has("learningRate") ? (float) n.get("learningRate").asDouble() : null));
            });
    return out;
  }

  private static ModelConfig.WideOptimizer wideOptimizer(JsonNode w) {
    if (w.isMissingNode()) {
      return ModelConfig.WideOptimizer.ADAGRAD;
    }
    return new ModelConfig.WideOptimizer(
        ModelConfig.WideOptimizer.Kind.of(w.path("kind").asText()),
        (float) w.path("beta").asDouble(ModelConfig.WideOptimizer.DEFAULT_BETA),
        (float) w.path("l1").asDouble(ModelConfig.WideOptimizer.DEFAULT_L1),
        (float) w.path("l2").asDouble(ModelConfig.WideOptimizer.DEFAULT_L2));
  }

  public static ModelConfig fromJson(String json) {
    try {
      JsonNode o = MAPPER.readTree(json);
      List<CategoricalFeature> cat = new ArrayList<>();
      for (JsonNode f : o.withArray("categorical")) {
        cat.add(
            new CategoricalFeature(
                f.get("name").asText(),
                Side.valueOf(f.get("side").asText()),
                f.get("table").asText(),
                f.get("vocabulary").asText(),
                Pooling.valueOf(f.get("pooling").asText())));
      }
      List<DenseFeature> dense = new ArrayList<>();
      for (JsonNode f : o.withArray("dense")) {
        dense.add(new DenseFeature(f.get("name").asText(), Side.valueOf(f.get("side").asText())));
      }
      List<String> labels = new ArrayList<>();
      o.withArray("labels").forEach(l -> labels.add(l.asText()));
      return new ModelConfig(
          new FeatureSpec(cat, dense, labels),
          o.get("embeddingDim").asInt(),
          o.get("hotCapacityRows").asInt(),
          o.get("admissionThreshold").asInt(),
          o.get("ttlMs").asLong(),
          (float) o.get("initScale").asDouble(),
          (float) o.get("embeddingLr").asDouble(),
          (float) o.get("wideLr").asDouble(),
          (float) o.get("denseLr").asDouble(),
          new ModelConfig.Towers(
              ints(o.path("towers").path("request")),
              ints(o.path("towers").path("impression")),
              ints(o.path("towers").path("head"))),
          tables(o.path("tables")),
          (float) o.path("clipNorm").asDouble(0),
          ModelConfig.DenseNormalization.of(
              o.path("denseNormalization").asText(ModelConfig.DenseNormalization.NONE.key())),
          (float)
              o.path("adagradInitialAccumulator")
                  .asDouble(ModelConfig.DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR),
          ModelConfig.WideCrosses.of(
              o.path("wideCrosses").asText(ModelConfig.WideCrosses.NONE.key())),
          o.path("denseRateImpressions").asInt(ModelConfig.DEFAULT_DENSE_RATE_IMPRESSIONS),
          ModelConfig.FactorisedCross.of(
              o.path("factorisedCross").asText(ModelConfig.FactorisedCross.SUM.key())),
          wideOptimizer(o.path("wideOptimizer")),
          ModelConfig.WidePooling.of(
              o.path("widePooling").asText(ModelConfig.WidePooling.SUM.key())),
          o.path("initSeed").asLong(0L),
          labelWeights(o.path("labelWeights")));
    } catch (JsonProcessingException | NullPointerException | IllegalArgumentException e) {
      throw new StreamrecException("cannot read the model spec: " + e.getMessage(), e);
    }
  }

  private static java.util.Map<String, Float> labelWeights(JsonNode o) {
    java.util.Map<String, Float> w = new java.util.TreeMap<>();
    o.fields().forEachRemaining(e -> w.put(e.getKey(), (float) e.getValue().asDouble()));
    return w;
  }
}
