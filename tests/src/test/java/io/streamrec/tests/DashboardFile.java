package io.streamrec.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Grafana dashboard of the deployment folder, k8s/grafana-dashboard.json, read. */
final class DashboardFile {
  /** A metric name in a PromQL expression: ours and Flink's start so. */
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:flink|streamrec)_[a-zA-Z0-9_]+)\\b");

  /** A selector of metric names by regular expression: {@code {__name__=~"..."}}. */
  private static final Pattern NAME_REGEX = Pattern.compile("__name__=~\"([^\"]+)\"");

  private DashboardFile() {}

  static Path path() {
    return DeploymentFiles.root().resolve("k8s/grafana-dashboard.json");
  }

  static JsonNode json() {
    try {
      return new ObjectMapper().readTree(path().toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One panel: its title and its queries. */
  record Panel(String title, List<String> exprs) {}

  static List<Panel> panels() {
    List<Panel> out = new ArrayList<>();
    for (JsonNode p : json().get("panels")) {
      if ("row".equals(p.path("type").asText())) {
        continue;
      }
      List<String> exprs = new ArrayList<>();
      p.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
      out.add(new Panel(p.path("title").asText(), exprs));
    }
    return out;
  }

  /** Every metric name the dashboard's queries read by name. */
  static Set<String> metricNames() {
    Set<String> out = new TreeSet<>();
    for (Panel p : panels()) {
      for (String e : p.exprs()) {
        Matcher m = METRIC.matcher(NAME_REGEX.matcher(e).replaceAll(""));
        while (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    return out;
  }

  /**
   * The patterns of the metric names the dashboard's queries read by regular expression (a metric
   * counted in more than one scope): each must match a name that is exported.
   */
  static Set<String> metricPatterns() {
    Set<String> out = new TreeSet<>();
    for (Panel p : panels()) {
      for (String e : p.exprs()) {
        Matcher m = NAME_REGEX.matcher(e);
        while (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    return out;
  }

  /** The patterns none of {@code names} matches (PromQL anchors a regex at both ends). */
  static Set<String> unmatched(Set<String> patterns, Set<String> names) {
    Set<String> out = new TreeSet<>();
    for (String p : patterns) {
      Pattern re = Pattern.compile(p);
      if (names.stream().noneMatch(n -> re.matcher(n).matches())) {
        out.add(p);
      }
    }
    return out;
  }
}
