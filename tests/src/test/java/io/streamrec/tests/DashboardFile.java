package io.streamrec.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.job.metrics.JobMetrics;
import io.streamrec.schemas.DeadLetterReasons;
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

  /** How Flink's Prometheus reporter names an operator's metric in the group "streamrec". */
  static final String FLINK_OPERATOR =
      "flink_taskmanager_job_task_operator_" + JobMetrics.GROUP + "_";

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

  /** Every query of the dashboard. */
  static List<String> exprs() {
    return panels().stream().flatMap(p -> p.exprs().stream()).toList();
  }

  /** Every metric name the dashboard's queries read by name. */
  static Set<String> metricNames() {
    return metricNames(exprs());
  }

  /** Every metric name {@code exprs} (PromQL) read by name. */
  static Set<String> metricNames(List<String> exprs) {
    Set<String> out = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = METRIC.matcher(NAME_REGEX.matcher(e).replaceAll(""));
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  /**
   * The patterns of the metric names the dashboard's queries read by regular expression (a metric
   * counted in more than one scope): each must match a name that is exported.
   */
  static Set<String> metricPatterns() {
    return metricPatterns(exprs());
  }

  /** The patterns of the metric names {@code exprs} read by regular expression. */
  static Set<String> metricPatterns(List<String> exprs) {
    Set<String> out = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = NAME_REGEX.matcher(e);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  /**
   * The Prometheus names of every metric the job declares ({@link JobMetrics}), as Flink's
   * Prometheus reporter exports them: in the operator's group, each label's figures in their
   * subgroup, and the sources' deserializers' counters in theirs.
   */
  static Set<String> declaredJobMetrics() {
    Set<String> declared = new TreeSet<>();
    for (java.lang.reflect.Field f : JobMetrics.class.getFields()) {
      if (java.lang.reflect.Modifier.isStatic(f.getModifiers())
          && f.getType() == String.class
          && !f.getName().equals("GROUP")
          && !f.getName().equals("LABEL_KEY")) {
        try {
          declared.add(FLINK_OPERATOR + f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    JobMetrics.PER_LABEL.forEach(
        n -> declared.add(FLINK_OPERATOR + JobMetrics.LABEL_KEY + "_" + n));
    DeadLetterReasons.ALL.forEach(r -> declared.add(FLINK_OPERATOR + JobMetrics.deadLetters(r)));
    // the sources' deserializers count in a subgroup of their FLINK_OPERATOR
    Set<String> deserializer = new TreeSet<>();
    declared.forEach(
        n ->
            deserializer.add(
                n.replace(
                    FLINK_OPERATOR,
                    "flink_taskmanager_job_task_operator_deserializer_" + JobMetrics.GROUP + "_")));
    declared.addAll(deserializer);
    return declared;
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
