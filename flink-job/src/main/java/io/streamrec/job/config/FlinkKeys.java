package io.streamrec.job.config;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * The configuration keys Flink declares on this class path: every {@link ConfigOption} of its
 * {@code *Options} classes, with their deprecated and fallback keys. Flink ignores a key it does
 * not know, so a misspelt one ({@code execution.checkpointing.intervall}) leaves its default in
 * force without a word: a job that was meant to checkpoint runs without checkpoints. {@link
 * #misspeltAs} tells such a key from one Flink reads elsewhere (a plugin's, a metrics reporter's):
 * only a key a few edits away from a declared one, and itself undeclared, counts as misspelt.
 */
final class FlinkKeys {
  /** Classes of the jars that declare Flink's options, whichever of them are on the class path. */
  private static final String[] JAR_MARKERS = {
    "org.apache.flink.configuration.CoreOptions",
    "org.apache.flink.runtime.jobgraph.JobGraph",
    "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment",
    "org.apache.flink.state.rocksdb.RocksDBOptions",
    "org.apache.flink.client.cli.CliFrontend",
  };

  /** Edits at most between a misspelt key and the key it was meant as. */
  static final int MAX_EDITS = 2;

  private FlinkKeys() {}

  /** The keys, found once. */
  static Set<String> known() {
    return Holder.KNOWN;
  }

  /**
   * The declared key {@code key} was most likely meant as, when {@code key} is not declared and is
   * at most {@link #MAX_EDITS} edits from one; null otherwise (also where no declared key was found
   * at all).
   */
  static String misspeltAs(String key) {
    Set<String> known = known();
    return known.contains(key)
        ? null
        : io.streamrec.common.EditDistance.nearest(key, known, MAX_EDITS);
  }

  private static final class Holder {
    static final Set<String> KNOWN = scan();
  }

  private static Set<String> scan() {
    Set<Path> jars = new LinkedHashSet<>();
    for (String marker : JAR_MARKERS) {
      try {
        CodeSource src =
            Class.forName(marker, false, FlinkKeys.class.getClassLoader())
                .getProtectionDomain()
                .getCodeSource();
        if (src != null && src.getLocation() != null) {
          Path p = Path.of(src.getLocation().toURI());
          if (Files.isRegularFile(p)) {
            jars.add(p);
          }
        }
      } catch (ClassNotFoundException | LinkageError | URISyntaxException | RuntimeException e) {
        // not on this class path: its options are not read here either
      }
    }
    Set<String> keys = new TreeSet<>();
    for (Path jar : jars) {
      try (JarFile f = new JarFile(jar.toFile())) {
        Enumeration<JarEntry> entries = f.entries();
        while (entries.hasMoreElements()) {
          String name = entries.nextElement().getName();
          if (name.startsWith("org/apache/flink/")
              && name.endsWith("Options.class")
              && name.indexOf('$') < 0) {
            addOptionsOf(name.substring(0, name.length() - 6).replace('/', '.'), keys);
          }
        }
      } catch (IOException e) {
        // an unreadable jar: its keys are simply not checked
      }
    }
    return keys;
  }

  private static void addOptionsOf(String className, Set<String> keys) {
    try {
      Class<?> c = Class.forName(className, true, FlinkKeys.class.getClassLoader());
      for (Field field : c.getFields()) {
        if (Modifier.isStatic(field.getModifiers())
            && ConfigOption.class.isAssignableFrom(field.getType())) {
          ConfigOption<?> o = (ConfigOption<?>) field.get(null);
          if (o != null) {
            keys.add(o.key());
            for (FallbackKey k : o.fallbackKeys()) {
              keys.add(k.getKey());
            }
          }
        }
      }
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // a class that cannot be loaded here declares nothing this job could read
    }
  }
}
