package io.streamrec.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class TableConfigTest {

  @Test
  void aRowHoldsTheValuesThenTheOptimizerState() {
    TableConfig t = new TableConfig("user", 16, 2, 1_000, 1, 0, 0.01f);

    assertThat(t.rowWidth()).isEqualTo(18);
  }

  @Test
  void edgeValuesAreAccepted() {
    TableConfig t = new TableConfig("u", 1, 0, 1, 1, 0, 0f);

    assertThat(t.rowWidth()).isEqualTo(1);
  }

  @ParameterizedTest
  @NullAndEmptySource
  void aTableNeedsAName(String name) {
    assertThatThrownBy(() -> new TableConfig(name, 4, 0, 10, 1, 0, 0.1f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -7})
  void dimMustBePositive(int dim) {
    assertRejected(() -> new TableConfig("user", dim, 0, 10, 1, 0, 0.1f), "dim", "got " + dim);
  }

  @Test
  void stateWidthMustNotBeNegative() {
    assertRejected(() -> new TableConfig("user", 4, -3, 10, 1, 0, 0.1f), "stateWidth", "got -3");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -12})
  void hotCapacityMustBePositive(int rows) {
    assertRejected(
        () -> new TableConfig("user", 4, 0, rows, 1, 0, 0.1f), "capacity", "got " + rows);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -2})
  void admissionThresholdMustBeAtLeastOne(int threshold) {
    assertRejected(
        () -> new TableConfig("user", 4, 0, 10, threshold, 0, 0.1f),
        "admission threshold",
        "got " + threshold);
  }

  @Test
  void aHotTierOfMoreFloatsThanOneSlabHoldsIsRefusedNamingTheRowsThatFit() {
    // 10 million rows of 129 floats (dim 128, row-wise Adagrad): 1.29e9 floats, one slab of them
    new TableConfig("user", 128, 1, 10_000_000, 1, 0, 0.1f).requireHotCapacityFits();
    // 20 million: 2.58e9 floats, more than a Java array or a device buffer of int length holds,
    // which once failed mid-training as an integer overflow when the slab grew; 16 million fit the
    // slab but leave no room for a batch's rows not yet admitted
    for (int rows : new int[] {20_000_000, 16_000_000}) {
      assertRejected(
          () -> new TableConfig("user", 128, 1, rows, 1, 0, 0.1f).requireHotCapacityFits(),
          rows + " rows of 129 floats",
          "at most 14982435 rows");
    }
    // a snapshot or a spec keeps such a capacity: it is a table all the same
    assertThat(new TableConfig("user", 128, 1, 20_000_000, 1, 0, 0.1f).hotCapacityRows())
        .isEqualTo(20_000_000);
  }

  @Test
  void ttlMustNotBeNegative() {
    assertRejected(() -> new TableConfig("user", 4, 0, 10, 1, -5, 0.1f), "ttl", "got -5");
  }

  @ParameterizedTest
  @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, -0.5f})
  void initScaleMustBeFiniteAndNotNegative(float scale) {
    assertRejected(
        () -> new TableConfig("user", 4, 0, 10, 1, 0, scale), "initScale", "got " + scale);
  }

  private static void assertRejected(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable create, String what, String value) {
    assertThatThrownBy(create)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContainingAll("'user'", what, value);
  }
}
