package io.streamrec.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart as inline SVG, drawn here rather than by a script: a page of them reads in any
 * browser, offline, and in a mail. Lines over time, with axes, nice ticks, a legend and optional
 * reference lines; a NaN in a series breaks its line. Each line is a {@code <polyline
 * class="line">} tagged with its series, so that a test can find what was drawn.
 */
final class SvgChart {
  static final int WIDTH = 600;
  static final int HEIGHT = 300;
  private static final int LEFT = 64;
  private static final int RIGHT = 16;
  private static final int TOP = 34;
  private static final int BOTTOM = 80;

  /** Legend rows: the first below the axis label, a second where the first is full. */
  private static final int LEGEND_ROW = 18;

  /** Ticks to aim for on an axis. */
  private static final int TICKS = 5;

  /** One line: its points, colour and style. */
  record Series(String name, String color, double[] x, double[] y, boolean dashed) {}

  private record Reference(double y, String label) {}

  private final String id;
  private final String title;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private final List<Reference> references = new ArrayList<>();
  private Double yMin;
  private Double yMax;

  SvgChart(String id, String title, String yLabel) {
    this.id = id;
    this.title = title;
    this.yLabel = yLabel;
  }

  SvgChart line(String name, String color, double[] x, double[] y) {
    series.add(new Series(name, color, x, y, false));
    return this;
  }

  SvgChart dashed(String name, String color, double[] x, double[] y) {
    series.add(new Series(name, color, x, y, true));
    return this;
  }

  /** A horizontal line at {@code y}, e.g. a perfect calibration of 1. */
  SvgChart reference(double y, String label) {
    references.add(new Reference(y, label));
    return this;
  }

  /** The y axis spans at least {@code min}..{@code max} (null: the data decide). */
  SvgChart yAtLeast(Double min, Double max) {
    this.yMin = min;
    this.yMax = max;
    return this;
  }

  /** Points drawn, over every line. */
  int points() {
    int n = 0;
    for (Series s : series) {
      for (int i = 0; i < s.x.length; i++) {
        n += Double.isFinite(s.x[i]) && Double.isFinite(s.y[i]) ? 1 : 0;
      }
    }
    return n;
  }

