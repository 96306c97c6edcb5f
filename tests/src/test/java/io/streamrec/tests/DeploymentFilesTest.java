package io.streamrec.tests;

import static io.streamrec.tests.DeploymentFiles.IMAGE;
import static io.streamrec.tests.DeploymentFiles.at;
import static io.streamrec.tests.DeploymentFiles.list;
import static io.streamrec.tests.DeploymentFiles.map;
import static io.streamrec.tests.DeploymentFiles.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.streamrec.cli.StreamrecCli;
import io.streamrec.gpu.BackendMode;
import io.streamrec.job.config.JobArguments;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobSettings;
import io.streamrec.job.config.TopicsConfig;
import io.streamrec.serving.ServeCommand;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
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
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.UpgradeMode;
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
    // checkpoints and savepoints in the trainer-data volume, which the restarted container finds
    // again: run resumes from the newest of them unless told a restore path
    Path stateDir = parsed.subcommand().matchedOptionValue("--state-dir", null);
    assertThat(stateDir).isEqualTo(Path.of("/var/lib/streamrec"));
    assertThat(strings(DeploymentFiles.composeServices().get("trainer").get("volumes"), "volumes"))
        .anyMatch(v -> v.endsWith(":" + stateDir));
    assertThat(settings.configuration().toMap())
        .doesNotContainKeys(
            "execution.checkpointing.dir",
            "execution.checkpointing.savepoint-dir",
            "execution.state-recovery.path");
    assertThat(at(DeploymentFiles.composeServices().get("trainer"), "restart"))
        .isEqualTo("unless-stopped");
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

  /** Compose's replica reads the trainer's configuration file and broker, naming neither again. */
  @Test
  void composesReplicaReadsTheTrainersConfigurationAndBroker() {
    List<String> serve = command(DeploymentFiles.composeServices().get("serve"), "serve");
    List<String> trainer = command(DeploymentFiles.composeServices().get("trainer"), "trainer");
    assertThat(valueOf(serve, "--config")).isEqualTo(valueOf(trainer, "--config"));
    assertThat(valueOf(serve, "--bootstrap-servers"))
        .isEqualTo(valueOf(trainer, "--bootstrap-servers"));
    assertThat(serve).doesNotContain("--topic");
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
            "Secret/streamrec-kafka-client",
            "PersistentVolumeClaim/streamrec-flink-data",
            "KafkaTopic/requests",
            "KafkaTopic/impressions",
            "KafkaTopic/dead-letters",
            "KafkaTopic/model-updates",
            "KafkaTopic/request-units",
            "Job/streamrec-topics",
            "FlinkDeployment/streamrec",
            "Deployment/streamrec-serve",
            "Service/streamrec-serve",
            "PodDisruptionBudget/streamrec-serve",
            "PodMonitor/streamrec-flink",
            "PodMonitor/streamrec-serve",
            "PrometheusRule/streamrec");
    objects.forEach((id, o) -> assertThat(o.get("apiVersion")).as(id).isNotNull());

    // kubectl apply -k k8s/ applies every manifest of k8s/ itself; without-strimzi/ is the
    // alternative to kafka-topics.yaml, applied alone
    Path k8s = DeploymentFiles.root().resolve("k8s");
    Object kustomization = DeploymentFiles.yaml(k8s.resolve("kustomization.yaml"));
    assertThat(strings(at(kustomization, "resources"), "resources"))
        .containsExactlyInAnyOrderElementsOf(
            DeploymentFiles.k8sManifests().stream()
                .filter(p -> p.getParent().equals(k8s))
                .map(p -> p.getFileName().toString())
                .toList());
    for (Object generator : list(at(kustomization, "configMapGenerator"), "configMapGenerator")) {
      for (String file : strings(at(generator, "files"), "files")) {
        assertThat(k8s.resolve(file)).as("configMapGenerator file").isRegularFile();
      }
    }
  }

  @Test
  void everyManifestBindsToTheModelClassesOfItsConsumer() {
    List<String> failures = new ArrayList<>();
    for (Path file : DeploymentFiles.k8sManifests()) {
      List<Map<String, Object>> docs = DeploymentFiles.yamlDocuments(file);
      for (int i = 0; i < docs.size(); i++) {
        String what = DeploymentFiles.root().relativize(file) + " document " + (i + 1);
        try {
          ManifestBinding.bind(what, docs.get(i)).notes().forEach(System.out::println);
        } catch (AssertionError e) {
          failures.add(e.getMessage());
        }
      }
    }
    assertThat(failures).as("manifests their consumers refuse").isEmpty();
  }

  @Test
  void theFlinkDeploymentRunsTheJobJarOfTheImage() throws Exception {
    Map<String, Object> fd = flinkDeployment();
    assertThat(fd.get("apiVersion")).isEqualTo("flink.apache.org/v1beta1");
    // its TaskManagers train on GPUs (trainer.backend: cuda)
    assertThat(at(fd, "spec", "image")).isEqualTo(DeploymentFiles.CUDA_IMAGE);
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
    // every restart and upgrade resumes from the newest checkpoint, which Kubernetes HA points at
    assertThat(at(fd, "spec", "job", "upgradeMode")).isEqualTo("last-state");
    assertThat(
            ((FlinkDeployment) ManifestBinding.bind("flinkdeployment.yaml", fd).object())
                .getSpec()
                .getJob()
                .getUpgradeMode())
        .isEqualTo(UpgradeMode.LAST_STATE);
    assertThat(at(fd, "spec", "flinkConfiguration", "high-availability.type"))
        .isEqualTo("kubernetes");
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

  /**
   * Two replicas with nothing keeping them apart could sit on one node and be drained together: a
   * disruption budget keeps one serving, and the pods spread over nodes.
   */
  @Test
  void aNodeDrainLeavesAReplicaServing() {
    var deployment =
        (io.fabric8.kubernetes.api.model.apps.Deployment)
            ManifestBinding.bind(
                    "serving", DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve"))
                .object();
    var budget =
        (io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget)
            ManifestBinding.bind(
                    "budget",
                    DeploymentFiles.k8sObjects().get("PodDisruptionBudget/streamrec-serve"))
                .object();
    assertThat(budget.getSpec().getSelector().getMatchLabels())
        .isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels());
    assertThat(budget.getSpec().getMinAvailable().getIntVal())
        .isBetween(1, deployment.getSpec().getReplicas() - 1);
    assertThat(deployment.getSpec().getTemplate().getSpec().getTopologySpreadConstraints())
        .extracting(c -> c.getTopologyKey())
        .contains("kubernetes.io/hostname");
  }

  /**
   * The Job that creates the topics without Strimzi left their replication to the broker's default
   * (1 on a cluster that never set it), where the KafkaTopics ask for 3: one broker lost took
   * model-updates with it.
   */
  @Test
  void theTopicsJobReplicatesAsTheKafkaTopicsDo() {
    for (Map.Entry<String, Map<String, Object>> e : DeploymentFiles.k8sObjects().entrySet()) {
      if (e.getKey().startsWith("KafkaTopic/")) {
        KafkaTopic t = (KafkaTopic) ManifestBinding.bind(e.getKey(), e.getValue()).object();
        assertThat(DeploymentFiles.k8sTopicsScript())
            .as(e.getKey())
            .contains("--replication-factor " + t.getSpec().getReplicas());
      }
    }
  }

  @Test
  void servingRunsTheImageAgainstTheJobsBrokerAndTopicAndIsProbed() throws IOException {
    Map<String, Object> c = servingContainer();
    assertThat(c.get("image")).isEqualTo(IMAGE);
    assertThat(c).doesNotContainKey("command"); // the image's entry point must stay
    List<String> args = strings(c.get("args"), "serving args");
    assertThat(args.subList(0, 2)).containsExactly("streamrec", "serve");
    // the broker and the topic are the job's, read from its ConfigMap: not named a second time
    assertThat(args).doesNotContain("--bootstrap-servers", "--topic");
    JobConfig job = jobArguments().config();
    io.streamrec.serving.JobConnection replica = servingArguments().connection();
    assertThat(replica.bootstrapServers()).isEqualTo(job.bootstrapServers());
    assertThat(replica.modelUpdatesTopic()).isEqualTo(job.modelUpdatesTopic());
    assertThat(replica.client()).isEqualTo(job.kafkaProperties());

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

  @Test
  void replicasAreProbedForLivenessAndReadinessListenOnThePodAndExitOutOfHeap() {
    Deployment serve =
        (Deployment)
            ManifestBinding.bind(
                    "serving", DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve"))
                .object();
    Container c = serve.getSpec().getTemplate().getSpec().getContainers().get(0);
    String port = c.getPorts().get(0).getName();
    assertThat(c.getLivenessProbe().getHttpGet()).as("an HTTP liveness probe").isNotNull();
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo(port);
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    Map<String, io.fabric8.kubernetes.api.model.EnvVar> env = new java.util.HashMap<>();
    c.getEnv().forEach(e -> env.put(e.getName(), e));
    assertThat(env.get("STREAMREC_JAVA_OPTS").getValue()).contains("-XX:+ExitOnOutOfMemoryError");
    // the optional token: from a Secret that need not exist, under the name serve reads
    io.fabric8.kubernetes.api.model.SecretKeySelector token =
        env.get(ServeCommand.TOKEN_ENV).getValueFrom().getSecretKeyRef();
    assertThat(token.getOptional()).isTrue();

    Map<String, Object> compose = DeploymentFiles.composeServices().get("serve");
    assertThat((String) at(compose, "environment", "STREAMREC_JAVA_OPTS"))
        .contains("-XX:+ExitOnOutOfMemoryError");
    assertThat(map(compose.get("environment"), "environment")).containsKey(ServeCommand.TOKEN_ENV);
    assertThat(String.join(" ", strings(at(compose, "healthcheck", "test"), "healthcheck")))
        .contains("/healthz");

    // the command line listens on this machine only; both deployments open the container's
    // interfaces explicitly, and bound the model's staleness with a duration serve reads
    CommandLine.Model.OptionSpec bind =
        subcommands().get("serve").getCommandSpec().findOption("--bind");
    assertThat(bind.defaultValue()).isEqualTo("127.0.0.1");
    for (List<String> args :
        List.of(c.getArgs(), command(DeploymentFiles.composeServices().get("serve"), "serve"))) {
      assertThat(valueOf(args, "--bind")).as(args.toString()).isEqualTo("0.0.0.0");
      ServeCommand parsed = new ServeCommand();
      new CommandLine(parsed).parseArgs(args.subList(2, args.size()).toArray(String[]::new));
      assertThat(valueOf(args, "--max-staleness")).isNotBlank();
    }
  }

  @Test
  void theTrainersTaskManagerAsksForAGpuAndLandsOnAGpuNode() throws IOException {
    FlinkDeployment fd = boundFlinkDeployment();
    PodTemplateSpec tm = fd.getSpec().getTaskManager().getPodTemplate();
    assertThat(tm).as("taskManager.podTemplate").isNotNull();
    Container c = mainContainer(tm);
    assertThat(c.getResources().getLimits())
        .as("the TaskManager's GPU")
        .containsEntry(GPU, new Quantity("1"));
    assertThat(tm.getSpec().getNodeSelector()).as("a GPU node").isNotEmpty();
    assertThat(tm.getSpec().getTolerations())
        .as("GPU nodes' taint")
        .anyMatch(t -> GPU.equals(t.getKey()));
    assertThat(c.getEnv())
        .as("the NVIDIA runtime mounts the CUDA driver library for compute only")
        .anyMatch(
            e ->
                e.getName().equals("NVIDIA_DRIVER_CAPABILITIES")
                    && e.getValue().contains("compute"));
    // the JobManager needs no GPU: none in the pods' common template or its own
    PodTemplateSpec common = fd.getSpec().getPodTemplate();
    PodTemplateSpec jm = fd.getSpec().getJobManager().getPodTemplate();
    for (PodTemplateSpec t : new PodTemplateSpec[] {common, jm}) {
      if (t != null) {
        Container m = mainContainer(t);
        assertThat(m.getResources() == null ? Map.of() : m.getResources().getLimits())
            .doesNotContainKey(GPU);
      }
    }
    // a TaskManager with a GPU trains on it, or fails at start: never on its CPU unnoticed
    assertThat(jobArguments().config().backend()).isEqualTo(BackendMode.CUDA);
  }

  @Test
  void everyFlinkPodAndReplicaServesPrometheusMetricsThatAPodMonitorScrapes() throws Exception {
    FlinkDeployment fd = boundFlinkDeployment();
    Map<String, String> conf = fd.getSpec().getFlinkConfiguration();
    String reporter = prometheusReporter(conf);
    assertThat(reporter).as("a Prometheus reporter in flinkConfiguration").isNotNull();
    int port = Integer.parseInt(conf.get("metrics.reporter." + reporter + ".port"));
    ContainerPort metrics =
        mainContainer(fd.getSpec().getPodTemplate()).getPorts().stream()
            .filter(p -> p.getContainerPort() == port)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no container port " + port + " in the pods"));

    PodMonitor flink = boundPodMonitor("streamrec-flink");
    assertThat(flink.getSpec().getSelector().getMatchLabels())
        .as(
            "the labels the operator gives the pods of FlinkDeployment "
                + fd.getMetadata().getName())
        .containsEntry("app", fd.getMetadata().getName())
        .containsEntry("type", "flink-native-kubernetes");
    assertThat(flink.getSpec().getPodMetricsEndpoints())
        .extracting(e -> e.getPort())
        .containsExactly(metrics.getName());

    Deployment serve =
        (Deployment)
            ManifestBinding.bind(
                    "serving", DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve"))
                .object();
    PodMonitor replicas = boundPodMonitor("streamrec-serve");
    assertThat(serve.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(replicas.getSpec().getSelector().getMatchLabels());
    Container sc = serve.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(replicas.getSpec().getPodMetricsEndpoints())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(sc.getPorts()).extracting(ContainerPort::getName).contains(e.getPort());
              assertThat(e.getPath()).isEqualTo("/metrics");
            });
  }

  @Test
  void composesGpuOverrideBuildsTheCudaBackendAndReservesAGpuForTheTrainer() {
    Map<String, Object> gpu =
        map(
            DeploymentFiles.yaml(DeploymentFiles.root().resolve("docker-compose.gpu.yml")),
            "docker-compose.gpu.yml");
    Map<String, Object> services = map(gpu.get("services"), "services");
    assertThat(services).containsOnlyKeys("trainer");
    Map<String, Object> trainer = map(services.get("trainer"), "trainer");
    assertThat(at(trainer, "build", "context")).isEqualTo(".");
    String backends = (String) at(trainer, "build", "args", "BACKENDS");
    assertThat(backends).isEqualTo("cuda");
    Object device =
        list(at(trainer, "deploy", "resources", "reservations", "devices"), "devices").get(0);
    assertThat(at(device, "driver")).isEqualTo("nvidia");
    assertThat(((Number) at(device, "count")).intValue()).isEqualTo(1);
    assertThat(strings(at(device, "capabilities"), "capabilities")).contains("gpu");
    assertThat((String) at(trainer, "environment", "NVIDIA_DRIVER_CAPABILITIES"))
        .contains("compute");
    // the Dockerfile's build stage for that argument has the CUDA toolkit (nvcc) and a JDK
    String dockerfile = DeploymentFiles.read(DeploymentFiles.root().resolve("Dockerfile"));
    assertThat(dockerfile)
        .contains("ARG BACKENDS=cpu", "FROM build-${BACKENDS} AS build")
        .containsPattern("FROM nvidia/cuda:[^ ]*-devel-[^ ]* AS build-" + backends)
        .contains("openjdk-17-jdk");
  }

  @Test
  void composeRunsTheTrainerWithThePrometheusReporterOnAPublishedPort() throws Exception {
    List<String> args = command(DeploymentFiles.composeServices().get("trainer"), "trainer");
    Map<String, String> conf = new java.util.TreeMap<>();
    for (int i = 0; i < args.size() - 1; i++) {
      if (args.get(i).equals("-D")) {
        String kv = args.get(i + 1);
        conf.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      }
    }
    String reporter = prometheusReporter(conf);
    assertThat(reporter).as("the trainer's Prometheus reporter").isNotNull();
    String port = conf.get("metrics.reporter." + reporter + ".port");
    assertThat(strings(DeploymentFiles.composeServices().get("trainer").get("ports"), "ports"))
        .anyMatch(p -> p.endsWith(":" + port));
    assertThat(strings(DeploymentFiles.composeServices().get("serve").get("ports"), "ports"))
        .contains("8080:8080");
  }

  @Test
  void theJobAndTheReplicasReadTheirKafkaClientSettingsFromTheSecret() throws IOException {
    Map<String, Object> secret = DeploymentFiles.k8sObjects().get("Secret/streamrec-kafka-client");
    String inPod =
        valueOf(strings(at(servingContainer(), "args"), "serving args"), "--command-config");
    Object source = servingVolumes().get(mountedAt(Path.of(inPod).getParent(), servingMounts()));
    assertThat(at(source, "secret", "secretName")).isEqualTo(at(secret, "metadata", "name"));
    assertThat(at(secret, "stringData", Path.of(inPod).getFileName().toString())).isNotNull();
    // the job reads the same file (jobArguments resolves it from the Secret)
    assertThat(jobArguments().config().kafkaProperties().isEmpty()).isTrue();
  }

  // ---- topics

  @Test
  void composeAndKubernetesCreateStreamrecsTopicsAlike() throws IOException {
    List<DeploymentFiles.TopicSpec> compose =
        DeploymentFiles.topicSpecs(DeploymentFiles.composeTopicsScript());
    List<DeploymentFiles.TopicSpec> k8s =
        DeploymentFiles.topicSpecs(DeploymentFiles.k8sTopicsScript());
    assertThat(k8s).isEqualTo(compose);
    List<DeploymentFiles.TopicSpec> strimzi = new ArrayList<>();
    for (Map.Entry<String, Map<String, Object>> e : DeploymentFiles.k8sObjects().entrySet()) {
      if (e.getKey().startsWith("KafkaTopic/")) {
        KafkaTopic t = (KafkaTopic) ManifestBinding.bind(e.getKey(), e.getValue()).object();
        Map<String, String> configs = new java.util.LinkedHashMap<>();
        t.getSpec().getConfig().forEach((k, v) -> configs.put(k, String.valueOf(v)));
        String name =
            t.getSpec().getTopicName() != null
                ? t.getSpec().getTopicName()
                : t.getMetadata().getName();
        strimzi.add(new DeploymentFiles.TopicSpec(name, t.getSpec().getPartitions(), configs));
      }
    }
    assertThat(strimzi).as("Strimzi's KafkaTopics").containsExactlyInAnyOrderElementsOf(compose);
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
    assertThat(updates.configs())
        .as("the settings streamrec's own tools create the topic with")
        .isEqualTo(
            io.streamrec.job.kafka.TopicSpec.all(TopicsConfig.defaults()).stream()
                .filter(t -> t.name().equals(TopicsConfig.DEFAULT_MODEL_UPDATES))
                .findFirst()
                .orElseThrow()
                .configs());
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

  private static final String GPU = "nvidia.com/gpu";

  private static final String PROMETHEUS_FACTORY =
      "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";

  private static FlinkDeployment boundFlinkDeployment() {
    return (FlinkDeployment)
        ManifestBinding.bind("k8s/flinkdeployment.yaml", flinkDeployment()).object();
  }

  private static PodMonitor boundPodMonitor(String name) {
    return (PodMonitor)
        ManifestBinding.bind(name, DeploymentFiles.k8sObjects().get("PodMonitor/" + name)).object();
  }

  private static Container mainContainer(PodTemplateSpec t) {
    return t.getSpec().getContainers().stream()
        .filter(c -> "flink-main-container".equals(c.getName()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no flink-main-container in a pod template"));
  }

  /** The name of the reporter whose factory is Flink's Prometheus reporter, which must load. */
  private static String prometheusReporter(Map<String, String> conf) throws ClassNotFoundException {
    String name = null;
    for (Map.Entry<String, String> e : conf.entrySet()) {
      if (e.getKey().startsWith("metrics.reporter.")
          && e.getKey().endsWith(".factory.class")
          && e.getValue().equals(PROMETHEUS_FACTORY)) {
        name = e.getKey().substring(17, e.getKey().length() - ".factory.class".length());
      }
    }
    // the image's Flink ships it as a plugin; the command line (compose) has it on its class path
    Class.forName(PROMETHEUS_FACTORY);
    return name;
  }

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
    return mounts(flinkContainer(), "volumeMounts");
  }

  private static Map<String, Object> podVolumes() {
    return volumes(at(flinkDeployment(), "spec", "podTemplate", "spec", "volumes"), "volumes");
  }

  private static Map<String, String> servingMounts() {
    return mounts(servingContainer(), "serving volumeMounts");
  }

  private static Map<String, Object> servingVolumes() {
    Map<String, Object> d = DeploymentFiles.k8sObjects().get("Deployment/streamrec-serve");
    return volumes(at(d, "spec", "template", "spec", "volumes"), "serving volumes");
  }

  /** Volume name to mount path in {@code container}. */
  private static Map<String, String> mounts(Map<String, Object> container, String what) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Object m : list(container.get("volumeMounts"), what)) {
      out.put((String) at(m, "name"), (String) at(m, "mountPath"));
    }
    return out;
  }

  /** A pod's volumes by name. */
  private static Map<String, Object> volumes(Object list, String what) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    for (Object v : list(list, what)) {
      out.put((String) at(v, "name"), v);
    }
    return out;
  }

  /**
   * The replicas' arguments, parsed by the command line's own parser, with {@code --config} and
   * {@code --command-config} pointing at the ConfigMap and Secret entries mounted at those paths.
   */
  private ServeCommand servingArguments() throws IOException {
    List<String> args = new ArrayList<>(strings(at(servingContainer(), "args"), "serving args"));
    for (String option : List.of("--config", "--command-config")) {
      int i = args.indexOf(option);
      assertThat(i).as("the replicas are given " + option).isNotNegative();
      args.set(
          i + 1,
          mountedFile(Path.of(args.get(i + 1)), servingMounts(), servingVolumes()).toString());
    }
    CommandLine cl = StreamrecCli.commandLine();
    cl.parseArgs(args.subList(1, args.size()).toArray(String[]::new));
    return cl.getSubcommands().get("serve").getCommand();
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
    args.set(c + 1, mountedFile(Path.of(args.get(c + 1)), volumeMounts(), podVolumes()).toString());
    int k = args.indexOf("--command-config");
    assertThat(k).as("the job is given the Kafka client settings").isNotNegative();
    args.set(k + 1, mountedFile(Path.of(args.get(k + 1)), volumeMounts(), podVolumes()).toString());
    return JobArguments.parse(args.toArray(String[]::new));
  }

  /** The name of the volume {@code mounts} (name to path) mount at {@code folder}. */
  private static String mountedAt(Path folder, Map<String, String> mounts) {
    return mounts.entrySet().stream()
        .filter(e -> Path.of(e.getValue()).equals(folder))
        .map(Map.Entry::getKey)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume is mounted at " + folder));
  }

  /**
   * The file a pod sees at {@code inPod}: the key of the ConfigMap or Secret mounted at its folder
   * ({@code mounts}: volume name to path; {@code volumes}: the pod's volumes by name), written to a
   * temporary file.
   */
  private Path mountedFile(Path inPod, Map<String, String> mounts, Map<String, Object> volumes)
      throws IOException {
    Object source = volumes.get(mountedAt(inPod.getParent(), mounts));
    String id =
        at(source, "configMap", "name") != null
            ? "ConfigMap/" + at(source, "configMap", "name")
            : "Secret/" + at(source, "secret", "secretName");
    Map<String, Object> object = DeploymentFiles.k8sObjects().get(id);
    assertThat(object).as(id).isNotNull();
    String key = inPod.getFileName().toString();
    Object content = at(object, id.startsWith("Secret/") ? "stringData" : "data", key);
    assertThat(content).as("key " + key + " of " + id).isNotNull();
    Path file = tmp.resolve(id.replace('/', '-') + "-" + key);
    Files.writeString(file, (String) content);
    return file;
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
    // the CUDA image under one tag wherever it is built or named: the Dockerfile, the GPU compose
    // file, the FlinkDeployment and the docs that say how to build it
    assertThat(DeploymentFiles.read(DeploymentFiles.root().resolve("Dockerfile")))
        .contains("docker build --build-arg BACKENDS=cuda -t " + DeploymentFiles.CUDA_IMAGE + " .");
    assertThat(
            DeploymentFiles.read(DeploymentFiles.root().resolve("docker-compose.gpu.yml"))
                .contains("image: " + DeploymentFiles.CUDA_IMAGE))
        .isTrue();
    for (String doc : List.of("k8s/README.md", "docs/deploy.md")) {
      String text =
          DeploymentFiles.read(DeploymentFiles.root().resolve(doc)).replaceAll("\\s+", " ");
      assertThat(text)
          .as(doc)
          .doesNotContain("BACKENDS=cuda -t " + IMAGE + " ")
          .contains("BACKENDS=cuda -t " + DeploymentFiles.CUDA_IMAGE + " .");
    }
  }
}
