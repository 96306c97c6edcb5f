package io.streamrec.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.streamrec.gpu.BackendMode;
import io.streamrec.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
  private static Configuration base() {
    Configuration c = new Configuration();
    c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
    return c;
  }

  /**
   * {@code backfill --handoff model.handoff} failed after training: Flink's local file system
   * cannot rename a file to a path without a parent, and left {@code model.handoff.inprogress}
   * behind. A local path is made absolute where the job is built; a URI stays as it is.
   */
  @Test
  void aRelativeHandoffPathIsMadeAbsoluteWhereTheJobIsBuilt() {
    Configuration c = base();
    c.set(JobOptions.HANDOFF_SAVE_TO, "model.handoff");
    c.set(JobOptions.HANDOFF_START_FROM, " s3://bucket/models/a.handoff ");
    JobConfig cfg = JobConfig.from(c);
    assertThat(cfg.handoffSaveTo())
        .isEqualTo(java.nio.file.Path.of("model.handoff").toAbsolutePath().toString());
    assertThat(cfg.handoffStartFrom()).isEqualTo("s3://bucket/models/a.handoff");
    c.set(JobOptions.HANDOFF_SAVE_TO, "file:///tmp/x.handoff");
    assertThat(JobConfig.from(c).handoffSaveTo()).isEqualTo("file:///tmp/x.handoff");
    assertThat(JobConfig.from(base()).handoffSaveTo()).isEmpty();
  }

  @Test
  void theDefaultsDescribeTheDefaultModel() {
    JobConfig cfg = JobConfig.from(base());
    assertThat(cfg.model()).isEqualTo(ModelConfig.defaults());
    assertThat(cfg.backend()).isEqualTo(BackendMode.AUTO);
    assertThat(cfg.joinWindowMs()).isEqualTo(10_000);
    assertThat(cfg.exactlyOnce()).isFalse();
  }

  @Test
  void aMissingBrokerAddressNamesTheKeyAndTheFix() {
    assertThatThrownBy(() -> JobConfig.from(new Configuration()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.bootstrap-servers")
        .hasMessageContaining("--bootstrap-servers");
  }

  /** Flink's own parser said only "Could not parse value '-5 s'", naming neither form nor sign. */
  @Test
  void aDurationThatIsNotOneSaysWhatADurationLooksLike() {
    Configuration c = base();
    c.setString(JobOptions.PUBLISH_INTERVAL.key(), "-5 s");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "configuration key 'trainer.publish-interval' is '-5 s', not a duration: give a number"
                + " and a unit, e.g. 5 s, 500 ms or 2 min; a duration is never negative");
    Configuration d = base();
    d.setString(JobOptions.JOIN_WINDOW.key(), "ten seconds");
    assertThatThrownBy(() -> JobConfig.from(d))
        .hasMessageContaining("'assembler.join-window' is 'ten seconds', not a duration")
        .hasMessageNotContaining("never negative");
  }

  /**
   * Values Flink's parser does not take, of keys read without streamrec's own check, were refused
   * in Flink's words ("Could not parse value '-1s' for key 'source.max-future'."), naming no form.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "source.max-future|-1s|configuration key 'source.max-future' is '-1s', not a duration: give a"
            + " number and a unit, e.g. 5 s, 500 ms or 2 min; a duration is never negative",
        "source.max-time-jump|abc|configuration key 'source.max-time-jump' is 'abc', not a duration:"
            + " give a number and a unit, e.g. 5 s, 500 ms or 2 min",
        "trainer.replace-model|yes|configuration key 'trainer.replace-model' is 'yes': give true or"
            + " false",
        "model.init-seed|abc|configuration key 'model.init-seed' is 'abc', not a number of that kind:"
            + " give a whole number",
        // a negative count was taken as 0 without a word
        "trainer.inject-failure-after-units|-1|configuration key"
            + " 'trainer.inject-failure-after-units' is -1: it must be >= 0",
      })
  void aValueFlinksParserRefusesIsSaidWithTheFormItsKeyTakes(
      String key, String value, String message) {
    Configuration c = base();
    c.setString(key, value);
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @Test
  void badValuesNameTheirKey() {
    Configuration c = base();
    c.set(JobOptions.JOIN_WINDOW, Duration.ZERO);
    assertThatThrownBy(() -> JobConfig.from(c)).hasMessageContaining("assembler.join-window");

    Configuration d = base();
    d.set(JobOptions.BACKEND, "tpu");
    assertThatThrownBy(() -> JobConfig.from(d))
        .hasMessageContaining("trainer.backend")
        .hasMessageContaining("tpu");

    Configuration e = base();
    e.set(JobOptions.BATCH_MAX_UNITS, 0);
    assertThatThrownBy(() -> JobConfig.from(e)).hasMessageContaining("trainer.batch.max-units");

    Configuration f = base();
    f.set(JobOptions.DELIVERY_GUARANTEE, "maybe");
    assertThatThrownBy(() -> JobConfig.from(f)).hasMessageContaining("sink.delivery-guarantee");

    Configuration g = base();
    g.set(ModelOptions.EMBEDDING_DIM, -3);
    assertThatThrownBy(() -> JobConfig.from(g))
        .hasMessageContaining("model.embedding-dim")
        .hasMessageContaining("-3");

    for (String id : new String[] {"xyz", "0", "8000000000000000", "12345678901234567"}) {
      Configuration h = base();
      h.set(JobOptions.MODEL_ID, id);
      assertThatThrownBy(() -> JobConfig.from(h))
          .as("model id %s", id)
          .hasMessageContaining("trainer.model-id")
          .hasMessageContaining(id);
    }
    Configuration i = base();
    i.set(JobOptions.MODEL_ID, " 7FFFFFFFFFFFFFFF ");
    assertThat(JobConfig.from(i).modelId()).isEqualTo("7fffffffffffffff");
    Configuration j = base();
    j.set(JobOptions.REFRESH_VERSIONS, -1);
    assertThatThrownBy(() -> JobConfig.from(j))
        .hasMessageContaining("trainer.publish.refresh-versions");
  }

  @Test
  void featuresAreTheUsersNames() {
    Configuration c = base();
    c.set(ModelOptions.REQUEST_CATEGORICAL, List.of("member", "geo"));
    c.set(ModelOptions.IMPRESSION_CATEGORICAL, List.of("ad_id"));
    c.set(ModelOptions.REQUEST_DENSE, List.of());
    c.set(ModelOptions.SHARED_VOCABULARY, java.util.Map.of());
    ModelConfig m = JobConfig.from(c).model();
    assertThat(m.features().tables()).containsExactly("member", "geo", "ad_id");
    assertThat(m.features().dense()).extracting(f -> f.name()).containsExactly("position");
    // the default pair, recent_items:item_id, speaks of features this model does not have: it
    // needs no clearing
    Configuration own = base();
    own.set(ModelOptions.REQUEST_CATEGORICAL, List.of("member", "geo"));
    own.set(ModelOptions.IMPRESSION_CATEGORICAL, List.of("ad_id"));
    own.set(ModelOptions.REQUEST_DENSE, List.of());
    assertThat(JobConfig.from(own).model().features().tables())
        .containsExactly("member", "geo", "ad_id");
  }

  /**
   * Two labels of one name trained one label twice, and a reply's "labels" held one of them, so its
   * "scores" (the first head) disagreed with it. A name in both feature lists was called "listed
   * twice" although it was listed once in each.
   */
  /**
   * {@code model.deep: false} with three labels trained one logit on the three losses and served it
   * for each label alike ({@code "click":[0.111],"like":[0.111],"purchase":[0.111]}), the first
   * label's AUC 0.580 where alone it had 0.601. The labels differ only in their outputs of the
   * head.
   */
  @Test
  void severalLabelsWithoutTheDeepPartAreRefused() {
    Configuration c = base();
    c.set(ModelOptions.DEEP, false);
    c.setString("model.labels", "click;like;purchase");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "model configuration: model.labels has 3 labels [click, like, purchase], but the model"
                + " has no deep part (model.deep: false): its labels would share one logit and"
                + " score alike; set model.deep: true for a head output per label, or train one"
                + " label");
    Configuration one = base();
    one.set(ModelOptions.DEEP, false);
    assertThat(JobConfig.from(one).model().features().labels()).containsExactly("click");
    Configuration deep = base();
    deep.setString("model.labels", "click;like;purchase");
    assertThat(JobConfig.from(deep).model().features().labels()).hasSize(3);
  }

  /**
   * {@code model.label-weights}: label:weight pairs; a label not named weighs 1, a name that is not
   * a label, a weight that is not a number above 0 are refused by name.
   */
  @Test
  void labelWeightsAreReadByLabelAndABadOneIsRefused() {
    Configuration c = base();
    c.setString("model.labels", "click;like;purchase");
    c.setString("model.label-weights", "like:0.3,purchase:0.1");
    ModelConfig m = JobConfig.from(c).model();
    assertThat(m.labelWeights()).containsOnly(entry("like", 0.3f), entry("purchase", 0.1f));
    assertThat(m.labelWeightsInOrder()).containsExactly(1f, 0.3f, 0.1f);
    c.setString("model.label-weights", "");
    assertThat(JobConfig.from(c).model().labelWeightsInOrder()).isNull();

    c.setString("model.label-weights", "likes:0.3");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "model.label-weights names 'likes', which is not one of model.labels [click, like,"
                + " purchase]");
    // a weight of 1e30 wrecked every other label (click's AUC 0.50, its calibration 4.4), 1e-300
    // was "0.0", and 3f passed as 3
    for (String bad :
        List.of(
            "like:0",
            "like:-1",
            "like:NaN",
            "like:Infinity",
            "like:lots",
            "like:1e30",
            "like:1e-300",
            "like:3f",
            "like:0x10")) {
      c.setString("model.label-weights", bad);
      assertThatThrownBy(() -> JobConfig.from(c))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(
              "configuration key 'model.label-weights' has '"
                  + bad.substring(5)
                  + "' for label 'like': give label:weight pairs with a number from 0.000001 to"
                  + " 1000 as the weight");
    }
    c.setString("model.label-weights", "like:1e-3,purchase:1000");
    assertThat(JobConfig.from(c).model().labelWeightsInOrder()).containsExactly(1f, 1e-3f, 1000f);

    // a model of one label has nothing to weigh its label against
    Configuration one = base();
    one.setString("model.label-weights", "click:2");
    assertThatThrownBy(() -> JobConfig.from(one))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "configuration key 'model.label-weights' is set, but the model has one label [click]");
  }

  /**
   * Flink's Prometheus reporter writes a label's name with every character other than a letter, a
   * digit, _ or : as _: of {@code add.to.cart} and {@code add-to-cart}, one's figures overwrote the
   * other's in every scrape, silently. Two labels written alike are refused.
   */
  @Test
  void twoLabelsThePrometheusReporterWritesAlikeAreRefused() {
    Configuration c = base();
    c.setString("model.labels", "click;add.to.cart;add-to-cart");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "configuration key 'model.labels' has 'add.to.cart' and 'add-to-cart': Flink's"
                + " Prometheus reporter writes both as label=\"add_to_cart\" (every character other"
                + " than a letter, a digit, _ or : as _), so one label's metrics would overwrite"
                + " the other's: rename one");
    c.setString("model.labels", "click;add.to.cart;Add.To.Cart");
    assertThat(JobConfig.from(c).model().features().labels()).hasSize(3);
  }

  @Test
  void aLabelNamedTwiceIsRefusedAndAFeatureOfTwoKindsIsSaidSo() {
    Configuration labels = base();
    labels.set(ModelOptions.LABELS, List.of("click", "good", "click"));
    assertThatThrownBy(() -> JobConfig.from(labels))
        .hasMessageContaining("label names must differ: [click] listed more than once");
    Configuration kinds = base();
    kinds.set(ModelOptions.REQUEST_DENSE, List.of("hour", "country"));
    assertThatThrownBy(() -> JobConfig.from(kinds))
        .hasMessageContaining(
            "feature 'country' is listed twice on the REQUEST side, as categorical and as dense");
  }

  /**
   * {@code -D model.labels=click,good} (the README's per-table options take commas) trained one
   * label named "click,good", absent from every impression, as 0 everywhere.
   */
  @Test
  void aListGivenWithCommasIsRefusedWithItsFormWithSemicolons() {
    Configuration labels = base();
    labels.setString("model.labels", "click,good");
    assertThatThrownBy(() -> JobConfig.from(labels))
        .hasMessageContaining("'model.labels'")
        .hasMessageContaining("names 'click,good'")
        .hasMessageContaining("-D 'model.labels=click;good'");
    Configuration features = base();
    features.setString("model.features.impression.categorical", "item_id, item_cat");
    assertThatThrownBy(() -> JobConfig.from(features))
        .hasMessageContaining("-D 'model.features.impression.categorical=item_id;item_cat'");
  }

  /**
   * Per-table pairs written as a list's items (the README's lists are a;b;c) got Flink's "could not
   * parse value"; a TTL of "30" was taken as 30 ms and expired rows between batches.
   */
  @Test
  void tablePairsOfAListsFormAndATtlWithoutAUnitAreSaidInWords() {
    Configuration semicolons = base();
    semicolons.setString("model.table.hot-capacity-rows", "item_cat:40;country:20");
    assertThatThrownBy(() -> JobConfig.from(semicolons))
        .hasMessage(
            "configuration key 'model.table.hot-capacity-rows' is not a list of name:value pairs:"
                + " write the pairs as one string separated by commas, each name once, e.g."
                + " item_cat:1000,country:300 (not a YAML list, and not with ';', which separates"
                + " the items of the list options)");
    Configuration bare = base();
    bare.setString("model.table.ttl", "user_id:30");
    assertThatThrownBy(() -> JobConfig.from(bare))
        .hasMessageStartingWith(
            "configuration key 'model.table.ttl' has '30' for table 'user_id', a number without a"
                + " unit, which would be 30 ms");
    Configuration global = base();
    global.setString("model.ttl", "500 ms");
    assertThatThrownBy(() -> JobConfig.from(global))
        .hasMessageContaining("'model.ttl' is 500 ms: a TTL under a second");
    Configuration days = base();
    days.setString("model.table.ttl", "user_id:30d,item_id:2 h");
    assertThat(JobConfig.from(days).model().settings("item_id").ttlMs()).isEqualTo(7_200_000L);
  }

  /**
   * A per-table TTL written as a bare number was read as milliseconds: {@code model.table.ttl:
   * item_id:86400} (or {@code {item_id: 86400}} in the file) meant as a day expired and tombstoned
   * every item row not seen for 86.4 s, where the same number in {@code model.ttl} is refused.
   */
  @Test
  void aPerTableTtlWithoutAUnitIsRefusedAsModelTtlIs() {
    Configuration bare = base();
    bare.setString("model.table.ttl", "user_id:30d,item_id:86400");
    assertThatThrownBy(() -> JobConfig.from(bare))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "configuration key 'model.table.ttl' has '86400' for table 'item_id', a number without"
                + " a unit, which would be 86400 ms: write its unit, e.g. 'item_id:86400 s',"
                + " 'item_id:86400 min' or 'item_id:86400 ms'");
    Configuration never = base();
    never.setString("model.table.ttl", "item_id:0");
    assertThat(JobConfig.from(never).model().settings("item_id").ttlMs()).isZero();
  }

  @Test
  void towersAndPerTableSettingsAreRead() {
    Configuration c = base();
    c.set(ModelOptions.REQUEST_TOWER, List.of(64, 8));
    c.set(ModelOptions.IMPRESSION_TOWER, List.of(8));
    c.set(ModelOptions.HEAD, List.of());
    c.set(ModelOptions.TABLE_HOT_CAPACITY, java.util.Map.of("item_id", "1000"));
    c.set(ModelOptions.TABLE_TTL, java.util.Map.of("item_id", "7d"));
    c.set(ModelOptions.TABLE_LR, java.util.Map.of("wide", "0.2"));
    ModelConfig m = JobConfig.from(c).model();
    assertThat(m.towers().request()).containsExactly(64, 8);
    assertThat(m.towers().outputWidth()).isEqualTo(8);
    assertThat(m.learningRate("wide")).isEqualTo(0.2f);
    assertThat(m.learningRate("item_id")).isEqualTo(m.embeddingLr());
    var item =
        m.tableConfigs().stream().filter(t -> t.name().equals("item_id")).findFirst().orElseThrow();
    assertThat(item.hotCapacityRows()).isEqualTo(1000);
    assertThat(item.ttlMs()).isEqualTo(7L * 24 * 3600 * 1000);

    c.set(ModelOptions.DEEP, false);
    assertThat(JobConfig.from(c).model().towers().enabled()).isFalse();
  }

  @Test
  void denseNormalizationIsReadAndABadValueNamesTheKey() {
    assertThat(JobConfig.from(base()).model().denseNormalization())
        .isEqualTo(ModelConfig.DenseNormalization.NONE);
    Configuration c = base();
    c.set(ModelOptions.DENSE_NORMALIZATION, "running");
    assertThat(JobConfig.from(c).model().denseNormalization())
        .isEqualTo(ModelConfig.DenseNormalization.RUNNING);
    Configuration d = base();
    d.set(ModelOptions.DENSE_NORMALIZATION, "batch");
    assertThatThrownBy(() -> JobConfig.from(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.dense-normalization")
        .hasMessageContaining("'batch'");
  }

  @Test
  void theFactorisedCrossIsReadAndABadValueNamesTheKey() {
    assertThat(JobConfig.from(base()).model().factorisedCross())
        .isEqualTo(ModelConfig.FactorisedCross.FIELD_WEIGHTED);
    Configuration c = base();
    c.set(ModelOptions.FACTORISED_CROSS, "Sum");
    assertThat(JobConfig.from(c).model().factorisedCross())
        .isEqualTo(ModelConfig.FactorisedCross.SUM);
    Configuration d = base();
    d.set(ModelOptions.FACTORISED_CROSS, "attention");
    assertThatThrownBy(() -> JobConfig.from(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.factorised-cross")
        .hasMessageContaining("'attention'");
  }

  @Test
  void wideCrossesAndTheInitialAccumulatorAreReadAndBadValuesNameTheKey() {
    ModelConfig defaults = JobConfig.from(base()).model();
    assertThat(defaults.wideCrosses()).isEqualTo(ModelConfig.WideCrosses.NONE);
    assertThat(defaults.adagradInitialAccumulator())
        .isEqualTo(ModelConfig.DEFAULT_ADAGRAD_INITIAL_ACCUMULATOR);
    Configuration c = base();
    c.set(ModelOptions.WIDE_CROSSES, "request-impression");
    c.set(ModelOptions.ADAGRAD_INITIAL_ACCUMULATOR, 0.5f);
    c.set(ModelOptions.DENSE_RATE_IMPRESSIONS, 0);
    assertThat(JobConfig.from(c).model().wideCrosses())
        .isEqualTo(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
    assertThat(JobConfig.from(c).model().adagradInitialAccumulator()).isEqualTo(0.5f);
    assertThat(JobConfig.from(c).model().denseRateImpressions()).isZero();
    assertThat(defaults.denseRateImpressions())
        .isEqualTo(ModelConfig.DEFAULT_DENSE_RATE_IMPRESSIONS);
    Configuration d = base();
    d.set(ModelOptions.WIDE_CROSSES, "all");
    assertThatThrownBy(() -> JobConfig.from(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.wide-crosses")
        .hasMessageContaining("'all'");
    Configuration e = base();
    e.set(ModelOptions.ADAGRAD_INITIAL_ACCUMULATOR, 0f);
    assertThatThrownBy(() -> JobConfig.from(e))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.adagrad-initial-accumulator");
  }

  /**
   * FTRL with beta and L2 both 0 was accepted: a new wide weight whose first gradient squares to 0
   * in floats (an impression scored near 0, label 0) became -g / 0, infinite, and every batch with
   * that id was skipped after it. Refused; either one above 0 is enough.
   */
  /**
   * A hot capacity whose slab cannot be allocated (with room for a batch's rows not yet admitted)
   * is refused before the job starts, naming the table; a model trained with one still restores and
   * scores, its snapshot and spec keeping the capacity.
   */
  @Test
  void aHotCapacityPastOneSlabIsRefusedNamingTheTable() {
    Configuration c = base();
    c.set(ModelOptions.EMBEDDING_DIM, 128);
    c.set(ModelOptions.HOT_CAPACITY_ROWS, 20_000_000);
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("a hot tier of 20000000 rows of 129 floats")
        .hasMessageContaining("at most 14982435 rows of this width");
    c.set(ModelOptions.HOT_CAPACITY_ROWS, 14_982_435);
    assertThat(JobConfig.from(c).model().hotCapacityRows()).isEqualTo(14_982_435);
  }

  @Test
  void ftrlWithBetaAndL2Both0IsRefused() {
    Configuration c = base();
    c.set(ModelOptions.WIDE_OPTIMIZER, "ftrl");
    c.set(ModelOptions.FTRL_BETA, 0f);
    c.set(ModelOptions.FTRL_L2, 0f);
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("configuration key 'model.ftrl.beta' is 0 with model.ftrl.l2 0")
        .hasMessageContaining("give beta > 0");
    c.set(ModelOptions.FTRL_L2, 0.5f);
    assertThat(JobConfig.from(c).model().wideOptimizer().beta()).isZero();
  }

  @Test
  void theWideRowsLearnByFtrlWhenAskedAndABadSettingNamesItsKey() {
    assertThat(JobConfig.from(base()).model().wideOptimizer())
        .isEqualTo(ModelConfig.WideOptimizer.ADAGRAD);
    Configuration c = base();
    c.set(ModelOptions.WIDE_OPTIMIZER, "FTRL");
    c.set(ModelOptions.FTRL_L1, 0.5f);
    c.set(ModelOptions.FTRL_L2, 0f);
    ModelConfig m = JobConfig.from(c).model();
    assertThat(m.wideOptimizer())
        .isEqualTo(
            new ModelConfig.WideOptimizer(ModelConfig.WideOptimizer.Kind.FTRL, 1f, 0.5f, 0f));
    // FTRL keeps two floats of state per wide row
    assertThat(m.tableConfigs().get(m.tableConfigs().size() - 1).stateWidth()).isEqualTo(2);
    Configuration d = base();
    d.set(ModelOptions.WIDE_OPTIMIZER, "sgd");
    assertThatThrownBy(() -> JobConfig.from(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.wide-optimizer")
        .hasMessageContaining("adagrad, ftrl");
    Configuration e = base();
    e.set(ModelOptions.WIDE_OPTIMIZER, "ftrl");
    e.set(ModelOptions.FTRL_L1, -1f);
    assertThatThrownBy(() -> JobConfig.from(e))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.ftrl.l1");
  }

  /**
   * {@code model.ftrl.l1: 1} without {@code model.wide-optimizer: ftrl} trained the wide rows by
   * Adagrad, the FTRL setting read by nothing and said by nothing.
   */
  @Test
  void anFtrlSettingForWideRowsAnotherOptimizerTrainsIsRefused() {
    for (ConfigOption<Float> o :
        List.of(ModelOptions.FTRL_BETA, ModelOptions.FTRL_L1, ModelOptions.FTRL_L2)) {
      Configuration c = base();
      c.set(o, 2f);
      assertThatThrownBy(() -> JobConfig.from(c))
          .as(o.key())
          .isInstanceOf(ConfigException.class)
          .hasMessage(
              "configuration key '"
                  + o.key()
                  + "' is set, but model.wide-optimizer is 'adagrad', which takes no FTRL setting:"
                  + " set model.wide-optimizer: ftrl to train the wide rows with FTRL-Proximal, or"
                  + " remove '"
                  + o.key()
                  + "'");
    }
    // at their defaults they ask for nothing: a file listing every key with its default passes
    Configuration defaults = base();
    defaults.set(ModelOptions.FTRL_BETA, ModelOptions.FTRL_BETA.defaultValue());
    defaults.set(ModelOptions.FTRL_L1, ModelOptions.FTRL_L1.defaultValue());
    assertThat(JobConfig.from(defaults).model().wideOptimizer())
        .isEqualTo(ModelConfig.WideOptimizer.ADAGRAD);
    Configuration unknown = base();
    unknown.set(ModelOptions.WIDE_OPTIMIZER, "sgd");
    unknown.set(ModelOptions.FTRL_L1, 1f);
    assertThatThrownBy(() -> JobConfig.from(unknown)).hasMessageContaining("adagrad, ftrl");
  }

  /**
   * {@code properties.isolation.levl: read_committed} reached Kafka's consumer, which logged it as
   * unused and read aborted transactions; {@code properties.compresion.type} wrote uncompressed. A
   * key a typo away from one of Kafka's clients' settings is refused, by either way in; a key far
   * from all of them (a plugin's own) and Flink's Kafka source's own keys pass.
   */
  @Test
  void aKafkaClientSettingATypoAwayFromKafkasIsRefusedWithTheOneMeant(@TempDir Path dir)
      throws IOException {
    for (String[] typo :
        new String[][] {
          {"isolation.levl", "isolation.level"},
          {"sasl.jass.config", "sasl.jaas.config"},
          {"compresion.type", "compression.type"},
          {"Acks", "acks"}
        }) {
      Configuration c = base();
      c.setString("properties." + typo[0], "x");
      assertThatThrownBy(() -> JobConfig.from(c))
          .as(typo[0])
          .isInstanceOf(ConfigException.class)
          .hasMessage(
              "configuration: Kafka client setting '"
                  + typo[0]
                  + "' is not one Kafka's clients know, which would ignore it: did you mean '"
                  + typo[1]
                  + "'? (a setting of a plugin the clients load, far from any of theirs, passes)");
    }
    // a client file in a configuration key's form: the client would ignore it
    Path prefixed =
        Files.writeString(dir.resolve("prefixed.properties"), "properties.security.protocol=SSL\n");
    assertThatThrownBy(() -> io.streamrec.common.KafkaClientProperties.load(prefixed))
        .hasMessageContaining("did you mean 'security.protocol'?");
    Path file = Files.writeString(dir.resolve("client.properties"), "security.protocl=SSL\n");
    assertThatThrownBy(() -> io.streamrec.common.KafkaClientProperties.load(file))
        .hasMessageContaining(file + ": Kafka client setting 'security.protocl'")
        .hasMessageContaining("did you mean 'security.protocol'?");
    Configuration fine = base();
    fine.setString("properties.isolation.level", "read_committed");
    fine.setString("properties.partition.discovery.interval.ms", "10000");
    fine.setString("properties.confluent.monitoring.interceptor.topic", "_monitoring");
    assertThat(JobConfig.from(fine).kafkaProperties().asMap())
        .containsEntry("isolation.level", "read_committed")
        .containsEntry("partition.discovery.interval.ms", "10000")
        .containsEntry("confluent.monitoring.interceptor.topic", "_monitoring");
  }

  /**
   * {@code source.min-timestamp} later than {@code source.max-future} lets an event be left no
   * event to train: every one went to the dead letters as implausible_time, and the job ran on.
   */
  @Test
  void aMinimumTimestampNoEventCanPassIsRefused() {
    Configuration c = base();
    c.set(InputOptions.MIN_TIMESTAMP, "2999-01-01T00:00:00Z");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "configuration key 'source.min-timestamp' is 2999-01-01T00:00:00Z, later than"
                + " source.max-future lets an event be, so every event would be dead-lettered as"
                + " implausible_time: give an instant in the past: events timed before it are"
                + " dropped");
    Configuration unbounded = base();
    unbounded.set(InputOptions.MIN_TIMESTAMP, "2999-01-01T00:00:00Z");
    unbounded.set(InputOptions.MAX_FUTURE, Duration.ZERO);
    assertThat(JobConfig.from(unbounded).limits().minTimestampMs())
        .isEqualTo(java.time.Instant.parse("2999-01-01T00:00:00Z").toEpochMilli());
    Configuration past = base();
    past.set(InputOptions.MIN_TIMESTAMP, "2020-01-01T00:00:00Z");
    assertThat(JobConfig.from(past).limits().minTimestampMs())
        .isEqualTo(java.time.Instant.parse("2020-01-01T00:00:00Z").toEpochMilli());
  }

  @Test
  void theWideWeightsArePooledPerFeatureByDefaultAndABadValueNamesTheKey() {
    assertThat(JobConfig.from(base()).model().widePooling())
        .isEqualTo(ModelConfig.WidePooling.PER_FEATURE);
    Configuration c = base();
    c.set(ModelOptions.WIDE_POOLING, "SUM");
    assertThat(JobConfig.from(c).model().widePooling()).isEqualTo(ModelConfig.WidePooling.SUM);
    Configuration d = base();
    d.set(ModelOptions.WIDE_POOLING, "mean");
    assertThatThrownBy(() -> JobConfig.from(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("model.wide-pooling")
        .hasMessageContaining("'mean'")
        .hasMessageContaining("sum, per-feature");
  }

  @Test
  void theInitSeedIsZeroByDefaultAndTakesAnyLong() {
    assertThat(JobConfig.from(base()).model().initSeed()).isZero();
    Configuration c = base();
    c.setString(ModelOptions.INIT_SEED.key(), "-9007199254740993");
    assertThat(JobConfig.from(c).model().initSeed()).isEqualTo(-9007199254740993L);
  }

  @Test
  void badTowerAndTableSettingsNameTheirKey() {
    Configuration c = base();
    c.set(ModelOptions.IMPRESSION_TOWER, List.of(32, 8));
    assertThatThrownBy(() -> JobConfig.from(c))
        .hasMessageContaining("model.towers.request")
        .hasMessageContaining("same width");

    Configuration d = base();
    d.set(ModelOptions.TABLE_HOT_CAPACITY, java.util.Map.of("items", "1000"));
    assertThatThrownBy(() -> JobConfig.from(d))
        .hasMessageContaining("model.table")
        .hasMessageContaining("'items'");

    Configuration e = base();
    e.set(ModelOptions.TABLE_LR, java.util.Map.of("item_id", "fast"));
    assertThatThrownBy(() -> JobConfig.from(e))
        .hasMessageContaining("model.table.learning-rate")
        .hasMessageContaining("fast");
  }

  @Test
  void aSharedVocabularyMustNameAFeature() {
    Configuration c = base();
    c.set(ModelOptions.SHARED_VOCABULARY, java.util.Map.of("recent_items", "items"));
    assertThatThrownBy(() -> JobConfig.from(c))
        .hasMessageContaining("model.features.shared-vocabulary")
        .hasMessageContaining("'items'");
  }

  /**
   * The default pair recent_items:item_id speaks of the default features. Impression features of
   * the user's own names (item_id renamed) were refused for a pair the user never wrote, naming
   * model.features.shared-vocabulary; renaming the request side was accepted. Either way the pair
   * now applies only where both its features are there.
   */
  @Test
  void theDefaultSharedVocabularyAppliesOnlyWhereBothItsFeaturesAre() {
    Configuration renamedItems = base();
    renamedItems.set(ModelOptions.IMPRESSION_CATEGORICAL, List.of("sku", "cat"));
    assertThat(JobConfig.from(renamedItems).model().features().categorical())
        .extracting(f -> f.name() + "/" + f.table())
        .containsExactly(
            "user_id/user_id",
            "country/country",
            "recent_items/recent_items",
            "sku/sku",
            "cat/cat");

    Configuration renamedHistory = base();
    renamedHistory.set(ModelOptions.REQUEST_CATEGORICAL, List.of("user_id", "history"));
    assertThat(JobConfig.from(renamedHistory).model().features().categorical())
        .extracting(f -> f.name() + "/" + f.table())
        .contains("history/history", "item_id/item_id");

    assertThat(JobConfig.from(base()).model().features().categorical())
        .extracting(f -> f.name() + "/" + f.table())
        .contains("recent_items/item_id", "item_id/item_id");
  }

  /**
   * A misspelt feature on the left ("recent_itmes:item_id") left the feature meant with a table of
   * its own, and two features naming each other swapped their tables: both passed in silence.
   */
  @Test
  void aSharedVocabularyOfAFeatureNotDeclaredOrOfAChainIsRefused() {
    Configuration misspelt = base();
    misspelt.set(ModelOptions.SHARED_VOCABULARY, java.util.Map.of("recent_itmes", "item_id"));
    assertThatThrownBy(() -> JobConfig.from(misspelt))
        .hasMessageContaining("names 'recent_itmes', which is not a categorical feature");
    Configuration cycle = base();
    cycle.setString(
        "model.features.shared-vocabulary", "recent_items:item_id,item_id:recent_items");
    assertThatThrownBy(() -> JobConfig.from(cycle))
        .hasMessageContaining("a feature shares the vocabulary of a feature that has its own");
  }

  @Test
  void aConfigFileSetsKeysWithCommentsQuotesAndLists(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.writeString(
        f,
        String.join(
            "\n",
            "# the broker",
            "kafka.bootstrap-servers: \"broker:9092\"   # quoted",
            "model.features.request.categorical: [member, geo]",
            "model.features.shared-vocabulary: ''",
            "assembler.join-window: 30 s",
            "",
            "trainer.backend: cpu"));
    JobConfig cfg = JobConfig.from(ConfigFiles.load(f));
    assertThat(cfg.bootstrapServers()).isEqualTo("broker:9092");
    assertThat(cfg.model().features().tables()).startsWith("member", "geo");
    assertThat(cfg.joinWindowMs()).isEqualTo(30_000);
    assertThat(cfg.backend()).isEqualTo(BackendMode.CPU);
  }

  @Test
  void theExampleConfigurationDescribesTheDefaultModelWithPerTableSettings() {
    JobConfig cfg = JobConfig.from(ConfigFiles.load(Path.of("..", "examples", "streamrec.yaml")));
    ModelConfig m = cfg.model();
    assertThat(m.features()).isEqualTo(ModelConfig.defaults().features());
    assertThat(m.towers()).isEqualTo(ModelConfig.defaults().towers());
    assertThat(m.tableSettings()).containsOnlyKeys("user_id", "item_id", "wide");
    assertThat(m.settings("user_id").ttlMs()).isEqualTo(30L * 24 * 3600 * 1000);
    assertThat(cfg.bootstrapServers()).isEqualTo("localhost:9092");
  }

  @Test
  void aLineWithoutAKeyIsReportedWithItsNumber(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "kafka.bootstrap-servers: x\nthis is not a setting\n");
    assertThatThrownBy(() -> ConfigFiles.load(f))
        .hasMessageContaining(f + ":2:1:")
        .hasMessageContaining("not a YAML configuration");
  }

  /** Flink's own config.yaml style: nested blocks; each path of keys joined with dots is a key. */
  @Test
  void nestedAndFlatKeysBothWorkAsInFlinksConfigYaml(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.writeString(
        f,
        String.join(
            "\n",
            "kafka:",
            "  bootstrap-servers: broker:9092",
            "  group-id: ctr-eu",
            "execution:",
            "  checkpointing:",
            "    interval: 30 s",
            "    dir: file:///tmp/chk",
            "model:",
            "  features:",
            "    request:",
            "      categorical:",
            "        - member",
            "        - geo",
            "    shared-vocabulary: {}",
            "  embedding-dim: 8",
            "  table:",
            "    ttl: {member: 7d}",
            "  towers.request: [64, 16]",
            "trainer.backend: cpu",
            "properties:",
            "  security.protocol: SASL_SSL"));
    Configuration conf = ConfigFiles.load(f);
    assertThat(conf.toMap())
        .containsEntry("execution.checkpointing.interval", "30 s")
        .containsEntry("execution.checkpointing.dir", "file:///tmp/chk")
        .containsEntry("model.towers.request", "64;16")
        .containsEntry("properties.security.protocol", "SASL_SSL");
    JobArguments.rejectUnknownStreamrecKeys(conf);
    JobConfig cfg = JobConfig.from(conf);
    assertThat(cfg.bootstrapServers()).isEqualTo("broker:9092");
    assertThat(cfg.groupId()).isEqualTo("ctr-eu");
    assertThat(cfg.model().features().tables()).startsWith("member", "geo");
    assertThat(cfg.model().embeddingDim()).isEqualTo(8);
    assertThat(cfg.model().settings("member").ttlMs()).isEqualTo(7L * 24 * 3600 * 1000);
    assertThat(cfg.backend()).isEqualTo(BackendMode.CPU);
    assertThat(cfg.kafkaProperties().asMap()).containsEntry("security.protocol", "SASL_SSL");
  }

  /**
   * An empty item of a YAML list ({@code -} with nothing after it, {@code ~}, {@code null}) was
   * read as the name "null": a label or a feature named null, absent from every event, trained on
   * as 0, where an empty name given as {@code click;;like} is refused.
   */
  @Test
  void anEmptyItemOfAYamlListIsRefusedNamingTheKey(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.writeString(f, "model.labels:\n  - click\n  -\n");
    assertThatThrownBy(() -> ConfigFiles.load(f))
        .hasMessage(
            f
                + ": key 'model.labels' has an empty item in its list: remove it (or quote it,"
                + " 'null', where null is meant as a name)");
    Files.writeString(f, "model.features.request.dense: [hour, ~]\n");
    assertThatThrownBy(() -> ConfigFiles.load(f))
        .hasMessageStartingWith(f + ": key 'model.features.request.dense' has an empty item");
    Files.writeString(f, "model.labels: [click, 'null']\n");
    assertThat(ConfigFiles.load(f).toMap()).containsEntry("model.labels", "click;null");
  }

  /**
   * A file saved in Latin-1 was refused as "not a YAML configuration:
   * java.nio.charset.MalformedInputException: Input length = 1", saying neither what was wrong nor
   * where.
   */
  @Test
  void aFileThatIsNotUtf8IsSaidSoWithTheLine(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.write(
        f,
        "kafka.bootstrap-servers: b:9092\ntopics.requests: r\u00e9quests\n"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> ConfigFiles.load(f))
        .hasMessage(f + ":2: not UTF-8 text: save the file as UTF-8");
  }

  /** The old reader took "execution:" as a key with an empty value and went on: silently wrong. */
  @Test
  void anUnknownNestedKeyFailsNamingItsFullPath(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.writeString(f, "kafka.bootstrap-servers: b:9092\ntrainer:\n  batch:\n    max-unit: 64\n");
    Configuration conf = ConfigFiles.load(f);
    assertThatThrownBy(() -> JobArguments.rejectUnknownStreamrecKeys(conf))
        .hasMessageContaining("'trainer.batch.max-unit'")
        .hasMessageContaining("trainer.batch.max-units");
  }

  /**
   * A streamrec key without its prefix, or under a prefix a typo away, is off streamrec's prefixes,
   * so it went to Flink, which ignores a key it does not know: the job trained at the default.
   */
  @Test
  void aStreamrecKeyWithoutOrWithAMisspeltPrefixIsRefusedAndFlinksKeysPass() {
    for (var c :
        java.util.Map.of(
                "embedding-dim", "model.embedding-dim",
                "models.embedding-dim", "model.embedding-dim",
                "trainr.backend", "trainer.backend")
            .entrySet()) {
      Configuration conf = new Configuration();
      conf.setString(c.getKey(), "8");
      assertThatThrownBy(() -> JobArguments.rejectUnknownStreamrecKeys(conf))
          .hasMessageStartingWith(
              "unknown configuration key '"
                  + c.getKey()
                  + "' (did you mean '"
                  + c.getValue()
                  + "'?)");
    }
    Configuration flink = new Configuration();
    for (String k :
        List.of(
            "state.backend.type",
            "execution.checkpointing.interval",
            "taskmanager.memory.process.size",
            "parallelism.default",
            "table.exec.source.idle-timeout",
            "rest.bind-address")) {
      flink.setString(k, "1");
    }
    JobArguments.rejectUnknownStreamrecKeys(flink);
  }

  /**
   * {@code -D execution.checkpointing.interval=0} (as if to turn checkpoints off) was refused by
   * Flink in words naming no key ("Checkpoint interval must be larger than or equal to 10 ms"),
   * after the brokers had been reached. It is refused with the key, before anything starts.
   */
  /**
   * An exactly-once job whose transactions time out within one checkpoint interval started, and the
   * broker aborted each transaction before its commit: the job failed at every checkpoint and
   * published nothing. Refused at configuration, naming both; above the interval it starts.
   */
  @Test
  void anExactlyOnceJobWhoseTransactionsTimeOutWithinACheckpointIntervalIsRefused() {
    Configuration c = base();
    c.set(JobOptions.DELIVERY_GUARANTEE, "exactly-once");
    c.setString("execution.checkpointing.interval", "20 min");
    assertThatThrownBy(() -> JobConfig.from(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("transactions that time out after 15 min")
        .hasMessageContaining("its default")
        .hasMessageContaining("within one checkpoint interval (20 min)");
    c.setString("properties.transaction.timeout.ms", "1800000");
    assertThat(JobConfig.from(c).exactlyOnce()).isTrue();
    c.setString("execution.checkpointing.interval", "30 min");
    assertThatThrownBy(() -> JobConfig.from(c)).hasMessageContaining("after 30 min");
    c.set(JobOptions.DELIVERY_GUARANTEE, "at-least-once");
    assertThat(JobConfig.from(c).exactlyOnce()).isFalse();
  }

  @Test
  void aCheckpointIntervalUnderTenMillisecondsIsRefusedByTheKeysName() {
    for (String v : List.of("0", "0 ms", "5ms")) {
      Configuration conf = new Configuration();
      conf.setString("execution.checkpointing.interval", v);
      assertThatThrownBy(() -> JobArguments.rejectACheckpointIntervalFlinkRefuses(conf))
          .as(v)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("configuration key 'execution.checkpointing.interval' is ")
          .hasMessageContaining("Flink takes 10 ms or more");
    }
    for (String v : List.of("10 ms", "30 s", "5 min")) {
      Configuration conf = new Configuration();
      conf.setString("execution.checkpointing.interval", v);
      JobArguments.rejectACheckpointIntervalFlinkRefuses(conf);
    }
    JobArguments.rejectACheckpointIntervalFlinkRefuses(new Configuration());
  }

  /**
   * Flink ignores a key it does not know: {@code execution.checkpointing.intervall} left a job
   * meant to checkpoint without checkpoints, and a restart lost what it had trained. A key a typo
   * away from one Flink declares is refused; keys Flink reads without declaring them (a metrics
   * reporter's, a file system plugin's) pass.
   */
  @Test
  void aMisspeltFlinkKeyIsRefusedWithTheKeyItWasMeantAsAndUndeclaredFamiliesPass() {
    assertThat(FlinkKeys.known())
        .as("Flink's declared keys found on the class path")
        .contains("execution.checkpointing.interval", "state.backend.type", "parallelism.default");
    for (var c :
        java.util.Map.of(
                "execution.checkpointing.intervall", "execution.checkpointing.interval",
                "state.backend.typ", "state.backend.type",
                "paralelism.default", "parallelism.default",
                "taskmanager.numberOfTaskSlot", "taskmanager.numberOfTaskSlots")
            .entrySet()) {
      Configuration conf = new Configuration();
      conf.setString(c.getKey(), "1");
      assertThatThrownBy(() -> JobArguments.rejectUnknownStreamrecKeys(conf))
          .hasMessageStartingWith(
              "unknown Flink configuration key '"
                  + c.getKey()
                  + "' (did you mean '"
                  + c.getValue()
                  + "'?)");
    }
    Configuration passing = new Configuration();
    for (String k :
        List.of(
            "metrics.reporter.prom.factory.class",
            "metrics.reporter.prom.port",
            "s3.access-key",
            "fs.s3a.endpoint",
            "kubernetes.cluster-id",
            "execution.checkpointing.dir")) {
      passing.setString(k, "1");
    }
    JobArguments.rejectUnknownStreamrecKeys(passing);
  }

  @Test
  void aKeyGivenFlatAndNestedFailsNamingIt(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("streamrec.yaml");
    Files.writeString(f, "trainer.backend: cpu\ntrainer:\n  backend: cuda\n");
    assertThatThrownBy(() -> ConfigFiles.load(f))
        .hasMessageContaining("'trainer.backend' is given twice");
  }

  @Test
  void theReadmeHoldsTheGeneratedConfigurationTable() throws IOException {
    Path readme = Path.of("..", "README.md");
    String text = Files.readString(readme);
    assertThat(text)
        .as("README.md's configuration table is stale: run ConfigDocs and paste its output")
        .contains(ConfigDocs.table());
    assertThat(ConfigDocs.options()).hasSizeGreaterThan(20);
  }

  /**
   * A duration written as a bare number is milliseconds to Flink: {@code assembler.join-window=10}
   * meant as 10 s dead-lettered 7,968 of 8,067 impressions, {@code trainer.publish-interval=5}
   * published 2,000 versions instead of 8, each run ending as if it had done its work.
   */
  @Test
  void aDurationWithoutAUnitIsRefusedWithTheUnitsItMayTake() {
    for (String key :
        List.of(
            "assembler.join-window",
            "trainer.publish-interval",
            "source.max-time-jump",
            "source.idle-timeout",
            "trainer.batch.max-wait",
            "model.ttl")) {
      Configuration c = base();
      c.setString(key, "10");
      assertThatThrownBy(() -> JobConfig.from(c))
          .as(key)
          .hasMessage(
              "configuration key '"
                  + key
                  + "' is '10', a number without a unit, which would be 10 ms: write its unit,"
                  + " e.g. '10 s', '10 min' or '10 ms'");
    }
    Configuration noDefault = base();
    noDefault.setString("source.units.max-out-of-orderness", "5");
    assertThatThrownBy(() -> JobConfig.from(noDefault))
        .hasMessageContaining(
            "'source.units.max-out-of-orderness' is '5', a number without a unit");
    Configuration fine = base();
    fine.setString("assembler.join-window", "10 s");
    fine.setString("source.idle-timeout", "0");
    fine.setString("trainer.publish-interval", "1500ms");
    JobConfig cfg = JobConfig.from(fine);
    assertThat(cfg.joinWindowMs()).isEqualTo(10_000);
  }

  /**
   * A duration Flink parses but whose milliseconds do not fit a long ({@code 999999999999 d}, meant
   * as "for ever") failed the start with a bare "ArithmeticException: long overflow", naming no
   * key.
   */
  @Test
  void aDurationTooLongForMillisecondsIsRefusedNamingItsKey() {
    for (String key :
        List.of(
            "assembler.join-window", "source.max-future", "source.max-time-jump", "model.ttl")) {
      Configuration c = base();
      c.setString(key, "999999999999 d");
      assertThatThrownBy(() -> JobConfig.from(c))
          .as(key)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith(
              "configuration key '" + key + "' is '999999999999 d', longer than a duration may be");
    }
  }

  /**
   * A {@code source.max-future} near the longest duration (meant as no bound) overflowed the check
   * of {@code source.min-timestamp} against it: the default 1970 floor was refused as later than
   * any event could be.
   */
  @Test
  void theLongestMaxFutureIsTakenWithTheDefaultMinimumTimestamp() {
    Configuration c = base();
    c.setString(InputOptions.MAX_FUTURE.key(), Long.MAX_VALUE / 86_400_000L + " d");
    assertThat(JobConfig.from(c).limits().minTimestampMs()).isZero();
  }

  /** A label named '' was trained as 0 on every impression; a warning at run time said so. */
  @Test
  void anEmptyNameInALabelOrFeatureListIsRefusedNamingItsKey() {
    Configuration labels = base();
    labels.setString("model.labels", "click;;good");
    assertThatThrownBy(() -> JobConfig.from(labels))
        .hasMessageStartingWith("configuration key 'model.labels' has an empty name in");
    Configuration features = base();
    features.setString("model.features.request.categorical", "user_id;;country");
    assertThatThrownBy(() -> JobConfig.from(features))
        .hasMessageStartingWith(
            "configuration key 'model.features.request.categorical' has an empty name in");
  }

  /**
   * A value Flink's parser refused was said as "see the README's configuration table for its form",
   * for a list with an empty value, a list of other numbers and a negative duration of a key
   * without a default alike.
   */
  @Test
  void aListOrDurationFlinkCannotParseIsSaidWhatIsWrongWithIt() {
    Configuration empty = base();
    empty.setString("model.towers.head", "16;;8");
    assertThatThrownBy(() -> JobConfig.from(empty))
        .hasMessage(
            "configuration key 'model.towers.head' is '16;;8', a list with an empty value: give"
                + " its values separated by ';', each a whole number (e.g. 64;16)");
    Configuration fraction = base();
    fraction.setString("model.towers.request", "32;16.5");
    assertThatThrownBy(() -> JobConfig.from(fraction))
        .hasMessageContaining("is '32;16.5', not a list of its kind")
        .hasMessageContaining("each a whole number");
    Configuration negative = base();
    negative.setString("source.units.max-out-of-orderness", "-1s");
    assertThatThrownBy(() -> JobConfig.from(negative))
        .hasMessageContaining("is '-1s', not a duration")
        .hasMessageContaining("a duration is never negative");
  }
}
