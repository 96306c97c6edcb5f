package io.streamrec.tests;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module table of ARCHITECTURE.md as rules over the main classes of every module: what each
 * module's code may use, ours and third parties'. A wrong edge (say, {@code model} calling into the
 * protocol, or {@code serving} into Flink) fails the build here, naming the class and the call.
 */
class ModuleTableTest {
  /** What every module may use: the JDK. */
  private static final String[] JDK = {"java..", "javax.annotation.."};

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.streamrec");
  }

  private static void check(String module, String pkg, String... allowed) {
    List<String> may = new ArrayList<>(List.of(JDK));
    may.add(pkg + "..");
    may.addAll(List.of(allowed));
    ArchRule rule =
        classes()
            .that()
            .resideInAPackage(pkg + "..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(may.toArray(new String[0]))
            .as(
                "module "
                    + module
                    + " ("
                    + pkg
                    + ") uses only "
                    + String.join(", ", allowed)
                    + " and the JDK");
    rule.check(main);
  }

  @Test
  void commonUsesNothingButTheJdk() {
    check("common", "io.streamrec.common");
  }

  @Test
  void schemasUseCommonAvroAndJackson() {
    check(
        "schemas",
        "io.streamrec.schemas",
        "io.streamrec.common..",
        "org.apache.avro..",
        "com.fasterxml.jackson..");
  }

  @Test
  void protocolUsesCommonAndSchemas() {
    check(
        "protocol",
        "io.streamrec.protocol",
        "io.streamrec.common..",
        "io.streamrec.schemas..",
        "org.apache.avro..");
  }

  @Test
  void gpuOpsUsesCommonAndJCuda() {
    check("gpu-ops", "io.streamrec.gpu", "io.streamrec.common..", "jcuda..", "org.slf4j..");
  }

  @Test
  void embeddingStoreUsesCommonGpuOpsAndRocksDb() {
    check(
        "embedding-store",
        "io.streamrec.embedding",
        "io.streamrec.common..",
        "io.streamrec.gpu..",
        "org.rocksdb..",
        "org.slf4j..");
  }

  @Test
  void modelUsesGpuOpsEmbeddingStoreAndSchemas() {
    check(
        "model",
        "io.streamrec.model",
        "io.streamrec.common..",
        "io.streamrec.gpu..",
        "io.streamrec.embedding..",
        "io.streamrec.schemas..",
        "org.apache.avro..",
        "com.fasterxml.jackson..",
        "org.slf4j..");
  }

  @Test
  void trafficUsesSchemas() {
    check(
        "traffic",
        "io.streamrec.traffic",
        "io.streamrec.common..",
        "io.streamrec.schemas..",
        "org.apache.avro..");
  }

  @Test
  void theJobUsesTheModelTheProtocolFlinkAndTheKafkaClient() {
    check(
        "flink-job",
        "io.streamrec.job",
        "io.streamrec.common..",
        "io.streamrec.schemas..",
        "io.streamrec.protocol..",
        "io.streamrec.gpu..",
        "io.streamrec.embedding..",
        "io.streamrec.model..",
        "org.apache.flink..",
        "org.apache.kafka.clients..",
        "org.apache.kafka.common..",
        "org.apache.avro..",
        "com.fasterxml.jackson..",
        "picocli..",
        "org.slf4j..");
  }

  @Test
  void servingUsesTheModelAndTheProtocolButNoFlinkBrokerOrRocksDb() {
    check(
        "serving",
        "io.streamrec.serving",
        "io.streamrec.common..",
        "io.streamrec.schemas..",
        "io.streamrec.protocol..",
        "io.streamrec.model..",
        "org.apache.kafka.clients..",
        "org.apache.kafka.common..",
        "org.apache.avro..",
        "com.fasterxml.jackson..",
        "com.sun.net.httpserver..",
        "picocli..",
        "org.slf4j..");
  }

  @Test
  void nothingBelowTheJobUsesFlink() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "io.streamrec.common..",
            "io.streamrec.schemas..",
            "io.streamrec.protocol..",
            "io.streamrec.gpu..",
            "io.streamrec.embedding..",
            "io.streamrec.model..",
            "io.streamrec.traffic..",
            "io.streamrec.serving..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.apache.flink..")
        .check(main);
  }

  @Test
  void nothingUsesTheCommandLineOrTheTestUtilities() {
    noClasses()
        .that()
        .resideOutsideOfPackages("io.streamrec.cli..", "io.streamrec.testutils..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.streamrec.cli..", "io.streamrec.testutils..")
        .check(main);
  }
}
