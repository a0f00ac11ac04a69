package dev.reclaim.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU used during one measured run (Linux only; elsewhere everything reads 0): by the whole machine, by this JVM,
 * and by the embedded PostgreSQL server (its postmaster and the processes it forked), so a reader can see whether
 * anything else was competing for the cores. PostgreSQL processes that exit during the run are not counted as ours.
 */
final class CpuMeter {
    private static final double TICK_NANOS = 1e9 / 100; // USER_HZ is 100 on Linux

    private final int pgPort;
    private long machineBusy0, machineTotal0, jvm0, pg0;
    double machineBusyCores, jvmCores, pgCores, otherCores, seconds;

    CpuMeter(int pgPort) {
        this.pgPort = pgPort;
    }

    CpuMeter start() {
        long[] m = machine();
        machineBusy0 = m[0];
        machineTotal0 = m[1];
        jvm0 = jvmNanos();
        pg0 = pgNanos();
        return this;
    }

    void stop(long wallNanos) {
        long[] m = machine();
        seconds = wallNanos / 1e9;
        int cores = Runtime.getRuntime().availableProcessors();
        long total = m[1] - machineTotal0;
        machineBusyCores = total <= 0 ? 0 : cores * (m[0] - machineBusy0) / (double) total;
        jvmCores = (jvmNanos() - jvm0) / (double) wallNanos;
        pgCores = (pgNanos() - pg0) / (double) wallNanos;
        otherCores = Math.max(0, machineBusyCores - jvmCores - pgCores);
    }

    /** {busy, total} jiffies of all cores, from /proc/stat. */
    private static long[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[]{total - idle, total};
        } catch (Exception e) {
            return new long[]{0, 0};
        }
    }

    private static long jvmNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /** CPU of the postmaster listening on our port and of its children, in nanoseconds. */
    private long pgNanos() {
        long postmaster = -1;
        long sum = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains("postgres") && cmd.contains("\0-p\0" + pgPort + "\0")) {
                        postmaster = Long.parseLong(p.getFileName().toString());
                        break;
                    }
                } catch (IOException ignored) {
                    // process gone
                }
            }
            if (postmaster < 0) {
                return 0;
            }
        } catch (IOException e) {
            return 0;
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long pid = Long.parseLong(p.getFileName().toString());
                    long ppid = Long.parseLong(f[1]);
                    if (pid == postmaster || ppid == postmaster) {
                        sum += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
                    }
                } catch (IOException | RuntimeException ignored) {
                    // process gone
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return (long) (sum * TICK_NANOS);
    }
}
