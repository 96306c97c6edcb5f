package io.streamrec.tests;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.FlinkVersion;

/**
 * Reads a Kubernetes manifest with the model classes its consumer publishes, strictly: the Flink
 * Kubernetes Operator's {@link FlinkDeployment}, Strimzi's {@link KafkaTopic}, the fabric8 model
 * for the built-in kinds and for the Prometheus Operator's {@link PodMonitor} and PrometheusRule. A
 * field the class does not know fails, naming its path, in all three ways a model can let one
 * through:
 *
 * <ul>
 *   <li>a class that says {@code @JsonIgnoreProperties(ignoreUnknown = true)} (the operator's spec
 *       classes do, so its own parser silently drops a misnamed field): that annotation is
 *       overruled here;
 *   <li>a class that keeps unknown fields in an {@code additionalProperties} map (fabric8's and
 *       Strimzi's do, so that a client round-trips them): every such map must be empty;
 *   <li>a value that binds but does not come back out: the manifest read back from the bound object
 *       must hold every field and value of the manifest.
 * </ul>
 */
final class ManifestBinding {
  /** Where each {@code apiVersion} and {@code kind} is read. */
  static final Map<String, Class<?>> MODELS =
      Map.ofEntries(
          Map.entry("v1/ConfigMap", ConfigMap.class),
          Map.entry("v1/Secret", Secret.class),
          Map.entry("v1/Service", Service.class),
          Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
          Map.entry("apps/v1/Deployment", Deployment.class),
          Map.entry("batch/v1/Job", Job.class),
          Map.entry(
              "policy/v1/PodDisruptionBudget",
              io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class),
          Map.entry("monitoring.coreos.com/v1/PodMonitor", PodMonitor.class),
          Map.entry(
              "monitoring.coreos.com/v1/PrometheusRule",
              io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule.class),
          Map.entry("flink.apache.org/v1beta1/FlinkDeployment", FlinkDeployment.class),
          Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class));

  /** Packages of the model classes whose fields the unknown-field walk descends into. */
  private static final List<String> MODEL_PACKAGES =
      List.of("io.fabric8.", "io.strimzi.", "org.apache.flink.kubernetes.operator.");

  private static final ObjectMapper STRICT =
      new ObjectMapper()
          .setAnnotationIntrospector(new StrictIntrospector())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private static final ObjectMapper PLAIN = new ObjectMapper();

  private ManifestBinding() {}

  /** What a document was bound to, and anything the binding had to say about it. */
  record Bound(Object object, List<String> notes) {}

  /**
   * Binds one manifest document (as YAML gives it) to its consumer's class.
   *
   * @throws AssertionError naming the document, the field path and the class that refused it
   */
  static Bound bind(String what, Map<String, Object> document) {
    String type = document.get("apiVersion") + "/" + document.get("kind");
    Class<?> model = MODELS.get(type);
    if (model == null) {
      throw new AssertionError(
          what + ": no consumer's model class for " + type + " (known: " + MODELS.keySet() + ")");
    }
    JsonNode tree = PLAIN.valueToTree(document);
    List<String> notes = new ArrayList<>();
    if (model == FlinkDeployment.class) {
      tree = flinkVersionForThisApi(what, tree.deepCopy(), notes);
    }
    Object bound;
    try {
      bound = STRICT.treeToValue(tree, model);
    } catch (Exception e) {
      throw new AssertionError(
          what + " is not a valid " + type + " for " + model.getName() + ": " + e.getMessage(), e);
    }
    List<String> unknown = new ArrayList<>();
    unknownFields(bound, "", unknown, new IdentityHashMap<>());
    if (!unknown.isEmpty()) {
      throw new AssertionError(
          what + ": fields " + model.getSimpleName() + " does not know: " + unknown);
    }
    List<String> lost = new ArrayList<>();
    lostFields(tree, STRICT.valueToTree(bound), "", lost);
    if (!lost.isEmpty()) {
      throw new AssertionError(
          what + ": fields " + model.getSimpleName() + " dropped or changed on reading: " + lost);
    }
    return new Bound(bound, notes);
  }

  /**
   * The operator API on the Maven repository this build reads ends its {@link FlinkVersion} enum at
   * an older Flink than ours. A newer {@code flinkVersion} that follows the enum's pattern is bound
   * as the enum's newest value, noted; anything else (a typo, an older Flink) still fails. An API
   * that knows the version binds it as it is.
   */
  private static JsonNode flinkVersionForThisApi(String what, JsonNode tree, List<String> notes) {
    JsonNode spec = tree.get("spec");
    JsonNode v = spec == null ? null : spec.get("flinkVersion");
    if (v == null || !v.isTextual()) {
      return tree;
    }
    String given = v.asText();
    for (FlinkVersion known : FlinkVersion.values()) {
      if (known.name().equals(given)) {
        return tree;
      }
    }
    FlinkVersion newest = FlinkVersion.values()[FlinkVersion.values().length - 1];
    if (given.matches("v\\d+_\\d+") && order(given) > order(newest.name())) {
      ((ObjectNode) spec).put("flinkVersion", newest.name());
      notes.add(
          what
              + ": flinkVersion "
              + given
              + " is newer than this operator API knows ("
              + newest
              + "); bound as "
              + newest);
    }
    return tree;
  }

  private static int order(String flinkVersion) {
    String[] p = flinkVersion.substring(1).split("_");
    return Integer.parseInt(p[0]) * 1000 + Integer.parseInt(p[1]);
  }

  /** Non-empty {@code additionalProperties} anywhere in the bound object graph, by path. */
  private static void unknownFields(
      Object o, String path, List<String> out, Map<Object, Boolean> seen) {
    if (o == null || seen.put(o, Boolean.TRUE) != null) {
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Iterator<?> it = c.iterator(); it.hasNext(); i++) {
        unknownFields(it.next(), path + "[" + i + "]", out, seen);
      }
      return;
    }
    if (o.getClass().isArray() && !o.getClass().getComponentType().isPrimitive()) {
      for (int i = 0; i < Array.getLength(o); i++) {
        unknownFields(Array.get(o, i), path + "[" + i + "]", out, seen);
      }
      return;
    }
    if (MODEL_PACKAGES.stream().noneMatch(p -> o.getClass().getName().startsWith(p))
        || o.getClass().isEnum()) {
      return;
    }
    for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        Object v;
        try {
          f.setAccessible(true);
          v = f.get(o);
        } catch (ReflectiveOperationException | RuntimeException e) {
          continue;
        }
        if (f.getName().equals("additionalProperties") && v instanceof Map<?, ?> extra) {
          extra.keySet().forEach(k -> out.add((path.isEmpty() ? "" : path.substring(1) + ".") + k));
        } else {
          unknownFields(v, path + "." + f.getName(), out, seen);
        }
      }
    }
  }

  /** Every field and scalar of {@code in} must be in {@code out} (which may add defaults). */
  private static void lostFields(JsonNode in, JsonNode out, String path, List<String> lost) {
    if (in.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = in.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        JsonNode o = out == null ? null : out.get(e.getKey());
        if (o == null || o.isNull() && !e.getValue().isNull()) {
          lost.add(p);
        } else {
          lostFields(e.getValue(), o, p, lost);
        }
      }
    } else if (in.isArray()) {
      if (out == null || !out.isArray() || out.size() != in.size()) {
        lost.add(path + " (a list of " + in.size() + ")");
        return;
      }
      for (int i = 0; i < in.size(); i++) {
        lostFields(in.get(i), out.get(i), path + "[" + i + "]", lost);
      }
    } else if (!in.isNull() && (out == null || !sameScalar(in, out))) {
      lost.add(
          path + " (" + in.asText() + " read as " + (out == null ? "nothing" : out.asText()) + ")");
    }
  }

  /** Equal as text, or as numbers (a YAML 1 read into a double field comes back as 1.0). */
  private static boolean sameScalar(JsonNode in, JsonNode out) {
    return in.asText().equals(out.asText())
        || in.isNumber() && out.isNumber() && in.doubleValue() == out.doubleValue();
  }

  /** Annotations as written, except that no class may ignore fields it does not know. */
  private static final class StrictIntrospector extends JacksonAnnotationIntrospector {
    private static final long serialVersionUID = 1L;

    @Override
    public JsonIgnoreProperties.Value findPropertyIgnoralByName(
        MapperConfig<?> config, Annotated a) {
      JsonIgnoreProperties.Value v = super.findPropertyIgnoralByName(config, a);
      return v == null ? null : v.withoutIgnoreUnknown();
    }
  }

  /** The kinds this class can bind, for messages. */
  static Set<String> kinds() {
    return MODELS.keySet();
  }
}
