package io.streamrec.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.StreamrecException;
import io.streamrec.schemas.RowEncoding;
import io.streamrec.schemas.VersionMarker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whatever a model-updates topic holds (a producer that is not a trainer, a record of another
 * protocol), a reader's decoder either decodes a record or refuses it with a {@link
 * StreamrecException}, which a replica counts and skips: any other exception would stop the
 * replica's thread. Valid records of every kind are corrupted at random, keys and values, from a
 * fixed seed.
 */
class ModelUpdateDecoderFuzzTest {
  private static final int MUTANTS = 20_000;

  @ParameterizedTest
  @EnumSource(RowEncoding.class)
  void everyCorruptedRecordDecodesOrIsRefusedWithAStreamrecException(RowEncoding encoding) {
    List<ModelUpdateRecord> seeds = new ArrayList<>();
    ModelUpdateEncoder enc = new ModelUpdateEncoder(99, 7, 1_000, encoding, seeds::add);
    enc.spec("{\"dim\":2}");
    enc.row("user_id", -3L, new float[] {9f, 0.5f, -2f, 1f, 0.25f}, 1, 4);
    enc.row("item_id", 12345L, new float[] {1f, -0.5f, 2f, 3f, -1f}, 1, 4);
    enc.tombstone("item_id", 42L);
    enc.dense("linear", new float[] {1f, 2f, 3f, 4f});
    enc.close(VersionMarker.newBuilder().setPublishedAtMs(2_000));
    SplittableRandom rnd = new SplittableRandom(encoding.ordinal() + 101);
    int decoded = 0;
    int refused = 0;
    for (int i = 0; i < MUTANTS; i++) {
      ModelUpdateRecord seed = seeds.get(rnd.nextInt(seeds.size()));
      boolean mutateKey = rnd.nextInt(4) == 0;
      byte[] key = mutateKey ? ByteMutations.mutate(seed.key, rnd) : seed.key;
      byte[] value =
          seed.value == null || mutateKey ? seed.value : ByteMutations.mutate(seed.value, rnd);
      try {
        ModelUpdateDecoder.decode(key, value);
        decoded++;
      } catch (StreamrecException e) {
        refused++;
      } catch (RuntimeException e) {
        throw new AssertionError(
            "mutant "
                + i
                + " threw "
                + e
                + ": key "
                + Arrays.toString(key)
                + ", value "
                + Arrays.toString(value),
            e);
      }
    }
    System.out.printf(
        "%s: %,d corrupted records, %,d decoded, %,d refused%n",
        encoding, MUTANTS, decoded, refused);
    assertThat(refused).as("most corruptions are refused").isGreaterThan(MUTANTS / 4);
  }
}
