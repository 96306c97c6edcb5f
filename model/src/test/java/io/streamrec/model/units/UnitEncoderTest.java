package io.streamrec.model.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnitEncoderTest {
  private static final FeatureSpec SPEC = ModelConfig.defaults().features();

  /** The ids of one feature of one event, hashed the way the trainer always has. */
  private static List<Long> hashed(
      CategoricalFeature f, Map<String, List<String>> values, boolean wide) {
    List<Long> out = new ArrayList<>();
    for (String v : values.getOrDefault(f.name(), List.of())) {
      out.add(FeatureIds.of(wide ? f.name() : f.vocabulary(), v));
    }
    return out;
  }

  private static List<Long> slice(long[] a, int from, int to) {
    List<Long> out = new ArrayList<>();
    for (int k = from; k < to; k++) {
      out.add(a[k]);
    }
    return out;
  }

  @Test
  void everyBagHoldsTheIdsOfItsFeatureInTheLayoutsPlace() {
    UnitLayout layout = new UnitLayout(SPEC);
    UnitEncoder enc = new UnitEncoder(layout);
    TrafficGenerator g = new TrafficGenerator(TrafficConfig.defaults().withSeed(3));
    for (int n = 0; n < 200; n++) {
      GeneratedRequest r = g.next(10L * n);
      RequestUnit u = RequestUnits.of(r.request(), r.impressions(), 10L * n + 5);
      CompactUnit c = enc.encode(u);
      assertThat(c.layoutFingerprint()).isEqualTo(layout.fingerprint());
      assertThat(c.requestKey()).isEqualTo(UnitEncoder.requestKey(u.getRequestId()));
      assertThat(c.impressions()).isEqualTo(u.getImpressions().size());
      int bag = 0;
      for (int k = 0; k < layout.requestFeatures(); k++, bag++) {
        CategoricalFeature f = layout.requestFeature(k);
        assertThat(slice(c.ids(), c.bagStart(bag), c.bagEnd(bag)))
            .isEqualTo(hashed(f, u.getFeatures(), false));
        assertThat(slice(c.wideIds(), c.bagStart(bag), c.bagEnd(bag)))
            .isEqualTo(hashed(f, u.getFeatures(), true));
      }
      for (int i = 0; i < c.impressions(); i++) {
        Impression im = u.getImpressions().get(i);
        for (int k = 0; k < layout.impressionFeatures(); k++, bag++) {
          CategoricalFeature f = layout.impressionFeature(k);
          assertThat(slice(c.ids(), c.bagStart(bag), c.bagEnd(bag)))
              .isEqualTo(hashed(f, im.getFeatures(), false));
        }
        assertThat(c.labels()[i]).isEqualTo(im.getLabels().getOrDefault("click", 0f));
        assertThat(c.impressionDense()[i])
            .isEqualTo(UnitEncoder.squash(im.getDense().get("position")));
      }
      assertThat(bag).isEqualTo(c.bags());
      assertThat(c.requestDense()[0]).isEqualTo(UnitEncoder.squash(u.getDense().get("hour")));
    }
  }

  @Test
  void anotherSpecHasAnotherFingerprint() {
    FeatureSpec fewer =
        new FeatureSpec(SPEC.categorical().subList(0, 4), SPEC.dense(), SPEC.labels());
    assertThat(new UnitLayout(fewer).fingerprint())
        .isNotEqualTo(new UnitLayout(SPEC).fingerprint());
    assertThat(new UnitLayout(SPEC).fingerprint())
        .isEqualTo(new UnitLayout(ModelConfig.defaults().features()).fingerprint());
  }
}
