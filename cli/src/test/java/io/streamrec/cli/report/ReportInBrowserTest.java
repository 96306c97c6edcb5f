package io.streamrec.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report in a real browser: headless Chromium loads the page from a file, with the network off,
 * and what it renders holds every chart's lines (its DOM after loading) in their colours (its
 * screenshot). Skipped, visibly, where no Chromium is installed; scripts/check-report.sh does the
 * same for a real demo run.
 */
class ReportInBrowserTest {
  @TempDir Path tmp;

  static String chromium() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        if (Files.isExecutable(Path.of(dir, name))) {
          return Path.of(dir, name).toString();
        }
      }
    }
    return null;
  }

  private static String run(List<String> command, Path out) throws Exception {
    List<String> c = new ArrayList<>(command);
    Process p =
        new ProcessBuilder(c).redirectErrorStream(false).redirectOutput(out.toFile()).start();
    p.getErrorStream().transferTo(java.io.OutputStream.nullOutputStream());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    assertThat(p.exitValue()).as("chromium's exit").isZero();
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  private static List<String> chromium(String binary, String... args) {
    List<String> c =
        new ArrayList<>(
            List.of(
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                // nothing leaves the machine: any request the page made would fail
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--window-size=1280,1400"));
    c.addAll(List.of(args));
    return c;
  }

  @Test
  void chromiumRendersEveryChartsLinesInTheirColours() throws Exception {
    String binary = chromium();
    assumeTrue(binary != null, "no chromium on the PATH: apt-get install chromium to run this");
    Path page = tmp.resolve("report.html");
    Files.writeString(page, HtmlReport.render(ReportSamples.demo(30)));

    String dom = run(chromium(binary, "--dump-dom", page.toUri().toString()), tmp.resolve("dom"));
    for (String id : HtmlReport.CHARTS) {
      assertThat(dom).contains("id=\"" + id + "\"");
    }
    assertThat(dom.split("<polyline class=\"line\"").length - 1).isGreaterThanOrEqualTo(10);

    Path png = tmp.resolve("report.png");
    run(
        chromium(binary, "--screenshot=" + png, page.toUri().toString()),
        tmp.resolve("screenshot.log"));
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(1280);
    for (String color :
        List.of(HtmlReport.BLUE, HtmlReport.RED, HtmlReport.PURPLE, HtmlReport.ORANGE)) {
      assertThat(pixelsNear(image, color)).as("pixels of " + color).isGreaterThan(150);
    }
  }

  /** Pixels within a small distance of {@code hex} (anti-aliasing blurs a line's edges). */
  static int pixelsNear(BufferedImage image, String hex) {
    int want = Integer.parseInt(hex.substring(1), 16);
    int r0 = want >> 16 & 0xff, g0 = want >> 8 & 0xff, b0 = want & 0xff;
    int n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y);
        int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
        if (Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0) < 40) {
          n++;
        }
      }
    }
    return n;
  }
}
