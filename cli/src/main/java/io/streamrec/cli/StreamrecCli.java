package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.ClientSettings;
import io.streamrec.job.config.JobConfig;
import io.streamrec.job.config.JobOptions;
import io.streamrec.serving.JobConnection;
import io.streamrec.serving.ServeCommand;
import java.util.concurrent.ExecutionException;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code streamrec} command line. */
@Command(
    name = "streamrec",
    mixinStandardHelpOptions = true,
    version = "streamrec 0.1.0",
    description =
        "Trains a recommendation model online from Kafka request and impression streams on Apache Flink, "
            + "and publishes the model to a compacted Kafka topic.",
    subcommands = {
      DemoCommand.class,
      BrokerCommand.class,
      GenerateCommand.class,
      ProduceCommand.class,
      TopicsCommand.class,
      RunCommand.class,
      BackfillCommand.class,
      ServeCommand.class,
      TailCommand.class,
      DeadLettersCommand.class,
      ReportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class StreamrecCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * Makes the commands as picocli's own factory does, {@code serve} with a reader of the job's
   * configuration file ({@code serve --config}): the serving module holds none, its entry point
   * running without Flink on its class path.
   */
  private static final class Factory implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      if (cls == ServeCommand.class) {
        return cls.cast(new ServeCommand(StreamrecCli::jobConnection));
      }
      return CommandLine.defaultFactory().create(cls);
    }
  }

  /** Where a job's configuration file says its model is, for {@code serve --config}. */
  static JobConnection jobConnection(java.nio.file.Path file) {
    Configuration conf = ClientSettings.ofFile(file);
    return new JobConnection(
        conf.get(JobOptions.BOOTSTRAP_SERVERS),
        conf.get(JobOptions.MODEL_UPDATES_TOPIC),
        JobConfig.kafkaProperties(conf));
  }

  public static void main(String[] args) {
    TerminalLogFilter.install();
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line with streamrec's error handling: a clear message, no stack trace, for expected
   * failures.
   */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new StreamrecCli(), new Factory());
    // a wrong argument: the reason and where the options are listed, not the whole usage (40 lines
    // burying the one that says what is wrong)
    cl.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
          String name = c.getParent() == null ? "streamrec" : "streamrec " + c.getCommandName();
          c.getErr().println(name + ": " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, c.getErr());
          c.getErr().println("('" + name + " --help' lists the options)");
          return 2;
        });
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          Throwable cause = e;
          while ((cause instanceof ExecutionException
                  || cause instanceof java.util.concurrent.CompletionException)
              && cause.getCause() != null) {
            cause = cause.getCause();
          }
          if (JobRunner.stopping()) {
            // a stop cancelled the job and has said so: the cancellation is what it asked for
            return 130;
          }
          if (cause instanceof StreamrecException || cause instanceof IllegalArgumentException) {
            line.getErr().println("streamrec " + line.getCommandName() + ": " + cause.getMessage());
            return 2;
          }
          String files = fileProblem(cause);
          if (files != null) {
            line.getErr().println("streamrec " + line.getCommandName() + ": " + files);
            return 2;
          }
          String kafkaSetting = io.streamrec.common.KafkaClientErrors.settingsProblem(cause);
          if (kafkaSetting != null) {
            line.getErr().println("streamrec " + line.getCommandName() + ": " + kafkaSetting);
            return 2;
          }
          // a job that stopped for one of streamrec's reasons (a topic of another model, a
          // checkpoint of another configuration): its reason, without Flink's layers around it
          for (Throwable c = cause.getCause(); c != null; c = c.getCause()) {
            if (c instanceof StreamrecException) {
              line.getErr()
                  .println("streamrec " + line.getCommandName() + " stopped: " + c.getMessage());
              return 2;
            }
          }
          line.getErr().println("streamrec " + line.getCommandName() + " failed: " + cause);
          cause.printStackTrace(line.getErr());
          return 1;
        });
    return cl;
  }

  /** Why {@code f} failed, in words: the kind of failure, or the file system's reason. */
  static String reason(java.nio.file.FileSystemException f) {
    return f instanceof java.nio.file.AccessDeniedException
        ? "permission denied"
        : f instanceof java.nio.file.NotDirectoryException
            ? "not a directory"
            : f instanceof java.nio.file.FileAlreadyExistsException
                ? "a file is there where a directory is needed"
                : f instanceof java.nio.file.NoSuchFileException
                    ? "no such file or directory"
                    : f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
  }

  /**
   * The words for a file or directory the command cannot use (a {@code --state-dir} that is a file,
   * not writable, another user's; a checkpoint location of a scheme without its file system), or
   * null when {@code t} is something else: each printed a stack trace of twenty frames.
   */
  static String fileProblem(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.nio.file.FileSystemException f) {
        return "cannot use "
            + f.getFile()
            + ": "
            + reason(f)
            + " (--state-dir, and the paths the configuration names, must be directories this user"
            + " can write)";
      }
      if (c instanceof org.apache.flink.core.fs.UnsupportedFileSystemSchemeException u) {
        return u.getMessage();
      }
    }
    return null;
  }
}
