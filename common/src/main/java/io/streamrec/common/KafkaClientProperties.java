package io.streamrec.common;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka client settings a user passes through to every client streamrec creates (the job's sources
 * and sinks, its admin client, the serving replica, {@code produce}, {@code tail}): TLS, SASL,
 * OAUTHBEARER, IAM, client tuning. They are given the way Flink's Kafka connector takes them, as
 * configuration keys under {@value #PREFIX} ({@code properties.security.protocol: SASL_SSL}), or as
 * a file in the format of Kafka's own {@code --command-config} ({@code
 * security.protocol=SASL_SSL}).
 *
 * <p>The values are often secrets, so this type never shows them: {@link #toString} masks every
 * value whose key names a credential (a JAAS configuration, a password, a secret, a key), and
 * {@link #describe} says only how a client authenticates, and as whom. The settings streamrec makes
 * itself (servers, group, serializers) cannot be given here; the message names the key that sets
 * them.
 */
public final class KafkaClientProperties implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The configuration-key prefix of a client setting, as in Flink's Kafka connector. */
  public static final String PREFIX = "properties.";

  /** Shown in place of a secret value. */
  public static final String HIDDEN = "[hidden]";

  /** Parts of a key that mark its value as a credential. */
  private static final Set<String> SECRET_MARKERS =
      Set.of("jaas", "password", "secret", "token", "credential", "keystore.key", "private");

  /** Settings streamrec makes itself, and what to use instead. */
  private static final Map<String, String> RESERVED =
      Map.of(
          "bootstrap.servers", "kafka.bootstrap-servers (--bootstrap-servers)",
          "group.id", "kafka.group-id",
          "key.serializer", "nothing: streamrec writes bytes",
          "value.serializer", "nothing: streamrec writes bytes",
          "key.deserializer", "nothing: streamrec reads bytes",
          "value.deserializer", "nothing: streamrec reads bytes");

  /**
   * Settings Flink's Kafka source takes among its clients' properties, besides Kafka's own ({@code
   * KafkaSourceOptions}).
   */
  private static final Set<String> CONNECTOR_NAMES =
      Set.of(
          "client.id.prefix",
          "partition.discovery.interval.ms",
          "register.consumer.metrics",
          "commit.offsets.on.checkpoint");

  /**
   * The names Kafka's producer, consumer and admin client know, read from the clients on the class
   * path (this module depends on none); empty where there are none, and nothing is checked.
   */
  private static final Set<String> KNOWN_NAMES = knownNames();

  private static final Pattern JAAS_USER = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

  private static final KafkaClientProperties EMPTY = new KafkaClientProperties(new TreeMap<>());

  private final TreeMap<String, String> settings;

  private KafkaClientProperties(TreeMap<String, String> settings) {
    this.settings = settings;
  }

  public static KafkaClientProperties empty() {
    return EMPTY;
  }

  /**
   * Client settings by their Kafka names ({@code security.protocol}).
   *
   * @throws IllegalArgumentException for a blank key, one streamrec sets itself, or one a typo away
   *     from a setting of Kafka's clients, naming it
   */
  public static KafkaClientProperties of(Map<String, String> settings) {
    TreeMap<String, String> s = new TreeMap<>();
    settings.forEach(
        (k, v) -> {
          String key = k == null ? "" : k.trim();
          if (key.isEmpty()) {
            throw new IllegalArgumentException("a Kafka client setting has an empty name");
          }
          String instead = RESERVED.get(key);
          if (instead != null) {
            throw new IllegalArgumentException(
                "Kafka client setting '"
                    + key
                    + "' is streamrec's to set; give "
                    + instead
                    + " instead of "
                    + PREFIX
                    + key);
          }
          String meant = meant(key);
          if (meant != null) {
            throw new IllegalArgumentException(
                "Kafka client setting '"
                    + key
                    + "' is not one Kafka's clients know, which would ignore it: did you mean '"
                    + meant
                    + "'? (a setting of a plugin the clients load, far from any of theirs, passes)");
          }
          s.put(key, v == null ? "" : v.trim());
        });
    return s.isEmpty() ? EMPTY : new KafkaClientProperties(s);
  }

  /**
   * The known setting {@code key} was meant as when it is not one and lies a typo away from one
   * ({@code isolation.levl}, {@code sasl.jass.config}, {@code Acks}): Kafka's clients log such a
   * key as unused and run without it, so {@code read_committed} or a compression went missing in
   * silence. Null for a known key and for one far from every known key (an interceptor's or a login
   * plugin's own).
   */
  static String meant(String key) {
    if (KNOWN_NAMES.isEmpty() || KNOWN_NAMES.contains(key)) {
      return null;
    }
    String lower = key.toLowerCase(Locale.ROOT);
    if (KNOWN_NAMES.contains(lower)) {
      return lower;
    }
    if (lower.startsWith(PREFIX) && KNOWN_NAMES.contains(lower.substring(PREFIX.length()))) {
      // a configuration key's form in a client file (properties.security.protocol), or the prefix
      // given twice: the client would ignore it
      return lower.substring(PREFIX.length());
    }
    return EditDistance.nearest(lower, KNOWN_NAMES, lower.length() >= 8 ? 2 : 1);
  }

  private static Set<String> knownNames() {
    Set<String> names = new TreeSet<>(CONNECTOR_NAMES);
    for (String config :
        new String[] {
          "org.apache.kafka.clients.producer.ProducerConfig",
          "org.apache.kafka.clients.consumer.ConsumerConfig",
          "org.apache.kafka.clients.admin.AdminClientConfig"
        }) {
      try {
        Class<?> c = Class.forName(config, true, KafkaClientProperties.class.getClassLoader());
        for (Object name : (Set<?>) c.getMethod("configNames").invoke(null)) {
          names.add((String) name);
        }
      } catch (ReflectiveOperationException | LinkageError | ClassCastException absent) {
        return Set.of();
      }
    }
    return Collections.unmodifiableSet(names);
  }

  /**
   * The settings under {@value #PREFIX} among configuration keys, prefix removed.
   *
   * @see #of(Map)
   */
  public static KafkaClientProperties fromPrefixed(Map<String, String> configuration) {
    Map<String, String> s = new TreeMap<>();
    configuration.forEach(
        (k, v) -> {
          if (k.startsWith(PREFIX)) {
            s.put(k.substring(PREFIX.length()), v);
          }
        });
    return of(s);
  }

  /**
   * Reads a client configuration file in Java properties format, as Kafka's tools take with {@code
   * --command-config}.
   *
   * @throws StreamrecException naming the file when it cannot be read
   */
  public static KafkaClientProperties load(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new StreamrecException(
          "cannot read the Kafka client configuration "
              + file
              + ": "
              + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()),
          e);
    }
    Map<String, String> s = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> s.put(k, p.getProperty(k)));
    try {
      return of(s);
    } catch (IllegalArgumentException e) {
      throw new StreamrecException(file + ": " + e.getMessage(), e);
    }
  }

  /** These settings, then {@code later}'s over them. */
  public KafkaClientProperties with(KafkaClientProperties later) {
    if (later.settings.isEmpty()) {
      return this;
    }
    TreeMap<String, String> s = new TreeMap<>(settings);
    s.putAll(later.settings);
    return new KafkaClientProperties(s);
  }

  /**
   * The client id of streamrec's client {@code ours} (e.g. {@code streamrec-replica}): under the
   * user's {@code client.id} where one is given, so that per-client-id quotas and monitoring tell
   * jobs and replicas apart, with {@code ours} after it to keep the clients of one process apart.
   */
  public String clientId(String ours) {
    return under(settings.get("client.id"), ours);
  }

  /**
   * The client id prefix of a Kafka source of streamrec's named {@code ours}: under the user's
   * {@code client.id.prefix} where one is given, as {@link #clientId}.
   */
  public String clientIdPrefix(String ours) {
    return under(settings.get("client.id.prefix"), ours);
  }

  private static String under(String users, String ours) {
    return users == null || users.isBlank() ? ours : users.trim() + "-" + ours;
  }

  /** The settings by their Kafka names, to hand to a client. */
  public Map<String, String> asMap() {
    return Collections.unmodifiableMap(settings);
  }

  /** The settings as configuration keys ({@value #PREFIX} + name). */
  public Map<String, String> asPrefixed() {
    Map<String, String> out = new TreeMap<>();
    settings.forEach((k, v) -> out.put(PREFIX + k, v));
    return out;
  }

  /** A copy as {@link Properties}, to hand to a client. */
  public Properties toProperties() {
    Properties p = new Properties();
    p.putAll(settings);
    return p;
  }

  public boolean isEmpty() {
    return settings.isEmpty();
  }

  /** True when the value of {@code key} is a credential, never to be shown. */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return SECRET_MARKERS.stream().anyMatch(k::contains);
  }

  /**
   * How a client with these settings meets the broker, without a secret: {@code "SASL_SSL, SCRAM-
   * SHA-512 as user 'streamrec'"}, or {@code "PLAINTEXT"}.
   */
  public String describe() {
    String protocol = settings.getOrDefault("security.protocol", "PLAINTEXT");
    StringBuilder b = new StringBuilder(protocol);
    if (protocol.toUpperCase(Locale.ROOT).startsWith("SASL")) {
      b.append(", ").append(settings.getOrDefault("sasl.mechanism", "GSSAPI"));
      Matcher m = JAAS_USER.matcher(settings.getOrDefault("sasl.jaas.config", ""));
      if (m.find()) {
        b.append(" as user '").append(m.group(1)).append('\'');
      }
    }
    return b.toString();
  }

  /**
   * What to tell a user whose client the broker at {@code servers} did not let in: who the client
   * was, the broker's own words, and which settings to check. {@code authorization} is true when
   * the broker knew the client but refused it an operation (an ACL), false when it refused the
   * login.
   */
  public String refusal(String servers, boolean authorization, String brokerMessage) {
    String who = describe();
    if (authorization) {
      return "Kafka at "
          + servers
          + " refused streamrec ("
          + who
          + ") an operation it needs: "
          + brokerMessage
          + ". Grant the user the ACLs listed in docs/deploy.md (Security).";
    }
    return "Kafka at "
        + servers
        + " refused streamrec's login ("
        + who
        + "): "
        + brokerMessage
        + ". Check the user name and password in sasl.jaas.config ("
        + PREFIX
        + "sasl.jaas.config or the --command-config file) and security.protocol / sasl.mechanism.";
  }

  /**
   * What to tell a user whose client did not complete the TLS handshake with the broker at {@code
   * servers} (a broker certificate the client does not trust, a client certificate the broker
   * refused): who the client was, the handshake's own words, and the TLS settings to check, not the
   * login's. {@code handshake}: Kafka's failure of it, whose words ("SSL handshake failed") are
   * followed by those of its root cause, the JDK's that say why (a certificate path that does not
   * lead to a trusted authority).
   */
  public String tlsRefusal(String servers, Throwable handshake) {
    Throwable root = handshake;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return "Kafka at "
        + servers
        + " and streamrec ("
        + describe()
        + ") did not complete the TLS handshake: "
        + handshake.getMessage()
        + (root == handshake ? "" : ": " + root.getMessage())
        + ". Check ssl.truststore.* (it must hold the authority that signed the broker's"
        + " certificate) and, where the listener asks for a client certificate, ssl.keystore.* ("
        + PREFIX
        + "ssl.* or the --command-config file).";
  }

  /** The settings with every credential masked: safe to log. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    settings.forEach(
        (k, v) ->
            b.append(b.length() > 1 ? ", " : "")
                .append(k)
                .append('=')
                .append(isSecret(k) ? HIDDEN : v));
    return b.append('}').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KafkaClientProperties other && settings.equals(other.settings);
  }

  @Override
  public int hashCode() {
    return settings.hashCode();
  }
}
