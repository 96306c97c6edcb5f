package io.streamrec.model;

/**
 * The rows of one table that a batch reads, wherever they live: a slab of {@code rowWidth}-float
 * rows, the slot of each key of the batch ({@code slots}, parallel to the batch's key array), and
 * the batch's distinct rows ({@code rowIndex} maps each key to one; {@code distinctSlots} gives
 * each one's slot).
 *
 * <p>In the trainer this is the embedding store's hot slab after {@code prepare}; in a serving
 * replica, a small slab the replica fills from its rows. The model reads both the same way, which
 * is what makes the replica's scores equal the trainer's.
 */
public record TableRows(
    float[] slab, int rowWidth, int[] slots, int[] rowIndex, int[] distinctSlots, int distinct) {}
