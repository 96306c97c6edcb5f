package io.streamrec.job.config;

import io.streamrec.common.StreamrecException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;

/**
 * Reads a configuration file of flat {@code key: value} lines, as Flink's own configuration file
 * writes them. {@code #} starts a comment; a value may be quoted; a list may be written {@code [a,
 * b, c]} or {@code a;b;c}. Any key is passed on to Flink, so Flink's own settings (checkpointing,
 * state backend) go in the same file.
 */
public final class ConfigFiles {
  private ConfigFiles() {}

  public static Configuration load(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new StreamrecException(
          "cannot read configuration file " + file + ": " + e.getMessage(), e);
    }
    Configuration conf = new Configuration();
    for (int n = 0; n < lines.size(); n++) {
      String line = stripComment(lines.get(n)).strip();
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new StreamrecException(
            file + ":" + (n + 1) + ": expected 'key: value', got '" + line + "'");
      }
      String key = line.substring(0, colon).strip();
      String value = unquote(line.substring(colon + 1).strip());
      if (value.startsWith("[") && value.endsWith("]")) {
        value = String.join(";", value.substring(1, value.length() - 1).split("\\s*,\\s*")).strip();
      }
      conf.setString(key, value);
    }
    return conf;
  }

  private static String stripComment(String line) {
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"' || c == '\'') {
        quoted = !quoted;
      } else if (c == '#' && !quoted) {
        return line.substring(0, i);
      }
    }
    return line;
  }

  private static String unquote(String v) {
    if (v.length() >= 2
        && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }
}
