package io.streamrec.model.bench;

import io.streamrec.model.ModelConfig;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.schemas.RequestUnit;
import java.nio.file.Path;
import java.util.*;

public final class Scan {
  static String p(String k, String d) {
    return System.getProperty(k, d);
  }

  static List<Integer> l(String s) {
    List<Integer> o = new ArrayList<>();
    if (!s.isEmpty()) for (String x : s.split(",")) o.add(Integer.parseInt(x));
    return o;
  }

  static ModelConfig cfg(FeatureSpec f, int hot) {
    String[] t = p("towers", "32,16/32,16/16").split("/", -1);
    ModelConfig c =
        new ModelConfig(
            f,
            Integer.parseInt(p("dim", "16")),
            hot,
            1,
            0L,
            Float.parseFloat(p("init", "0.05")),
            Float.parseFloat(p("emblr", "0.1")),
            Float.parseFloat(p("widelr", "0.05")),
            Float.parseFloat(p("denselr", "0.005")),
            new ModelConfig.Towers(l(t[0]), l(t[1]), l(t[2])),
            Map.of(),
            10f);
    if (p("norm", "0").equals("1"))
      c = c.withDenseNormalization(ModelConfig.DenseNormalization.RUNNING);
    if (p("crosses", "0").equals("1"))
      c = c.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
    return c;
  }

  public static void main(String[] a) throws Exception {
    int batch = Integer.parseInt(p("batch", "16"));
    StringBuilder out = new StringBuilder(String.join(" ", a.length > 0 ? a[0] : "") + " ");
    for (String s : p("streams", "bank,ml,gen").split(",")) {
      List<RequestUnit> units;
      ModelConfig c;
      switch (s) {
        case "bank" -> {
          units =
              BankMarketingStream.fromJar(
                  Path.of("target/datasets/mahout-examples-0.13.0.jar"), 10);
          c = cfg(BankMarketingStream.spec(), 1 << 14);
        }
        case "ml" -> {
          units = MovieLensStream.fromDslabs(Path.of("target/datasets/r-cran-dslabs"), 10);
          c = cfg(MovieLensStream.spec(), 1 << 16);
        }
        default -> {
          units = QualityBench.generated(50_000);
          c = cfg(FeatureSpec.defaults(), 1 << 20);
        }
      }
      long imps = units.stream().mapToLong(u -> u.getImpressions().size()).sum();
      try (TrainerLearner m = new TrainerLearner("x", c)) {
        TestThenTrain.Result r = TestThenTrain.run(units, batch, "click", m);
        out.append(
            String.format(
                Locale.ROOT,
                "%s %.4f/%.4f  ",
                s,
                r.lifetimeAuc(),
                r.lastAuc((int) Math.round(imps * 0.2))));
      }
    }
    System.out.println(out);
  }
}
