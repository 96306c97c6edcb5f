package io.streamrec.job.config;

import io.streamrec.common.StreamrecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.YamlParserUtils;

/**
 * Reads a configuration file in YAML, as Flink reads its own {@code config.yaml} (with Flink's YAML
 * parser, the YAML 1.2 core schema): keys may be flat ({@code execution.checkpointing.interval: 30
 * s}), nested ({@code execution:} / {@code checkpointing:} / {@code interval: 30 s}) or both, and
 * every path of nested keys joined with dots is one key. A list ({@code [a, b]} or a block of
 * {@code - a} items) is a list value; a mapping under a key whose option is a map ({@code
 * model.table.ttl: {user_id: 30d}}) is that map. Any key is passed on to Flink, so Flink's own
 * settings (checkpointing, state backend) go in the same file; streamrec's own keys are checked
 * later ({@link JobArguments}), an unknown one failing with its name.
 *
 * <p>A file that is not YAML fails with its line and column; a key given twice (flat and nested)
 * fails naming it.
 */
public final class ConfigFiles {
  private static final Pattern LINE_COLUMN = Pattern.compile("line (\\d+), column (\\d+)");

  private ConfigFiles() {}

  public static Configuration load(Path file) {
    if (!Files.isReadable(file)) {
      throw new StreamrecException(
          "cannot read configuration file " + file + ": it does not exist or is not readable");
    }
    Object root;
    try {
      root = YamlParserUtils.loadYamlFile(file.toFile());
    } catch (Exception e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof java.nio.charset.CharacterCodingException) {
          throw new StreamrecException(
              file + notUtf8Line(file) + ": not UTF-8 text: save the file as UTF-8", e);
        }
      }
      throw new StreamrecException(where(file, e) + "not a YAML configuration: " + problem(e), e);
    }
    Configuration conf = new Configuration();
    if (root == null) {
      return conf;
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new StreamrecException(
          file + ": a configuration file is a mapping of keys to values, not " + kind(root));
    }
    Map<String, String> flat = new LinkedHashMap<>();
    flatten(file, "", top, flat);
    flat.forEach(conf::setString);
    return conf;
  }

  private static void flatten(Path file, String prefix, Map<?, ?> node, Map<String, String> out) {
    for (Map.Entry<?, ?> e : node.entrySet()) {
      String key = prefix + String.valueOf(e.getKey()).strip();
      Object v = e.getValue();
      if (v instanceof Map<?, ?> m && !mapOptions().contains(key)) {
        if (m.isEmpty()) {
          throw new StreamrecException(file + ": key '" + key + "' has an empty mapping as value");
        }
        flatten(file, key + ".", m, out);
        continue;
      }
      if (out.put(key, scalar(file, key, v)) != null) {
        throw new StreamrecException(
            file + ": key '" + key + "' is given twice (flat and nested?); give it once");
      }
    }
  }

  /** A value as Flink's configuration takes it: lists as a;b;c, maps as k:v,k2:v2. */
  private static String scalar(Path file, String key, Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof List<?> l) {
      return l.stream()
          .map(
              x -> {
                if (x == null) {
                  // String.valueOf gave "null": a label or feature of that name, in no event
                  throw new StreamrecException(
                      file
                          + ": key '"
                          + key
                          + "' has an empty item in its list: remove it (or quote it, 'null',"
                          + " where null is meant as a name)");
                }
                if (x instanceof Map<?, ?> || x instanceof List<?>) {
                  throw new StreamrecException(
                      file + ": key '" + key + "' holds a nested " + kind(x) + " in its list");
                }
                return String.valueOf(x).strip();
              })
          .collect(Collectors.joining(";"));
    }
    if (v instanceof Map<?, ?> m) {
      return m.entrySet().stream()
          .map(x -> x.getKey() + ":" + scalar(file, key, x.getValue()))
          .collect(Collectors.joining(","));
    }
    return String.valueOf(v).strip();
  }

  /** Keys of streamrec's map-typed options, whose YAML mapping is their value. */
  private static Set<String> mapOptions() {
    return ConfigDocs.options().stream()
        .filter(o -> o.hasDefaultValue() && o.defaultValue() instanceof Map<?, ?>)
        .map(ConfigOption::key)
        .collect(Collectors.toSet());
  }

  private static String kind(Object o) {
    return o instanceof List<?> ? "a list" : o instanceof Map<?, ?> ? "a mapping" : "'" + o + "'";
  }

  /** {@code :line} of the first byte of {@code file} that is not UTF-8, else empty. */
  private static String notUtf8Line(Path file) {
    try {
      java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(Files.readAllBytes(file));
      java.nio.charset.CoderResult r =
          java.nio.charset.StandardCharsets.UTF_8
              .newDecoder()
              .decode(in, java.nio.CharBuffer.allocate(in.remaining()), true);
      if (!r.isError()) {
        return "";
      }
      int line = 1;
      for (int i = 0; i < in.position(); i++) {
        if (in.get(i) == '\n') {
          line++;
        }
      }
      return ":" + line;
    } catch (java.io.IOException e) {
      return "";
    }
  }

  /** {@code file:line:column: } where the parser says where it stopped, else {@code file: }. */
  private static String where(Path file, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      Matcher m = t.getMessage() == null ? null : LINE_COLUMN.matcher(t.getMessage());
      if (m != null && m.find()) {
        return file + ":" + m.group(1) + ":" + m.group(2) + ": ";
      }
    }
    return file + ": ";
  }

  private static String problem(Throwable e) {
    String msg = e.getMessage() == null ? e.toString() : e.getMessage();
    return msg.replaceAll("\\s+", " ").strip();
  }
}