  String render() {
    double x0 = 0, x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x.length; i++) {
        if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
          x1 = Math.max(x1, s.x[i]);
          y0 = Math.min(y0, s.y[i]);
          y1 = Math.max(y1, s.y[i]);
        }
      }
    }
    int points = points();
    // rows the legend takes beyond the two the chart leaves room for grow the chart downwards
    int height = HEIGHT + Math.max(0, legendRows() - 2) * LEGEND_ROW;
    StringBuilder b = new StringBuilder();
    b.append(
            String.format(
                Locale.ROOT,
                "<svg class=\"chart\" id=\"%s\" data-points=\"%d\" viewBox=\"0 0 %d %d\" width=\"%d\""
                    + " height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
                id,
                points,
                WIDTH,
                height,
                WIDTH,
                height,
                Html.escape(title)))
        .append("<rect x=\"0\" y=\"0\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(height)
        .append("\" fill=\"#ffffff\"/>\n")
        .append(text(LEFT, 20, "start", "title", title));
    if (points == 0) {
      b.append(text(WIDTH / 2, HEIGHT / 2, "middle", "empty", "no samples of this in the run"));
      return b.append("</svg>\n").toString();
    }
    for (Reference r : references) {
      y0 = Math.min(y0, r.y);
      y1 = Math.max(y1, r.y);
    }
    if (yMin != null) {
      y0 = Math.min(y0, yMin);
    }
    if (yMax != null) {
      y1 = Math.max(y1, yMax);
    }
    if (y1 - y0 < 1e-12) {
      double pad = Math.max(Math.abs(y0) * 0.1, 1e-3);
      y0 -= pad;
      y1 += pad;
    }
    if (x1 <= x0) {
      x1 = x0 + 1;
    }
    double yStep = niceStep((y1 - y0) / TICKS);
    y0 = Math.floor(y0 / yStep) * yStep;
    y1 = Math.ceil(y1 / yStep) * yStep;
    double xStep = niceStep((x1 - x0) / TICKS);
    x1 = Math.ceil(x1 / xStep) * xStep;
    Frame f = new Frame(x0, x1, y0, y1);

    // grid and axes
    b.append("<g class=\"axes\" font-size=\"11\" fill=\"#444444\">\n");
    for (double v = y0; v <= y1 + yStep / 2; v += yStep) {
      double py = f.py(v);
      b.append(line(LEFT, py, WIDTH - RIGHT, py, "#e6e6e6", 1, false))
          .append(text(LEFT - 6, py + 4, "end", "tick", number(v, yStep)));
    }
    for (double v = x0; v <= x1 + xStep / 2; v += xStep) {
      double px = f.px(v);
      b.append(line(px, TOP, px, HEIGHT - BOTTOM, "#f0f0f0", 1, false))
          .append(text(px, HEIGHT - BOTTOM + 16, "middle", "tick", number(v, xStep)));
    }
    b.append(line(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM, "#888888", 1, false))
        .append(line(LEFT, TOP, LEFT, HEIGHT - BOTTOM, "#888888", 1, false))
        .append(
            text(
                (LEFT + WIDTH - RIGHT) / 2.0,
                HEIGHT - BOTTOM + 30,
                "middle",
                "axis-label",
                "seconds since the start of the run"))
        .append(
            String.format(
                Locale.ROOT,
                "<text class=\"axis-label\" transform=\"translate(14 %.1f) rotate(-90)\""
                    + " text-anchor=\"middle\">%s</text>\n",
                (TOP + HEIGHT - BOTTOM) / 2.0,
                Html.escape(yLabel)))
        .append("</g>\n");
    for (Reference r : references) {
      double py = f.py(r.y);
      b.append(line(LEFT, py, WIDTH - RIGHT, py, "#555555", 1, true))
          .append(text(WIDTH - RIGHT - 4, py - 4, "end", "reference", r.label));
    }
    // the lines, split where a value is missing; a lone point is drawn as a dot
    for (Series s : series) {
      List<String> run = new ArrayList<>();
      for (int i = 0; i <= s.x.length; i++) {
        boolean ok = i < s.x.length && Double.isFinite(s.x[i]) && Double.isFinite(s.y[i]);
        if (ok) {
          run.add(String.format(Locale.ROOT, "%.1f,%.1f", f.px(s.x[i]), f.py(s.y[i])));
        } else if (!run.isEmpty()) {
          b.append(polyline(s, run));
          run.clear();
        }
      }
    }
    // legend, wrapping to further rows
    double lx = LEFT;
    double ly = HEIGHT - 8 - LEGEND_ROW;
    for (Series s : series) {
      double w = legendWidth(s);
      if (lx > LEFT && lx + w > WIDTH - RIGHT) {
        lx = LEFT;
        ly += LEGEND_ROW;
      }
      b.append(line(lx, ly - 4, lx + 22, ly - 4, s.color, 3, s.dashed))
          .append(text(lx + 27, ly, "start", "legend", s.name));
      lx += w;
    }
    return b.append("</svg>\n").toString();
  }

  private static double legendWidth(Series s) {
    return 40 + 6 * s.name.length();
  }

  /** The rows the legend takes, laid out as {@link #render} lays it out. */
  private int legendRows() {
    int rows = series.isEmpty() ? 0 : 1;
    double lx = LEFT;
    for (Series s : series) {
      double w = legendWidth(s);
      if (lx > LEFT && lx + w > WIDTH - RIGHT) {
        lx = LEFT;
        rows++;
      }
      lx += w;
    }
    return rows;
  }

  private static String polyline(Series s, List<String> points) {
    if (points.size() == 1) {
      String[] p = points.get(0).split(",");
      return String.format(
          Locale.ROOT,
          "<circle class=\"line\" data-series=\"%s\" cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"%s\"/>\n",
          Html.escape(s.name),
          p[0],
          p[1],
          s.color);
    }
    return String.format(
        Locale.ROOT,
        "<polyline class=\"line\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\""
            + " stroke-linejoin=\"round\"%s points=\"%s\"/>\n",
        Html.escape(s.name),
        s.color,
        s.dashed ? " stroke-dasharray=\"7 5\"" : "",
        String.join(" ", points));
  }

  private static String line(
      double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
    return String.format(
        Locale.ROOT,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
        x1,
        y1,
        x2,
        y2,
        color,
        width,
        dashed ? " stroke-dasharray=\"7 5\"" : "");
  }

  private static String text(double x, double y, String anchor, String cls, String s) {
    return String.format(
        Locale.ROOT,
        "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
        cls,
        x,
        y,
        anchor,
        Html.escape(s));
  }

  /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
  static double niceStep(double raw) {
    if (!(raw > 0) || !Double.isFinite(raw)) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  /** A tick label with as many decimals as the step needs. */
  static String number(double v, double step) {
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    if (Math.abs(v) < step / 1e6) {
      v = 0;
    }
    return decimals == 0
        ? String.format(Locale.ROOT, "%,d", Math.round(v))
        : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /** Data to drawing coordinates. */
  private record Frame(double x0, double x1, double y0, double y1) {
    double px(double x) {
      return LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
    }

    double py(double y) {
      return HEIGHT - BOTTOM - (y - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM);
    }
  }
}
