package io.streamrec.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every trainer worked in {@code store.dir/trainer-<subtask>}: two jobs given one store.dir deleted
 * each other's RocksDB on every start and restarted for ever.
 */
class LockedDirectoryTest {
  @TempDir Path storeDir;

  @Test
  void trainersSharingAStoreDirEachWorkInADirectoryOfTheirOwn() throws Exception {
    try (LockedDirectory a = LockedDirectory.claim(storeDir, "trainer-0-");
        LockedDirectory b = LockedDirectory.claim(storeDir, "trainer-0-")) {
      assertThat(a.path()).isNotEqualTo(b.path());
      assertThat(a.path().getParent()).isEqualTo(storeDir);
      Files.writeString(a.path().resolve("db"), "a");
      Files.writeString(b.path().resolve("db"), "b");

      // a third trainer's start leaves the two in use alone
      try (LockedDirectory c = LockedDirectory.claim(storeDir, "trainer-0-")) {
        assertThat(Files.readString(a.path().resolve("db"))).isEqualTo("a");
        assertThat(Files.readString(b.path().resolve("db"))).isEqualTo("b");
        assertThat(c.path()).isNotIn(a.path(), b.path());
      }
      Path closed = a.path();
      Files.createDirectories(closed.resolve("rocksdb").resolve("sub"));
      a.close();
      assertThat(closed).doesNotExist();
      assertThat(b.path().resolve("db")).exists();
    }
  }

  @Test
  void whatAKilledTrainerLeftIsDeletedByTheNextAndOtherDirectoriesAreNot() throws Exception {
    // a killed process: its directory and lock file stay, the lock is gone with the process
    Path left = Files.createDirectory(storeDir.resolve("trainer-0-123"));
    Files.createFile(left.resolve(LockedDirectory.LOCK_FILE));
    Files.writeString(left.resolve("000012.sst"), "rows");
    // not a trainer's working directory of this kind (an earlier release's, or the user's)
    Path earlier = Files.createDirectory(storeDir.resolve("trainer-0"));
    Path other = Files.createDirectory(storeDir.resolve("notes"));

    // a delete cut short (the process stopped while its trainer closed) took the lock file first
    Path cut = Files.createDirectories(storeDir.resolve("trainer-0-456").resolve("db"));

    try (LockedDirectory d = LockedDirectory.claim(storeDir, "trainer-0-")) {
      assertThat(left).doesNotExist();
      assertThat(cut.getParent()).doesNotExist();
      assertThat(earlier).exists();
      assertThat(other).exists();
      assertThat(d.path()).exists();
    }
  }

  @Test
  void aClaimInAnotherProcessLeavesTheDirectoriesOfThisOneAloneAfterThisOneClaimedAgain()
      throws Exception {
    // two trainers in one task manager (two jobs), then a third in another process on the same
    // machine: the second's look at the first's lock must not let the third take it
    try (LockedDirectory a = LockedDirectory.claim(storeDir, "trainer-0-");
        LockedDirectory b = LockedDirectory.claim(storeDir, "trainer-0-")) {
      Files.writeString(a.path().resolve("db"), "a");
      Files.writeString(b.path().resolve("db"), "b");

      Process other =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  ClaimOnce.class.getName(),
                  storeDir.toString(),
                  "trainer-0-")
              .redirectErrorStream(true)
              .start();
      assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(other.exitValue()).as(new String(other.getInputStream().readAllBytes())).isZero();

      assertThat(a.path().resolve("db")).hasContent("a");
      assertThat(b.path().resolve("db")).hasContent("b");
    }
  }

  @Test
  void twoJobsInOneTaskManagerClaimAtOnceWithoutFailing() throws Exception {
    // each Flink job loads this class in a class loader of its own
    java.net.URL classes =
        LockedDirectory.class.getProtectionDomain().getCodeSource().getLocation();
    try (java.net.URLClassLoader other =
        new java.net.URLClassLoader(
            new java.net.URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
      java.lang.reflect.Method otherClaim =
          other
              .loadClass(LockedDirectory.class.getName())
              .getMethod("claim", Path.class, String.class);
      assertThat(otherClaim.getDeclaringClass()).isNotEqualTo(LockedDirectory.class);
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        for (int i = 0; i < 200; i++) {
          java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
          var mine =
              pool.submit(
                  () -> {
                    together.await();
                    LockedDirectory.claim(storeDir, "trainer-0-").close();
                    return null;
                  });
          var theirs =
              pool.submit(
                  () -> {
                    together.await();
                    ((java.io.Closeable) otherClaim.invoke(null, storeDir, "trainer-0-")).close();
                    return null;
                  });
          mine.get(30, TimeUnit.SECONDS);
          theirs.get(30, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Claims and closes one directory, as another process's trainer would. */
  public static final class ClaimOnce {
    public static void main(String[] args) throws Exception {
      try (LockedDirectory d = LockedDirectory.claim(Path.of(args[0]), args[1])) {
        d.notes().forEach(System.out::println);
      }
    }
  }
}
