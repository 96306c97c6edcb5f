package io.streamrec.schemas;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON interchange shape users load their data in, one event per line:
 *
 * <pre>
 * {"requestId":"r1","timestampMs":1767225600000,"features":{"user_id":["u42"]},"dense":{"hour":13.0}}
 * {"impressionId":"r1-0","requestId":"r1","timestampMs":1767225600950,"features":{"item_id":["i9"]},
 *  "dense":{"position":0.0},"labels":{"click":1}}
 * </pre>
 *
 * Categorical values are lists of strings (a bare string or number is read as a one-element list);
 * dense values and labels are finite numbers. Anything else is a {@link MalformedRecordException}
 * whose message names the field.
 */
public final class JsonEvents {
  /**
   * Refuses anything after the event's object (a line holding two objects must not lose the
   * second), and a field named twice in one object: which of the two values a reader keeps is not
   * the producer's to know.
   */
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private JsonEvents() {}

  /** Every field of an event's line, in the order messages name them. */
  public static final List<String> FIELD_ORDER =
      List.of("impressionId", "requestId", "timestampMs", "features", "dense", "labels");

  /** The fields of a request's line; a line may leave out all but {@code requestId}. */
  public static final java.util.Set<String> REQUEST_FIELDS =
      java.util.Set.of("requestId", "timestampMs", "features", "dense");

  /** The fields of an impression's line. */
  public static final java.util.Set<String> IMPRESSION_FIELDS =
      java.util.Set.of("impressionId", "requestId", "timestampMs", "features", "dense", "labels");

  /**
   * The field of {@code known} that {@code name}, not one of them, probably means: the same but for
   * case, or at most two edits off; null if none.
   */
  public static String meantField(String name, java.util.Set<String> known) {
    return io.streamrec.common.EditDistance.firstWithin(
        name, FIELD_ORDER.stream().filter(known::contains).toList(), 2);
  }

  /**
   * Reads JSON as an event's line is read: nothing after its value, no field named twice in one
   * object. For a document that holds events ({@code POST /score}'s body), taken apart before each
   * goes to {@link #parseRequest(ObjectNode)} or {@link #parseImpression(ObjectNode)}.
   *
   * @throws IOException for JSON that does not parse or breaks either rule
   */
  public static JsonNode readTree(byte[] json) throws IOException {
    return MAPPER.readTree(json);
  }

  public static RequestEvent parseRequest(String line) {
    return parseRequest(parseObject(line));
  }

  /** A request from an already parsed JSON object (e.g. one field of a larger document). */
  public static RequestEvent parseRequest(ObjectNode o) {
    return parseRequest(o, EVERY_NAME);
  }

  /**
   * A request whose dense values past a 32-bit float's range are refused under the names {@code
   * denseRead} takes only: under any other name such a value is kept as the infinity it rounds to,
   * which the job ignores as it ignores the name.
   */
  public static RequestEvent parseRequest(
      ObjectNode o, java.util.function.Predicate<String> denseRead) {
    return RequestEvent.newBuilder()
        .setRequestId(text(o, "requestId"))
        .setTimestampMs(timestamp(o))
        .setFeatures(categorical(o))
        .setDense(floats(o, "dense", denseRead))
        .build();
  }

  /** Every name: a value past a float's range is refused whatever its name. */
  private static final java.util.function.Predicate<String> EVERY_NAME = name -> true;

  public static ImpressionEvent parseImpression(String line) {
    return parseImpression(parseObject(line));
  }

  /** An impression from an already parsed JSON object. */
  public static ImpressionEvent parseImpression(ObjectNode o) {
    return parseImpression(o, EVERY_NAME, EVERY_NAME);
  }

  /**
   * An impression whose dense values and labels past a 32-bit float's range are refused under the
   * names {@code denseRead} and {@code labelRead} take only, as {@link #parseRequest(ObjectNode,
   * java.util.function.Predicate)} does.
   */
  public static ImpressionEvent parseImpression(
      ObjectNode o,
      java.util.function.Predicate<String> denseRead,
      java.util.function.Predicate<String> labelRead) {
    return ImpressionEvent.newBuilder()
        .setImpressionId(text(o, "impressionId"))
        .setRequestId(text(o, "requestId"))
        .setTimestampMs(timestamp(o))
        .setFeatures(categorical(o))
        .setDense(floats(o, "dense", denseRead))
        .setLabels(floats(o, "labels", labelRead))
        .build();
  }

