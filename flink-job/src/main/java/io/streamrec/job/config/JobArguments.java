package io.streamrec.job.config;

import io.streamrec.job.StreamrecJob;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * The arguments of {@link io.streamrec.job.JobMain}, the job's entry point under {@code flink run}
 * and the Flink Kubernetes Operator. They are those of {@code streamrec run} and {@code streamrec
 * backfill} ({@link JobSettings}: {@code --config FILE}, {@code -D key=value}, {@code
 * --bootstrap-servers}, {@code --backend}), plus {@code --mode live|backfill}, the backfill range
 * {@code --from}/{@code --until}, and Flink's own {@code --key value} form for any configuration
 * key (later arguments win over earlier ones, and all of them over the file).
 *
 * <p>The job runs where no one reads a terminal, so parsing is strict: an argument it does not
 * know, or a key in one of streamrec's namespaces ({@code kafka.}, {@code model.}, ...) that no
 * option declares, fails the start with a message naming it, rather than being ignored.
 */
@Command(
    name = "streamrec-job",
    sortOptions = false,
    description =
        "The streamrec job for 'flink run' and the Flink Kubernetes Operator (entry class "
            + "io.streamrec.job.JobMain).",
    footer = {
      "",
      "Any configuration key also works as --key value (e.g. --kafka.group-id g1).",
      "Flink's own keys (execution.checkpointing.interval, ...) are passed on to Flink."
    })
public final class JobArguments {
  /** Job names, unless {@code pipeline.name} says otherwise. */
  static final String LIVE_JOB_NAME = "streamrec";

  static final String BACKFILL_JOB_NAME = "streamrec-backfill";

  /** Unknown keys at most this many edits from a known one are offered as the likely typo. */
  private static final int SUGGESTION_MAX_EDITS = 3;

  @Mixin JobSettings settings = new JobSettings();

  @Option(
      names = "--mode",
      paramLabel = "live|backfill",
      defaultValue = "live",
      description =
          "live: from the committed offsets on, unbounded (default). backfill: a bounded range, then exit.")
  String mode;

  @Option(
      names = "--from",
      paramLabel = "TIME",
      converter = Timestamps.class,
      description =
          "Backfill only: first event time to read (epoch ms or ISO-8601); default the earliest offset.")
  Long from;

  @Option(
      names = "--until",
      paramLabel = "TIME",
      converter = Timestamps.class,
      description =
          "Backfill only: stop before this time; default the end of the topics when the job starts.")
  Long until;

  @Unmatched List<String> keyValues = new ArrayList<>();

  /**
   * What the arguments describe: the whole configuration (streamrec's keys and Flink's), validated.
   */
  public record Parsed(
      Configuration configuration, JobConfig config, StreamrecJob.Bounds bounds, String jobName) {}

