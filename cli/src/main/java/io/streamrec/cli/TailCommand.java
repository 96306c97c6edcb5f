package io.streamrec.cli;

import io.streamrec.common.StreamrecException;
import io.streamrec.job.config.JobOptions;
import io.streamrec.job.kafka.TopicSpec;
import io.streamrec.protocol.ModelLineage;
import io.streamrec.protocol.ModelUpdate;
import io.streamrec.protocol.ModelUpdateDecoder;
import io.streamrec.schemas.VersionMarker;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code streamrec tail}: the model-update stream in readable form, one line per record: rows with
 * their first values, tombstones, dense blocks, the spec, and a summary line per version marker.
 */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    description =
        "Prints the model-updates topic readably: versions, rows, tombstones, dense blocks. Reads from the "
            + "earliest offset to the end, or keeps following with --follow.")
final class TailCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--topic",
      description =
          "The model-updates topic (default: --config's topics.model-updates, else model-updates).")
  String topic;

  @Option(
      names = "--values",
      defaultValue = "4",
      description = "Values printed per row or block (default ${DEFAULT-VALUE}).")
  int values;

  @Option(names = "--versions-only", description = "Print the version markers only.")
  boolean versionsOnly;

  @Mixin TopicReading reading = new TopicReading();

  @Override
  public Integer call() {
    if (values < 0) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--values must be 0 or more, got " + values);
    }
    PrintWriter out = spec.commandLine().getOut();
    long[] counts = new long[4]; // rows, tombstones, dense, markers
    reading.print(
        TopicSpec.modelUpdates(reading.topic(topic, JobOptions.MODEL_UPDATES_TOPIC)),
        "streamrec-tail",
        out,
        r -> describe(r, counts),
        () ->
            out.printf(
                Locale.ROOT,
                "-- %d rows, %d tombstones, %d dense blocks, %d version markers%n",
                counts[0],
                counts[1],
                counts[2],
                counts[3]));
    return 0;
  }

  private String describe(ConsumerRecord<byte[], byte[]> r, long[] counts) {
    String at = String.format(Locale.ROOT, "%8d ", r.offset());
    ModelUpdate u;
    try {
      u = ModelUpdateDecoder.decode(r.key(), r.value());
    } catch (StreamrecException e) {
      return at + "unreadable: " + e.getMessage();
    }
    if (u instanceof ModelUpdate.Version v) {
      counts[3]++;
      VersionMarker m = v.marker();
      return String.format(
          Locale.ROOT,
          "%s== version %d of model %s: event time %s, %d rows (%d tombstones), %d dense"
              + " blocks, %s live rows; published %s; trained %,d impressions, progressive AUC %.4f",
          at,
          m.getVersion(),
          ModelLineage.format(m.getModel()),
          Instant.ofEpochMilli(m.getEventTimeMs()),
          m.getRows(),
          m.getTombstones(),
          m.getDenseBlocks(),
          m.getLiveRows() < 0 ? "?" : String.format(Locale.ROOT, "%,d", m.getLiveRows()),
          Instant.ofEpochMilli(m.getPublishedAtMs()),
          m.getTrainedImpressions(),
          m.getProgressiveAuc());
    }
    String line;
    if (u instanceof ModelUpdate.Tombstone t) {
      counts[1]++;
      line = at + "  tombstone " + t.table() + "/" + Long.toUnsignedString(t.id());
    } else if (u instanceof ModelUpdate.Row row) {
      counts[0]++;
      line =
          String.format(
              Locale.ROOT,
              "%s  v%d row %s/%s %s %s",
              at,
              row.version(),
              row.table(),
              Long.toUnsignedString(row.id()),
              row.encoding().name().toLowerCase(Locale.ROOT),
              values(row.values()));
    } else if (u instanceof ModelUpdate.DenseBlock d) {
      counts[2]++;
      line =
          String.format(
              Locale.ROOT, "%s  v%d dense %s %s", at, d.version(), d.block(), values(d.values()));
    } else {
      ModelUpdate.Spec spec = (ModelUpdate.Spec) u;
      line =
          at
              + "spec of model "
              + ModelLineage.format(spec.model())
              + " (v"
              + spec.version()
              + ") "
              + spec.format()
              + " "
              + spec.json();
    }
    return versionsOnly ? null : line;
  }

  private String values(float[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < Math.min(values, v.length); i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.5g", v[i]));
    }
    if (v.length > values) {
      b.append(values == 0 ? "" : ", ").append("... ").append(v.length).append(" values");
    }
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    return b.append("] |")
        .append(String.format(Locale.ROOT, "%.4g", Math.sqrt(norm)))
        .append('|')
        .toString();
  }
}
