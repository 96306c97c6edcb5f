package io.streamrec.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class HtmlReportTest {
  /** The page as XML: it is written well-formed, so that a test can walk what it draws. */
  private static Document parse(String html) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    return f.newDocumentBuilder()
        .parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
  }

  private static Element chart(Document d, String id) {
    NodeList svgs = d.getElementsByTagName("svg");
    for (int i = 0; i < svgs.getLength(); i++) {
      Element e = (Element) svgs.item(i);
      if (id.equals(e.getAttribute("id"))) {
        return e;
      }
    }
    throw new AssertionError("no chart " + id);
  }

  private static List<Element> lines(Element chart, String series) {
    List<Element> out = new ArrayList<>();
    NodeList all = chart.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if ("line".equals(e.getAttribute("class")) && series.equals(e.getAttribute("data-series"))) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void everyChartIsDrawnFromTheTimelineInOrder() throws Exception {
    Document d = parse(HtmlReport.render(ReportSamples.demo(30)));
    NodeList svgs = d.getElementsByTagName("svg");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < svgs.getLength(); i++) {
      ids.add(((Element) svgs.item(i)).getAttribute("id"));
    }
    assertThat(ids).containsExactlyElementsOf(HtmlReport.CHARTS);

    Element auc = chart(d, "chart-auc");
    List<Element> model = lines(auc, "model");
    assertThat(model).hasSize(1);
    String[] points = model.get(0).getAttribute("points").split(" ");
    assertThat(points).hasSize(30);
    // AUC rises, so the line goes up the page: y falls from point to point
    double previousY = Double.POSITIVE_INFINITY;
    double previousX = Double.NEGATIVE_INFINITY;
    for (String p : points) {
      double x = Double.parseDouble(p.split(",")[0]);
      double y = Double.parseDouble(p.split(",")[1]);
      assertThat(x).isGreaterThan(previousX);
      assertThat(y).isLessThan(previousY);
      previousX = x;
      previousY = y;
    }
    assertThat(lines(auc, "oracle (true click probabilities)"))
        .singleElement()
        .satisfies(e -> assertThat(e.getAttribute("stroke-dasharray")).isNotEmpty());

    // rates from counts: 3,900 impressions trained a second, from the second sample on
    Element throughput = chart(d, "chart-throughput");
    assertThat(throughput.getAttribute("data-points")).isEqualTo("58");
    assertThat(lines(chart(d, "chart-dead-letters"), "late")).hasSize(1);
    assertThat(lines(chart(d, "chart-calibration"), "model")).hasSize(1);
    assertThat(d.getElementsByTagName("table").getLength()).isEqualTo(1);
    assertThat(d.getDocumentElement().getTextContent()).contains("0.8200"); // the oracle's AUC
  }

  @Test
  void thePageLoadsNothingAndRunsNoScript() {
    String html = HtmlReport.render(ReportSamples.demo(10));
    assertThat(html.toLowerCase())
        .doesNotContain("http://", "https://", "src=", "href=", "<link", "url(", "@import")
        .contains("<script type=\"application/json\" id=\"report-data\">");
    assertThat(html.toLowerCase().split("<script").length).isEqualTo(2); // only the data block
  }

  @Test
  void textFromTheReportIsEscaped() throws Exception {
    ObjectNode r = ReportSamples.demo(3);
    r.put("command", "<script>alert(1)</script>");
    r.put("backend", "a & b \" </script>");
    String html = HtmlReport.render(r);
    assertThat(html).doesNotContain("<script>alert").contains("&lt;script&gt;");
    parse(html); // still well-formed
  }

  @Test
  void aRunWithoutSamplesSaysSoInEachChart() throws Exception {
    ObjectNode r = ReportSamples.demo(1);
    r.remove("timeline");
    Document d = parse(HtmlReport.render(r));
    for (String id : HtmlReport.CHARTS) {
      assertThat(chart(d, id).getAttribute("data-points")).as(id).isEqualTo("0");
      assertThat(chart(d, id).getTextContent()).contains("no samples");
    }
  }

  /** A model of several labels: the AUC chart has a line for each label, named by it. */
  @Test
  void theAucChartOfAModelOfSeveralLabelsDrawsEach() throws Exception {
    ObjectNode r = ReportSamples.demo(10);
    r.putArray("labels").add("click").add("like").add("purchase");
    int i = 0;
    for (com.fasterxml.jackson.databind.JsonNode s : r.get("timeline")) {
      ((ObjectNode) s)
          .put(
              io.streamrec.job.metrics.JobMetrics.ofLabel(
                  "like", io.streamrec.job.metrics.JobMetrics.PROGRESSIVE_AUC),
              0.8 + 0.001 * i++);
    }
    String html = HtmlReport.render(r);
    Element auc = chart(parse(html), "chart-auc");
    assertThat(lines(auc, "click")).hasSize(1);
    assertThat(lines(auc, "like")).hasSize(1);
    assertThat(lines(auc, "model")).isEmpty();
    // a label without figures (none in the timeline) draws nothing
    assertThat(lines(auc, "purchase")).isEmpty();
    assertThat(html).contains("Progressive AUC by label");
  }

  /**
   * Eight labels' legend took three rows, the chart room for two: the third row's entries were
   * drawn below the chart, cut off. The chart grows to hold its legend (here four entries a row).
   */
  @Test
  void aLegendOfManyLabelsFitsInItsChart() throws Exception {
    ObjectNode r = ReportSamples.demo(10);
    List<String> labels =
        List.of(
            "clicked_through",
            "added_to_a_cart",
            "purchased_items",
            "liked_the_movie",
            "shared_the_post",
            "viewed_a_minute",
            "left_a_review_1",
            "played_a_sample");
    com.fasterxml.jackson.databind.node.ArrayNode a = r.putArray("labels");
    labels.forEach(a::add);
    for (com.fasterxml.jackson.databind.JsonNode s : r.get("timeline")) {
      for (String l : labels) {
        ((ObjectNode) s)
            .put(
                io.streamrec.job.metrics.JobMetrics.ofLabel(
                    l, io.streamrec.job.metrics.JobMetrics.PROGRESSIVE_AUC),
                0.7);
      }
    }
    Element auc = chart(parse(HtmlReport.render(r)), "chart-auc");
    double height = Double.parseDouble(auc.getAttribute("height"));
    NodeList texts = auc.getElementsByTagName("text");
    int legends = 0;
    for (int i = 0; i < texts.getLength(); i++) {
      Element t = (Element) texts.item(i);
      if ("legend".equals(t.getAttribute("class"))) {
        legends++;
        assertThat(Double.parseDouble(t.getAttribute("y")))
            .as("legend entry '%s' inside the chart", t.getTextContent())
            .isLessThan(height - 4);
      }
    }
    assertThat(legends).as("a line for each label, and the oracle's").isEqualTo(labels.size() + 1);
    assertThat(auc.getAttribute("viewBox")).endsWith(" " + auc.getAttribute("height"));
  }

  @Test
  void aMissingValueBreaksTheLineInsteadOfDrawingZero() throws Exception {
    ObjectNode r = ReportSamples.demo(10);
    ((ObjectNode) r.get("timeline").get(4))
        .putNull(io.streamrec.job.metrics.JobMetrics.PROGRESSIVE_AUC);
    List<Element> model = lines(chart(parse(HtmlReport.render(r)), "chart-auc"), "model");
    assertThat(model).hasSize(2);
  }

  /**
   * A backfill of the request-units log read no events: its page said "impressions read 0" next to
   * the impressions it trained, and titled calibration by clicks for a model of other labels.
   */
  @Test
  void aRunOfTheUnitsLogShowsTheUnitsItReadAndNoLabelIsNamedClick() {
    ObjectNode r = ReportSamples.demo(3);
    r.put("impressions", 0);
    r.put("units_read", 38_399);
    String html = HtmlReport.render(r);
    assertThat(html).contains("units read (request-units log)").contains("38,399");
    assertThat(html).doesNotContain("impressions read").doesNotContain("click rate");
  }

  @Test
  void ticksAreRoundNumbers() {
    assertThat(SvgChart.niceStep(0.037)).isEqualTo(0.05);
    assertThat(SvgChart.niceStep(130)).isEqualTo(200);
    assertThat(SvgChart.number(0.3000000004, 0.05)).isEqualTo("0.30");
    assertThat(SvgChart.number(12000, 5000)).isEqualTo("12,000");
  }
}