  public static String toJson(RequestEvent e) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("requestId", e.getRequestId());
    o.put("timestampMs", e.getTimestampMs());
    putCategorical(o, e.getFeatures());
    putFloats(o, "dense", e.getDense());
    return o.toString();
  }

  public static String toJson(ImpressionEvent e) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("impressionId", e.getImpressionId());
    o.put("requestId", e.getRequestId());
    o.put("timestampMs", e.getTimestampMs());
    putCategorical(o, e.getFeatures());
    putFloats(o, "dense", e.getDense());
    putLabels(o, e.getLabels());
    return o.toString();
  }

  private static void putCategorical(ObjectNode o, Map<String, List<String>> features) {
    ObjectNode f = o.putObject("features");
    for (Map.Entry<String, List<String>> e : features.entrySet()) {
      ArrayNode a = f.putArray(e.getKey());
      e.getValue().forEach(a::add);
    }
  }

  private static void putFloats(ObjectNode o, String field, Map<String, Float> values) {
    ObjectNode f = o.putObject(field);
    values.forEach((k, v) -> f.put(k, v));
  }

  /** Labels as numbers, whole ones without a fraction ({@code "click":1}), as users write them. */
  private static void putLabels(ObjectNode o, Map<String, Float> values) {
    ObjectNode f = o.putObject("labels");
    values.forEach(
        (k, v) -> {
          if (v == Math.rint(v) && Math.abs(v) < 1e9f) {
            f.put(k, (long) (float) v);
          } else {
            f.put(k, v);
          }
        });
  }

  /**
   * One event's line as a JSON object, refused (a {@link MalformedRecordException}) as {@link
   * #parseRequest(String)} refuses it: for a reader that looks at the object and then makes the
   * event of it ({@link #parseRequest(ObjectNode)}), parsing the line once.
   */
  public static ObjectNode parseObject(String line) {
    JsonNode n;
    try {
      n = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      String token = nonNumericToken(e.getOriginalMessage());
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "not valid JSON: " + (token == null ? e.getOriginalMessage() : notANumber(token)));
    }
    if (n == null || !n.isObject()) {
      throw new MalformedRecordException(DeadLetterReasons.MALFORMED, "expected a JSON object");
    }
    return (ObjectNode) n;
  }

  /**
   * The token of Jackson's "Non-standard token 'NaN': enable
   * 'JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS' to allow", which names a setting of the parser a
   * producer cannot change, or of its "Unrecognized token 'nan'"; null for any other message.
   */
  public static String nonNumericToken(String message) {
    if (message == null) {
      return null;
    }
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "^(?:Non-standard token '([^']*)'|Unrecognized token '([+-]?(?i:nan|inf|infinity))')")
            .matcher(message);
    return !m.find() ? null : m.group(1) != null ? m.group(1) : m.group(2);
  }

  /** What to say of a non-finite {@code token} written where JSON takes a number. */
  public static String notANumber(String token) {
    return token + " is not a JSON number, and JSON has no NaN or Infinity: send a finite number";
  }

  private static String text(ObjectNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "field '" + field + "' must be a non-empty string");
    }
    return paired(n.asText(), field);
  }

  /**
   * {@code s}, refused where it holds half of a UTF-16 surrogate pair without the other half (a
   * JSON escape of one, from a string cut in the middle of an emoji): UTF-8 cannot encode it, so it
   * would reach the topic as '?', and two different ids would become one.
   */
  private static String paired(String s, String where) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new MalformedRecordException(
            DeadLetterReasons.MALFORMED,
            String.format(
                java.util.Locale.ROOT,
                "field '%s' holds an unpaired surrogate \\u%04x, half of a character (a UTF-16"
                    + " string cut in two?)",
                where,
                (int) c));
      }
    }
    return s;
  }

  private static long timestamp(ObjectNode o) {
    JsonNode n = o.get("timestampMs");
    if (n == null || !n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED,
          "field 'timestampMs' must be a non-negative integer (epoch ms)");
    }
    return n.asLong();
  }

  private static Map<String, List<String>> categorical(ObjectNode o) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    JsonNode f = o.get("features");
    if (f == null || f.isNull()) {
      return out;
    }
    if (!f.isObject()) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "field 'features' must be an object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      paired(e.getKey(), "features." + e.getKey());
      List<String> values = new ArrayList<>();
      JsonNode v = e.getValue();
      if (v.isArray()) {
        for (JsonNode item : v) {
          values.add(scalar(item, "features." + e.getKey()));
        }
      } else {
        values.add(scalar(v, "features." + e.getKey()));
      }
      out.put(e.getKey(), values);
    }
    return out;
  }

  private static String scalar(JsonNode n, String where) {
    if (n.isTextual()) {
      return paired(n.asText(), where);
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.asText();
    }
    throw new MalformedRecordException(
        DeadLetterReasons.MALFORMED,
        "field '" + where + "' must hold strings, got " + n.getNodeType());
  }

  private static Map<String, Float> floats(
      ObjectNode o, String field, java.util.function.Predicate<String> read) {
    Map<String, Float> out = new LinkedHashMap<>();
    JsonNode f = o.get(field);
    if (f == null || f.isNull()) {
      return out;
    }
    if (!f.isObject()) {
      throw new MalformedRecordException(
          DeadLetterReasons.MALFORMED, "field '" + field + "' must be an object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      paired(e.getKey(), field + "." + e.getKey());
      JsonNode v = e.getValue();
      if (!v.isNumber()) {
        boolean nonFinite =
            v.isTextual() && v.asText().strip().matches("(?i)[+-]?(nan|inf|infinity)");
        throw new MalformedRecordException(
            DeadLetterReasons.MALFORMED,
            "field '"
                + field
                + "."
                + e.getKey()
                + "' must be a number"
                + (nonFinite
                    ? ": '"
                        + v.asText()
                        + "' is text, and JSON has no NaN or Infinity: send a finite"
                        + " number"
                    : ""));
      }
      double d = v.asDouble();
      float x = (float) d;
      if (!Float.isFinite(x) && read.test(e.getKey())) {
        throw new MalformedRecordException(
            DeadLetterReasons.NON_FINITE,
            "field '"
                + field
                + "."
                + e.getKey()
                + "' is "
                + (Double.isFinite(d)
                    ? v.asText() + ", beyond what a 32-bit float holds (±3.4e38)"
                    // JSON writes no NaN or Infinity: what reads as one was a number past a double
                    : "a number beyond what a 32-bit float holds (±3.4e38), and a 64-bit one"));
      }
      out.put(e.getKey(), x);
    }
    return out;
  }
}
