package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.model.LabelScores;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateKeys;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.serving.ModelReplica;
import io.streamrec.serving.http.ScoringServer;
import io.streamrec.testutils.KafkaBroker;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The model-update protocol end to end on a real broker: a trainer publishes versions as the job
 * does, replicas read them (docs/model-updates.md).
 */
class ModelReplicaITCase {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final ModelConfig MODEL = ModelConfig.defaults();

  /** Values of the model's linear block: a block of another length is refused as a bad record. */
  private static final int LINEAR =
      new io.streamrec.model.ModelScorer(MODEL).denseBlockSizes().get("linear");

  /** The linear block, every value {@code v}. */
  private static float[] linear(float v) {
    float[] block = new float[LINEAR];
    java.util.Arrays.fill(block, v);
    return block;
  }

  private static final long MODEL_ID = ModelUpdatesSupport.MODEL_ID;

  @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

  @Test
  void aReplicaScoresEveryLabelExactlyAsTheTrainerAtEachVersionWithFloat32Rows() throws Exception {
    assertParity("parity-f32", RowEncoding.FLOAT32, 0f);
  }

  @Test
  void withFloat16RowsTheScoresOfEveryLabelStayCloseToTheTrainers() throws Exception {
    assertParity("parity-f16", RowEncoding.FLOAT16, 2e-3f);
  }

