package io.streamrec.model.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.JsonEvents;
import io.streamrec.schemas.RequestUnit;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QualityBenchTest {

  /**
   * {@code --events} wrote one file, each request followed by its impressions, which {@code
   * streamrec produce} cannot load: given it as both files, every impression went out as a request
   * too and every request line was a bad impression.
   */
  @Test
  void eventsAreWrittenAsTheRequestsAndImpressionsFilesProduceLoads(@TempDir Path tmp)
      throws Exception {
    String csv =
        "\"age\";\"job\";\"marital\";\"education\";\"default\";\"balance\";\"housing\";\"loan\";"
            + "\"contact\";\"day\";\"month\";\"duration\";\"campaign\";\"pdays\";\"previous\";"
            + "\"poutcome\";\"y\"\n"
            + "58;\"management\";\"married\";\"tertiary\";\"no\";2143;\"yes\";\"no\";\"unknown\";5;"
            + "\"may\";261;1;-1;0;\"unknown\";\"no\"\n"
            + "44;\"technician\";\"single\";\"secondary\";\"no\";29;\"yes\";\"no\";\"unknown\";5;"
            + "\"may\";151;1;-1;0;\"unknown\";\"yes\"\n"
            + "33;\"entrepreneur\";\"married\";\"secondary\";\"no\";2;\"yes\";\"yes\";\"cellular\";"
            + "6;\"may\";76;1;-1;0;\"unknown\";\"no\"\n";
    List<RequestUnit> units = BankMarketingStream.convert(new StringReader(csv), 2);

    List<Path> files = QualityBench.writeEvents(units, tmp.resolve("events"));

    assertThat(files).hasSize(2);
    List<String> requests = Files.readAllLines(files.get(0));
    List<String> impressions = Files.readAllLines(files.get(1));
    assertThat(requests).hasSize(2).noneMatch(l -> l.contains("impressionId"));
    assertThat(impressions).hasSize(3).allMatch(l -> l.contains("impressionId"));
    requests.forEach(JsonEvents::parseRequest);
    impressions.forEach(JsonEvents::parseImpression);
    EventFilesStream.Loaded loaded = EventFilesStream.read(files.get(0), files.get(1));
    assertThat(loaded.badLines()).isZero();
    assertThat(loaded.orphanImpressions()).isZero();
    assertThat(loaded.units()).hasSize(2);
  }
}
