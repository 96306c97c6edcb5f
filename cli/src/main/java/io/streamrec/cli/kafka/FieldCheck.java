package io.streamrec.cli.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
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
  static final Set<String> REQUEST = io.streamrec.schemas.JsonEvents.REQUEST_FIELDS;
  static final Set<String> IMPRESSION = io.streamrec.schemas.JsonEvents.IMPRESSION_FIELDS;

  /** How many unknown fields the warnings name, each with its count and first place. */
  static final int NAMED = 5;

  private final NameCounts unknownInRequests = new NameCounts();
  private final NameCounts unknownInImpressions = new NameCounts();

  public FieldCheck(JsonlProducer.Listener next) {
    this(next, null);
  }

  /**
   * As above, and checks the feature names under {@code features} and {@code dense} against the
   * model's {@code spec} (null: not): a feature the model does not read there is summed up with
   * where the model declares it, if anywhere.
   */
  public FieldCheck(JsonlProducer.Listener next, FeatureSpec spec) {
    super(next);
    this.spec = spec;
  }

  private final FeatureSpec spec;
  private final NameCounts unreadFeatures = new NameCounts();

  /** How many request ids the check of repeated ids keeps (16 bytes each), then stops. */
  static final int IDS_KEPT = 2_000_000;

  private final io.streamrec.common.LongIntHashMap requestIds =
      new io.streamrec.common.LongIntHashMap(1 << 12);
  private long requestsChecked;
  private long repeated;
  private String firstRepeated;

  /** Categorical values written as numbers with a fraction or exponent, by feature. */
  private final NameCounts fractionalIds = new NameCounts();

  @Override
  public void onLine(ObjectNode o, boolean request, Path file, long lineNumber) {
    JsonNode categorical = o.get("features");
    if (categorical != null && categorical.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = categorical.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = e.getValue();
        for (JsonNode item : v.isArray() ? v : List.of(v)) {
          if (item.isFloatingPointNumber()) {
            String key = (request ? "request " : "impression ") + "features." + e.getKey();
            fractionalIds.add(
                key, () -> file.getFileName() + ":" + lineNumber + ", " + item.asText());
          }
        }
      }
    }
    if (request && requestIds.size() < IDS_KEPT) {
      JsonNode id = o.get("requestId");
      if (id != null && id.isTextual()) {
        requestsChecked++;
        if (requestIds.put(io.streamrec.common.FeatureIds.of("request", id.asText()), 0)
            != io.streamrec.common.LongIntHashMap.MISSING) {
          if (repeated++ == 0) {
            firstRepeated = file.getFileName() + ":" + lineNumber + ", '" + id.asText() + "'";
          }
        }
      }
    }
    if (spec != null) {
      for (String field : List.of("features", "dense")) {
        JsonNode values = o.get(field);
        if (values != null && values.isObject()) {
          for (Iterator<String> names = values.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            Side side = request ? Side.REQUEST : Side.IMPRESSION;
            String kind = spec.kindOf(side, name);
            if (!(field.equals("dense") ? "dense" : "categorical").equals(kind)) {
              Side other = request ? Side.IMPRESSION : Side.REQUEST;
              String where =
                  kind != null
                      ? describe(side, kind)
                      : spec.kindOf(other, name) != null
                          ? describe(other, spec.kindOf(other, name))
                          : null;
              String key = (request ? "request " : "impression ") + field + "." + name;
              unreadFeatures.add(
                  key,
                  () ->
                      file.getFileName()
                          + ":"
                          + lineNumber
                          + (where == null ? "" : "; the model declares it " + where));
            }
          }
        }
      }
    }
    Set<String> known = request ? REQUEST : IMPRESSION;
    NameCounts unknown = request ? unknownInRequests : unknownInImpressions;
    for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!known.contains(name)) {
        unknown.add(name, () -> file.getFileName() + ":" + lineNumber);
      }
    }
    super.onLine(o, request, file, lineNumber);
  }

  /** A line per kind of event whose lines carry fields it does not have, none when none do. */
  public List<String> warnings() {
    List<String> out = new ArrayList<>();
    describe(out, "request", REQUEST, unknownInRequests);
    describe(out, "impression", IMPRESSION, unknownInImpressions);
    if (repeated > 0) {
      out.add(
          String.format(
              Locale.ROOT,
              "%,d of %,d requests%s reuse the id of an earlier request (first at %s): the job"
                  + " joins impressions to their request by id, and a request whose id is still"
                  + " open in the job (a unit within its join window, or closed less than a join"
                  + " window before) is a duplicate, or a conflicting_duplicate dead letter with"
                  + " its impressions. A backfill reads ahead of event time and meets this even"
                  + " for ids reused hours apart. Give each request an id of its own",
              repeated,
              requestsChecked,
              requestIds.size() >= IDS_KEPT ? " checked" : "",
              firstRepeated));
    }
    if (!fractionalIds.isEmpty()) {
      out.add(
          "categorical values written as numbers with a fraction or an exponent: "
              + named(fractionalIds)
              + ". An id is its text, so 351.0 and 351 are two ids with rows of their own (a"
              + " column of ids read as floats writes them so): write ids as integers or strings");
    }
    if (!unreadFeatures.isEmpty()) {
      out.add(
          "events carry features the model does not read where they are: "
              + named(unreadFeatures)
              + ". The job reads a feature only on the side and under the field the configuration"
              + " declares it (model.features.request.categorical, ...); others are ignored");
    }
    return out;
  }

  /** The first {@link #NAMED} of {@code counts}, each with its count and first place, and more. */
  private static String named(NameCounts counts) {
    List<String> named = new ArrayList<>();
    for (Map.Entry<String, long[]> e : counts.counts().entrySet()) {
      if (named.size() < NAMED) {
        named.add(
            String.format(
                Locale.ROOT,
                "%s in %,d (first at %s)",
                e.getKey(),
                e.getValue()[0],
                counts.firstAt(e.getKey())));
      }
    }
    return String.join(", ", named) + counts.more(NAMED);
  }

  private static String describe(Side side, String kind) {
    return "on the " + side.name().toLowerCase(Locale.ROOT) + " side, as " + kind;
  }

  private void describe(List<String> out, String kind, Set<String> known, NameCounts unknown) {
    if (unknown.isEmpty()) {
      return;
    }
    List<String> named = new ArrayList<>();
    boolean swapped = false;
    for (Map.Entry<String, long[]> e : unknown.counts().entrySet()) {
      String name = e.getKey();
      swapped |= kind.equals("request") && IMPRESSION.contains(name);
      if (named.size() < NAMED) {
        String meant = io.streamrec.schemas.JsonEvents.meantField(name, known);
        named.add(
            String.format(
                Locale.ROOT,
                "'%s' in %,d (first at %s%s)",
                name,
                e.getValue()[0],
                unknown.firstAt(name),
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
            + unknown.more(NAMED)
            + ". A "
            + kind
            + " has "
            + String.join(", ", ordered(known))
            + (swapped
                ? ". Those are an impression's fields: are --requests and --impressions swapped?"
                : ""));
  }

  private static List<String> ordered(Set<String> known) {
    return io.streamrec.schemas.JsonEvents.FIELD_ORDER.stream().filter(known::contains).toList();
  }
}
