package io.streamrec.tests;

import static io.streamrec.tests.DeploymentFiles.IMAGE;
import static io.streamrec.tests.DeploymentFiles.at;
import static io.streamrec.tests.DeploymentFiles.list;
import static io.streamrec.tests.DeploymentFiles.map;
import static io.streamrec.tests.DeploymentFiles.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.streamrec.cli.StreamrecCli;
import io.streamrec.job.config.JobArguments;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobSettings;
import io.streamrec.job.config.TopicsConfig;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * docker-compose.yml, k8s/*.yaml and the Dockerfile, checked without Docker or a cluster: they
 * parse, name what they must, agree with each other (image, config map, mounts, Kafka address,
 * topics, parallelism) and with the code (every {@code streamrec} command and option they run is
 * one the command line has; the entry class exists; the job accepts the configuration they give
 * it).
 */
class DeploymentFilesTest {
  /**
   * Commands the deployment files use that another branch adds; their checks skip until it lands.
   */
  private static final Set<String> PENDING_COMMANDS = Set.of();

  @TempDir Path tmp;

  private static Map<String, CommandLine> subcommands() {
    return new CommandLine(new StreamrecCli()).getSubcommands();
  }

  private static List<String> command(Map<String, Object> service, String name) {
    return strings(service.get("command"), name + " command");
  }

  // ---- docker-compose.yml

  @Test
  void composeHasTheFiveServicesWiredInOrder() {
    Map<String, Map<String, Object>> s = DeploymentFiles.composeServices();
    assertThat(s).containsOnlyKeys("kafka", "topics", "generator", "trainer", "serve");
    for (String name : List.of("generator", "trainer", "serve")) {
      assertThat(s.get(name).get("image")).as(name).isEqualTo(IMAGE);
      assertThat(s.get(name).get("build"))
          .as(name + " builds the image from the repository")
          .isEqualTo(".");
      assertThat(at(s.get(name), "depends_on", "topics", "condition"))
          .as(name)
          .isEqualTo("service_completed_successfully");
    }
    assertThat((String) s.get("kafka").get("image")).startsWith("apache/kafka:");
    assertThat(s.get("topics").get("image")).isEqualTo(s.get("kafka").get("image"));
    assertThat(at(s.get("topics"), "depends_on", "kafka", "condition"))
        .isEqualTo("service_healthy");
    assertThat(strings(at(s.get("kafka"), "healthcheck", "test"), "kafka healthcheck"))
        .isNotEmpty();
    assertThat(at(s.get("kafka"), "environment", "KAFKA_AUTO_CREATE_TOPICS_ENABLE"))
        .isEqualTo("false");
    assertThat(strings(s.get("serve").get("ports"), "serve ports")).contains("8080:8080");
    assertThat(strings(s.get("trainer").get("volumes"), "trainer volumes"))
        .anyMatch(v -> v.endsWith(":/var/lib/streamrec"));
  }

  @Test
  void composeScriptsEscapeEveryDollarFromCompose() {
    // compose substitutes ${VAR} and $VAR itself; a shell variable must be written $$VAR
    for (String name : List.of("topics", "generator")) {
      List<String> cmd = command(DeploymentFiles.composeServices().get(name), name);
      String script = cmd.get(cmd.size() - 1);
      assertThat(script.replace("$$", "")).as(name + " script").doesNotContain("$");
    }
  }

