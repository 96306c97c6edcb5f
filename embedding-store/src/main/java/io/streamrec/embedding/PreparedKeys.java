package io.streamrec.embedding;

/**
 * The answer to {@link EmbeddingStore#prepare} for one table and one minibatch.
 *
 * @param slots for each input key, the hot slot of its row (valid until {@link
 *     EmbeddingStore#release})
 * @param rowIndex for each input key, the index of its row among the distinct rows of the batch
 * @param distinctSlots the slot of each distinct row, {@code distinctCount} of them
 * @param distinctKeys the key of each distinct row
 * @param distinctCount number of distinct keys in the batch
 */
public record PreparedKeys(
    int[] slots, int[] rowIndex, int[] distinctSlots, long[] distinctKeys, int distinctCount) {}
