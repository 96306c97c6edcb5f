package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/bench-quality.sh}'s command line as docs/benchmarks.md gives it: {@code
 * [GENERATED_UNITS] [BATCH_UNITS]} then the options, each number optional. The script runs in a
 * copy of its tree where Maven, the datasets and PyTorch are stand-ins and {@code java} keeps the
 * arguments QualityBench would be given, and {@code python} those of the PyTorch runs.
 */
class BenchQualityScriptTest {
  @TempDir Path tree;

  private Path javaArgs;
  private Path torchArgs;

  @BeforeEach
  void fakeTree() throws Exception {
    Path root = DeploymentFiles.root();
    Path scripts = Files.createDirectories(tree.resolve("scripts"));
    for (String s : List.of("bench-quality.sh", "quality-table.awk")) {
      Files.copy(
          root.resolve("scripts").resolve(s),
          scripts.resolve(s),
          StandardCopyOption.REPLACE_EXISTING);
    }
    Path bin = Files.createDirectories(tree.resolve("bin"));
    javaArgs = tree.resolve("java.args");
    torchArgs = tree.resolve("torch.args");
    // QualityBench stand-in: keeps its arguments and writes one stream's units for PyTorch
    executable(
        bin.resolve("java"),
        "echo \"$*\" > '"
            + javaArgs
            + "'\n"
            + "while [ $# -gt 0 ]; do if [ \"$1\" = --out ]; then touch \"$2/s.units.jsonl\"; fi;"
            + " shift; done\n");
    executable(bin.resolve("python"), "echo \"$*\" >> '" + torchArgs + "'\n");
    Files.writeString(scripts.resolve("torch-python.sh"), "py=" + bin.resolve("python") + "\n");
    executable(tree.resolve("mvnw"), "exit 0\n");
    Files.createDirectories(tree.resolve("model/target"));
    Files.writeString(tree.resolve("model/target/cp.txt"), "");
    Path datasets = Files.createDirectories(tree.resolve("target/datasets"));
    Files.writeString(datasets.resolve("mahout-examples-0.13.0.jar"), "");
    Path rdata =
        Files.createDirectories(
            datasets.resolve("r-cran-dslabs/usr/lib/R/site-library/dslabs/data"));
    Files.writeString(rdata.resolve("Rdata.rdx"), "");
  }

  private static void executable(Path file, String body) throws Exception {
    Files.writeString(file, "#!/bin/sh\n" + body, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private ScriptRun bench(String... args) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(
            List.of("bash", tree.resolve("scripts/bench-quality.sh").toString()));
    command.addAll(List.of(args));
    return ScriptRun.run(
        command,
        Map.of("PATH", tree.resolve("bin") + ":" + System.getenv("PATH"), "STREAMREC_OFFLINE", "1"),
        60);
  }

  private String qualityBenchArgs() throws Exception {
    return Files.readString(javaArgs).strip();
  }

  @Test
  void theUnitsAndTheBatchMayBeLeftOutBeforeTheOptions() throws Exception {
    ScriptRun r = bench("--ablations");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs()).contains("--gen-units 50000 --batch 16").endsWith("--ablations");

    r = bench("--seeds", "6");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs()).contains("--gen-units 50000 --batch 16").endsWith("--seeds 6");

    r = bench("20000", "--ablations");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs()).contains("--gen-units 20000 --batch 16").endsWith("--ablations");

    r = bench("0", "32", "--ablations");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs()).contains("--gen-units 0 --batch 32").endsWith("--ablations");
  }

  @Test
  void aStreamOfOnesOwnAloneNeedsNoNumbersBeforeIt() throws Exception {
    ScriptRun r =
        bench(
            "--requests",
            "r.jsonl",
            "--impressions",
            "i.jsonl",
            "--features",
            "spec.json",
            "--only-yours");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs())
        .doesNotContain("--bank-jar", "--movielens")
        .contains("--gen-units 50000 --batch 16")
        .endsWith("--requests r.jsonl --impressions i.jsonl --features spec.json");
  }

  @Test
  void pyTorchTrainsOnTheMinibatchesQualityBenchIsGiven() throws Exception {
    ScriptRun r = bench("0", "16", "--batch", "64");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(qualityBenchArgs()).endsWith("--batch 64");
    assertThat(Files.readAllLines(torchArgs)).isNotEmpty().allMatch(l -> l.contains("--batch 64 "));
  }
}