  @Test
  void theTrainerCommandParsesAndGivesAValidJobConfig() {
    List<String> args =
        new ArrayList<>(command(DeploymentFiles.composeServices().get("trainer"), "trainer"));
    assertThat(args.subList(0, 2)).containsExactly("streamrec", "run");
    // the image's config file is the repository's example (the Dockerfile copies it there)
    int c = args.indexOf("--config");
    String inImage = args.get(c + 1);
    String source = DeploymentFiles.dockerCopies().get(inImage);
    assertThat(source).as("the Dockerfile copies a file to " + inImage).isNotNull();
    args.set(c + 1, DeploymentFiles.root().resolve(source).toString());

    CommandLine.ParseResult parsed =
        new CommandLine(new StreamrecCli())
            .parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    JobSettings settings =
        (JobSettings) parsed.subcommand().commandSpec().mixins().get("settings").userObject();
    JobConfig cfg = JobConfig.from(settings.configuration());
    assertThat(cfg.bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(settings.configuration().toMap()).containsKey("execution.checkpointing.dir");
    assertThat(settings.configuration().toMap().get("execution.checkpointing.dir"))
        .startsWith("file:///var/lib/streamrec/");
  }

  @Test
  void everyStreamrecCommandTheGeneratorRunsExistsWithItsOptions() {
    List<String> cmd = command(DeploymentFiles.composeServices().get("generator"), "generator");
    List<List<String>> calls = DeploymentFiles.streamrecInvocations(cmd.get(cmd.size() - 1));
    assertThat(calls).extracting(l -> l.get(0)).containsExactly("generate", "produce");
    for (List<String> call : calls) {
      assertOptionsExist(call);
    }
  }

  @Test
  void theServeCommandOfComposeAndKubernetesParses() {
    assumeThat(subcommands())
        .as("the serve command is not on this branch yet")
        .containsKey("serve");
    List<String> compose = command(DeploymentFiles.composeServices().get("serve"), "serve");
    List<String> k8s = strings(at(servingContainer(), "args"), "serving args");
    for (List<String> args : List.of(compose, k8s)) {
      assertThat(args.subList(0, 2)).containsExactly("streamrec", "serve");
      new CommandLine(new StreamrecCli())
          .parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    }
  }

  /**
   * Each option of {@code streamrec SUB options...} is one SUB declares; pending commands are
   * skipped.
   */
  private static void assertOptionsExist(List<String> call) {
    String sub = call.get(0);
    Map<String, CommandLine> subs = subcommands();
    if (!subs.containsKey(sub) && PENDING_COMMANDS.contains(sub)) {
      return;
    }
    assertThat(subs).as("streamrec subcommands").containsKey(sub);
    for (String word : call.subList(1, call.size())) {
      if (word.startsWith("-")) {
        String option = word.contains("=") ? word.substring(0, word.indexOf('=')) : word;
        assertThat(subs.get(sub).getCommandSpec().findOption(option))
            .as("option " + option + " of streamrec " + sub)
            .isNotNull();
      }
    }
  }

  // ---- k8s

  @Test
  void everyManifestParsesAndTheKustomizationListsThemAll() {
    Map<String, Map<String, Object>> objects = DeploymentFiles.k8sObjects();
    assertThat(objects.keySet())
        .containsExactlyInAnyOrder(
            "ConfigMap/streamrec-config",
            "PersistentVolumeClaim/streamrec-flink-data",
            "Job/streamrec-topics",
            "FlinkDeployment/streamrec",
            "Deployment/streamrec-serve",
            "Service/streamrec-serve");
    objects.forEach((id, o) -> assertThat(o.get("apiVersion")).as(id).isNotNull());

    Object kustomization =
        DeploymentFiles.yaml(DeploymentFiles.root().resolve("k8s/kustomization.yaml"));
    assertThat(strings(at(kustomization, "resources"), "resources"))
        .containsExactlyInAnyOrderElementsOf(
            DeploymentFiles.k8sManifests().stream().map(p -> p.getFileName().toString()).toList());
  }

  @Test
  void theFlinkDeploymentRunsTheJobJarOfTheImage() throws Exception {
    Map<String, Object> fd = flinkDeployment();
    assertThat(fd.get("apiVersion")).isEqualTo("flink.apache.org/v1beta1");
    assertThat(at(fd, "spec", "image")).isEqualTo(IMAGE);
    String[] flink = EnvironmentInformation.getVersion().split("\\.");
    assertThat(at(fd, "spec", "flinkVersion")).isEqualTo("v" + flink[0] + "_" + flink[1]);

    String jarUri = (String) at(fd, "spec", "job", "jarURI");
    assertThat(jarUri).startsWith("local://");
    assertThat(DeploymentFiles.dockerCopies())
        .as("the Dockerfile puts the job jar at the jarURI")
        .containsKey(jarUri.substring("local://".length()));

    Class<?> entry = Class.forName((String) at(fd, "spec", "job", "entryClass"));
    Method main = entry.getMethod("main", String[].class);
    assertThat(Modifier.isStatic(main.getModifiers()) && Modifier.isPublic(main.getModifiers()))
        .isTrue();
    assertThat(at(fd, "spec", "job", "upgradeMode")).isEqualTo("savepoint");
  }

  @Test
  void theFlinkDeploymentCheckpointsToItsVolumeAndKeepsCheckpointsOnCancel() {
    Map<String, Object> conf =
        map(at(flinkDeployment(), "spec", "flinkConfiguration"), "flinkConfiguration");
    assertThat(conf)
        .containsKeys(
            "execution.checkpointing.interval",
            "execution.checkpointing.dir",
            "execution.checkpointing.savepoint-dir",
            "high-availability.storageDir");
    assertThat(conf.get("execution.checkpointing.externalized-checkpoint-retention"))
        .isEqualTo("RETAIN_ON_CANCELLATION");
    String mount = volumeMounts().get("flink-data");
    assertThat(mount).isNotNull();
    for (String key :
        List.of(
            "execution.checkpointing.dir",
            "execution.checkpointing.savepoint-dir",
            "high-availability.storageDir")) {
      assertThat((String) conf.get(key)).as(key).startsWith("file://" + mount + "/");
    }
    Object claim = at(podVolumes().get("flink-data"), "persistentVolumeClaim", "claimName");
    assertThat(DeploymentFiles.k8sObjects()).containsKey("PersistentVolumeClaim/" + claim);
    assertThat(
            strings(
                at(
                    DeploymentFiles.k8sObjects().get("PersistentVolumeClaim/" + claim),
                    "spec",
                    "accessModes"),
                "accessModes"))
        .containsExactly("ReadWriteMany");
  }

  @Test
  void theJobArgumentsReadTheConfigMapAndTheJobAcceptsIt() throws IOException {
    JobArguments.Parsed parsed = jobArguments();
    assertThat(parsed.bounds().bounded()).isFalse();
    int parallelism = ((Number) at(flinkDeployment(), "spec", "job", "parallelism")).intValue();
    assertThat(parsed.config().assemblerParallelism())
        .as("assembler.parallelism = job.parallelism")
        .isEqualTo(parallelism);
  }

  @Test
  void servingRunsTheImageAgainstTheJobsBrokerAndTopicAndIsProbed() throws IOException {
    Map<String, Object> c = servingContainer();
    assertThat(c.get("image")).isEqualTo(IMAGE);
    assertThat(c).doesNotContainKey("command"); // the image's entry point must stay
    List<String> args = strings(c.get("args"), "serving args");
    assertThat(args.subList(0, 2)).containsExactly("streamrec", "serve");
    JobConfig job = jobArguments().config();
    assertThat(valueOf(args, "--bootstrap-servers")).isEqualTo(job.bootstrapServers());
    assertThat(valueOf(args, "--topic")).isEqualTo(job.modelUpdatesTopic());

    Map<String, Object> port = map(list(c.get("ports"), "ports").get(0), "port");
    assertThat(String.valueOf(port.get("containerPort"))).isEqualTo(valueOf(args, "--port"));
    assertThat(at(c, "readinessProbe", "httpGet", "path")).isEqualTo("/healthz");
    assertThat(at(c, "readinessProbe", "httpGet", "port")).isEqualTo(port.get("name"));
    assertThat(c.get("livenessProbe")).isNotNull();
    assertThat(at(c, "resources", "requests")).isNotNull();
    assertThat(at(c, "resources", "limits", "memory")).isNotNull();

    Map<String, Object> deployment = DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve");
    Map<String, Object> service = DeploymentFiles.k8sObjects().get("Service/streamrec-serve");
    Map<String, Object> podLabels =
        map(at(deployment, "spec", "template", "metadata", "labels"), "pod labels");
    assertThat(podLabels)
        .containsAllEntriesOf(map(at(service, "spec", "selector"), "service selector"));
    assertThat(podLabels)
        .containsAllEntriesOf(
            map(at(deployment, "spec", "selector", "matchLabels"), "matchLabels"));
    Object target = at(list(at(service, "spec", "ports"), "service ports").get(0), "targetPort");
    assertThat(target).isEqualTo(port.get("name"));
  }

  // ---- topics

  @Test
  void composeAndKubernetesCreateStreamrecsTopicsAlike() throws IOException {
    List<DeploymentFiles.TopicSpec> compose =
        DeploymentFiles.topicSpecs(DeploymentFiles.composeTopicsScript());
    List<DeploymentFiles.TopicSpec> k8s =
        DeploymentFiles.topicSpecs(DeploymentFiles.k8sTopicsScript());
    assertThat(k8s).isEqualTo(compose);
    assertThat(compose)
        .extracting(DeploymentFiles.TopicSpec::name)
        .containsExactlyInAnyOrderElementsOf(TopicsConfig.defaults().all());
    DeploymentFiles.TopicSpec updates =
        compose.stream()
            .filter(t -> t.name().equals(TopicsConfig.DEFAULT_MODEL_UPDATES))
            .findFirst()
            .orElseThrow();
    assertThat(updates.partitions()).isEqualTo(1);
    assertThat(updates.configs()).containsEntry("cleanup.policy", "compact");
    assertThat(
            compose.stream()
                .filter(t -> t.name().equals(TopicsConfig.DEFAULT_REQUESTS))
                .findFirst()
                .orElseThrow()
                .partitions())
        .isEqualTo(
            compose.stream()
                .filter(t -> t.name().equals(TopicsConfig.DEFAULT_IMPRESSIONS))
                .findFirst()
                .orElseThrow()
                .partitions());

    // both address the broker the job and the replicas use
    assertThat(DeploymentFiles.composeTopicsScript()).contains("--bootstrap-server kafka:9092 ");
    assertThat(DeploymentFiles.k8sTopicsScript())
        .contains("--bootstrap-server " + jobArguments().config().bootstrapServers() + " ");
  }

  // ---- helpers

  private static Map<String, Object> flinkDeployment() {
    return DeploymentFiles.k8sObjects().get("FlinkDeployment/streamrec");
  }

  private static Map<String, Object> flinkContainer() {
    for (Object c :
        list(at(flinkDeployment(), "spec", "podTemplate", "spec", "containers"), "containers")) {
      if ("flink-main-container".equals(at(c, "name"))) {
        return map(c, "flink-main-container");
      }
    }
    throw new AssertionError("the pod template has no flink-main-container");
  }

  /** Volume name to mount path in the Flink container. */
  private static Map<String, String> volumeMounts() {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Object m : list(flinkContainer().get("volumeMounts"), "volumeMounts")) {
      out.put((String) at(m, "name"), (String) at(m, "mountPath"));
    }
    return out;
  }