  /**
   * A model of two labels, {@code click} and {@code good}: at each version the replica scores the
   * trainer's next batch, every label in one pass, and the trainer then predicts that batch with
   * its own forward pass; each label's scores must be the trainer's predictions of that label.
   */
  private void assertParity(String topic, RowEncoding encoding, float tolerance) throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    ModelConfig model = ModelUpdatesSupport.withGoodLabel(MODEL);
    List<String> labels = model.features().labels();
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(model, 5, 500, 300, encoding);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      float maxDiff = 0;
      int compared = 0;
      boolean headsDiffer = false;
      for (int v = 1; v <= 6; v++) {
        for (int b = 0; b < 4; b++) {
          t.trainer.trainRequestUnits(t.units(64, 10));
        }
        ModelUpdatesSupport.send(producer, topic, t.publish());
        assertThat(replica.awaitVersion(v, WAIT)).isTrue();
        // the trainer scores its next batch with the model as of version v, before training on it
        List<RequestUnit> next = t.units(64, 10);
        LabelScores served = replica.scoreAllLabels(next);
        float[] servedFirst = replica.score(next);
        t.trainer.trainRequestUnits(next);
        assertThat(served.labels()).isEqualTo(labels);
        assertThat(servedFirst).containsExactly(served.ofLabel(0));
        for (int l = 0; l < labels.size(); l++) {
          float[] trainer = t.trainer.lastPredictions(l);
          float[] byLabel = served.ofLabel(labels.get(l));
          assertThat(byLabel).hasSize(trainer.length);
          for (int i = 0; i < byLabel.length; i++) {
            String what = "version " + v + " label " + labels.get(l) + " impression " + i;
            if (tolerance == 0) {
              assertThat(byLabel[i]).as(what).isEqualTo(trainer[i]);
            } else {
              assertThat(byLabel[i]).as(what).isCloseTo(trainer[i], within(tolerance));
            }
            maxDiff = Math.max(maxDiff, Math.abs(byLabel[i] - trainer[i]));
            compared++;
          }
        }
        headsDiffer |= !Arrays.equals(t.trainer.lastPredictions(0), t.trainer.lastPredictions(1));
      }
      System.out.printf(
          "parity %s: %d scores (%s) over 6 versions, max |replica - trainer| %.3g%n",
          encoding, compared, labels, maxDiff);
      // a replica answering the first head for every label fails only when the heads differ
      assertThat(headsDiffer).as("the two heads predict differently").isTrue();
      assertThat(replica.gaps() + replica.duplicates() + replica.badRecords()).isZero();
    }
  }

  /**
   * A trainer resumed with a changed configuration keeps its lineage and publishes the new spec
   * with its next version (here wide crosses turned on): from that version on the replica scores
   * with the new spec, exactly as the trainer. Versions 1–2 go out under a spec without crosses.
   */
  @Test
  void aSpecThatChangesWithinALineageIsWhatTheReplicaScoresWithFromItsVersionOn() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "spec-change";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    // a summed cross and summed wide weights, so that the spec without crosses goes out in the
    // first format
    ModelConfig summed =
        MODEL
            .withFactorisedCross(ModelConfig.FactorisedCross.SUM)
            .withWidePooling(ModelConfig.WidePooling.SUM);
    ModelConfig crosses = summed.withWideCrosses(ModelConfig.WideCrosses.REQUEST_IMPRESSION);
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(crosses, 9, 500, 300, RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      t.spec = summed;
      for (int v = 1; v <= 4; v++) {
        if (v == 3) {
          t.spec = crosses;
        }
        // the spec with crosses goes out in the format whose readers implement them
        float[] served =
            publishAndServe(
                t,
                producer,
                topic,
                replica,
                v,
                v >= 3 ? ModelUpdateEncoder.SPEC_FORMAT_2 : ModelUpdateEncoder.SPEC_FORMAT);
        if (v >= 3) {
          assertThat(served).as("version %d", v).containsExactly(t.trainer.lastPredictions());
        } else {
          // under the old spec the replica leaves the pairs' weights out
          assertThat(served).as("version %d", v).isNotEqualTo(t.trainer.lastPredictions());
        }
      }
      assertThat(replica.gaps() + replica.duplicates() + replica.badRecords()).isZero();
    }
  }

  /**
   * A model with the field-weighted cross goes out under the spec format whose readers implement
   * it, and the replica reads that format and scores with the pair weights exactly as the trainer;
   * with field-weighted wide crosses too, under the format after it, with the crosses' pair
   * weights; and so with the wide rows learnt by FTRL-Proximal, whose spec names the optimizer (a
   * training setting the replica reads past) and whose rows go out as Adagrad's do; and with the
   * wide weights pooled per feature (the default), under the format after that, a history's wide
   * weights their mean. A trainer started from another draw of the towers' weights ({@code
   * model.init-seed}) is served bit for bit as well: the replica reads no seed, only the weights.
   */
  @ParameterizedTest(name = "wide crosses {0}, wide rows by {1}, wide weights {2}, init seed {3}")
  @CsvSource({
    "none, adagrad, sum, 0",
    "field-weighted, adagrad, sum, 0",
    "field-weighted, ftrl, sum, 0",
    "none, adagrad, per-feature, 0",
    "field-weighted, ftrl, per-feature, 0",
    "none, adagrad, per-feature, 4242"
  })
  void aFieldWeightedModelIsServedUnderItsSpecFormatBitForBit(
      String crosses, String optimizer, String pooling, long initSeed) throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic =
        "field-weighted-" + crosses + "-" + optimizer + "-" + pooling + "-seed-" + initSeed;
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    ModelConfig weighted =
        MODEL
            .withFactorisedCross(ModelConfig.FactorisedCross.FIELD_WEIGHTED)
            .withWideCrosses(ModelConfig.WideCrosses.of(crosses))
            .withWideOptimizer(
                new ModelConfig.WideOptimizer(
                    ModelConfig.WideOptimizer.Kind.of(optimizer),
                    ModelConfig.WideOptimizer.DEFAULT_BETA,
                    ModelConfig.WideOptimizer.DEFAULT_L1,
                    ModelConfig.WideOptimizer.DEFAULT_L2))
            .withWidePooling(ModelConfig.WidePooling.of(pooling))
            .withInitSeed(initSeed);
    String format =
        pooling.equals("per-feature")
            ? ModelUpdateEncoder.SPEC_FORMAT_5
            : crosses.equals("none")
                ? ModelUpdateEncoder.SPEC_FORMAT_3
                : ModelUpdateEncoder.SPEC_FORMAT_4;
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(weighted, 17, 500, 300, RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      for (int v = 1; v <= 3; v++) {
        float[] served = publishAndServe(t, producer, topic, replica, v, format);
        assertThat(served).as("version %d", v).containsExactly(t.trainer.lastPredictions());
      }
      assertThat(replica.unreadableSpec()).isNull();
      assertThat(replica.gaps() + replica.duplicates() + replica.badRecords()).isZero();
    }
  }

  /**
   * A spec this replica cannot read (a format from a newer trainer) never scores: the replica keeps
   * serving the last version it can score, says why, and serves again once a spec it reads comes.
   */
  @Test
  void aSpecOfAnUnknownFormatFreezesTheServedVersionUntilAReadableSpecComes() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "spec-unknown-format";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(MODEL, 13, 500, 300, RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      long sent = 0;
      for (int v = 1; v <= 5; v++) {
        t.trainer.trainRequestUnits(t.units(64, 10));
        List<ModelUpdateRecord> records = t.publish();
        if (v == 3 || v == 4) {
          records = withSpecFormat(records, "streamrec-model-spec/9", v);
        }
        ModelUpdatesSupport.send(producer, topic, records);
        sent += records.size();
        if (v <= 2 || v == 5) {
          assertThat(replica.awaitVersion(v, WAIT)).as("version %d", v).isTrue();
        } else {
          long upTo = sent;
          // what the replica says of the newest spec, sampled while it reads (the unreadable spec
          // sends it back to the earliest offset, over the older, readable specs) and a while after
          List<String> said = new ArrayList<>();
          await(
              () -> {
                said.add(String.valueOf(replica.unreadableSpec()));
                return replica.recordsRead() >= upTo;
              },
              "the replica reads version " + v);
          for (long end = System.currentTimeMillis() + 300; System.currentTimeMillis() < end; ) {
            said.add(String.valueOf(replica.unreadableSpec()));
            Thread.sleep(1);
          }
          int first =
              said.indexOf(said.stream().filter(x -> !x.equals("null")).findFirst().orElse(""));
          assertThat(first).as("the unreadable spec is reported").isNotNegative();
          assertThat(said.subList(first, said.size()))
              .as("once reported, through the re-read it starts")
              .allMatch(x -> x.contains("streamrec-model-spec/9"));
          assertThat(replica.version()).as("served while version %d is unreadable", v).isEqualTo(2);
          assertThat(replica.ready()).isTrue();
          assertThat(replica.unreadableSpec()).contains("streamrec-model-spec/9");
          if (v == 4) {
            // a replica started now: its /healthz said the topic was perhaps not model-updates
            try (ModelReplica fresh = ModelReplica.start(bootstrap, topic);
                ScoringServer server =
                    ScoringServer.start(
                        fresh,
                        ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0)))) {
              await(() -> fresh.recordsRead() >= upTo, "the new replica reads the topic");
              JsonNode h =
                  new ObjectMapper()
                      .readTree(
                          HttpClient.newHttpClient()
                              .send(
                                  HttpRequest.newBuilder(
                                          URI.create(
                                              "http://127.0.0.1:" + server.port() + "/healthz"))
                                      .build(),
                                  HttpResponse.BodyHandlers.ofString())
                              .body());
              assertThat(h.path("reason").asText())
                  .as(h.toString())
                  .doesNotContain("is --topic the model-updates topic");
              // it serves the last version it can read, as the replica that was tailing does
              assertThat(fresh.awaitVersion(2, WAIT)).isTrue();
              assertThat(fresh.version()).isEqualTo(2);
              assertThat(fresh.ready()).isTrue();
              assertThat(fresh.unreadableSpec()).contains("streamrec-model-spec/9");
            }
          }
        }
      }
      assertThat(replica.unreadableSpec()).isNull();
      assertThat(replica.badRecords()).as("the two unreadable specs, each once").isEqualTo(2);
    }
  }

  /** The format of the spec among {@code records}. */
  /**
   * Trains 3 batches, publishes them as version {@code v}, whose spec must go out in {@code
   * format}, and waits until the replica serves it; then the replica's scores of the next 64 units,
   * which the trainer then trains on (so its {@code lastPredictions()} are the trainer's scores of
   * the same units under the same version).
   */
  private static float[] publishAndServe(
      ModelUpdatesSupport.Trainer t,
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      ModelReplica replica,
      int v,
      String format)
      throws Exception {
    for (int b = 0; b < 3; b++) {
      t.trainer.trainRequestUnits(t.units(64, 10));
    }
    List<ModelUpdateRecord> records = t.publish();
    assertThat(specFormat(records)).isEqualTo(format);
    ModelUpdatesSupport.send(producer, topic, records);
    assertThat(replica.awaitVersion(v, WAIT)).isTrue();
    List<RequestUnit> next = t.units(64, 10);
    float[] served = replica.score(next);
    t.trainer.trainRequestUnits(next);
    return served;
  }

  private static String specFormat(List<ModelUpdateRecord> records) {
    for (ModelUpdateRecord r : records) {
      if (Arrays.equals(r.key, ModelUpdateKeys.spec())) {
        return io.streamrec.schemas.AvroCodec.decode(r.value, io.streamrec.schemas.ModelSpec.class)
            .getFormat();
      }
    }
    throw new AssertionError("no spec among the records");
  }

  /** {@code records} with their spec's format replaced by {@code format}. */
  private static List<ModelUpdateRecord> withSpecFormat(
      List<ModelUpdateRecord> records, String format, long version) {
    List<ModelUpdateRecord> out = new ArrayList<>();
    for (ModelUpdateRecord r : records) {
      if (Arrays.equals(r.key, ModelUpdateKeys.spec())) {
        r.value =
            io.streamrec.schemas.AvroCodec.encode(
                io.streamrec.schemas.ModelSpec.newBuilder()
                    .setFormat(format)
                    .setJson(io.streamrec.model.ModelConfigJson.toJson(MODEL))
                    .setModel(MODEL_ID)
                    .setVersion(version)
                    .build());
      }
      out.add(r);
    }
    return out;
  }

  @Test
  void aReplicaStartedLateOnTheCompactedTopicReachesTheSameModelAndExpiredRowsAreGone()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String full = "history";
    ModelUpdatesSupport.createTopic(bootstrap, full);
    List<ModelUpdateRecord> all = new ArrayList<>();
    Set<String> expired = new LinkedHashSet<>();
    try (ModelUpdatesSupport.Trainer t =
            new ModelUpdatesSupport.Trainer(
                ModelUpdatesSupport.withTtl(MODEL, 2_000), 9, 3_000, 400, RowEncoding.FLOAT32);
        KafkaProducer<byte[], byte[]> producer = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica tailing = ModelReplica.start(bootstrap, full)) {
      for (int v = 1; v <= 10; v++) {
        for (int b = 0; b < 3; b++) {
          t.trainer.trainRequestUnits(t.units(64, 8));
        }
        List<ModelUpdateRecord> records = t.publish();
        for (ModelUpdateRecord r : records) {
          if (r.value == null) {
            expired.add(new String(r.key, StandardCharsets.UTF_8));
          }
        }
        all.addAll(records);
        ModelUpdatesSupport.send(producer, full, records);
      }
      assertThat(t.tombstones).as("rows expired during the run").isPositive();
      assertThat(tailing.awaitVersion(10, WAIT)).isTrue();

      List<RequestUnit> probe = t.units(200, 8);
      float[] want = tailing.score(probe);
      List<String> compactedTopics =
          List.of("compacted-with-tombstones", "compacted-after-delete-retention");
      for (String topic : compactedTopics) {
        List<ModelUpdateRecord> compacted =
            ModelUpdatesSupport.compact(all, topic.endsWith("tombstones"));
        assertThat(compacted.size()).isLessThan(all.size());
        ModelUpdatesSupport.createTopic(bootstrap, topic);
        ModelUpdatesSupport.send(producer, topic, compacted);
        try (ModelReplica late = ModelReplica.start(bootstrap, topic)) {
          assertThat(late.awaitVersion(10, WAIT)).isTrue();
          assertThat(late.version()).isEqualTo(10);
          assertThat(late.rows()).as(topic).isEqualTo(tailing.rows());
          for (ModelUpdateRecord r : compacted) {
            String key = new String(r.key, StandardCharsets.UTF_8);
            if (ModelUpdateKeys.isRow(key)) {
              String table = ModelUpdateKeys.rowTable(key);
              long id = ModelUpdateKeys.rowId(key);
              assertThat(late.row(table, id)).as(key).isEqualTo(tailing.row(table, id));
            }
          }
          assertThat(late.score(probe)).as(topic).isEqualTo(want);
          assertThat(late.gaps() + late.duplicates()).isZero();
        }
      }
      // a row whose latest record is its tombstone is in neither replica
      int gone = 0;
      for (ModelUpdateRecord r : ModelUpdatesSupport.compact(all, true)) {
        String key = new String(r.key, StandardCharsets.UTF_8);
        if (r.value == null) {
          assertThat(tailing.row(ModelUpdateKeys.rowTable(key), ModelUpdateKeys.rowId(key)))
              .as(key)
              .isNull();
          gone++;
        }
      }
      assertThat(gone).isPositive();
      System.out.printf(
          "compaction: %d records in full, %d after compaction; %d rows expired, %d rows served%n",
          all.size(),
          ModelUpdatesSupport.compact(all, false).size(),
          expired.size(),
          tailing.rows());
    }
  }

  // ---- hand-written streams

  private static final String TABLE = "item_id";

  /**
   * Version {@code v}: rows {@code ids} all set to {@code v}, tombstones for {@code expired}, the
   * marker unless {@code open}.
   */
  private static List<ModelUpdateRecord> version(
      long v, long[] ids, long[] expired, boolean withMarker) {
    List<ModelUpdateRecord> out = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(MODEL_ID, v, v * 1_000, out::add);
    if (v == 1) {
      enc.spec(ModelConfigJson.toJson(MODEL));
    }
    float[] row = new float[MODEL.embeddingDim()];
    java.util.Arrays.fill(row, v);
    for (long id : ids) {
      enc.row(TABLE, id, row, 0, row.length);
    }
    for (long id : expired) {
      enc.tombstone(TABLE, id);
    }
    if (withMarker) {
      enc.close(VersionMarker.newBuilder().setPublishedAtMs(System.currentTimeMillis()));
    }
    return out;
  }

  private static long[] ids(long... ids) {
    return ids;
  }

  @Test
  void aHalfPublishedVersionIsNeverVisibleAndATombstoneRemovesItsRow() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "half";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2, 3), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(1f);

      // version 2's rows and tombstone, without its marker: the replica reads them and shows none
      List<ModelUpdateRecord> v2 = version(2, ids(2, 4), ids(3), true);
      ModelUpdatesSupport.send(p, topic, v2.subList(0, v2.size() - 1));
      awaitCaughtUp(replica);
      assertThat(replica.version()).isEqualTo(1);
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(1f);
      assertThat(replica.row(TABLE, 3)).isNotNull();
      assertThat(replica.row(TABLE, 4)).isNull();

      // a replica that bootstraps now sees version 1 only, too
      try (ModelReplica late = ModelReplica.start(bootstrap, topic)) {
        assertThat(late.awaitVersion(1, WAIT)).isTrue();
        awaitCaughtUp(late);
        assertThat(late.version()).isEqualTo(1);
        assertThat(late.row(TABLE, 4)).isNull();
        assertThat(late.row(TABLE, 3)).isNotNull();
      }

      // the marker makes all of version 2 visible at once; the expired row is gone
      ModelUpdatesSupport.send(p, topic, v2.subList(v2.size() - 1, v2.size()));
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(2f);
      assertThat(replica.row(TABLE, 4)[0]).isEqualTo(2f);
      assertThat(replica.row(TABLE, 1)[0]).isEqualTo(1f);
      assertThat(replica.row(TABLE, 3)).isNull();
      assertThat(replica.rows()).isEqualTo(3);
      assertThat(replica.gaps() + replica.duplicates()).isZero();
    }
  }

  /**
   * A transaction left open on the topic (a trainer killed inside an exactly-once publish, then
   * started again at-least-once) holds every reader of committed records back, the versions
   * published after it included. The replica had read to the committed end, so it reported no lag
   * and no staleness while it served the version before; now the records waiting past the committed
   * end count, and so does the time it has stood still.
   */
  @Test
  void aTransactionLeftOpenOnTheTopicMakesTheReplicaStaleNotCaughtUp() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "held";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    java.util.Properties tx = new java.util.Properties();
    tx.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    tx.put(org.apache.kafka.clients.producer.ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-held");
    tx.put(
        org.apache.kafka.clients.producer.ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
        org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    tx.put(
        org.apache.kafka.clients.producer.ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
        org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        KafkaProducer<byte[], byte[]> killed = new KafkaProducer<>(tx);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      awaitCaughtUp(replica);
      assertThat(replica.uncommittedRecords()).isZero();

      // the killed trainer's version 2, never committed; the restarted trainer's version 2 after it
      killed.initTransactions();
      killed.beginTransaction();
      ModelUpdatesSupport.send(killed, topic, version(2, ids(1), ids(), true));
      killed.flush();
      ModelUpdatesSupport.send(p, topic, version(2, ids(2), ids(), true));
      await(() -> replica.uncommittedRecords() >= 4, "records past the committed end");
      Thread.sleep(3_000);
      assertThat(replica.version()).as("held at the version before").isEqualTo(1);
      assertThat(replica.lag()).as("nothing committed left to read").isZero();
      assertThat(replica.staleMs())
          .as("stale since the committed end stood still: %s ms held", replica.heldMs())
          .isGreaterThan(1_500);

      // the broker aborts it (here its producer does): the version after it is read
      killed.abortTransaction();
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      awaitCaughtUp(replica);
      await(() -> replica.uncommittedRecords() == 0, "nothing past the committed end");
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(2f);
      assertThat(replica.row(TABLE, 1)[0]).as("the aborted version's row").isEqualTo(1f);
      await(() -> replica.staleMs() < 1_500, "fresh again");
    }
  }

  @Test
  void aRowWhoseWidthIsNotItsTablesIsCountedAndSkippedWhileTheRestOfItsVersionApplies()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "widths";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();

      // 3 values in a table of 16
      ModelUpdatesSupport.send(p, topic, version2WithAnOddRow(TABLE, 1, 3));
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();

      assertThat(replica.badRecords()).isEqualTo(1);
      assertThat(replica.row(TABLE, 1)).hasSize(MODEL.embeddingDim()).containsOnly(1f);
      assertThat(replica.row(TABLE, 2)).hasSize(MODEL.embeddingDim()).containsOnly(2f);
      assertThat(replica.rows()).isEqualTo(2);
    }
  }

  /**
   * Version 2 of the model: row {@code id} of {@code table} with its first {@code values} values
   * alone (a row of another width than its table's), then row 2 of {@link #TABLE} whole; every
   * value 2.
   */
  private static List<ModelUpdateRecord> version2WithAnOddRow(String table, long id, int values) {
    List<ModelUpdateRecord> v2 = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(MODEL_ID, 2, 2_000, v2::add);
    float[] row = new float[MODEL.embeddingDim()];
    java.util.Arrays.fill(row, 2);
    enc.row(table, id, row, 0, values);
    enc.row(TABLE, 2, row, 0, row.length);
    enc.close(VersionMarker.newBuilder().setPublishedAtMs(System.currentTimeMillis()));
    return v2;
  }

  /**
   * A row of no values, the first of its table: the replica made the table of width 0, which threw,
   * and stopped for good (and every replica started on the compacted topic after it). It is counted
   * and skipped, as any row of the wrong width, while tailing and in a bootstrap.
   */
  @Test
  void aRowOfNoValuesIsCountedAndSkippedWhereTheReplicaStopped() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "empty-row";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();

      // no values, the first row of its table
      ModelUpdatesSupport.send(p, topic, version2WithAnOddRow("user_id", 7, 0));
      try (ModelReplica late = ModelReplica.start(bootstrap, topic)) {
        for (ModelReplica r : List.of(replica, late)) {
          assertThat(r.awaitVersion(2, WAIT)).isTrue();
          assertThat(r.failure()).isNull();
          assertThat(r.state()).isEqualTo(ModelReplica.State.SERVING);
          assertThat(r.badRecords()).isEqualTo(1);
          assertThat(r.row("user_id", 7)).isNull();
          assertThat(r.row(TABLE, 2)).containsOnly(2f);
          assertThat(r.rows()).isEqualTo(2);
        }
      }
    }
  }

  /**
   * A table's width was its first row's: a wrong-width row that came first (on every bootstrap, in
   * the topic's key order) had every correct row after it refused, and a row wider than the spec's
   * would overrun the scorer's buffer. The spec gives the width; the odd row is refused.
   */
  @Test
  void aTablesRowWidthIsTheSpecsSoAWrongFirstRowIsRefusedNotTheRest() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "width-from-spec";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      List<ModelUpdateRecord> v1 = new ArrayList<>();
      ModelUpdateEncoder enc = new ModelUpdateEncoder(MODEL_ID, 1, 1_000, v1::add);
      enc.spec(ModelConfigJson.toJson(MODEL));
      float[] row = new float[2 * MODEL.embeddingDim()];
      java.util.Arrays.fill(row, 1f);
      enc.row(TABLE, 1, row, 0, 3); // 3 values in a table of 16, first
      enc.row(TABLE, 2, row, 0, MODEL.embeddingDim());
      enc.row("user_id", 5, row, 0, row.length); // 32 values, first
      enc.row("user_id", 6, row, 0, MODEL.embeddingDim());
      enc.dense("linear", linear(1f));
      enc.close(VersionMarker.newBuilder().setPublishedAtMs(System.currentTimeMillis()));
      ModelUpdatesSupport.send(p, topic, v1);
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      assertThat(replica.row(TABLE, 2)).hasSize(MODEL.embeddingDim());
      assertThat(replica.row("user_id", 6)).hasSize(MODEL.embeddingDim());
      assertThat(replica.row(TABLE, 1)).isNull();
      assertThat(replica.row("user_id", 5)).isNull();
      assertThat(replica.badRecords()).isEqualTo(2);
      assertThat(replica.rows()).isEqualTo(2);
    }
  }

  /**
   * A row refused for its width while the replica tails (a bad record, counted) leaves the served
   * model a row short of its markers' counts for as long as the topic holds it: the versions after
   * it are served, and the topic is not read again for each (reading it again would not mend it).
   */
  @Test
  void aRowRefusedWhileTailingLeavesTheNextVersionsServed() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "refused-while-tailing";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    float[] row = new float[MODEL.embeddingDim()];
    java.util.Arrays.fill(row, 1f);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      for (int v = 1; v <= 3; v++) {
        List<ModelUpdateRecord> out = new ArrayList<>();
        ModelUpdateEncoder enc = new ModelUpdateEncoder(MODEL_ID, v, v * 1_000L, out::add);
        if (v == 1) {
          enc.spec(ModelConfigJson.toJson(MODEL));
          enc.row(TABLE, 1, row, 0, row.length);
        } else if (v == 2) {
          enc.row(TABLE, 2, row, 0, 3); // 3 values in a table of 16
          enc.row(TABLE, 3, row, 0, row.length);
        } else {
          enc.row(TABLE, 4, row, 0, row.length);
        }
        enc.dense("linear", linear(v));
        enc.close(
            VersionMarker.newBuilder()
                .setPublishedAtMs(System.currentTimeMillis())
                .setLiveRows(v == 1 ? 1 : v + 1));
        ModelUpdatesSupport.send(p, topic, out);
        assertThat(replica.awaitVersion(v, WAIT)).as("version %d served", v).isTrue();
      }
      assertThat(replica.badRecords()).isEqualTo(1);
      assertThat(replica.rows()).isEqualTo(3);
      assertThat(replica.rereads()).isZero();
    }
  }

  /**
   * A spec of a known format whose JSON is not a model configuration ({@code []}, a field of the
   * wrong type) escaped as the JSON library's own exception and stopped the replica. It is an
   * unreadable spec: counted, reported, and the served version kept until a readable one comes.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"[]", "", "{\"categorical\": 5}"})
  void aSpecWhoseJsonIsNotAModelConfigurationIsCountedAndTheServedVersionKept(String json)
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "spec-not-a-config-" + Integer.toHexString(json.hashCode());
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();

      List<ModelUpdateRecord> v2 = new ArrayList<>();
      ModelUpdateEncoder enc = new ModelUpdateEncoder(MODEL_ID, 2, 2_000, v2::add);
      enc.spec(json);
      v2.addAll(version(2, ids(2), ids(), true));
      ModelUpdatesSupport.send(p, topic, v2);
      await(
          () -> replica.unreadableSpec() != null || replica.failure() != null,
          "the unreadable spec is reported");
      assertThat(replica.failure()).isNull();
      assertThat(replica.badRecords()).isEqualTo(1);
      assertThat(replica.version()).isEqualTo(1);

      List<ModelUpdateRecord> v3 = new ArrayList<>();
      new ModelUpdateEncoder(MODEL_ID, 3, 3_000, v3::add).spec(ModelConfigJson.toJson(MODEL));
      v3.addAll(version(3, ids(3), ids(), true));
      ModelUpdatesSupport.send(p, topic, v3);
      assertThat(replica.awaitVersion(3, WAIT)).isTrue();
      assertThat(replica.unreadableSpec()).isNull();
      assertThat(replica.row(TABLE, 3)).containsOnly(3f);
    }
  }

  /**
   * Records that are not model updates are counted once: every re-read of the topic counted them
   * again (2, then 5, then 9 with no new one), so an alert on the counter's increase fired on each
   * re-read.
   */
  @Test
  void recordsThatAreNotModelUpdatesAreCountedOnceWhateverTheReReads() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "garbage";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      for (String key : List.of("bogus-key", "row/item_id/12345")) {
        p.send(
                new org.apache.kafka.clients.producer.ProducerRecord<>(
                    topic, 0, key.getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3}))
            .get();
      }
      ModelUpdatesSupport.send(p, topic, version(2, ids(2), ids(), true));
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      assertThat(replica.badRecords()).isEqualTo(2);
      // gaps make the replica read the topic again from its earliest offset, twice
      ModelUpdatesSupport.send(p, topic, version(4, ids(3), ids(), true));
      assertThat(replica.awaitVersion(4, WAIT)).isTrue();
      ModelUpdatesSupport.send(p, topic, version(6, ids(3), ids(), true));
      assertThat(replica.awaitVersion(6, WAIT)).isTrue();
      awaitServing(replica);
      assertThat(replica.rereads()).isEqualTo(2);
      assertThat(replica.badRecords()).as("the same two records").isEqualTo(2);
    }
  }

  @Test
  void aGapOrARepeatWhileTailingIsRecoveredByReReadingAndTheServedVersionNeverGoesBack()
      throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "gaps";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      ModelUpdatesSupport.send(p, topic, version(2, ids(2), ids(), true));
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      assertThat(replica.rereads()).isZero();

      // version 3 never arrives (say compaction took its marker while the replica lagged); 4 does
      ModelUpdatesSupport.send(p, topic, version(4, ids(3), ids(1), true));
      assertThat(replica.awaitVersion(4, WAIT)).isTrue();
      awaitServing(replica);
      assertThat(replica.gaps()).isEqualTo(1);
      assertThat(replica.rereads()).isEqualTo(1);
      // the re-read model is the topic's: everything up to version 4's marker
      assertThat(replica.row(TABLE, 1)).isNull();
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(2f);
      assertThat(replica.row(TABLE, 3)[0]).isEqualTo(4f);

      // a restarted trainer publishes version 3 again: a repeat; the replica re-reads the topic
      // but keeps serving version 4 until the re-read model reaches it (never back in version)
      long applied = replica.versionsApplied();
      ModelUpdatesSupport.send(p, topic, version(3, ids(2), ids(), true));
      // the re-read applies the topic's four markers (1, 2, 4, 3) to its model
      await(() -> replica.versionsApplied() >= applied + 4, "the re-read");
      Thread.sleep(500); // the re-read model (version 3) is whole now: it must not be served
      assertThat(replica.duplicates()).isEqualTo(1);
      assertThat(replica.rereads()).isEqualTo(2);
      assertThat(replica.version()).isEqualTo(4);
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(2f);
      assertThat(replica.state()).isEqualTo(ModelReplica.State.REREADING);
      assertThat(replica.gaps()).isEqualTo(1);

      // the trainer's version 4 brings the re-read model to the served version: it is served
      ModelUpdatesSupport.send(p, topic, version(4, ids(5), ids(), true));
      long deadline = System.currentTimeMillis() + WAIT.toMillis();
      while ((replica.row(TABLE, 5) == null || replica.state() != ModelReplica.State.SERVING)
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertThat(replica.version()).isEqualTo(4);
      assertThat(replica.row(TABLE, 5)[0]).isEqualTo(4f);
      assertThat(replica.row(TABLE, 2)[0]).isEqualTo(3f);
      assertThat(replica.state()).isEqualTo(ModelReplica.State.SERVING);
      assertThat(replica.rereads()).isEqualTo(2);

      // and it tails on from there
      ModelUpdatesSupport.send(p, topic, version(5, ids(6), ids(), true));
      assertThat(replica.awaitVersion(5, WAIT)).isTrue();
      assertThat(replica.row(TABLE, 6)[0]).isEqualTo(5f);
      assertThat(replica.rereads()).isEqualTo(2);
    }
  }

  // ---- lineage and completeness
  /**
   * The topic deleted and made again under a tailing replica, and the job, restarted from an older
   * checkpoint, publishing its next version (2, the whole model) there. The replica's consumer
   * jumped back to offset 0 unnoticed and applied that version to the served model: it went from
   * version 3 back to 2, holding the old topic's rows beside the new. It notices the offsets went
   * back, re-reads, and keeps serving version 3 until the new topic's model reaches it.
   */
  @Test
  void aTopicMadeAgainIsReadAgainAndTheServedVersionNeverGoesBack() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "made-again";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    long[] many = new long[40];
    Arrays.setAll(many, i -> 100 + i);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        org.apache.kafka.clients.admin.Admin admin =
            org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.of("bootstrap.servers", bootstrap))) {
      ModelUpdatesSupport.send(
          p, topic, lineageVersion(MODEL_A, 1, true, ids(1, 2, 3), 1f, ids(), 3));
      ModelUpdatesSupport.send(p, topic, lineageVersion(MODEL_A, 2, true, ids(2), 2f, ids(), 3));
      ModelUpdatesSupport.send(p, topic, lineageVersion(MODEL_A, 3, true, many, 3f, ids(), 43));
      try (ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
        assertThat(replica.awaitVersion(3, WAIT)).isTrue();
        awaitCaughtUp(replica);
        java.util.concurrent.atomic.AtomicLong lowest =
            new java.util.concurrent.atomic.AtomicLong(3);
        java.util.concurrent.atomic.AtomicBoolean watching =
            new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread watcher =
            new Thread(
                () -> {
                  while (watching.get()) {
                    lowest.accumulateAndGet(replica.version(), Math::min);
                  }
                });
        watcher.start();
        try {
          admin.deleteTopics(List.of(topic)).all().get();
          await(
              () -> {
                try {
                  return !admin.listTopics().names().get().contains(topic);
                } catch (Exception e) {
                  return false;
                }
              },
              "the topic is gone");
          ModelUpdatesSupport.createTopic(bootstrap, topic);
          // the restored trainer's next version: the whole model as of version 2
          ModelUpdatesSupport.send(
              p, topic, lineageVersion(MODEL_A, 2, true, ids(1, 2), 20f, ids(), 2));
          await(() -> replica.rereads() == 1, "the replica notices and reads the topic again");
          await(() -> replica.versionsApplied() >= 4, "the new topic's version 2 read");
          awaitCaughtUp(replica);
          assertThat(replica.version()).isEqualTo(3);
          assertThat(replica.state()).isEqualTo(ModelReplica.State.REREADING);

          // its version 3 reaches the served one: the new topic's model is served, and only it
          ModelUpdatesSupport.send(
              p, topic, lineageVersion(MODEL_A, 3, false, ids(1), 30f, ids(), 2));
          await(
              () -> replica.state() == ModelReplica.State.SERVING && replica.rows() == 2,
              "the new topic's version 3 served");
        } finally {
          watching.set(false);
          watcher.join();
        }
        assertThat(lowest.get()).as("the lowest version served").isEqualTo(3);
        assertThat(replica.version()).isEqualTo(3);
        assertThat(held(replica, 1, 2, 3, 100, 139)).isEqualTo(java.util.Map.of(1L, 30f, 2L, 20f));
        assertThat(replica.failure()).isNull();
        assertThat(replica.badRecords()).isZero();
      }
    }
  }

  private static final long MODEL_A = 0x0a0a_0000_0000_0001L;
  private static final long MODEL_B = 0x0b0b_0000_0000_0002L;

  /**
   * Version {@code v} of lineage {@code model}: the spec when {@code withSpec}, rows {@code ids}
   * all set to {@code value}, tombstones for {@code expired}, a dense block, and the marker telling
   * {@code liveRows}.
   */
  private static List<ModelUpdateRecord> lineageVersion(
      long model,
      long v,
      boolean withSpec,
      long[] ids,
      float value,
      long[] expired,
      long liveRows) {
    List<ModelUpdateRecord> out = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(model, v, v * 1_000, out::add);
    if (withSpec) {
      enc.spec(ModelConfigJson.toJson(MODEL));
    }
    for (long id : expired) {
      enc.tombstone(TABLE, id);
    }
    float[] row = new float[MODEL.embeddingDim()];
    java.util.Arrays.fill(row, value);
    for (long id : ids) {
      enc.row(TABLE, id, row, 0, row.length);
    }
    enc.dense("linear", linear(value));
    enc.close(
        VersionMarker.newBuilder()
            .setPublishedAtMs(System.currentTimeMillis())
            .setLiveRows(liveRows));
    return out;
  }

  /** The ids of {@code TABLE} among {@code candidates} the replica holds, and their values. */
  private static java.util.Map<Long, Float> held(ModelReplica r, long... candidates) {
    java.util.Map<Long, Float> out = new java.util.TreeMap<>();
    for (long id : candidates) {
      float[] row = r.row(TABLE, id);
      if (row != null) {
        out.put(id, row[0]);
      }
    }
    return out;
  }

  @Test
  void aTopicWithRowsOfTwoLineagesNeverYieldsAMixedModel() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "two-lineages";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    long[] all = ids(1, 2, 3, 4, 5);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica tailing = ModelReplica.start(bootstrap, topic)) {
      // model A: rows 1, 2, 3 at 1.0, then 2 and 3 at 2.0
      ModelUpdatesSupport.send(
          p, topic, lineageVersion(MODEL_A, 1, true, ids(1, 2, 3), 1f, ids(), 3));
      ModelUpdatesSupport.send(p, topic, lineageVersion(MODEL_A, 2, true, ids(2, 3), 2f, ids(), 3));
      assertThat(tailing.awaitVersion(2, WAIT)).isTrue();
      assertThat(held(tailing, all)).isEqualTo(java.util.Map.of(1L, 1f, 2L, 2f, 3L, 2f));

      // model B on the same topic, without tombstones for A's rows (a second backfill onto the
      // topic), and one row of A written inside B's publish
      List<ModelUpdateRecord> b1 = lineageVersion(MODEL_B, 1, true, ids(2, 4), 10f, ids(), 2);
      List<ModelUpdateRecord> strayA = lineageVersion(MODEL_A, 3, false, ids(5), 3f, ids(), 4);
      b1.add(b1.size() - 1, strayA.get(0)); // A's row 5, before B's marker
      java.util.concurrent.atomic.AtomicBoolean mixed =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicBoolean watching =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread watcher =
          new Thread(
              () -> {
                while (watching.get()) {
                  // the dense block first: once it is B's, B's model is served from then on
                  float[] dense = tailing.denseBlock("linear");
                  java.util.Map<Long, Float> rows = held(tailing, all);
                  if (dense != null
                      && dense[0] == 10f
                      && (rows.containsKey(1L) || rows.containsKey(3L) || rows.containsKey(5L))) {
                    mixed.set(true);
                  }
                }
              });
      watcher.start();
      ModelUpdatesSupport.send(p, topic, b1);
      long deadline = System.currentTimeMillis() + WAIT.toMillis();
      while ((tailing.lineage() != MODEL_B || tailing.state() != ModelReplica.State.SERVING)
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      watching.set(false);
      watcher.join();
      assertThat(tailing.lineage()).isEqualTo(MODEL_B);
      assertThat(tailing.version()).isEqualTo(1);
      assertThat(held(tailing, all)).isEqualTo(java.util.Map.of(2L, 10f, 4L, 10f));
      assertThat(tailing.denseBlock("linear")).hasSize(LINEAR).containsOnly(10f);
      assertThat(tailing.lineageSwitches()).isEqualTo(1);
      assertThat(tailing.foreignEntries()).as("A's row inside B's version").isPositive();
      assertThat(mixed.get()).as("a model of B with a row of A was served").isFalse();

      // a replica that starts now, on the whole topic or on what compaction leaves, serves B only
      List<ModelUpdateRecord> everything = new ArrayList<>();
      everything.addAll(lineageVersion(MODEL_A, 1, true, ids(1, 2, 3), 1f, ids(), 3));
      everything.addAll(lineageVersion(MODEL_A, 2, true, ids(2, 3), 2f, ids(), 3));
      everything.addAll(b1);
      String compacted = "two-lineages-compacted";
      ModelUpdatesSupport.createTopic(bootstrap, compacted);
      ModelUpdatesSupport.send(p, compacted, ModelUpdatesSupport.compact(everything, true));
      for (String t : List.of(topic, compacted)) {
        try (ModelReplica late = ModelReplica.start(bootstrap, t)) {
          assertThat(late.awaitVersion(1, WAIT)).as(t).isTrue();
          awaitCaughtUp(late);
          assertThat(late.lineage()).as(t).isEqualTo(MODEL_B);
          assertThat(held(late, all)).as(t).isEqualTo(java.util.Map.of(2L, 10f, 4L, 10f));
          assertThat(late.rows()).as(t).isEqualTo(2);
        }
      }
    }
  }

  /**
   * A replacing trainer (B) writes its spec and the tombstones of A's rows, and before B's marker
   * A's trainer, still running, publishes its next version. The tailing replica applied B's
   * tombstones with A's marker and served "A version 2" of one row where A holds three, until B's
   * model was read whole. A version that would leave the served model short of its marker's rows is
   * not applied: the replica re-reads, serving A's version 1 until B's model is whole.
   */
  @Test
  void aVersionThatWouldLeaveTheServedModelShortOfRowsIsNotServed() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "interleaved-replace";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
      ModelUpdatesSupport.send(
          p, topic, lineageVersion(MODEL_A, 1, true, ids(1, 2, 3), 1f, ids(), 3));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      java.util.concurrent.atomic.AtomicBoolean shortServed =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicBoolean watching =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread watcher =
          new Thread(
              () -> {
                while (watching.get()) {
                  // rows first: the swap to B is one way, so a lineage read after them is as new
                  long rows = replica.rows();
                  if (replica.lineage() == MODEL_A && rows < 3) {
                    shortServed.set(true);
                  }
                }
              });
      watcher.start();
      try {
        List<ModelUpdateRecord> b1 = lineageVersion(MODEL_B, 1, true, ids(4), 10f, ids(1, 2, 3), 1);
        ModelUpdatesSupport.send(p, topic, b1.subList(0, 4)); // B's spec and tombstones
        ModelUpdatesSupport.send(p, topic, lineageVersion(MODEL_A, 2, true, ids(2), 2f, ids(), 3));
        await(() -> replica.rereads() == 1, "the replica reads the topic again");
        await(() -> replica.state() == ModelReplica.State.REREADING, "the replica re-reads");
        awaitCaughtUp(replica);
        assertThat(replica.version()).isEqualTo(1);
        assertThat(replica.lineage()).isEqualTo(MODEL_A);
        assertThat(held(replica, 1, 2, 3, 4)).isEqualTo(java.util.Map.of(1L, 1f, 2L, 1f, 3L, 1f));
        assertThat(replica.state()).isEqualTo(ModelReplica.State.REREADING);

        // B's publish ends, and its next version repeats its spec (A's came after B's first): its
        // model, whole, is served
        ModelUpdatesSupport.send(p, topic, b1.subList(4, b1.size()));
        ModelUpdatesSupport.send(p, topic, lineageVersion(MODEL_B, 2, true, ids(), 0f, ids(), 1));
        await(
            () -> replica.lineage() == MODEL_B && replica.state() == ModelReplica.State.SERVING,
            "B's model served");
      } finally {
        watching.set(false);
        watcher.join();
      }
      assertThat(held(replica, 1, 2, 3, 4)).isEqualTo(java.util.Map.of(4L, 10f));
      assertThat(shortServed.get()).as("a model of A short of its rows was served").isFalse();
    }
  }

  @Test
  void aReplicaOnATopicThatLostItsHeadIsReadyOnlyOnceItHoldsTheWholeModel() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "lost-head";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap)) {
      // what a new broker holds of a model of 6 rows: version 40 without its spec (say, written by
      // a release that published it once) and 2 of the rows
      List<ModelUpdateRecord> v40 = lineageVersion(MODEL_A, 40, false, ids(1, 2), 40f, ids(), 6);
      ModelUpdatesSupport.send(p, topic, v40);
      try (ModelReplica replica = ModelReplica.start(bootstrap, topic);
          ScoringServer server =
              ScoringServer.start(
                  replica,
                  ScoringServer.Settings.defaults(new InetSocketAddress("127.0.0.1", 0)))) {
        await(() -> replica.versionsApplied() == 1, "version 40 applied");
        awaitCaughtUp(replica);
        assertThat(replica.ready()).isFalse();
        assertThat(replica.version()).isZero();
        assertThat(replica.missingRows()).isEqualTo(4);

        // the trainer's next versions repeat the spec and re-publish slices of the rows
        ModelUpdatesSupport.send(
            p, topic, lineageVersion(MODEL_A, 41, true, ids(3, 4), 41f, ids(), 6));
        await(() -> replica.versionsApplied() == 2, "version 41 applied");
        awaitCaughtUp(replica);
        assertThat(replica.ready()).as("2 rows still missing").isFalse();
        assertThat(replica.missingRows()).isEqualTo(2);
        HttpResponse<String> health =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(503);
        JsonNode h = new ObjectMapper().readTree(health.body());
        assertThat(h.get("missing_rows").asLong()).as(health.body()).isEqualTo(2);
        assertThat(h.get("reason").asText()).contains("2 rows");
        assertThatThrownBy(() -> replica.score(List.of()))
            .isInstanceOf(IllegalStateException.class);

        ModelUpdatesSupport.send(
            p, topic, lineageVersion(MODEL_A, 42, true, ids(5, 6, 1), 42f, ids(), 6));
        assertThat(replica.awaitVersion(42, WAIT)).isTrue();
        assertThat(replica.ready()).isTrue();
        assertThat(replica.rows()).isEqualTo(6);
        assertThat(replica.missingRows()).isZero();
        assertThat(held(replica, 1, 2, 3, 4, 5, 6))
            .isEqualTo(java.util.Map.of(1L, 42f, 2L, 40f, 3L, 41f, 4L, 41f, 5L, 42f, 6L, 42f));
        assertThat(replica.gaps() + replica.duplicates() + replica.rereads()).isZero();

        // another model's first version, short of rows: the replica re-reads into it while version
        // 42 serves, and what keeps the rebuild from being served is its own missing rows (this
        // said the served model's 0 while a re-read waited)
        ModelUpdatesSupport.send(
            p, topic, lineageVersion(MODEL_B, 1, true, ids(7, 8), 1f, ids(), 5));
        await(() -> replica.missingRows() == 3, "the rebuild's 3 missing rows");
        assertThat(replica.version()).as("still serving").isEqualTo(42);
      }
    }
  }

  /**
   * Partitions added to the topic while a replica reads it (by hand, or by a policy over every
   * topic). The replica had counted them once, at its start: it went on reading its one partition
   * while a trainer spread its records over the others, and served versions without them, healthy.
   * Now it serves on while the others are empty (the trainer writes partition 0 only), and stops,
   * saying why, once one holds a record.
   */
  @Test
  void aTopicThatGainsPartitionsIsServedOnlyWhileTheModelIsWholeInTheOneRead() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "grown";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        ModelReplica replica = ModelReplica.start(bootstrap, topic);
        org.apache.kafka.clients.admin.Admin admin =
            org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.of("bootstrap.servers", bootstrap))) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      assertThat(replica.awaitVersion(1, WAIT)).isTrue();
      admin
          .createPartitions(
              java.util.Map.of(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(2)))
          .all()
          .get();
      await(() -> replica.topicPartitions() == 2, "the replica counts the partition added");
      ModelUpdatesSupport.send(p, topic, version(2, ids(2, 3), ids(), true));
      assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      assertThat(replica.state()).isEqualTo(ModelReplica.State.SERVING);
      assertThat(replica.failure()).isNull();

      // a record of version 3 in the other partition, the rest and its marker in partition 0: the
      // replica would serve version 3 without it
      List<ModelUpdateRecord> v3 = version(3, ids(3, 4), ids(), true);
      ModelUpdateRecord stray = v3.get(0);
      p.send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  topic, 1, stray.timestampMs, stray.key, stray.value))
          .get();
      ModelUpdatesSupport.send(p, topic, v3.subList(1, v3.size()));
      await(() -> replica.state() == ModelReplica.State.FAILED, "the replica stops");
      assertThat(replica.failure())
          .hasMessageContaining("has 2 partitions, and partition 1 holds 1 record:")
          .hasMessageContaining("the model is published in pieces");
    }
  }

  /**
   * A replica started on a topic that grew partitions around its model (the others empty) refused
   * it, so that every replica restarted after partitions were added stopped, and the only way back
   * (making the topic again) took the model from them until the trainer's next version. It serves
   * partition 0 now; a topic made with two partitions, nothing in it yet, is still refused.
   */
  @Test
  void aReplicaStartedOnATopicThatGrewAroundItsModelServesIt() throws Exception {
    String bootstrap = KAFKA.bootstrapServers();
    String topic = "grown-before";
    ModelUpdatesSupport.createTopic(bootstrap, topic);
    try (KafkaProducer<byte[], byte[]> p = ModelUpdatesSupport.producer(bootstrap);
        org.apache.kafka.clients.admin.Admin admin =
            org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.of("bootstrap.servers", bootstrap))) {
      ModelUpdatesSupport.send(p, topic, version(1, ids(1, 2), ids(), true));
      admin
          .createPartitions(
              java.util.Map.of(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(3)))
          .all()
          .get();
      try (ModelReplica replica = ModelReplica.start(bootstrap, topic)) {
        assertThat(replica.awaitVersion(1, WAIT)).isTrue();
        assertThat(replica.state()).isEqualTo(ModelReplica.State.SERVING);
        assertThat(replica.topicPartitions()).isEqualTo(3);
        ModelUpdatesSupport.send(p, topic, version(2, ids(2, 3), ids(), true));
        assertThat(replica.awaitVersion(2, WAIT)).isTrue();
      }
      admin
          .createTopics(
              List.of(new org.apache.kafka.clients.admin.NewTopic("made-two", 2, (short) 1)))
          .all()
          .get();
      try (ModelReplica replica = ModelReplica.start(bootstrap, "made-two")) {
        await(() -> replica.state() == ModelReplica.State.FAILED, "the replica refuses it");
        assertThat(replica.failure())
            .hasMessageContaining("has 2 partitions; the model-update protocol needs exactly 1");
      }
    }
  }

  private static void await(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT.toMillis();
    while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  private static void awaitCaughtUp(ModelReplica r) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT.toMillis();
    while (r.lag() != 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(300); // a poll past the end
    assertThat(r.lag()).isZero();
  }

  private static void awaitServing(ModelReplica r) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT.toMillis();
    while (r.state() != ModelReplica.State.SERVING && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(r.state()).isEqualTo(ModelReplica.State.SERVING);
  }
}
