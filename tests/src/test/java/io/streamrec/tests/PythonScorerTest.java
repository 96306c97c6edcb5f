package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.common.FeatureIds;
import io.streamrec.model.LabelScores;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.ModelScorer;
import io.streamrec.model.RequestUnits;
import io.streamrec.protocol.MalformedModelUpdateException;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.serving.internal.PendingVersion;
import io.streamrec.serving.internal.ReplicaModel;
import io.streamrec.traffic.GeneratedRequest;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * docs/model-updates.md's scoring section, checked: its feature-id test vectors are what {@link
 * FeatureIds} gives, and its Python (the blocks marked as checked, run as they are) scores requests
 * on a trained model as {@link ModelScorer} does. The Python part needs python3 and skips, visibly,
 * without it; scripts/check-python-scorer.sh runs this test and shows the Python's output.
 */
class PythonScorerTest {
  private static final Path PAGE = DeploymentFiles.root().resolve("docs/model-updates.md");

  /** The fixture the Python reads, kept after the test for the script to show. */
  static final Path OUT = Path.of("target", "python-scorer");

  private static final String MARK = "<!-- python: checked by scripts/check-python-scorer.sh -->";

  @Test
  void theFeatureIdTestVectorsAreWhatTheHashGives() throws IOException {
    Matcher m =
        Pattern.compile(
                "(?m)^\\| `([^`]*)` \\| (?:`([^`]*)`|\\(empty\\)) \\| `([0-9a-f]{16})` \\|"
                    + " `(\\d+)` \\|$")
            .matcher(Files.readString(PAGE));
    int n = 0;
    while (m.find()) {
      String value = m.group(2) == null ? "" : m.group(2);
      long id = FeatureIds.of(m.group(1), value);
      assertThat(String.format("%016x", id)).as(m.group(0)).isEqualTo(m.group(3));
      assertThat(Long.toUnsignedString(id)).as(m.group(0)).isEqualTo(m.group(4));
      n++;
    }
    assertThat(n).as("test vectors on the page").isGreaterThanOrEqualTo(6);
  }