  private static Map<String, Object> podVolumes() {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    for (Object v :
        list(at(flinkDeployment(), "spec", "podTemplate", "spec", "volumes"), "volumes")) {
      out.put((String) at(v, "name"), v);
    }
    return out;
  }

  private static Map<String, Object> servingContainer() {
    Map<String, Object> d = DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve");
    return map(
        list(at(d, "spec", "template", "spec", "containers"), "containers").get(0),
        "serving container");
  }

  /**
   * The FlinkDeployment's job arguments, parsed by the job's own parser, with {@code --config}
   * pointing at the ConfigMap entry mounted at that path.
   */
  private JobArguments.Parsed jobArguments() throws IOException {
    List<String> args =
        new ArrayList<>(strings(at(flinkDeployment(), "spec", "job", "args"), "job args"));
    int c = args.indexOf("--config");
    assertThat(c).as("the job is given --config").isNotNegative();
    Path inPod = Path.of(args.get(c + 1));
    String volume =
        volumeMounts().entrySet().stream()
            .filter(e -> Path.of(e.getValue()).equals(inPod.getParent()))
            .map(Map.Entry::getKey)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no volume is mounted at " + inPod.getParent()));
    Object configMap = at(podVolumes().get(volume), "configMap", "name");
    Map<String, Object> cm = DeploymentFiles.k8sObjects().get("ConfigMap/" + configMap);
    assertThat(cm).as("ConfigMap " + configMap).isNotNull();
    Object content = at(cm, "data", inPod.getFileName().toString());
    assertThat(content).as("key " + inPod.getFileName() + " of ConfigMap " + configMap).isNotNull();
    Path file = tmp.resolve("streamrec.yaml");
    Files.writeString(file, (String) content);
    args.set(c + 1, file.toString());
    return JobArguments.parse(args.toArray(String[]::new));
  }

  private static String valueOf(List<String> args, String option) {
    int i = args.indexOf(option);
    assertThat(i).as(option + " in " + args).isNotNegative();
    return args.get(i + 1);
  }

  @Test
  void theImageNameIsTheOneTheDockerfileSaysToBuild() {
    assertThat(DeploymentFiles.read(DeploymentFiles.root().resolve("Dockerfile")))
        .contains("docker build -t " + IMAGE + " .");
    Set<String> images = new TreeSet<>();
    DeploymentFiles.composeServices().values().forEach(s -> images.add((String) s.get("image")));
    assertThat(images).contains(IMAGE);
  }
}
