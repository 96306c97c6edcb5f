package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/quality-table.awk}, which turns the quality benchmark's rows into its tables and
 * says whether the reference model meets the target: which rows are baselines (the hashed models
 * and the same model in PyTorch, not PyTorch's ablation rows, nor a row of another seed), which are
 * streamrec's, and what the rows of other seeds sum up to.
 */
class QualityTableTest {
  private static final Path AWK = DeploymentFiles.root().resolve("scripts/quality-table.awk");

  @TempDir Path dir;

  /** A QUALITY line: AUC all, AUC last, LL all, LL last; calibration 1. */
  private static String row(String stream, String model, double... f) {
    return String.format(
        Locale.ROOT,
        "QUALITY %s | %s | 1000 | %.4f | %.4f | %.4f | %.4f | 1.000 | 1.000 | 100",
        stream,
        model,
        f[0],
        f[1],
        f[2],
        f[3]);
  }

  private String table(List<String> rows) throws IOException, InterruptedException {
    Path in = Files.write(dir.resolve("rows.txt"), rows, StandardCharsets.UTF_8);
    Process p =
        new ProcessBuilder("awk", "-F", " [|] ", "-f", AWK.toString(), in.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static String line(String out, String start) {
    return out.lines()
        .filter(l -> l.startsWith(start))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no line '" + start + "' in\n" + out));
  }

  @Test
  void theBestBaselineIsAHashedModelOrPyTorchsSameModelNotAnAblationOrAnotherSeed()
      throws Exception {
    String out =
        table(
            List.of(
                row("s", "hashed LR, Adagrad", 0.70, 0.70, 0.50, 0.50),
                row("s", "factorization machine", 0.69, 0.72, 0.49, 0.51),
                row("s", "streamrec (reference model)", 0.75, 0.74, 0.45, 0.46),
                row("s", "streamrec, FTRL wide rows", 0.76, 0.73, 0.44, 0.47),
                row("s", "streamrec (reference model), seed 1", 0.99, 0.99, 0.01, 0.01),
                row("s", "PyTorch 1.13.0a0, same model", 0.71, 0.71, 0.48, 0.48),
                row("s", "PyTorch 1.13.0a0, same model, Adagrad from 0.1", 0.72, 0.70, 0.47, 0.49),
                row(
                    "s",
                    "PyTorch 1.13.0a0, same model, Adagrad from 0.1, wide crosses",
                    0.90,
                    0.9,
                    0.1,
                    0.1),
                row(
                    "s",
                    "PyTorch 1.13.0a0, same model, Adagrad from 0.1, seed 1",
                    0.95,
                    0.95,
                    0.1,
                    0.1)));

    assertThat(line(out, "s          AUC all "))
        .contains("0.7200 PyTorch same model, Adagrad from 0.1")
        .contains("0.7500 (+0.0300)")
        .contains("0.7600 (+0.0400) FTRL wide rows");
    assertThat(line(out, "s          AUC last"))
        .contains("0.7200 factorization machine")
        .contains("0.7400 (+0.0200)  0.7400 (+0.0200) reference model");
    assertThat(line(out, "s          LL all  ")).contains("0.4700 PyTorch same model, Adagrad");
    assertThat(line(out, "s          the reference model"))
        .endsWith("meets the target (calibration 1.000 / 1.000)");
  }

  @Test
  void aMarginBelowTheTargetOrAHigherLogLossMissesIt() throws Exception {
    String out =
        table(
            List.of(
                row("s", "hashed LR, FTRL-Proximal", 0.70, 0.70, 0.50, 0.50),
                row("s", "streamrec (reference model)", 0.7099, 0.75, 0.50, 0.5001)));

    assertThat(line(out, "s          the reference model"))
        .contains("misses the target on AUC all, LL last");
  }

  @Test
  void rowsOfOtherSeedsSumUpToMeansSpreadsAndTheDifferenceOfTheMeans() throws Exception {
    String out =
        table(
            List.of(
                row("s", "streamrec (reference model)", 0.50, 0.50, 0.50, 0.50),
                row("s", "streamrec (reference model), seed 1", 0.70, 0.60, 0.30, 0.40),
                row("s", "streamrec (reference model), seed 2", 0.72, 0.62, 0.32, 0.42),
                row(
                    "s",
                    "PyTorch 1.13.0a0, same model, Adagrad from 0.1, seed 1",
                    0.71,
                    0.61,
                    0.30,
                    0.40),
                row(
                    "s",
                    "PyTorch 1.13.0a0, same model, Adagrad from 0.1, seed 2",
                    0.71,
                    0.63,
                    0.30,
                    0.40),
                row(
                    "s",
                    "PyTorch 1.13.0a0, same model, Adagrad from 0.1, seed 3",
                    0.71,
                    0.62,
                    0.30,
                    0.40)));

    // seeds 1 and 2: mean 0.71, sample standard deviation 0.02/sqrt(2) = 0.0141
    assertThat(line(out, "s          streamrec (reference model)  "))
        .contains("  2 0.7100 +- 0.0141 [0.7000, 0.7200]  0.6100 +- 0.0141 [0.6000, 0.6200]");
    assertThat(line(out, "s          PyTorch 1.13.0a0, same model, Adagrad from 0.1  "))
        .contains("  3 0.7100 +- 0.0000 [0.7100, 0.7100]  0.6200 +- 0.0100 [0.6100, 0.6300]");
    // the difference of the means, with sqrt(sd1^2/n1 + sd2^2/n2)
    assertThat(line(out, "s          reference model's mean - PyTorch's"))
        .contains("AUC all  +0.0000 +- 0.0100")
        .contains("AUC last -0.0100 +- 0.0115");
  }

  @Test
  void anAblationOverOtherSeedsIsMeasuredAgainstTheReferenceModelsMean() throws Exception {
    String out =
        table(
            List.of(
                row("s", "streamrec (reference model)", 0.50, 0.50, 0.50, 0.50),
                row("s", "streamrec, FTRL wide rows", 0.90, 0.90, 0.10, 0.10),
                row("s", "streamrec (reference model), seed 1", 0.70, 0.60, 0.30, 0.40),
                row("s", "streamrec (reference model), seed 2", 0.72, 0.62, 0.32, 0.42),
                row("s", "streamrec, FTRL wide rows, seed 1", 0.73, 0.60, 0.30, 0.40),
                row("s", "streamrec, FTRL wide rows, seed 2", 0.73, 0.60, 0.30, 0.40)));

    assertThat(line(out, "s          streamrec, FTRL wide rows  "))
        .contains("  2 0.7300 +- 0.0000");
    // 0.73 - 0.71, with sqrt(0 + 0.0141^2 / 2) = 0.0100; 0.60 - 0.61
    assertThat(line(out, "s          FTRL wide rows - reference model:"))
        .contains("AUC all  +0.0200 +- 0.0100")
        .contains("AUC last -0.0100 +- 0.0100");
  }
}
