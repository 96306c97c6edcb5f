package io.streamrec.tests;

import io.streamrec.cli.kafka.Topics;
import io.streamrec.embedding.InMemoryEmbeddingStore;
import io.streamrec.gpu.CpuBackend;
import io.streamrec.job.sink.EncodingDeltaSink;
import io.streamrec.model.MiniBatchTrainer;
import io.streamrec.model.ModelConfig;
import io.streamrec.model.ModelConfigJson;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.protocol.ModelUpdateEncoder;
import io.streamrec.protocol.ModelUpdateRecord;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import io.streamrec.traffic.GeneratedRequest;
import io.streamrec.traffic.TrafficConfig;
import io.streamrec.traffic.TrafficGenerator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Model-updates topics written the way the trainer writes them, from a trainer driven in-process.
 */
final class ModelUpdatesSupport {
  static final long START_MS = 1_767_225_600_000L;

  /** The lineage the test trainers publish. */
  static final long MODEL_ID = 0x5eed_0000_0000_0001L;

  private ModelUpdatesSupport() {}

  /** A fresh compacted model-updates topic with one partition. */
  static void createTopic(String bootstrap, String topic) {
    createTopic(bootstrap, topic, Map.of());
  }

  /** The same, with the topic settings {@code configs} besides its compaction. */
  static void createTopic(String bootstrap, String topic, Map<String, String> configs) {
    Map<String, String> all = new java.util.HashMap<>(configs);
    all.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty()).configs(all)))
          .all()
          .get();
      Topics.awaitServed(admin, List.of(topic));
    } catch (Exception e) {
      throw new AssertionError("cannot create " + topic, e);
    }
  }

  static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  static void send(KafkaProducer<byte[], byte[]> p, String topic, List<ModelUpdateRecord> records) {
    for (ModelUpdateRecord r : records) {
      p.send(new ProducerRecord<>(topic, 0, r.timestampMs, r.key, r.value));
    }
    p.flush();
  }

  /**
   * What compaction leaves of {@code records}: the latest value per key, in the order of those
   * latest values; tombstones kept, or (after {@code delete.retention.ms}) dropped too.
   */
  static List<ModelUpdateRecord> compact(List<ModelUpdateRecord> records, boolean keepTombstones) {
    Map<String, Integer> last = new java.util.HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      last.put(new String(records.get(i).key, java.nio.charset.StandardCharsets.UTF_8), i);
    }
    List<ModelUpdateRecord> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      ModelUpdateRecord r = records.get(i);
      if (last.get(new String(r.key, java.nio.charset.StandardCharsets.UTF_8)) == i
          && (keepTombstones || r.value != null)) {
        out.add(r);
      }
    }
    return out;
  }

  /** A trainer on generated traffic that publishes versions as the job's trainer does. */
  static final class Trainer implements AutoCloseable {
    final ModelConfig config;
    final MiniBatchTrainer trainer;
    final TrafficGenerator generator;
    final RowEncoding encoding;
    long time = START_MS;
    long version;
    int tombstones;

    /** The configuration {@link #publish} writes as the spec: the trainer's unless a test says. */
    ModelConfig spec;

    Trainer(ModelConfig config, long seed, int users, int items, RowEncoding encoding) {
      this.config = config;
      this.trainer =
          new MiniBatchTrainer(
              config, new InMemoryEmbeddingStore(config.tableConfigs()), new CpuBackend(), 10_000);
      this.generator =
          new TrafficGenerator(
              TrafficConfig.defaults().withSeed(seed).withUsers(users).withItems(items));
      this.encoding = encoding;
      this.spec = config;
    }

    /** The next {@code n} units of traffic, {@code spacingMs} apart. */
    List<RequestUnit> units(int n, long spacingMs) {
      List<RequestUnit> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        GeneratedRequest g = generator.next(time += spacingMs);
        out.add(RequestUnits.of(g.request(), g.impressions(), time + 1_000));
      }
      return config.features().labels().contains(LABEL_GOOD) ? labelGood(out) : out;
    }

    /**
     * Publishes the next version: the spec first (before version 1), rows, tombstones, dense
     * blocks, the marker.
     */
    List<ModelUpdateRecord> publish() {
      List<ModelUpdateRecord> records = new ArrayList<>();
      long eventTime = time + 1_000;
      version++;
      ModelUpdateEncoder enc =
          new ModelUpdateEncoder(MODEL_ID, version, eventTime, encoding, records::add);
      enc.spec(io.streamrec.job.trainer.SpecFormat.of(spec), ModelConfigJson.toJson(spec));
      MiniBatchTrainer.Published p = trainer.publish(new EncodingDeltaSink(enc));
      tombstones += p.tombstones();
      enc.close(
          VersionMarker.newBuilder()
              .setPublishedAtMs(System.currentTimeMillis())
              .setTrainedImpressions(trainer.impressionsTrained())
              .setTrainedUnits(trainer.unitsTrained()));
      return records;
    }

    @Override
    public void close() {
      trainer.close();
    }
  }

  /** The second label of {@link #withGoodLabel}. */
  static final String LABEL_GOOD = "good";

  /** Items whose id hashes to 0 modulo this are "good": a label the click head does not learn. */
  private static final int GOOD_ITEM_EVERY = 7;

  /** {@code c} with a second label, {@code good}, after the first ({@link #labelGood}). */
  static ModelConfig withGoodLabel(ModelConfig c) {
    List<String> labels = new ArrayList<>(c.features().labels());
    labels.add(LABEL_GOOD);
    return c.withFeatures(
        new FeatureSpec(c.features().categorical(), c.features().dense(), labels));
  }

  /**
   * Labels every impression of {@code units} {@code good}: 1 when its item is one of the good ones
   * (by its id alone, whatever the click), else 0; the other labels stay.
   */
  static List<RequestUnit> labelGood(List<RequestUnit> units) {
    for (RequestUnit u : units) {
      for (Impression im : u.getImpressions()) {
        String item = im.getFeatures().get(TrafficGenerator.ITEM_ID).get(0);
        Map<String, Float> labels = new LinkedHashMap<>(im.getLabels());
        labels.put(LABEL_GOOD, Math.floorMod(item.hashCode(), GOOD_ITEM_EVERY) == 0 ? 1f : 0f);
        im.setLabels(labels);
      }
    }
    return units;
  }

  /** {@code c} with every row expiring after {@code ttlMs} of event time unseen. */
  static ModelConfig withTtl(ModelConfig c, long ttlMs) {
    return c.withTtlMs(ttlMs);
  }
}