  /**
   * Reads the arguments (and the configuration file they name).
   *
   * @throws IllegalArgumentException for an argument that is unknown, malformed or out of place,
   *     naming it
   * @throws io.streamrec.job.config.ConfigException for a configuration value the job cannot run
   *     with, naming the key
   */
  public static Parsed parse(String... args) {
    JobArguments a = new JobArguments();
    CommandLine cl = new CommandLine(a).setUnmatchedArgumentsAllowed(true);
    try {
      cl.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage() + " (--help lists the arguments)", e);
    }
    return a.resolve();
  }

  /**
   * True when the arguments ask for the usage text ({@code -h} or {@code --help}) rather than a
   * run.
   */
  public static boolean helpRequested(String... args) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        return true;
      }
    }
    return false;
  }

  /** The usage text. */
  public static String usage() {
    return new CommandLine(new JobArguments()).getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  private Parsed resolve() {
    Configuration conf = settings.assemble();
    applyKeyValues(conf);
    rejectUnknownStreamrecKeys(conf);
    rejectACheckpointIntervalFlinkRefuses(conf);

    StreamrecJob.Bounds bounds;
    switch (mode.trim().toLowerCase(Locale.ROOT)) {
      case "live" -> {
        if (from != null || until != null) {
          throw new IllegalArgumentException(
              (from != null ? "--from" : "--until")
                  + " applies to --mode backfill only; a live job reads from the committed offsets on");
        }
        bounds = StreamrecJob.Bounds.live();
      }
      case "backfill" -> {
        Timestamps.requireOrder(from, until);
        bounds = StreamrecJob.Bounds.backfill(from, until);
      }
      default ->
          throw new IllegalArgumentException("--mode must be live or backfill, got '" + mode + "'");
    }
    String name =
        conf.getOptional(PipelineOptions.NAME)
            .orElse(bounds.bounded() ? BACKFILL_JOB_NAME : LIVE_JOB_NAME);
    return new Parsed(conf, JobConfig.from(conf), bounds, name);
  }

  /** {@code --key value} and {@code --key=value} pairs, in order, over what the file and -D set. */
  private void applyKeyValues(Configuration conf) {
    for (int i = 0; i < keyValues.size(); i++) {
      String arg = keyValues.get(i);
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new IllegalArgumentException(
            "unexpected argument '"
                + arg
                + "': give configuration as --config FILE, "
                + "-D key=value or --key value (--help lists the arguments)");
      }
      String key;
      String value;
      int eq = arg.indexOf('=');
      if (eq > 0) {
        key = arg.substring(2, eq);
        value = arg.substring(eq + 1);
      } else {
        key = arg.substring(2);
        if (i + 1 >= keyValues.size() || keyValues.get(i + 1).startsWith("--")) {
          throw new IllegalArgumentException(arg + " needs a value: --" + key + " VALUE");
        }
        value = keyValues.get(++i);
      }
      if (key.indexOf('.') < 0) {
        throw new IllegalArgumentException(
            "unknown argument --"
                + key
                + ": not an option of the job, nor a configuration key (those have a dot, e.g. --kafka.group-id)");
      }
      conf.setString(key, value);
    }
  }

  /**
   * Fails on a key under one of streamrec's prefixes that no option declares: a typo there would
   * otherwise leave the default in force without a word.
   */
  static void rejectUnknownStreamrecKeys(Configuration conf) {
    Set<String> known =
        ConfigDocs.options().stream().map(ConfigOption::key).collect(Collectors.toSet());
    Set<String> prefixes = known.stream().map(JobArguments::prefix).collect(Collectors.toSet());
    // a key ending in ".*" stands for every key under it (client settings passed through)
    Set<String> open =
        known.stream()
            .filter(k -> k.endsWith(".*"))
            .map(k -> k.substring(0, k.length() - 1))
            .collect(Collectors.toSet());
    for (String key : new TreeSet<>(conf.keySet())) {
      if (open.stream().anyMatch(key::startsWith)) {
        continue;
      }
      String client = underAMisspeltOpenPrefix(key, open);
      if (client != null) {
        // propertes.isolation.level went to Flink, which ignores it: read_uncommitted, in silence
        throw new IllegalArgumentException(
            "unknown configuration key '"
                + key
                + "' (did you mean '"
                + client
                + "'?): Kafka client settings go under "
                + io.streamrec.common.KafkaClientProperties.PREFIX);
      }
      String meant = outsideButMeant(key, known, prefixes);
      if (meant != null) {
        // a key off streamrec's prefixes is Flink's to read, and Flink ignores one it does not
        // know: embedding-dim or models.embedding-dim trained at the default dimension
        throw new IllegalArgumentException(
            "unknown configuration key '"
                + key
                + "' (did you mean '"
                + meant
                + "'?): streamrec's keys are listed in the README's configuration table");
      }
      if (!prefixes.contains(prefix(key))) {
        String flink = FlinkKeys.misspeltAs(key);
        if (flink != null) {
          throw new IllegalArgumentException(
              "unknown Flink configuration key '"
                  + key
                  + "' (did you mean '"
                  + flink
                  + "'?): Flink ignores a key it does not know, so this setting would not apply");
        }
      }
      if (prefixes.contains(prefix(key)) && !known.contains(key)) {
        String near = nearest(key, known);
        if (near == null && key.startsWith("kafka.") && key.indexOf('.', 6) > 0) {
          // a Kafka client setting (kafka.security.protocol) under streamrec's own namespace
          near = io.streamrec.common.KafkaClientProperties.PREFIX + key.substring(6);
        }
        throw new IllegalArgumentException(
            "unknown configuration key '"
                + key
                + "'"
                + (near == null ? "" : " (did you mean '" + near + "'?)")
                + ": streamrec's keys are listed in the README's configuration table");
      }
    }
  }

  /**
   * Fails on an {@code execution.checkpointing.interval} Flink refuses (under 10 ms; 0 for "no
   * checkpoints" among them), by the key's name: Flink's own refusal, "Checkpoint interval must be
   * larger than or equal to 10 ms", named none, and came after the brokers had been reached. A job
   * of streamrec resumes its model, and commits its offsets, at its checkpoints.
   */
  static void rejectACheckpointIntervalFlinkRefuses(Configuration conf) {
    java.util.Optional<java.time.Duration> interval;
    try {
      interval =
          conf.getOptional(
              org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL);
    } catch (IllegalArgumentException e) {
      return; // not a duration: Flink's refusal names the key and the value
    }
    if (interval.isPresent() && interval.get().toMillis() < MIN_CHECKPOINT_INTERVAL_MS) {
      throw new IllegalArgumentException(
          "configuration key 'execution.checkpointing.interval' is "
              + org.apache.flink.util.TimeUtils.formatWithHighestUnit(interval.get())
              + ": Flink takes 10 ms or more. Leave the key out for the command's default (run and"
              + " backfill: every 30 s, at which a job keeps its model and read offsets to resume"
              + " from; demo: none)");
    }
  }

  /** Flink's least checkpoint interval. */
  static final long MIN_CHECKPOINT_INTERVAL_MS = 10;

  /**
   * The streamrec key that {@code key}, outside streamrec's prefixes, was surely meant as: a key
   * without its prefix ({@code embedding-dim}), or under a prefix a typo away from one of
   * streamrec's ({@code models.embedding-dim}); null otherwise (Flink's keys among them).
   */
  static String outsideButMeant(String key, Set<String> known, Set<String> prefixes) {
    String p = prefix(key);
    if (prefixes.contains(p)) {
      return null;
    }
    String lower = key.toLowerCase(java.util.Locale.ROOT);
    if (known.contains(lower)) {
      // keys are read as written: Model.Embedding-Dim trained at the default dimension
      return lower;
    }
    if (key.indexOf('.') < 0) {
      List<String> ending = known.stream().filter(k -> k.endsWith("." + key)).sorted().toList();
      return ending.size() == 1 ? ending.get(0) : null;
    }
    for (String q : new TreeSet<>(prefixes)) {
      String candidate = q + key.substring(p.length());
      if (io.streamrec.common.EditDistance.of(p, q) <= 2 && known.contains(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * {@code key} under the open prefix ({@code properties.}) its own first part is a typo or other
   * letters away from ({@code propertes.}, {@code Properties.}, {@code property.}); null where it
   * is not.
   */
  static String underAMisspeltOpenPrefix(String key, Set<String> open) {
    String p = prefix(key);
    if (p.length() == key.length()) {
      return null;
    }
    for (String o : new TreeSet<>(open)) {
      String name = o.substring(0, o.length() - 1);
      if (!key.startsWith(o)
          && name.indexOf('.') < 0
          && io.streamrec.common.EditDistance.of(p.toLowerCase(java.util.Locale.ROOT), name) <= 3) {
        return o + key.substring(p.length() + 1);
      }
    }
    return null;
  }

  private static String prefix(String key) {
    int dot = key.indexOf('.');
    return dot < 0 ? key : key.substring(0, dot);
  }

  private static String nearest(String key, Set<String> known) {
    return io.streamrec.common.EditDistance.nearest(
        key, new TreeSet<>(known), SUGGESTION_MAX_EDITS);
  }
}
