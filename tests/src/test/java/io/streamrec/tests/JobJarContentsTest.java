package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The job jar (flink-job/target/streamrec-job.jar, built by every {@code package}) holds the job
 * and what a Flink distribution lacks, and none of what the cluster provides or the command line
 * alone needs.
 */
class JobJarContentsTest {
  private final Path jar = DeploymentFiles.root().resolve("flink-job/target/streamrec-job.jar");

  @BeforeEach
  void theBuildMadeTheJar() {
    assertThat(jar).as("flink-job's package phase writes the job jar").isRegularFile();
  }

  @Test
  void itStartsJobMainAndHoldsTheConnectorAvroAndKafkaClient() throws IOException {
    try (JarFile j = new JarFile(jar.toFile())) {
      assertThat(j.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo("io.streamrec.job.JobMain");
      for (String cls :
          List.of(
              "io/streamrec/job/JobMain.class",
              "io/streamrec/job/StreamrecJob.class",
              "io/streamrec/model/ModelConfig.class",
              "io/streamrec/schemas/RequestEvent.class",
              "org/apache/flink/connector/kafka/source/KafkaSource.class",
              "org/apache/flink/formats/avro/typeutils/AvroTypeInfo.class",
              "org/apache/avro/Schema.class",
              "org/apache/kafka/clients/consumer/KafkaConsumer.class",
              "picocli/CommandLine.class",
              "com/fasterxml/jackson/databind/ObjectMapper.class")) {
        assertThat(j.getEntry(cls)).as(cls).isNotNull();
      }
      // service files of the connector and flink-avro are merged, not one of them kept
      ZipEntry factories = j.getEntry("META-INF/services/org.apache.flink.table.factories.Factory");
      assertThat(factories).isNotNull();
      String services =
          new String(j.getInputStream(factories).readAllBytes(), StandardCharsets.UTF_8);
      assertThat(services).contains("KafkaDynamicTableFactory", "AvroFormatFactory");
    }
  }

  @Test
  void itLeavesOutFlinkRocksDbLoggingAndTheKafkaBroker() throws IOException {
    List<String> forbidden =
        List.of(
            "org/apache/flink/runtime/",
            "org/apache/flink/streaming/api/",
            "org/apache/flink/configuration/",
            "org/apache/flink/api/common/",
            "org/apache/flink/connector/base/",
            "org/apache/flink/shaded/",
            "com/esotericsoftware/kryo/",
            "org/rocksdb/",
            "org/apache/logging/",
            "org/slf4j/",
            "log4j2.properties",
            "kafka/server/",
            "org/apache/kafka/server/common/",
            "org/apache/kafka/raft/",
            "org/apache/kafka/metadata/",
            "org/apache/kafka/common/test/",
            "scala/",
            "org/junit/");
    try (JarFile j = new JarFile(jar.toFile())) {
      List<String> found =
          j.stream()
              .map(ZipEntry::getName)
              .filter(n -> forbidden.stream().anyMatch(n::startsWith))
              .limit(20)
              .toList();
      assertThat(found).isEmpty();
    }
  }
}
