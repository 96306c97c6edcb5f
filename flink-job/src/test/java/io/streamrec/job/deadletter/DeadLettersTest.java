package io.streamrec.job.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.schemas.AvroCodec;
import io.streamrec.schemas.DeadLetter;
import io.streamrec.schemas.DeadLetterReasons;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void aLetterForARecordNearAMegabyteFitsAnyProducerAndStillIdentifiesIt() throws Exception {
    byte[] record = new byte[1_000_000];
    new Random(3).nextBytes(record);
    DeadLetters.Origin origin =
        new DeadLetters.Origin("impressions", 3, 12_345L, "k".repeat(100_000), 77L);
    DeadLetter d =
        DeadLetters.of(DeadLetterReasons.MALFORMED, origin, "x".repeat(50_000), record, 64 << 10);

    assertThat(AvroCodec.encode(d).length).isLessThan(70_000);
    assertThat(d.getPayload().remaining()).isEqualTo(64 << 10);
    assertThat(d.getPayloadBytes()).isEqualTo(record.length);
    assertThat(d.getPayloadSha256()).isEqualTo(sha256(record));
    assertThat(d.getSourcePartition()).isEqualTo(3);
    assertThat(d.getSourceOffset()).isEqualTo(12_345L);
    assertThat(d.getKey().length()).isLessThanOrEqualTo(DeadLetters.MAX_KEY_CHARS);
    assertThat(d.getDetail().length()).isLessThanOrEqualTo(DeadLetters.MAX_DETAIL_CHARS);
    assertThat(d.getDetail()).endsWith("(50000 chars)");
  }

  @Test
  void fitCutsALetterMadeElsewhereAndLeavesAFittingOneAlone() throws Exception {
    byte[] record = new byte[10_000];
    new Random(4).nextBytes(record);
    DeadLetter old =
        DeadLetter.newBuilder()
            .setReason(DeadLetterReasons.LATE)
            .setSourceTopic("requests")
            .setDetail("late")
            .setTimestampMs(1L)
            .setPayload(ByteBuffer.wrap(record))
            .build();

    DeadLetter cut = DeadLetters.fit(old, 1_000);

    assertThat(cut.getPayload().remaining()).isEqualTo(1_000);
    assertThat(cut.getPayloadBytes()).isEqualTo(10_000);
    assertThat(cut.getPayloadSha256()).isEqualTo(sha256(record));
    assertThat(DeadLetters.fit(cut, 1_000)).isSameAs(cut);
    assertThat(DeadLetters.fit(old, 20_000)).isSameAs(old);
  }
}
