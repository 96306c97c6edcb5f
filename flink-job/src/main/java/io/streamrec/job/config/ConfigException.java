package io.streamrec.job.config;

import io.streamrec.common.StreamrecException;
import org.apache.flink.configuration.ConfigOption;

/** A configuration value the job cannot start with. The message names the key and the fix. */
public class ConfigException extends StreamrecException {
  private static final long serialVersionUID = 1L;

  public ConfigException(ConfigOption<?> option, String problem, String fix) {
    super("configuration key '" + option.key() + "' " + problem + ": " + fix);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
