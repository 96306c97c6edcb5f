package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.io.StringReader;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BankMarketingStreamTest {
  private static final String HEADER =
      "\"age\";\"job\";\"marital\";\"education\";\"default\";\"balance\";\"housing\";\"loan\";"
          + "\"contact\";\"day\";\"month\";\"duration\";\"campaign\";\"pdays\";\"previous\";"
          + "\"poutcome\";\"y\"\n";

  private static String call(int age, String job, String contact, int day, String month, String y) {
    return age
        + ";\""
        + job
        + "\";\"married\";\"secondary\";\"no\";1506;\"yes\";\"no\";\""
        + contact
        + "\";"
        + day
        + ";\""
        + month
        + "\";261;2;-1;0;\"unknown\";\""
        + y
        + "\"\n";
  }

  @Test
  void callsOfOneDateAndChannelFormRequestsOfAtMostKCallsAndDurationIsDropped() throws Exception {
    String csv =
        HEADER
            + call(58, "management", "unknown", 5, "may", "no")
            + call(44, "technician", "unknown", 5, "may", "yes")
            + call(33, "entrepreneur", "unknown", 5, "may", "no") // third call: over K = 2
            + call(47, "blue-collar", "cellular", 5, "may", "no") // another channel
            + call(35, "admin.", "cellular", 6, "may", "yes") // another date
            + call(29, "student", "cellular", 2, "jan", "no"); // back to January: a new year
    List<RequestUnit> units = BankMarketingStream.convert(new StringReader(csv), 2);

    assertThat(units).extracting(u -> u.getImpressions().size()).containsExactly(2, 1, 1, 1, 1);
    RequestUnit first = units.get(0);
    assertThat(first.getFeatures())
        .containsEntry("month", List.of("may"))
        .containsEntry("day_of_month", List.of("5"))
        .containsEntry("weekday", List.of("mon")) // 5 May 2008 was a Monday
        .containsEntry("contact", List.of("unknown"));
    assertThat(first.getDense())
        .containsEntry("campaign_day", 0f)
        .containsEntry("calls_before", 0f);
    Impression im = first.getImpressions().get(1);
    assertThat(im.getFeatures())
        .containsEntry("job", List.of("technician"))
        .containsEntry("age_decade", List.of("40"))
        .containsEntry("poutcome", List.of("unknown"))
        .doesNotContainKey("duration");
    assertThat(im.getDense())
        .containsOnlyKeys("age", "balance", "campaign", "pdays", "previous")
        .containsEntry("age", 44f)
        .containsEntry("balance", 1506f)
        .containsEntry("campaign", 2f)
        .containsEntry("pdays", -1f);
    assertThat(first.getImpressions())
        .extracting(i -> i.getLabels().get("click"))
        .containsExactly(0f, 1f);

    // the split by K keeps counting the day's calls; the channel's change starts a request
    assertThat(units.get(1).getDense()).containsEntry("calls_before", 2f);
    assertThat(units.get(2).getFeatures()).containsEntry("contact", List.of("cellular"));
    assertThat(units.get(2).getDense()).containsEntry("calls_before", 3f);
    assertThat(units.get(3).getDense())
        .containsEntry("campaign_day", 1f)
        .containsEntry("calls_before", 0f);
    assertThat(units.get(4).getFeatures()).containsEntry("month", List.of("jan"));
    assertThat(units.get(4).getDense()).containsEntry("campaign_day", 2f);
    assertThat(Instant.ofEpochMilli(units.get(4).getTimestampMs()))
        .isEqualTo(Instant.parse("2009-01-02T09:00:00Z"));

    // timestamps: 09:00 UTC plus one second per earlier call of the date, strictly increasing
    assertThat(Instant.ofEpochMilli(first.getTimestampMs()))
        .isEqualTo(Instant.parse("2008-05-05T09:00:00Z"));
    long previous = Long.MIN_VALUE;
    for (RequestUnit u : units) {
      assertThat(u.getTimestampMs()).isEqualTo(u.getImpressions().get(0).getTimestampMs());
      for (Impression i : u.getImpressions()) {
        assertThat(i.getTimestampMs()).isGreaterThan(previous);
        previous = i.getTimestampMs();
      }
      assertThat(u.getClosedAtMs()).isEqualTo(previous);
    }
    assertThat(units)
        .extracting(RequestUnit::getRequestId)
        .containsExactly("bank-0", "bank-1", "bank-2", "bank-3", "bank-4");
  }

  @Test
  void theSpecReadsEveryConvertedFeatureAndNoDuration() throws Exception {
    List<RequestUnit> units =
        BankMarketingStream.convert(
            new StringReader(HEADER + call(30, "services", "telephone", 1, "jun", "no")), 10);
    RequestUnit u = units.get(0);
    var spec = BankMarketingStream.spec();
    assertThat(spec.categorical())
        .extracting(f -> f.name())
        .containsExactlyInAnyOrderElementsOf(
            concat(u.getFeatures(), u.getImpressions().get(0).getFeatures()));
    assertThat(spec.dense())
        .extracting(f -> f.name())
        .containsExactlyInAnyOrderElementsOf(
            concat(u.getDense(), u.getImpressions().get(0).getDense()))
        .doesNotContain("duration");
  }

  @Test
  void aBadLineIsReportedWithItsNumber() {
    String csv = HEADER + call(30, "services", "telephone", 1, "jun", "no").replace("jun", "jux");
    assertThatThrownBy(() -> BankMarketingStream.convert(new StringReader(csv), 10))
        .hasMessageContaining("line 2")
        .hasMessageContaining("jux");
  }

  @Test
  void aBadNumberOrDateIsReportedWithItsLineAsAnIoError() {
    String ok = call(30, "services", "telephone", 1, "jun", "no");
    for (String csv :
        new String[] {
          HEADER + ok + call(30, "services", "telephone", 31, "jun", "no"), // June has 30 days
          HEADER + ok + call(30, "services", "telephone", 2, "jun", "no").replace(";2;", ";x;"),
          HEADER + ok + call(30, "services", "telephone", 2, "jun", "no").replace("1506", "1,5")
        }) {
      assertThatThrownBy(() -> BankMarketingStream.convert(new StringReader(csv), 10))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("line 3");
    }
  }

  /**
   * The conversion gives the calls their times in file order and takes a month going back for a new
   * year; a day going back within a month made times that went backwards, trained in an order that
   * was not time's, with no word. (bank-full.csv itself never goes back.)
   */
  @Test
  void aCallDatedBeforeThePreviousOneIsRefusedWithItsLine() {
    String csv =
        HEADER
            + call(30, "services", "telephone", 9, "jun", "no")
            + call(31, "services", "telephone", 4, "jun", "no");
    assertThatThrownBy(() -> BankMarketingStream.convert(new StringReader(csv), 10))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("line 3: 2008-06-04 is before the previous call's 2008-06-09");
  }

  private static List<String> concat(Map<String, ?> a, Map<String, ?> b) {
    List<String> out = new java.util.ArrayList<>(a.keySet());
    out.addAll(b.keySet());
    return out;
  }
}
