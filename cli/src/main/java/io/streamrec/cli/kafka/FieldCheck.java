package io.streamrec.cli.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks the fields of the events a load sends against the interchange shape: a field an event does
 * not have is ignored by every reader, so a misspelt one ({@code "featurs"}, {@code "Dense"}) sent
 * events without their features, and a requests file that holds impressions ({@code --requests} and
 * {@code --impressions} swapped) sent them as requests, with nothing said of either. The load still
 * sends every event; {@link #warnings} sums the unknown fields up. Passes everything on to {@code
 * next}.
 */
public final class FieldCheck extends ForwardingListener {
  static final Set<String> REQUEST = Set.of("requestId", "timestampMs", "features", "dense");
  static final Set<String> IMPRESSION =
      Set.of("impressionId", "requestId", "timestampMs", "features", "dense", "labels");

  /** How many unknown fields the warnings name, each with its count and first place. */
  static final int NAMED = 5;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Map<String, long[]> unknownInRequests = new LinkedHashMap<>();
  private final Map<String, long[]> unknownInImpressions = new LinkedHashMap<>();
  private final Map<String, String> firstAt = new LinkedHashMap<>();

  public FieldCheck(JsonlProducer.Listener next) {
    super(next);
  }

  @Override
  public void onLine(String line, boolean request, Path file, long lineNumber) {
    JsonNode o;
    try {
      o = MAPPER.readTree(line);
    } catch (IOException e) {
      o = null; // a good line parses: only a reader's difference of taste lands here
    }
    if (o != null && o.isObject()) {
      Set<String> known = request ? REQUEST : IMPRESSION;
      Map<String, long[]> unknown = request ? unknownInRequests : unknownInImpressions;
      for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!known.contains(name)) {
          unknown.computeIfAbsent(name, n -> new long[1])[0]++;
          firstAt.putIfAbsent(
              (request ? "r/" : "i/") + name, file.getFileName() + ":" + lineNumber);
        }
      }
    }
    super.onLine(line, request, file, lineNumber);
  }

  /** A line per kind of event whose lines carry fields it does not have, none when none do. */
  public List<String> warnings() {
    List<String> out = new ArrayList<>();
    describe(out, "request", REQUEST, unknownInRequests);
    describe(out, "impression", IMPRESSION, unknownInImpressions);
    return out;
  }

  private void describe(
      List<String> out, String kind, Set<String> known, Map<String, long[]> unknown) {
    if (unknown.isEmpty()) {
      return;
    }
    List<String> named = new ArrayList<>();
    boolean swapped = false;
    for (Map.Entry<String, long[]> e : unknown.entrySet()) {
      String name = e.getKey();
      swapped |= kind.equals("request") && IMPRESSION.contains(name);
      if (named.size() < NAMED) {
        String meant = meant(name, known);
        named.add(
            String.format(
                Locale.ROOT,
                "'%s' in %,d (first at %s%s)",
                name,
                e.getValue()[0],
                firstAt.get(kind.charAt(0) + "/" + name),
                meant == null ? "" : "; misspelt '" + meant + "'?"));
      }
    }
    out.add(
        "events sent as "
            + kind
            + "s carry fields a "
            + kind
            + " does not have, which no reader reads: "
            + String.join(", ", named)
            + (unknown.size() > NAMED ? " and " + (unknown.size() - NAMED) + " more" : "")
            + ". A "
            + kind
            + " has "
            + String.join(", ", ordered(known))
            + (swapped
                ? ". Those are an impression's fields: are --requests and --impressions swapped?"
                : ""));
  }

  private static List<String> ordered(Set<String> known) {
    List<String> order =
        List.of("impressionId", "requestId", "timestampMs", "features", "dense", "labels");
    return order.stream().filter(known::contains).toList();
  }

  /** The known field {@code name} probably means: the same but for case, or two edits off. */
  static String meant(String name, Set<String> known) {
    for (String k : ordered(known)) {
      if (k.equalsIgnoreCase(name)
          || io.streamrec.job.config.JobArguments.editDistance(
                  k.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT))
              <= 2) {
        return k;
      }
    }
    return null;
  }
}