  /**
   * The models the page's Python is checked on, each with the directory it runs in (the first's is
   * the one {@code scripts/check-python-scorer.sh} shows). Every one with towers has two labels, so
   * that the page's scorer of every label is checked head by head.
   */
  static Stream<Arguments> models() {
    ModelConfig base = ModelUpdatesSupport.withGoodLabel(ModelConfig.defaults());
    return Stream.of(
        // wide crosses, so that its cross keys are checked too
        Arguments.of(
            "request-impression wide crosses",
            base.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION),
            OUT),
        // each pair of features weighs its crosses: the page's pair indices are checked too
        Arguments.of(
            "field-weighted wide crosses",
            base.withWideCrosses(ModelConfig.WideCrosses.FIELD_WEIGHTED),
            OUT.resolve("field-weighted-crosses")),
        // the default model's cross is field-weighted; a model may still sum its pairs
        Arguments.of(
            "summed cross",
            base.withFactorisedCross(ModelConfig.FactorisedCross.SUM),
            OUT.resolve("summed")),
        // the field-weighted cross with each feature pooled for it alone, and no towers (so one
        // label: without the head, labels would share one logit, and several are refused)
        Arguments.of(
            "no towers",
            ModelConfig.defaults().withTowers(ModelConfig.Towers.NONE),
            OUT.resolve("no-towers")),
        // the default pools a history's wide weights (their mean); a model may still sum them
        Arguments.of(
            "summed wide weights",
            base.withWidePooling(ModelConfig.WidePooling.SUM),
            OUT.resolve("summed-wide")),
        Arguments.of(
            "dense normalisation",
            base.withDenseNormalization(ModelConfig.DenseNormalization.RUNNING),
            OUT.resolve("dense-normalization")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void thePagesPythonScoresAsTheJavaScorer(String model, ModelConfig config, Path out)
      throws Exception {
    assertThePagesPythonScoresAs(config, out);
  }

  /**
   * Trains {@code config} for 4 versions, and runs the page's Python (in {@code out}) on the
   * topic's records and on requests of the same world: every label's scores must match the Java
   * replica's.
   */
  private void assertThePagesPythonScoresAs(ModelConfig config, Path out) throws Exception {
    List<ModelUpdateRecord> records = new ArrayList<>();
    List<GeneratedRequest> later = new ArrayList<>();
    try (ModelUpdatesSupport.Trainer t =
        new ModelUpdatesSupport.Trainer(config, 11, 400, 250, RowEncoding.FLOAT32)) {
      for (int v = 0; v < 4; v++) {
        t.trainer.trainRequestUnits(t.units(400, 10));
        records.addAll(t.publish());
      }
      for (int i = 0; i < 25; i++) {
        later.add(t.generator.next(t.time += 10));
      }
    }
    records = withAnotherModelsRecords(records);
    Files.createDirectories(out);
    StringBuilder dump = new StringBuilder();
    HexFormat hex = HexFormat.of();
    for (ModelUpdateRecord r : records) {
      dump.append(hex.formatHex(r.key))
          .append(' ')
          .append(r.value == null ? "-" : hex.formatHex(r.value))
          .append('\n');
    }
    Files.writeString(out.resolve("model-updates.txt"), dump);

    // requests from the same world, and one with ids the model never saw and a feature missing
    List<RequestEvent> requests = new ArrayList<>();
    List<List<ImpressionEvent>> impressions = new ArrayList<>();
    for (GeneratedRequest g : later) {
      requests.add(g.request());
      impressions.add(g.impressions());
    }
    requests.add(
        JsonEvents.parseRequest(
            "{\"requestId\":\"new\",\"timestampMs\":1767225600000,\"features\":{\"user_id\":"
                + "[\"u-never-seen\"],\"recent_items\":[\"i-new\",\"i3\"]},\"dense\":{\"hour\":-3.5}}"));
    impressions.add(
        List.of(
            JsonEvents.parseImpression(
                "{\"impressionId\":\"new-0\",\"requestId\":\"new\",\"timestampMs\":1767225600000,"
                    + "\"features\":{\"item_id\":[\"i-new\"]},\"dense\":{\"position\":2}}")));

    ReplicaModel model = replicaModel(records);
    assertThat(model.version()).isEqualTo(4);
    assertThat(model.lineage()).isEqualTo(ModelUpdatesSupport.MODEL_ID);
    StringBuilder jsonl = new StringBuilder();
    List<List<Float>> javaScores = new ArrayList<>();
    List<Map<String, List<Float>>> javaLabels = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      List<RequestUnit> units =
          List.of(RequestUnits.of(requests.get(i), impressions.get(i), Long.MAX_VALUE));
      javaScores.add(floats(model.score(units)));
      LabelScores all = model.scoreAllLabels(units);
      assertThat(all.labels()).isEqualTo(config.features().labels());
      Map<String, List<Float>> byLabel = new LinkedHashMap<>();
      for (String label : all.labels()) {
        byLabel.put(label, floats(all.ofLabel(label)));
      }
      javaLabels.add(byLabel);
      jsonl
          .append("{\"request\":")
          .append(JsonEvents.toJson(requests.get(i)))
          .append(",\"impressions\":[");
      for (int k = 0; k < impressions.get(i).size(); k++) {
        jsonl.append(k == 0 ? "" : ",").append(JsonEvents.toJson(impressions.get(i).get(k)));
      }
      jsonl.append("]}\n");
    }
    Files.writeString(out.resolve("requests.jsonl"), jsonl);
    new ObjectMapper().writeValue(out.resolve("java-scores.json").toFile(), javaScores);
    new ObjectMapper().writeValue(out.resolve("java-labels.json").toFile(), javaLabels);
    Files.writeString(out.resolve("score.py"), checkedPython());
    try (InputStream in = getClass().getResourceAsStream("/python/check_scorer.py")) {
      Files.write(out.resolve("check_scorer.py"), in.readAllBytes());
    }

    String python = python();
    assumeTrue(python != null, "no python3 on the PATH: the page's Python was not run");
    Process p =
        new ProcessBuilder(python, "check_scorer.py", PAGE.toString())
            .directory(out.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    System.out.print(output);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("the Python scorer matches the Java scorer");
  }

  private static List<Float> floats(float[] values) {
    List<Float> out = new ArrayList<>(values.length);
    for (float v : values) {
      out.add(v);
    }
    return out;
  }

  /** The page's Python blocks marked as checked, in order, as one module. */
  static String checkedPython() throws IOException {
    List<String> lines = Files.readAllLines(PAGE, StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder();
    int blocks = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).equals(MARK) && lines.get(i + 1).equals("```python")) {
        blocks++;
        for (int k = i + 2; !lines.get(k).equals("```"); k++) {
          out.append(lines.get(k)).append('\n');
        }
        out.append('\n');
      }
    }
    assertThat(blocks).as("checked Python blocks on the page").isEqualTo(2);
    return out.toString();
  }

