package io.streamrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
}
