package io.streamrec.gpu.internal.cuda;

/**
 * Every kernel the CUDA backend launches, with the PTX module ({@code src/main/cuda/<module>.cu},
 * shipped as the resource {@link #resource()}) that defines it. The names are the {@code extern
 * "C"} names of the {@code .cu} files, i.e. the {@code .entry} names of their PTX; a test checks
 * that each one is there.
 */
public enum Kernel {
  AXPY("memory", "axpy_f32"),
  SCALE("memory", "scale_f32"),
  GATHER_ROWS("memory", "gather_rows"),
  SCATTER_ROWS("memory", "scatter_rows"),
  COPY2D("memory", "copy2d_f32"),
  MUL2D("memory", "mul2d_f32"),
  RELU("memory", "relu_f32"),
  RELU_BACKWARD("memory", "relu_backward_f32"),
  ADD_BIAS("memory", "add_bias_f32"),
  BIAS_GRAD("memory", "bias_grad_f32"),
  POOL_BAGS("embedding", "pool_bags"),
  POOL_BAGS_BACKWARD("embedding", "pool_bags_backward"),
  ROWWISE_ADAGRAD("embedding", "rowwise_adagrad"),
  FTRL_PROXIMAL("embedding", "ftrl_proximal"),
  BROADCAST_DOT("embedding", "broadcast_dot"),
  BROADCAST_DOT_BACKWARD("embedding", "broadcast_dot_backward"),
  FIELD_DOTS("embedding", "field_dots"),
  FIELD_DOTS_BACKWARD("embedding", "field_dots_backward"),
  GATHER_INDEXED("embedding", "gather_indexed"),
  SCATTER_ADD_INDEXED("embedding", "scatter_add_indexed"),
  GEMM("dense", "gemm_f32"),
  SIGMOID_BCE("dense", "sigmoid_bce"),
  ADAM("dense", "adam_f32"),
  CLIP_NORM("dense", "clip_norm");

  /** Where the build puts the PTX (see the antrun execution in gpu-ops/pom.xml). */
  public static final String PTX_DIR = "/io/streamrec/gpu/ptx/";

  private final String module;
  private final String entry;

  Kernel(String module, String entry) {
    this.module = module;
    this.entry = entry;
  }

  /** The {@code .cu} file (without extension) that defines this kernel. */
  public String module() {
    return module;
  }

  /** The kernel's name in its PTX. */
  public String entry() {
    return entry;
  }

  /** The class-path resources of every module's PTX, each once. */
  public static java.util.List<String> resources() {
    return java.util.stream.Stream.of(values()).map(Kernel::resource).distinct().toList();
  }

  /** The class-path resource of this kernel's PTX. */
  public String resource() {
    return PTX_DIR + module + ".ptx";
  }
}
