package io.streamrec.common;

/**
 * A Kafka client that could not be made from its settings, said in one line. The client says it as
 * "Failed to create new KafkaAdminClient" (or "to construct kafka consumer") over the reason and a
 * page of trace; a {@code sasl.jaas.config} that does not parse is reported by Kafka with a piece
 * of its text, which can be part of the password, so that one is said without it.
 */
public final class KafkaClientErrors {
  private KafkaClientErrors() {}

  /**
   * Whether {@link #settingsProblem} must not show the failure's own messages (they hold secrets).
   */
  public static boolean secret(Throwable e) {
    return creating(e) && mentions(e, "jaas");
  }

  /**
   * The one line for a client that could not be made from its settings; null when {@code e} is no
   * such failure.
   */
  public static String settingsProblem(Throwable e) {
    Throwable config = null;
    Throwable root = e;
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (config == null
          && c.getClass().getName().equals("org.apache.kafka.common.config.ConfigException")) {
        config = c;
      }
      root = c;
    }
    if (secret(e)) {
      return "sasl.jaas.config does not parse: check its quotes and the ';' that ends it (its text"
          + " is not shown: it holds the password)";
    }
    if (config != null) {
      String m = String.valueOf(config.getMessage());
      return "a Kafka client setting is not valid: "
          + m
          + (m.contains("bootstrap.servers")
              ? " (--bootstrap-servers takes host:port[,host:port...], each host resolvable here)"
              : "");
    }
    if (creating(e)) {
      return "a Kafka client could not be made from its settings: " + root.getMessage();
    }
    return null;
  }

  private static boolean creating(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      String m = String.valueOf(c.getMessage());
      if (c.getClass().getName().startsWith("org.apache.kafka")
          && (m.startsWith("Failed to create new Kafka")
              || m.startsWith("Failed to construct kafka"))) {
        return true;
      }
    }
    return false;
  }

  private static boolean mentions(Throwable e, String word) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT).contains(word)) {
        return true;
      }
    }
    return false;
  }
}