  /** The lineage of the records {@link #withAnotherModelsRecords} adds. */
  private static final long OTHER_MODEL = 0x0123_4567_89ab_cdefL;

  /**
   * {@code records} (one model's versions) on a topic that another model wrote to as well: a whole
   * version of the other model before them, and the other model's values for every row of the last
   * version inside that version, before its marker. A reader of the page's protocol ignores both.
   */
  private static List<ModelUpdateRecord> withAnotherModelsRecords(List<ModelUpdateRecord> records) {
    int lastMarker = records.size() - 1;
    int lastStart = lastMarker;
    while (lastStart > 0
        && !new String(records.get(lastStart - 1).key, StandardCharsets.UTF_8).equals("version")) {
      lastStart--;
    }
    List<ModelUpdateRecord> before = new ArrayList<>();
    List<ModelUpdateRecord> inside = new ArrayList<>();
    ModelUpdateEncoder other = new ModelUpdateEncoder(OTHER_MODEL, 9, 1_000, before::add);
    ModelUpdateEncoder stray = new ModelUpdateEncoder(OTHER_MODEL, 10, 2_000, inside::add);
    other.spec(ModelConfigJson.toJson(ModelConfig.defaults()));
    for (ModelUpdateRecord r : records.subList(lastStart, lastMarker)) {
      if (ModelUpdateDecoder.decode(r.key, r.value) instanceof ModelUpdate.Row row) {
        float[] wrong = new float[row.values().length];
        java.util.Arrays.fill(wrong, 0.75f);
        other.row(row.table(), row.id(), wrong, 0, wrong.length);
        stray.row(row.table(), row.id(), wrong, 0, wrong.length);
      } else if (ModelUpdateDecoder.decode(r.key, r.value) instanceof ModelUpdate.DenseBlock d) {
        float[] wrong = new float[d.values().length];
        stray.dense(d.block(), wrong);
      }
    }
    other.close(VersionMarker.newBuilder().setPublishedAtMs(0));
    assertThat(inside).as("rows of the last version").isNotEmpty();
    List<ModelUpdateRecord> out = new ArrayList<>(before);
    out.addAll(records.subList(0, lastMarker));
    out.addAll(inside);
    // a record of a schema no reader here knows (a newer writer's): skipped and counted (§3, §6)
    byte[] unknown = {(byte) 0xC3, 0x01, 8, 7, 6, 5, 4, 3, 2, 1, 0x02, 0x04};
    out.add(new ModelUpdateRecord("row/wide/7".getBytes(StandardCharsets.UTF_8), unknown, 0));
    out.add(records.get(lastMarker));
    return out;
  }

  /**
   * The model a serving replica builds from {@code records}: whole versions, as it applies them, of
   * the lineage of the last marker (a marker of a new lineage starts a fresh model).
   */
  private static ReplicaModel replicaModel(List<ModelUpdateRecord> records) {
    ReplicaModel model = new ReplicaModel();
    PendingVersion pending = new PendingVersion();
    ModelUpdate.Spec spec = null;
    for (ModelUpdateRecord r : records) {
      ModelUpdate u;
      try {
        u = ModelUpdateDecoder.decode(r.key, r.value);
      } catch (MalformedModelUpdateException unreadable) {
        continue; // skipped, as a replica skips it (and counts it)
      }
      if (pending.addEntry(u)) {
        continue;
      }
      if (u instanceof ModelUpdate.Spec s) {
        spec = s;
      } else if (u instanceof ModelUpdate.Version v) {
        if (model.version() > 0 && model.lineage() != v.model()) {
          model = new ReplicaModel();
        }
        pending.applyTo(model, v.marker());
        if (spec != null && spec.model() == v.model()) {
          model.setConfig(ModelConfigJson.fromJson(spec.json()), v.model());
        }
      }
    }
    return model;
  }

  static String python() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, "python3"))) {
        return Path.of(dir, "python3").toString();
      }
    }
    return null;
  }
}
