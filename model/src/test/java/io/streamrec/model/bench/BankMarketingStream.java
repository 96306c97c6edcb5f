package io.streamrec.model.bench;

import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The UCI Bank Marketing data ({@code bank-full.csv}: 45,211 telephone calls of a Portuguese bank's
 * term-deposit campaigns, May 2008 – November 2010, in call order; Moro, Cortez and Rita, "A
 * data-driven approach to predict the success of bank telemarketing", Decision Support Systems 62,
 * 2014; CC BY 4.0) turned into a time-ordered stream of request units, as streamrec trains on them.
 * The file ships inside {@code org.apache.mahout:mahout-examples:0.13.0} (Apache-2.0) on Maven
 * Central; {@code scripts/bench-quality.sh} fetches that jar at run time and nothing of the data is
 * kept in the repository. {@code docs/benchmarks.md} describes the conversion.
 *
 * <p>The file gives a call's month and day but no year. The year starts at 2008 and moves on each
 * time the month goes back (December → January), which ends the file in November 2010 as its
 * description says. A <b>request</b> is a run of consecutive calls on the same date through the
 * same contact channel, cut into groups of at most {@code maxCalls} calls: the calls an agent works
 * through from one list in one sitting, the day and channel its shared context. Its features are
 * the month, the day of the month, the weekday, the contact type, and as dense values the campaign
 * day (how many distinct call dates came before, a clock that grows through the stream) and the
 * calls already made that day. Each <b>impression</b> is one call: the client's job, marital
 * status, education, credit default, housing and personal loan, the previous campaign's outcome and
 * an age decade as categorical features, and age, balance, calls in this campaign ({@code
 * campaign}), days since the last contact ({@code pdays}, -1 when never) and earlier contacts
 * ({@code previous}) as dense values. The label {@code click} is 1 when the client subscribed
 * ({@code y = yes}). {@code duration} (the call's length) is dropped: it is known only once the
 * call has ended, and the dataset's description warns that it all but gives the label away.
 *
 * <p>Timestamps are synthesised from the order: a date starts at 09:00 UTC and its k-th call is k
 * seconds later; a request's time is its first call's. They grow strictly through the file (no date
 * has 86,400 calls), so event time follows the file's order.
 */
public final class BankMarketingStream {
  /** Where the file sits in the mahout-examples jar. */
  public static final String ENTRY = "bank-full.csv";

  /**
   * Calls per request at most: a slate of about the size of the generator's requests and a
   * recommendation page; the busiest days (hundreds of calls) become many requests rather than one
   * unit of hundreds of impressions, while a quiet day's few calls stay one request.
   */
  public static final int DEFAULT_MAX_CALLS = 10;

  /** The first call's year: the campaigns start in May 2008. */
  static final int FIRST_YEAR = 2008;

  /** A date's first call is at this hour, UTC. */
  private static final long DAY_START_MS = 9 * 3_600_000L;

  /** Consecutive calls of one date are this far apart. */
  private static final long CALL_SPACING_MS = 1_000L;

  private static final String[] MONTHS = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
  };

  private BankMarketingStream() {}

  /** The features the model reads for this stream. */
  public static FeatureSpec spec() {
    List<CategoricalFeature> cat = new ArrayList<>();
    for (String f : new String[] {"month", "day_of_month", "weekday", "contact"}) {
      cat.add(CategoricalFeature.of(f, Side.REQUEST));
    }
    for (String f :
        new String[] {
          "job", "marital", "education", "default", "housing", "loan", "poutcome", "age_decade"
        }) {
      cat.add(CategoricalFeature.of(f, Side.IMPRESSION));
    }
    List<DenseFeature> dense = new ArrayList<>();
    dense.add(new DenseFeature("campaign_day", Side.REQUEST));
    dense.add(new DenseFeature("calls_before", Side.REQUEST));
    for (String f : new String[] {"age", "balance", "campaign", "pdays", "previous"}) {
      dense.add(new DenseFeature(f, Side.IMPRESSION));
    }
    return new FeatureSpec(cat, dense, List.of("click"));
  }

  /** Reads {@link #ENTRY} from the mahout-examples jar at {@code jar}. */
  public static List<RequestUnit> fromJar(Path jar, int maxCalls) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      ZipEntry e = zip.getEntry(ENTRY);
      if (e == null) {
        throw new IOException(jar + " holds no " + ENTRY);
      }
      try (Reader r = new InputStreamReader(zip.getInputStream(e), StandardCharsets.UTF_8)) {
        return convert(r, maxCalls);
      }
    }
  }

  /** Converts the CSV (with its header line) into request units, in the file's order. */
  public static List<RequestUnit> convert(Reader csv, int maxCalls) throws IOException {
    if (maxCalls < 1) {
      throw new IllegalArgumentException("maxCalls must be >= 1, got " + maxCalls);
    }
    BufferedReader in = new BufferedReader(csv);
    String header = in.readLine();
    if (header == null) {
      throw new IOException("empty file: no header line");
    }
    Map<String, Integer> col = new HashMap<>();
    String[] names = split(header);
    for (int i = 0; i < names.length; i++) {
      col.put(names[i], i);
    }
    for (String need :
        new String[] {
          "age",
          "job",
          "marital",
          "education",
          "default",
          "balance",
          "housing",
          "loan",
          "contact",
          "day",
          "month",
          "campaign",
          "pdays",
          "previous",
          "poutcome",
          "y"
        }) {
      if (!col.containsKey(need)) {
        throw new IOException("header has no column '" + need + "': " + header);
      }
    }
    List<RequestUnit> units = new ArrayList<>();
    List<Impression> calls = new ArrayList<>();
    RequestUnit.Builder open = null;
    int year = FIRST_YEAR, lastMonth = -1, campaignDay = -1, callsToday = 0;
    LocalDate date = null;
    String contact = null;
    long lineNo = 1;
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String[] v = split(line);
      if (v.length != names.length) {
        throw new IOException(
            "line " + lineNo + " has " + v.length + " fields; the header has " + names.length);
      }
      int month = month(v[col.get("month")], lineNo);
      if (lastMonth >= 0 && month < lastMonth) {
        year++;
      }
      lastMonth = month;
      LocalDate d;
      try {
        d = LocalDate.of(year, month + 1, Integer.parseInt(v[col.get("day")]));
      } catch (NumberFormatException | java.time.DateTimeException e) {
        throw new IOException(
            "line " + lineNo + ": day '" + v[col.get("day")] + "': " + e.getMessage(), e);
      }
      if (date != null && d.isBefore(date)) {
        // a month that goes back is a new year; a day that goes back within one is out of order
        throw new IOException(
            "line "
                + lineNo
                + ": "
                + d
                + " is before the previous call's "
                + date
                + ": the calls must be in the order they were made");
      }
      String c = v[col.get("contact")];
      boolean newDate = !d.equals(date);
      if (newDate) {
        campaignDay++;
        callsToday = 0;
      }
      if (open != null && (newDate || !c.equals(contact) || calls.size() == maxCalls)) {
        units.add(close(open, calls));
        open = null;
      }
      date = d;
      contact = c;
      long t =
          d.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli()
              + DAY_START_MS
              + callsToday * CALL_SPACING_MS;
      if (open == null) {
        String id = "bank-" + units.size();
        Map<String, List<String>> f = new LinkedHashMap<>();
        f.put("month", List.of(MONTHS[month]));
        f.put("day_of_month", List.of(String.valueOf(d.getDayOfMonth())));
        f.put("weekday", List.of(d.getDayOfWeek().name().substring(0, 3).toLowerCase(Locale.ROOT)));
        f.put("contact", List.of(c));
        Map<String, Float> dense = new LinkedHashMap<>();
        dense.put("campaign_day", (float) campaignDay);
        dense.put("calls_before", (float) callsToday);
        open =
            RequestUnit.newBuilder()
                .setRequestId(id)
                .setTimestampMs(t)
                .setFeatures(f)
                .setDense(dense);
      }
      try {
        calls.add(call(v, col, open.getRequestId() + "-" + calls.size(), t, lineNo));
      } catch (NumberFormatException e) {
        throw new IOException("line " + lineNo + ": not a number: " + e.getMessage(), e);
      }
      callsToday++;
    }
    if (open != null) {
      units.add(close(open, calls));
    }
    return units;
  }

  private static RequestUnit close(RequestUnit.Builder open, List<Impression> calls) {
    long last = calls.get(calls.size() - 1).getTimestampMs();
    RequestUnit u = open.setClosedAtMs(last).setImpressions(new ArrayList<>(calls)).build();
    calls.clear();
    return u;
  }

  private static Impression call(
      String[] v, Map<String, Integer> col, String id, long t, long lineNo) {
    Map<String, List<String>> f = new LinkedHashMap<>();
    for (String name :
        new String[] {"job", "marital", "education", "default", "housing", "loan", "poutcome"}) {
      f.put(name, List.of(v[col.get(name)]));
    }
    int age = Integer.parseInt(v[col.get("age")]);
    f.put("age_decade", List.of(String.valueOf(age / 10 * 10)));
    Map<String, Float> dense = new LinkedHashMap<>();
    for (String name : new String[] {"age", "balance", "campaign", "pdays", "previous"}) {
      dense.put(name, Float.parseFloat(v[col.get(name)]));
    }
    String y = v[col.get("y")];
    if (!y.equals("yes") && !y.equals("no")) {
      throw new IllegalArgumentException("line " + lineNo + ": y is '" + y + "', not yes or no");
    }
    return Impression.newBuilder()
        .setImpressionId(id)
        .setTimestampMs(t)
        .setFeatures(f)
        .setDense(dense)
        .setLabels(Map.of("click", y.equals("yes") ? 1f : 0f))
        .build();
  }

  private static int month(String m, long lineNo) {
    for (int i = 0; i < MONTHS.length; i++) {
      if (MONTHS[i].equals(m)) {
        return i;
      }
    }
    throw new IllegalArgumentException("line " + lineNo + ": unknown month '" + m + "'");
  }

  /** One line's fields: {@code ;}-separated, text in double quotes (never holding a {@code ;}). */
  private static String[] split(String line) {
    String[] v = line.split(";", -1);
    for (int i = 0; i < v.length; i++) {
      String s = v[i].trim();
      if (s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"') {
        s = s.substring(1, s.length() - 1);
      }
      v[i] = s;
    }
    return v;
  }
}
