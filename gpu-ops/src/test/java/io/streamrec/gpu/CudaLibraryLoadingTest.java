package io.streamrec.gpu;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.streamrec.common.StreamrecException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend after a Flink task restart: the job's classes are loaded again by a new class
 * loader in the same JVM, and JCuda's native library with them. Runs {@link TaskRestartMain} in a
 * JVM of its own with two class loaders, one after the other, and checks the second gets the same
 * answer as the first: a working backend on a GPU machine; elsewhere the answer of the driver,
 * which proves JCuda's native library loaded in both.
 *
 * <p>Without an NVIDIA driver there is no {@code libcuda.so.1} for JCuda's library to link against,
 * so none of it would load. The test then builds a stand-in {@code libcuda.so.1} whose every entry
 * point answers {@code CUDA_ERROR_NO_DEVICE} (with {@code cc}, from the names {@code nm} lists as
 * JCuda's imports), and skips, saying why, where no C compiler is installed. Another stand-in that
 * reports a CUDA 12.4 driver checks that a driver older than the compiler of the kernels is refused
 * with both versions and the fix named (the reason {@code auto} gives for running on the CPU). A
 * third finds a device that fails to open, the path of a device the kernels or the driver cannot
 * work with.
 */
class CudaLibraryLoadingTest {
  private static final String NO_DRIVER = "libcuda.so.1 is not installed";

  @TempDir Path tmp;

  @Test
  void aClassLoaderOfARestartedTaskLoadsTheDriverBindingAgain() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    boolean standIn = why != null && why.contains(NO_DRIVER);
    Path driverDir = standIn ? standInDriver(tmp.resolve("driver"), Map.of()) : null;
    Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));

    List<String> out = runLoaders(2, driverDir, javaTmp);

    assertThat(out).hasSize(2);
    assertThat(out.get(0)).startsWith("loader 1: ");
    assertThat(out.get(1)).startsWith("loader 2: ");
    String first = out.get(0).substring("loader 1: ".length());
    String second = out.get(1).substring("loader 2: ".length());
    assertThat(second).as("the second class loader's answer").isEqualTo(first);
    assertThat(first).doesNotContain("could not be loaded");
    if (standIn) {
      assertThat(first).isEqualTo("cuInit failed: CUDA_ERROR_NO_DEVICE");
    } else if (why == null) {
      assertThat(first).startsWith("usable; on ").endsWith("= 11,22,33");
    }
    try (Stream<Path> left = Files.list(javaTmp)) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .as("what loading left in java.io.tmpdir")
          .isEmpty();
    }
  }

  @Test
  void aDriverOlderThanTheCompilerOfTheKernelsIsNamedWithTheFix() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    // a driver that works but supports CUDA 12.4 only: the kernels of this build come from nvcc 13
    Path driverDir =
        standInDriver(
            tmp.resolve("driver"),
            Map.of(
                "cuInit", "int cuInit(unsigned int flags) { return 0; }",
                "cuDriverGetVersion", "int cuDriverGetVersion(int *v) { *v = 12040; return 0; }"));
    int needed = CudaBackend.kernelsCudaRelease();
    Assumptions.assumeTrue(needed > 12040, "the kernels of this build load on a CUDA 12.4 driver");

    List<String> out = runLoaders(1, driverDir, Files.createDirectories(tmp.resolve("java-tmp")));

    assertThat(out)
        .singleElement(as(InstanceOfAssertFactories.STRING))
        .startsWith("loader 1: the NVIDIA driver supports CUDA 12.4 but the kernels were compiled")
        .contains("update the driver");
  }

  /**
   * A device the probe finds but that fails to open (its context refused, as an exclusive device
   * another process holds refuses it) made {@code auto} train on the CPU while the run's report,
   * from {@link Backends#resolvedName}, still said {@code cuda}. The name must be the backend's.
   */
  @Test
  void autoOnADeviceThatFailsToOpenIsReportedAsTheCpuItRunsOn() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    Path driverDir = standInDriver(tmp.resolve("driver"), deviceThatFailsToOpen(Map.of()));

    List<String> out =
        run(
            AutoFallbackMain.class,
            "",
            driverDir,
            Files.createDirectories(tmp.resolve("java-tmp")));

    assertThat(out)
        .contains(
            "probe: null",
            "resolved before: cuda",
            "created: cpu",
            "resolved after: cpu",
            "open failure: cuDevicePrimaryCtxRetain(device 0) failed:"
                + " CUDA_ERROR_DEVICE_UNAVAILABLE (46)");
  }

  /**
   * A device that fails to open after its context was taken, on a driver that then fails the
   * cleanup too (as after a sticky error): the cleanup's error replaced the failure of opening, so
   * what {@code auto} warned of and {@code cuda} threw named a release or an unload, not the cause.
   */
  @Test
  void aFailureOfOpeningIsNamedAndAFailedCleanupAfterItIsSuppressed() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    Map<String, String> contextTaken = new HashMap<>();
    contextTaken.put(
        "cuDevicePrimaryCtxRetain", "int cuDevicePrimaryCtxRetain(void **c, int d) { return 0; }");
    contextTaken.put("cuCtxSetCurrent", "int cuCtxSetCurrent(void *c) { return 0; }");
    // the context's own cleanup: the stream is refused, then releasing the context fails
    Map<String, String> noStream = new HashMap<>(contextTaken);
    noStream.put("cuStreamCreate", "int cuStreamCreate(void **s, unsigned int f) { return 46; }");
    // the backend's cleanup: the kernels load, then pinned memory is refused and unloading fails
    Map<String, String> noPinnedMemory = new HashMap<>(contextTaken);
    noPinnedMemory.put(
        "cuStreamCreate", "int cuStreamCreate(void **s, unsigned int f) { return 0; }");
    noPinnedMemory.put(
        "cuDeviceGetName",
        "int cuDeviceGetName(char *n, int len, int d) { n[0] = 'x'; n[1] = 0; return 0; }");
    noPinnedMemory.put(
        "cuDeviceGetAttribute",
        "int cuDeviceGetAttribute(int *v, int a, int d) { *v = 1; return 0; }");
    noPinnedMemory.put(
        "cuModuleLoadData",
        "int cuModuleLoadData(void **m, const void *ptx) { *m = (void *) 1; return 0; }");
    noPinnedMemory.put(
        "cuModuleGetFunction",
        "int cuModuleGetFunction(void **f, void *m, const char *n) { *f = (void *) 1; return 0; }");
    noPinnedMemory.put(
        "cuMemAllocHost_v2", "int cuMemAllocHost_v2(void **p, unsigned long n) { return 2; }");

    List<String> context = openOn(tmp.resolve("no-stream"), noStream);
    List<String> backend = openOn(tmp.resolve("no-pinned-memory"), noPinnedMemory);

    assertThat(context)
        .contains(
            "open: cuStreamCreate failed: CUDA_ERROR_DEVICE_UNAVAILABLE (46)",
            "suppressed: cuDevicePrimaryCtxRelease failed: CUDA_ERROR_NO_DEVICE (100)");
    assertThat(backend)
        .contains(
            "open: cuMemAllocHost(8388608 bytes, upload staging) failed:"
                + " CUDA_ERROR_OUT_OF_MEMORY (2)",
            "suppressed: cuModuleUnload failed: CUDA_ERROR_NO_DEVICE (100)");
  }

  /**
   * A device the driver did not report at the first look (a container started before its device was
   * mounted) stayed unusable for the life of the class loader: {@code auto} trained on the CPU and
   * {@code cuda} failed until the TaskManager restarted. It is asked for again after a while.
   */
  @Test
  void aDeviceThatAppearsAfterTheFirstLookIsFoundByALaterOne() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    Path driverDir =
        standInDriver(
            tmp.resolve("driver"),
            deviceThatFailsToOpen(
                Map.of(
                    "cuDeviceGetCount",
                    "int cuDeviceGetCount(int *n) { static int looks = 0;"
                        + " *n = looks++ == 0 ? 0 : 1; return 0; }")));

    List<String> out =
        run(ReprobeMain.class, "", driverDir, Files.createDirectories(tmp.resolve("java-tmp")));

    assertThat(out)
        .containsSubsequence(
            "first: the CUDA driver reports no device",
            "at once: the CUDA driver reports no device",
            "later: null");
  }

  /** What {@link OpenFailureMain} prints on a stand-in of a device that fails to open. */
  private List<String> openOn(Path dir, Map<String, String> bodies)
      throws IOException, InterruptedException, URISyntaxException {
    Path driverDir = standInDriver(dir.resolve("driver"), deviceThatFailsToOpen(bodies));
    return run(
        OpenFailureMain.class, "", driverDir, Files.createDirectories(dir.resolve("java-tmp")));
  }

  /**
   * The driver functions of a stand-in whose driver supports the kernels and finds one device whose
   * primary context is refused ({@code CUDA_ERROR_DEVICE_UNAVAILABLE}), with {@code more} (which
   * may take the context) on top.
   */
  private static Map<String, String> deviceThatFailsToOpen(Map<String, String> more) {
    Map<String, String> bodies = new HashMap<>();
    int version = Math.max(13000, CudaBackend.kernelsCudaRelease());
    bodies.put("cuInit", "int cuInit(unsigned int flags) { return 0; }");
    bodies.put(
        "cuDriverGetVersion", "int cuDriverGetVersion(int *v) { *v = " + version + "; return 0; }");
    bodies.put("cuDeviceGetCount", "int cuDeviceGetCount(int *n) { *n = 1; return 0; }");
    bodies.put("cuDeviceGet", "int cuDeviceGet(int *d, int ordinal) { *d = ordinal; return 0; }");
    bodies.put(
        "cuDevicePrimaryCtxRetain",
        "int cuDevicePrimaryCtxRetain(void **c, int d) { return 46; /* DEVICE_UNAVAILABLE */ }");
    bodies.putAll(more);
    return bodies;
  }

  /**
   * The CUDA probe changes {@code java.io.tmpdir} while JCuda loads; another thread's first
   * temporary file in that window (RocksDB unpacking its library in the trainer's task) must still
   * go to the JVM's directory, and so must every temporary file after the probe: otherwise the JDK
   * keeps the probe's directory, deleted once JCuda has loaded, and RocksDB never loads again.
   */
  @Test
  void anotherThreadsFirstTemporaryFileDuringTheProbeGoesToTheJvmsDirectory() throws Exception {
    String why = CudaBackend.unavailableReason();
    assumeKernelsAndJCudaForLinux(why);
    Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));

    List<String> out = run(TempDirRaceMain.class, "", null, javaTmp);

    assertThat(out)
        .as("the probe changed the property, and the other thread saw it")
        .noneMatch(l -> l.contains("the property never changed"));
    assertThat(out).contains("first: " + javaTmp, "after: " + javaTmp);
  }

  private static void assumeKernelsAndJCudaForLinux(String why) {
    Assumptions.assumeTrue(
        why == null || !why.contains("CUDA kernels"), () -> "no CUDA kernels: " + why);
    Assumptions.assumeTrue(
        why == null || !why.contains("JCuda is not on the class path"), () -> why);
    Assumptions.assumeTrue(
        System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")
            && System.getProperty("os.arch").matches("amd64|x86_64"),
        "JCuda's natives here are for Linux x86-64");
  }

  private List<String> runLoaders(int loaders, Path driverDir, Path javaTmp)
      throws IOException, InterruptedException, URISyntaxException {
    return run(TaskRestartMain.class, String.valueOf(loaders), driverDir, javaTmp).stream()
        .filter(l -> l.startsWith("loader "))
        .collect(Collectors.toList());
  }

  /**
   * Runs {@code main} with {@code arg} in a JVM of its own, whose {@code java.io.tmpdir} is {@code
   * javaTmp}, with {@code driverDir} (if any) on the library path; its output's lines.
   */
  private List<String> run(Class<?> main, String arg, Path driverDir, Path javaTmp)
      throws IOException, InterruptedException, URISyntaxException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                java.toString(),
                "-Djava.io.tmpdir=" + javaTmp,
                "-cp",
                classPath(),
                main.getName(),
                arg)
            .redirectErrorStream(true);
    if (driverDir != null) {
      String old = System.getenv("LD_LIBRARY_PATH");
      pb.environment()
          .put("LD_LIBRARY_PATH", driverDir + (old == null ? "" : File.pathSeparator + old));
    }
    Process p = pb.start();
    String output;
    try (InputStream in = p.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the JVM of two class loaders ended").isTrue();
    assertThat(p.exitValue()).as("exit status; output:%n%s", output).isZero();
    return output.lines().collect(Collectors.toList());
  }

  /**
   * Where this module's classes, the common module's, SLF4J's and JCuda's (with its natives) come
   * from.
   */
  private static String classPath() throws URISyntaxException {
    Set<String> entries = new LinkedHashSet<>();
    for (Class<?> c :
        List.of(
            TaskRestartMain.class,
            CudaBackend.class,
            StreamrecException.class,
            org.slf4j.LoggerFactory.class,
            jcuda.driver.CUresult.class)) {
      entries.add(
          Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
    }
    URL natives =
        CudaLibraryLoadingTest.class.getResource(
            "/lib/libJCudaDriver-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so");
    assertThat(natives).as("JCuda's driver library on the class path").isNotNull();
    String jar = natives.toString();
    entries.add(Path.of(URI.create(jar.substring("jar:".length(), jar.indexOf("!/")))).toString());
    return String.join(File.pathSeparator, entries);
  }

  /**
   * A {@code libcuda.so.1} in {@code dir} with every driver function JCuda's library imports, each
   * returning {@code CUDA_ERROR_NO_DEVICE} but those given in {@code bodies} (name to C
   * definition).
   */
  private static Path standInDriver(Path dir, Map<String, String> bodies)
      throws IOException, InterruptedException {
    Path cc = onPath("cc"), nm = onPath("nm");
    Assumptions.assumeTrue(
        cc != null && nm != null,
        "no C compiler (cc) and nm here to build a stand-in libcuda.so.1 (a driver that answers as"
            + " this test needs; the machine's own driver, if any, is not it)");
    Files.createDirectories(dir);
    String name = "libJCudaDriver-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so";
    Path lib = dir.resolve(name);
    try (InputStream in = CudaLibraryLoadingTest.class.getResourceAsStream("/lib/" + name)) {
      assertThat(in).as("/lib/%s on the class path", name).isNotNull();
      Files.copy(in, lib);
    }
    String symbols = run(dir, nm.toString(), "-D", "--undefined-only", lib.toString());
    List<String> functions = new ArrayList<>();
    for (String line : symbols.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2 && f[0].equals("U") && f[1].matches("cu[A-Za-z0-9_]*")) {
        functions.add(
            bodies.getOrDefault(
                f[1], "int " + f[1] + "(void) { return 100; /* CUDA_ERROR_NO_DEVICE */ }"));
      }
    }
    assertThat(functions).as("driver functions JCuda imports").containsAll(bodies.values());
    Files.write(dir.resolve("stand-in.c"), functions);
    run(
        dir,
        cc.toString(),
        "-shared",
        "-fPIC",
        "-Wl,-soname,libcuda.so.1",
        "-o",
        "libcuda.so.1",
        "stand-in.c");
    Files.delete(lib);
    return dir;
  }

  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor()).as("%s:%n%s", String.join(" ", command), out).isZero();
    return out;
  }

  private static Path onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String d : path.split(File.pathSeparator)) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
