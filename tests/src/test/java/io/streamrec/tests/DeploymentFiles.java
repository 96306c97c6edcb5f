package io.streamrec.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The repository's deployment files, read the way the tools that use them would: {@code
 * docker-compose.yml} and {@code k8s/*.yaml} as YAML (with snakeyaml-engine, which Flink itself
 * reads its configuration with), the Dockerfile's {@code COPY} lines and its launcher script, and
 * the topic-creating shell commands of compose and Kubernetes.
 */
final class DeploymentFiles {
  /** The image the Dockerfile builds and every deployment file runs. */
  static final String IMAGE = "streamrec:0.1.0";

  /** The trainer's image with the CUDA backend. */
  static final String CUDA_IMAGE = IMAGE + "-cuda";

  private DeploymentFiles() {}

  /** The repository root: the first directory up from here with docker-compose.yml and pom.xml. */
  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isRegularFile(p.resolve("docker-compose.yml"))
          && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException(
        "no repository root with docker-compose.yml above " + Path.of("").toAbsolutePath());
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Object yaml(Path file) {
    return new Load(LoadSettings.builder().setLabel(file.toString()).build())
        .loadFromString(read(file));
  }

  static List<Map<String, Object>> yamlDocuments(Path file) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object doc :
        new Load(LoadSettings.builder().setLabel(file.toString()).build())
            .loadAllFromString(read(file))) {
      if (doc != null) {
        out.add(map(doc, file + " document"));
      }
    }
    return out;
  }

  /** The services of docker-compose.yml, by name. */
  static Map<String, Map<String, Object>> composeServices() {
    Map<String, Object> compose =
        map(yaml(root().resolve("docker-compose.yml")), "docker-compose.yml");
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    map(compose.get("services"), "services")
        .forEach((name, s) -> out.put(name, map(s, "service " + name)));
    return out;
  }

  /** The k8s manifest files, in k8s/ and its folders (not the kustomization.yaml files). */
  static List<Path> k8sManifests() {
    try (Stream<Path> files = Files.walk(root().resolve("k8s"))) {
      return files
          .filter(
              f ->
                  f.toString().endsWith(".yaml")
                      && !f.getFileName().toString().equals("kustomization.yaml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every k8s object of the manifests, by "Kind/name". */
  static Map<String, Map<String, Object>> k8sObjects() {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Path f : k8sManifests()) {
      for (Map<String, Object> doc : yamlDocuments(f)) {
        String id = doc.get("kind") + "/" + at(doc, "metadata", "name");
        if (out.put(id, doc) != null) {
          throw new AssertionError(id + " is defined twice");
        }
      }
    }
    return out;
  }

  /** The value at a path of map keys, or null where the path ends early. */
  static Object at(Object node, String... keys) {
    Object cur = node;
    for (String k : keys) {
      if (!(cur instanceof Map<?, ?> m)) {
        return null;
      }
      cur = m.get(k);
    }
    return cur;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object node, String what) {
    if (!(node instanceof Map<?, ?>)) {
      throw new AssertionError(what + " is not a mapping: " + node);
    }
    return (Map<String, Object>) node;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object node, String what) {
    if (!(node instanceof List<?>)) {
      throw new AssertionError(what + " is not a list: " + node);
    }
    return (List<Object>) node;
  }

  static List<String> strings(Object node, String what) {
    return list(node, what).stream().map(String::valueOf).toList();
  }

  // ---- Dockerfile

  /** What the Dockerfile's COPY lines put where: destination path to the source as written. */
  static Map<String, String> dockerCopies() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : read(root().resolve("Dockerfile")).split("\n")) {
      if (!line.startsWith("COPY ")) {
        continue;
      }
      List<String> words = new ArrayList<>(List.of(line.substring(5).trim().split("\\s+")));
      words.removeIf(w -> w.startsWith("--"));
      out.put(words.get(words.size() - 1), words.get(0));
    }
    return out;
  }

  /**
   * The command-line launcher the Dockerfile writes to /opt/streamrec/bin/streamrec (a heredoc).
   */
  static String imageLauncher() {
    String text = read(root().resolve("Dockerfile"));
    Matcher m =
        Pattern.compile(
                "^COPY [^\\n]*<<'EOF' /opt/streamrec/bin/streamrec\\n(.*?)^EOF$",
                Pattern.MULTILINE | Pattern.DOTALL)
            .matcher(text);
    if (!m.find()) {
      throw new AssertionError("the Dockerfile writes no /opt/streamrec/bin/streamrec heredoc");
    }
    return m.group(1);
  }

  /** The words of a bash array assignment {@code name=( ... )} in a script. */
  static List<String> bashArray(String script, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "=\\(([^)]*)\\)").matcher(script);
    if (!m.find()) {
      throw new AssertionError("no array " + name + "=(...) in the script");
    }
    return List.of(m.group(1).trim().split("\\s+"));
  }

  // ---- topics

  /** One {@code create --topic NAME --partitions N --config k=v ...} line of a topics script. */
  record TopicSpec(String name, int partitions, Map<String, String> configs) {}

  private static final Pattern CREATE =
      Pattern.compile("(?m)^\\s*create --topic (\\S+) --partitions (\\d+)(.*)$");
  private static final Pattern CONFIG = Pattern.compile("--config (\\S+?)=(\\S+)");

  /** The topics a script creates, in order. */
  static List<TopicSpec> topicSpecs(String script) {
    List<TopicSpec> out = new ArrayList<>();
    Matcher m = CREATE.matcher(script);
    while (m.find()) {
      Map<String, String> configs = new LinkedHashMap<>();
      Matcher c = CONFIG.matcher(m.group(3));
      while (c.find()) {
        configs.put(c.group(1), c.group(2));
      }
      out.add(new TopicSpec(m.group(1), Integer.parseInt(m.group(2)), configs));
    }
    return out;
  }

  /**
   * The topics service's script in docker-compose.yml, with compose's {@code $$} escapes undone.
   */
  static String composeTopicsScript() {
    return strings(composeServices().get("topics").get("command"), "topics command")
        .get(0)
        .replace("$$", "$");
  }

  /** The script of k8s/without-strimzi/topics-job.yaml. */
  static String k8sTopicsScript() {
    Map<String, Object> job = k8sObjects().get("Job/streamrec-topics");
    Object container = list(at(job, "spec", "template", "spec", "containers"), "containers").get(0);
    return strings(at(container, "args"), "topics job args").get(0);
  }

  // ---- shell

  /**
   * Every {@code streamrec SUBCOMMAND args...} invocation in a shell script: the words after {@code
   * streamrec} up to the end of the line or a shell operator, quotes removed.
   */
  static List<List<String>> streamrecInvocations(String script) {
    List<List<String>> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)(?:^|[\\s;&|(])streamrec\\s+([^\\n;&|<>]*)").matcher(script);
    while (m.find()) {
      List<String> words = new ArrayList<>();
      for (String w : m.group(1).trim().split("\\s+")) {
        words.add(w.replace("\"", "").replace("'", ""));
      }
      out.add(words);
    }
    return out;
  }
}
