package io.streamrec.model;

import io.streamrec.gpu.Floats;
import io.streamrec.gpu.Ints;

/**
 * The rows of one table that a batch reads, wherever they live: a slab of {@code rowWidth}-float
 * rows, the slot of each key of the batch ({@code slots}, parallel to the batch's key array), and
 * the batch's distinct rows ({@code rowIndex} maps each key to one; {@code distinctSlots} gives
 * each one's slot). All in the compute backend's memory.
 *
 * <p>In the trainer the slab is the embedding store's hot slab after {@code prepare}; in a serving
 * replica, a small slab the replica fills from its rows. The model reads both the same way, which
 * is what makes the replica's scores equal the trainer's.
 */
public record TableRows(
    Floats slab, int rowWidth, Ints slots, Ints rowIndex, Ints distinctSlots, int distinct) {}
