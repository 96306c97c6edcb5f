package io.streamrec.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.fabric8.openshift.api.model.monitoring.v1.RuleGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alerting rules, k8s/alerts.yaml, bound to the Prometheus Operator's model class: every rule
 * alerts on metrics the job declares (SecuredKafkaITCase checks every name against what a running
 * job and replica export), says how bad it is and what happened, names in its text only labels its
 * expression keeps, and is explained in docs/deploy.md.
 */
class AlertRulesTest {
  /** A Prometheus duration: 30s, 10m, 1h30m. */
  private static final Pattern DURATION = Pattern.compile("([0-9]+(ms|s|m|h|d|w|y))+");

  private static final Pattern TEMPLATE_LABEL = Pattern.compile("\\$labels\\.([a-zA-Z_]+)");

  private static final Pattern BY = Pattern.compile("\\bby \\(([^)]*)\\)");

  /** The alerting rules of the deployment folder, bound to the operator's class. */
  static List<Rule> rules() {
    PrometheusRule bound =
        (PrometheusRule)
            ManifestBinding.bind(
                    "k8s/alerts.yaml", DeploymentFiles.k8sObjects().get("PrometheusRule/streamrec"))
                .object();
    List<Rule> out = new ArrayList<>();
    for (RuleGroup g : bound.getSpec().getGroups()) {
      out.addAll(g.getRules());
    }
    return out;
  }

  /** Every expression of the alerting rules. */
  static List<String> exprs() {
    return rules().stream().map(r -> r.getExpr().getStrVal()).toList();
  }

  @Test
  void everyRuleAlertsOnAnExpressionSaysHowBadAndWhatHappened() {
    List<Rule> rules = rules();
    assertThat(rules).hasSizeGreaterThanOrEqualTo(10);
    Set<String> names = new TreeSet<>();
    for (Rule r : rules) {
      String name = r.getAlert();
      assertThat(name).as("an alerting rule, not a recording one").startsWith("Streamrec");
      assertThat(names.add(name)).as(name + " named once").isTrue();
      String expr = r.getExpr().getStrVal();
      assertThat(expr).as(name).isNotBlank();
      assertThat(balanced(expr)).as(name + ": brackets of " + expr).isTrue();
      if (r.getFor() != null) {
        assertThat(r.getFor()).as(name + " for").matches(DURATION);
      }
      assertThat(r.getLabels()).as(name).containsKey("severity");
      assertThat(r.getLabels().get("severity")).as(name).isIn("critical", "warning");
      Map<String, String> text = r.getAnnotations();
      assertThat(text.get("summary")).as(name + " summary").isNotBlank();
      assertThat(text.get("description")).as(name + " description").isNotBlank();
    }
  }

  /**
   * A label a summary names must be one the expression's result has: an aggregation keeps only
   * those it groups by, and {{ $labels.reason }} after {@code sum by (job_name)} prints nothing.
   */
  @Test
  void theTextNamesOnlyLabelsTheExpressionKeeps() {
    for (Rule r : rules()) {
      String expr = r.getExpr().getStrVal();
      Set<String> kept = new TreeSet<>();
      Matcher by = BY.matcher(expr);
      boolean aggregated = false;
      while (by.find()) {
        aggregated = true;
        for (String l : by.group(1).split(",")) {
          kept.add(l.trim());
        }
      }
      boolean aggregatedWithoutBy =
          Pattern.compile("\\b(sum|max|min|avg|count)\\s*\\(").matcher(expr).find();
      for (String annotation : r.getAnnotations().values()) {
        Matcher l = TEMPLATE_LABEL.matcher(annotation);
        while (l.find()) {
          if (aggregated) {
            assertThat(kept).as(r.getAlert() + " names $labels." + l.group(1)).contains(l.group(1));
          } else {
            assertThat(aggregatedWithoutBy)
                .as(r.getAlert() + " aggregates away $labels." + l.group(1))
                .isFalse();
          }
        }
      }
    }
  }

  @Test
  void everyJobMetricAnAlertReadsIsOneTheJobDeclares() {
    List<String> exprs = exprs();
    Set<String> declared = DashboardFile.declaredJobMetrics();
    Set<String> ours = new TreeSet<>();
    DashboardFile.metricNames(exprs).stream()
        .filter(n -> n.startsWith(DashboardFile.FLINK_OPERATOR))
        .forEach(ours::add);
    assertThat(ours).isNotEmpty();
    assertThat(declared).as("metrics JobMetrics declares").containsAll(ours);
    assertThat(DashboardFile.metricPatterns(exprs)).isNotEmpty();
    assertThat(DashboardFile.unmatched(DashboardFile.metricPatterns(exprs), declared))
        .as("name patterns no declared metric matches")
        .isEmpty();
  }

  @Test
  void everyAlertIsExplainedInTheDeploymentGuide() throws IOException {
    String guide = Files.readString(DeploymentFiles.root().resolve("docs/deploy.md"));
    for (Rule r : rules()) {
      assertThat(guide).as("docs/deploy.md explains " + r.getAlert()).contains(r.getAlert());
    }
  }

  /**
   * Prometheus' own check, where its promtool is installed (Debian's prometheus package): every
   * rule parses, and scripts/alerts-test.yaml's series fire each alert they should and no other.
   */
  @Test
  void promtoolParsesTheRulesAndTheirUnitTestsPass() throws Exception {
    boolean found = false;
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      found |= Files.isExecutable(java.nio.file.Path.of(dir, "promtool"));
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(
        found, "promtool is not on PATH (apt-get install prometheus): the rules are not run");
    Process p =
        new ProcessBuilder("bash", "scripts/check-alerts.sh")
            .directory(DeploymentFiles.root().toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).contains("SUCCESS: " + rules().size() + " rules found");
  }

  private static boolean balanced(String s) {
    int round = 0, curly = 0, square = 0;
    boolean quoted = false;
    for (char c : s.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted) {
        round += c == '(' ? 1 : c == ')' ? -1 : 0;
        curly += c == '{' ? 1 : c == '}' ? -1 : 0;
        square += c == '[' ? 1 : c == ']' ? -1 : 0;
        if (round < 0 || curly < 0 || square < 0) {
          return false;
        }
      }
    }
    return round == 0 && curly == 0 && square == 0 && !quoted;
  }
}
