package io.streamrec.model.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrec.model.RequestUnits;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Pooling;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.ImpressionEvent;
import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.JsonlReader;
import io.streamrec.schemas.RequestEvent;
import io.streamrec.schemas.RequestUnit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A stream of your own for the quality benchmark: the two JSONL files {@code streamrec produce}
 * loads (requests, impressions; the README's "Your data" shape) joined into request units, and the
 * features the model reads, declared in the JSON that {@code QualityBench --out} writes for each
 * stream and {@code scripts/torch_bench.py --spec} reads:
 *
 * <pre>
 * {"request": [["user_id", "user_id"], ["recent_items", "item_id"]], "request_dense": ["hour"],
 *  "impression": [["item_id", "item_id"], ["item_cat", "item_cat"]], "impression_dense": ["position"],
 *  "label": "click"}
 * </pre>
 *
 * (each categorical feature as {@code [name, table]}: features naming the same table share its
 * rows, as {@code recent_items} and {@code item_id} do). Units are in their requests' time order
 * (ties in file order) and hold their impressions in file order, whenever they came: the
 * benchmark's join has no window. What cannot be used is counted, never silently lost: bad lines,
 * impressions of a request that is not in the file, repeated request ids (the first one counts),
 * repeated impression ids of one request (the first one counts, as the job's join keeps one: a
 * producer's retry) and requests without impressions (nothing to score). The first {@link
 * #BAD_LINES_SHOWN} bad lines of each file are shown with their file, line number and what is
 * wrong.
 */
public final class EventFilesStream {
  private EventFilesStream() {}

  /** Bad lines of each file shown in the summary, with their number and what is wrong. */
  static final int BAD_LINES_SHOWN = 5;

  /** The keys of a spec JSON. */
  static final List<String> SPEC_KEYS =
      List.of("request", "request_dense", "impression", "impression_dense", "label");

  /** The names of the benchmark's own streams, which a stream of one's own cannot take. */
  static final List<String> BUILT_IN = List.of("bank", "movielens", "generated");

  /**
   * Refuses {@code name} for a stream of one's own where it is a built-in stream's or no file name:
   * its units file then took the place of the built-in stream's, which PyTorch trained on, and the
   * table put both streams' rows under one heading.
   */
  public static String requireOwnName(String name) {
    if (BUILT_IN.contains(name.toLowerCase(java.util.Locale.ROOT))) {
      throw new IllegalArgumentException(
          "--name " + name + " is the name of a stream of the benchmark's own; give another");
    }
    if (!name.matches("[A-Za-z0-9_.-]+") || name.startsWith(".")) {
      throw new IllegalArgumentException(
          "--name "
              + name
              + ": letters, digits, '_', '-' and '.' only (it names the stream's files)");
    }
    return name;
  }

  /** The units, and what was left out. */
  public record Loaded(
      List<RequestUnit> units,
      long badLines,
      long orphanImpressions,
      long repeatedRequests,
      long repeatedImpressions,
      long requestsWithoutImpressions,
      List<String> badLinesShown) {
    /**
     * One line for the benchmark's output, then one for each bad line shown (file:line: what is
     * wrong) and one for each file's bad lines not shown.
     */
    public String summary(String name) {
      StringBuilder lines = new StringBuilder();
      for (String b : badLinesShown) {
        lines.append("\n  ").append(b);
      }
      return String.format(
              java.util.Locale.ROOT,
              "stream %s read: %,d units; left out: %,d bad lines, %,d impressions of no request in the"
                  + " file, %,d repeated request ids, %,d repeated impression ids, %,d requests without"
                  + " impressions",
              name,
              units.size(),
              badLines,
              orphanImpressions,
              repeatedRequests,
              repeatedImpressions,
              requestsWithoutImpressions)
          + lines;
    }
  }

  /**
   * Joins the requests of {@code requests} and the impressions of {@code impressions} into units.
   */
  public static Loaded read(Path requests, Path impressions) {
    long[] bad = {0};
    List<String> shown = new ArrayList<>();
    Map<Path, Long> badOf = new LinkedHashMap<>();
    JsonlReader.ErrorHandler count =
        (file, line, text, error) -> {
          bad[0]++;
          if (badOf.merge(file, 1L, Long::sum) <= BAD_LINES_SHOWN) {
            shown.add(file + ":" + line + ": " + error.getMessage());
          }
        };
    Map<String, RequestEvent> byId = new LinkedHashMap<>();
    long[] repeated = {0};
    JsonlReader.read(
        requests,
        JsonEvents::parseRequest,
        (r, line) -> {
          if (byId.putIfAbsent(r.getRequestId(), r) != null) {
            repeated[0]++;
          }
        },
        count);
    Map<String, List<ImpressionEvent>> imps = new HashMap<>();
    java.util.Set<List<String>> seen = new java.util.HashSet<>();
    long[] orphans = {0}, repeatedImps = {0};
    JsonlReader.read(
        impressions,
        JsonEvents::parseImpression,
        (i, line) -> {
          if (!byId.containsKey(i.getRequestId())) {
            orphans[0]++;
          } else if (!seen.add(List.of(i.getRequestId(), i.getImpressionId()))) {
            // a producer's retry: the job's join keeps the first, and so does the benchmark
            repeatedImps[0]++;
          } else {
            imps.computeIfAbsent(i.getRequestId(), k -> new ArrayList<>()).add(i);
          }
        },
        count);
    List<RequestEvent> ordered = new ArrayList<>(byId.values());
    ordered.sort(Comparator.comparingLong(RequestEvent::getTimestampMs)); // stable: file order
    List<RequestUnit> units = new ArrayList<>(ordered.size());
    long empty = 0;
    for (RequestEvent r : ordered) {
      List<ImpressionEvent> mine = imps.get(r.getRequestId());
      if (mine == null) {
        empty++;
        continue;
      }
      long closed = r.getTimestampMs();
      for (ImpressionEvent i : mine) {
        closed = Math.max(closed, i.getTimestampMs());
      }
      units.add(RequestUnits.of(r, mine, closed));
    }
    badOf.forEach(
        (file, n) -> {
          if (n > BAD_LINES_SHOWN) {
            shown.add(file + ": and " + (n - BAD_LINES_SHOWN) + " more bad lines");
          }
        });
    return new Loaded(
        units, bad[0], orphans[0], repeated[0], repeatedImps[0], empty, List.copyOf(shown));
  }

  /** The features declared in {@code json}, in the shape above. */
  public static FeatureSpec spec(Path json) throws IOException {
    JsonNode o;
    try {
      o = new ObjectMapper().readTree(Files.readString(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(json + ": not JSON: " + e.getOriginalMessage(), e);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException(json + ": no such file", e);
    }
    if (o == null || !o.isObject()) {
      throw new IOException(json + ": must be a JSON object, as docs/benchmarks.md shows");
    }
    for (java.util.Iterator<String> k = o.fieldNames(); k.hasNext(); ) {
      String key = k.next();
      if (!SPEC_KEYS.contains(key)) {
        // a misspelt key dropped its features without a word
        throw new IOException(
            json
                + ": unknown key '"
                + key
                + "'; the keys are "
                + String.join(", ", SPEC_KEYS)
                + " ('label' names the one label to learn)");
      }
    }
    List<CategoricalFeature> cat = new ArrayList<>();
    List<DenseFeature> dense = new ArrayList<>();
    for (Side side : Side.values()) {
      String s = side == Side.REQUEST ? "request" : "impression";
      for (JsonNode f : array(o, s, json)) {
        if (!f.isArray() || f.size() != 2 || !f.get(0).isTextual() || !f.get(1).isTextual()) {
          throw new IOException(json + ": each of '" + s + "' must be [name, table], got " + f);
        }
        String table = f.get(1).asText();
        cat.add(new CategoricalFeature(f.get(0).asText(), side, table, table, Pooling.MEAN));
      }
      for (JsonNode f : array(o, s + "_dense", json)) {
        if (!f.isTextual()) {
          throw new IOException(json + ": each of '" + s + "_dense' must be a name, got " + f);
        }
        dense.add(new DenseFeature(f.asText(), side));
      }
    }
    JsonNode label = o.get("label");
    if (label == null || !label.isTextual()) {
      throw new IOException(json + ": 'label' must name the label to learn");
    }
    try {
      return new FeatureSpec(cat, dense, List.of(label.asText()));
    } catch (IllegalArgumentException e) {
      throw new IOException(json + ": " + e.getMessage(), e);
    }
  }

  private static Iterable<JsonNode> array(JsonNode o, String field, Path json) throws IOException {
    JsonNode a = o.get(field);
    if (a == null) {
      return List.of();
    }
    if (!a.isArray()) {
      throw new IOException(json + ": '" + field + "' must be a list");
    }
    return a;
  }
}
