package io.streamrec.model;

import io.streamrec.common.SplitMix64;
import io.streamrec.gpu.ComputeBackend;
import io.streamrec.gpu.Floats;
import java.util.List;

/**
 * A stack of dense layers on {@link ComputeBackend} operations: {@code y = x·W + b}, ReLU after
 * every layer but the last. The weights live in a shared parameter vector from {@code offset}: per
 * layer {@code W} ({@code in × out}, row-major) then {@code b}. The layer outputs of a forward pass
 * stay in an {@link Activations} (one per caller's workspace), which the backward pass reads.
 */
final class Mlp {
  final int[] sizes;
  final int offset;

  /** {@code in} inputs through {@code layers} (hidden sizes, then the output size). */
  Mlp(int in, List<Integer> layers, int offset) {
    this.sizes = new int[layers.size() + 1];
    sizes[0] = in;
    for (int k = 0; k < layers.size(); k++) {
      sizes[k + 1] = layers.get(k);
    }
    this.offset = offset;
  }

  /**
   * What a forward pass through one {@link Mlp} leaves for its backward pass: its input and every
   * layer's output, and the buffers of the input gradients. Owned by a workspace.
   */
  static final class Activations implements AutoCloseable {
    private final Mlp mlp;

    /**
     * {@code acts[0]} the input, {@code acts[k + 1]} layer {@code k}'s output, of the last forward.
     */
    private final Floats[] acts;

    private final ScratchFloats[] outputs;
    private final ScratchFloats[] inputGrads;

    private Activations(Mlp mlp, ComputeBackend backend) {
      this.mlp = mlp;
      int layers = mlp.layers();
      this.acts = new Floats[layers + 1];
      this.outputs = new ScratchFloats[layers];
      this.inputGrads = new ScratchFloats[layers];
      for (int k = 0; k < layers; k++) {
        outputs[k] = new ScratchFloats(backend);
        inputGrads[k] = new ScratchFloats(backend);
      }
    }

    @Override
    public void close() {
      for (int k = outputs.length - 1; k >= 0; k--) {
        inputGrads[k].close();
        outputs[k].close();
      }
    }
  }

  Activations newActivations(ComputeBackend backend) {
    return new Activations(this, backend);
  }

  private void checkOwner(Activations a) {
    if (a.mlp != this) {
      throw new IllegalArgumentException("activations of another layer stack");
    }
  }

  int layers() {
    return sizes.length - 1;
  }

  int in() {
    return sizes[0];
  }

  int out() {
    return sizes[sizes.length - 1];
  }

  int paramCount() {
    int n = 0;
    for (int k = 0; k < layers(); k++) {
      n += sizes[k] * sizes[k + 1] + sizes[k + 1];
    }
    return n;
  }

  private int weightOffset(int k) {
    int o = offset;
    for (int j = 0; j < k; j++) {
      o += sizes[j] * sizes[j + 1] + sizes[j + 1];
    }
    return o;
  }

  /**
   * Glorot-uniform weights and zero biases into {@code params} (a host array), from {@code rng}; a
   * zero last layer when {@code zeroLast} (the block then starts as a no-op and learns from there).
   */
  void init(float[] params, SplitMix64 rng, boolean zeroLast) {
    for (int k = 0; k < layers(); k++) {
      int in = sizes[k], out = sizes[k + 1], w = weightOffset(k);
      double limit = Math.sqrt(6.0 / (in + out));
      boolean zero = zeroLast && k == layers() - 1;
      for (int i = 0; i < in * out; i++) {
        params[w + i] = zero ? 0f : (float) ((2 * rng.nextDouble() - 1) * limit);
      }
      for (int j = 0; j < out; j++) {
        params[w + in * out + j] = 0f;
      }
    }
  }

  /** The output of the last {@link #forward} into {@code a} (rows × out). */
  Floats output(Activations a) {
    checkOwner(a);
    Floats y = a.acts[layers()];
    if (y == null) {
      throw new IllegalStateException("no forward pass ran through this layer stack yet");
    }
    return y;
  }

  /**
   * Runs {@code rows} rows of {@code x} through the layers, keeping the activations in {@code a};
   * returns the output (rows × out).
   */
  Floats forward(ComputeBackend be, Activations a, Floats x, int rows, Floats params) {
    checkOwner(a);
    Floats[] acts = a.acts;
    acts[0] = x;
    for (int k = 0; k < layers(); k++) {
      int in = sizes[k], out = sizes[k + 1], w = weightOffset(k);
      Floats y = a.outputs[k].get(rows * out);
      be.gemm(false, false, rows, out, in, 1f, acts[k], 0, in, params, w, out, 0f, y, 0, out);
      be.addBias(y, rows, out, params, w + in * out);
      if (k < layers() - 1) {
        be.relu(y, rows * out);
      }
      acts[k + 1] = y;
    }
    return acts[layers()];
  }

  /**
   * The backward pass of the last {@link #forward} into {@code a}: adds the weight and bias
   * gradients into {@code grad} (same layout as the parameters) and returns the input gradient
   * (rows × in), or null unless {@code wantInputGrad}. {@code dy} (rows × out) is overwritten.
   */
  Floats backward(
      ComputeBackend be,
      Activations a,
      Floats dy,
      int rows,
      Floats params,
      Floats grad,
      boolean wantInputGrad) {
    checkOwner(a);
    Floats[] acts = a.acts;
    Floats d = dy;
    for (int k = layers() - 1; k >= 0; k--) {
      int in = sizes[k], out = sizes[k + 1], w = weightOffset(k);
      if (k < layers() - 1) {
        be.reluBackward(acts[k + 1], d, rows * out);
      }
      be.gemm(true, false, in, out, rows, 1f, acts[k], 0, in, d, 0, out, 1f, grad, w, out);
      be.biasGrad(d, rows, out, grad, w + in * out);
      if (k == 0 && !wantInputGrad) {
        return null;
      }
      Floats dx = a.inputGrads[k].get(rows * in);
      be.gemm(false, true, rows, in, out, 1f, d, 0, out, params, w, out, 0f, dx, 0, in);
      d = dx;
    }
    return d;
  }
}
