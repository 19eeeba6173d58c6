/*
 * umbra-work - the workload inside the umbra lab guest.
 *
 * One static binary (built with `gcc -static -O2`) with several roles,
 * chosen by the name it is called by or by its first argument:
 *
 *   work          CGI for busybox httpd (/cgi-bin/work). Query
 *                 `cpu_ms=N&mem_kb=M`: allocates M KiB, touches every
 *                 page, then mixes that buffer until the process has used
 *                 N ms of CPU time (CLOCK_PROCESS_CPUTIME_ID), so the work
 *                 is real CPU time whatever the speed of the (TCG) vCPU.
 *                 `rounds=R` instead mixes a fixed R rounds (about 175
 *                 per ms of an uncontended TCG vCPU): a fixed amount of
 *                 work, whose latency grows when the vCPU gets less of
 *                 the host's CPU (the guest's own CPU clock does not
 *                 see that: it counts stolen time as its own).
 *                 Answers 200 with a one-line text body, 400 on bad input.
 *   counter       CGI (/cgi-bin/counter): prints the value kept by
 *                 `counter-loop`, i.e. seconds counted since boot.
 *   counter-loop FILE
 *                 Increments a counter once per second (absolute
 *                 CLOCK_MONOTONIC deadlines, no drift) and writes it to
 *                 FILE atomically (write + rename).
 *   disk          CGI (/cgi-bin/disk): `op=fill&seed=N` writes a pattern
 *                 derived from N over the marked region of /dev/vda
 *                 (DISK_MARK_OFF, DISK_MARK_LEN: outside disk-writer's
 *                 span) with O_DIRECT; `op=sum` prints the FNV-1a 64 of
 *                 that region, read with O_DIRECT.  Tests compare disks
 *                 from inside guests with it.  `op=bulk&mib=N&seed=S`
 *                 writes N MiB of such data after the marked region
 *                 (benchmarks: a disk with real data on it).
 *   efivar        CGI (/cgi-bin/efivar), UEFI guests: `op=set&val=N` stores
 *                 N in the non-volatile EFI variable EFIVAR_NAME (as a
 *                 boot entry set from inside the guest would be); `op=get`
 *                 prints it ("val=N", 404 when unset, 503 without
 *                 efivarfs, 500 when the store refuses).  Tests check
 *                 that a move keeps the store.
 *   disk-writer DEV [KIB_PER_SEC]
 *                 Writes KIB_PER_SEC (default 8) KiB per second to DEV with
 *                 O_DIRECT at rotating offsets and reads one block back,
 *                 so the hypervisor's block statistics move.
 *
 * The guest runs these under busybox init (see build-guest.sh). Under TCG
 * a guest millisecond of CPU costs roughly a host millisecond, so a
 * request with cpu_ms=20 costs about 20 ms of the vCPU thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define WORK_MAX_CPU_MS 10000    /* upper bound for cpu_ms */
#define WORK_MAX_ROUNDS 10000000 /* upper bound for rounds */
#define WORK_MAX_MEM_KB                                                        \
    (64 * 1024) /* upper bound for mem_kb (guest: 128 MiB) */
#define COUNTER_FILE "/run/umbra-counter"
#define DISK_BLOCK 4096
#define DISK_SPAN_BLOCKS 8192 /* rotate over the first 32 MiB of the disk */
#define DISK_DEV "/dev/vda"
#define DISK_MARK_OFF (48LL << 20) /* the marked region: 48 MiB ... */
#define DISK_MARK_LEN (8 << 20)    /* ... 8 MiB long */
/* Our own vendor GUID; attributes NV | BS | RT. */
#define EFIVAR_DIR "/sys/firmware/efi/efivars"
#define EFIVAR_NAME "UmbraLabTest-6d1f0c42-8b7e-4a3d-9c51-0e2a7b94f3c8"
#define EFIVAR_ATTRS 0x7u

static int64_t
cpu_time_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0) {
        return 0;
    }
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parses the value of @key in a query string; returns @def if absent. */
static int
query_int(const char *query, const char *key, long def, long max, long *ret)
{
    size_t klen = strlen(key);
    const char *p = query;

    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            char *end = NULL;
            long v;

            errno = 0;
            v = strtol(p + klen + 1, &end, 10);
            if (errno != 0 || end == p + klen + 1 ||
                (*end != '\0' && *end != '&') || v < 0 || v > max) {
                return -1;
            }
            *ret = v;
            return 0;
        }
        p = strchr(p, '&');
        if (p) {
            p++;
        }
    }
    *ret = def;
    return 0;
}

static void
http_reply(int code, const char *reason, const char *body)
{
    printf("HTTP/1.0 %d %s\r\n"
           "Content-Type: text/plain\r\n"
           "Content-Length: %zu\r\n"
           "Connection: close\r\n"
           "\r\n%s",
           code, reason, strlen(body), body);
    fflush(stdout);
}

static int
cmd_work(void)
{
    const char *query = getenv("QUERY_STRING");
    char host[64] = "?";
    char body[256];
    long cpu_ms, mem_kb, want_rounds;
    uint64_t *buf = NULL;
    size_t words, i;
    uint64_t x = 0x9e3779b97f4a7c15ULL, rounds = 0;
    int64_t start, used;

    if (!query) {
        query = "";
    }
    if (query_int(query, "cpu_ms", 10, WORK_MAX_CPU_MS, &cpu_ms) < 0 ||
        query_int(query, "mem_kb", 0, WORK_MAX_MEM_KB, &mem_kb) < 0 ||
        query_int(query, "rounds", 0, WORK_MAX_ROUNDS, &want_rounds) < 0) {
        http_reply(400, "Bad Request",
                   "bad query: want cpu_ms=0..10000&mem_kb=0..65536 "
                   "or rounds=1..10000000\n");
        return 0;
    }
    gethostname(host, sizeof(host) - 1);
    start = cpu_time_ns();

    words = (size_t) mem_kb * 1024 / sizeof(uint64_t);
    if (words == 0) {
        words = 512; /* 4 KiB scratch so the CPU loop has data */
    }
    buf = malloc(words * sizeof(uint64_t));
    if (!buf) {
        http_reply(503, "Service Unavailable", "out of memory\n");
        return 0;
    }
    /* Touch every page (and every word) once. */
    for (i = 0; i < words; i++) {
        buf[i] = i * 0x100000001b3ULL;
    }

    /* Mix the buffer (xorshift + multiply) until cpu_ms of CPU is used,
     * or for want_rounds rounds. */
    do {
        size_t chunk = words < 8192 ? words : 8192;
        size_t off = (size_t) (rounds * 8192) % words;

        for (i = 0; i < chunk; i++) {
            size_t j = (off + i) % words;

            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[j] = (buf[j] ^ x) * 0xff51afd7ed558ccdULL;
        }
        rounds++;
        used = cpu_time_ns() - start;
    } while (want_rounds ? rounds < (uint64_t) want_rounds
                         : used < (int64_t) cpu_ms * 1000000LL);

    for (i = 0; i < words; i += 64) {
        x ^= buf[i];
    }
    free(buf);
    snprintf(body, sizeof(body),
             "ok host=%s cpu_ms=%ld used_us=%lld mem_kb=%ld rounds=%llu "
             "sum=%016llx\n",
             host, cpu_ms, (long long) (used / 1000), mem_kb,
             (unsigned long long) rounds, (unsigned long long) x);
    http_reply(200, "OK", body);
    return 0;
}

static int
cmd_counter(void)
{
    char host[64] = "?";
    char val[32] = "";
    char body[160];
    FILE *f = fopen(COUNTER_FILE, "re");

    if (f) {
        if (!fgets(val, sizeof(val), f)) {
            val[0] = '\0';
        }
        fclose(f);
    }
    val[strcspn(val, "\r\n")] = '\0';
    gethostname(host, sizeof(host) - 1);
    if (val[0] == '\0') {
        http_reply(503, "Service Unavailable", "counter not running\n");
        return 0;
    }
    snprintf(body, sizeof(body), "counter=%s host=%s\n", val, host);
    http_reply(200, "OK", body);
    return 0;
}

/* Fills @buf (DISK_MARK_LEN bytes) with data derived from @seed. */
static void
disk_pattern(unsigned char *buf, uint64_t seed)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ seed;

    for (size_t i = 0; i < DISK_MARK_LEN; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
}

static int
cmd_disk_bulk(const char *query)
{
    unsigned char *buf = NULL;
    long mib = 0, seed = 1;
    char body[96];
    int fd;

    if (query_int(query, "mib", 0, 1 << 20, &mib) < 0 || mib <= 0 ||
        query_int(query, "seed", 1, 1000000, &seed) < 0) {
        http_reply(400, "Bad Request", "bad query: want op=bulk&mib=N\n");
        return 0;
    }
    fd = open(DISK_DEV, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0 ||
        posix_memalign((void **) &buf, DISK_BLOCK, DISK_MARK_LEN) != 0) {
        http_reply(503, "Service Unavailable", "cannot open " DISK_DEV "\n");
        return 0;
    }
    for (long done = 0; done < mib; done += DISK_MARK_LEN >> 20) {
        off_t off = DISK_MARK_OFF + DISK_MARK_LEN + ((off_t) done << 20);

        disk_pattern(buf, (uint64_t) seed * 1000003u + (uint64_t) done);
        if (pwrite(fd, buf, DISK_MARK_LEN, off) != DISK_MARK_LEN) {
            http_reply(503, "Service Unavailable", "write failed\n");
            return 0;
        }
    }
    fdatasync(fd);
    close(fd);
    free(buf);
    snprintf(body, sizeof(body), "bulk mib=%ld\n", mib);
    http_reply(200, "OK", body);
    return 0;
}

static int
cmd_disk(void)
{
    const char *query = getenv("QUERY_STRING");
    const char *op;
    unsigned char *buf = NULL;
    uint64_t h = 0xcbf29ce484222325ULL;
    long seed = 0;
    char body[160];
    int fd, fill;

    if (!query) {
        query = "";
    }
    op = strstr(query, "op=");
    if (op && strncmp(op + 3, "bulk", 4) == 0) {
        return cmd_disk_bulk(query);
    }
    if (!op ||
        (strncmp(op + 3, "fill", 4) != 0 && strncmp(op + 3, "sum", 3) != 0) ||
        query_int(query, "seed", 1, 1000000, &seed) < 0) {
        http_reply(400, "Bad Request",
                   "bad query: want op=fill&seed=N or op=sum\n");
        return 0;
    }
    fill = strncmp(op + 3, "fill", 4) == 0;
    fd = open(DISK_DEV, (fill ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
    if (fd < 0 ||
        posix_memalign((void **) &buf, DISK_BLOCK, DISK_MARK_LEN) != 0) {
        http_reply(503, "Service Unavailable", "cannot open " DISK_DEV "\n");
        return 0;
    }
    if (fill) {
        disk_pattern(buf, (uint64_t) seed);
        if (pwrite(fd, buf, DISK_MARK_LEN, DISK_MARK_OFF) != DISK_MARK_LEN ||
            fdatasync(fd) < 0) {
            http_reply(503, "Service Unavailable", "write failed\n");
            return 0;
        }
    } else if (pread(fd, buf, DISK_MARK_LEN, DISK_MARK_OFF) != DISK_MARK_LEN) {
        http_reply(503, "Service Unavailable", "read failed\n");
        return 0;
    }
    for (size_t i = 0; i < DISK_MARK_LEN; i++) {
        h = (h ^ buf[i]) * 0x100000001b3ULL;
    }
    close(fd);
    free(buf);
    snprintf(body, sizeof(body), "%s sum=%016llx\n", fill ? "filled" : "ok",
             (unsigned long long) h);
    http_reply(200, "OK", body);
    return 0;
}

static int
cmd_efivar(void)
{
    const char *query = getenv("QUERY_STRING");
    const char *op = query ? strstr(query, "op=") : NULL;
    const char *path = EFIVAR_DIR "/" EFIVAR_NAME;
    unsigned char buf[64];
    char body[96];
    long val = 0;
    ssize_t n;
    int fd;

    {
        struct statfs fs;

        if (statfs(EFIVAR_DIR, &fs) != 0 || fs.f_type != EFIVARFS_MAGIC) {
            http_reply(503, "Service Unavailable",
                       "no efivarfs (not a UEFI boot?)\n");
            return 0;
        }
    }
    if (op && strncmp(op + 3, "set", 3) == 0) {
        uint32_t attrs = EFIVAR_ATTRS;
        int len;

        if (query_int(query, "val", -1, 1000000000, &val) < 0 || val < 0) {
            http_reply(400, "Bad Request", "bad query: want op=set&val=N\n");
            return 0;
        }
        /* efivarfs makes an existing variable immutable (chattr -i). */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            int flags = 0;

            if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
                (flags & FS_IMMUTABLE_FL)) {
                flags &= ~FS_IMMUTABLE_FL;
                ioctl(fd, FS_IOC_SETFLAGS, &flags);
            }
            close(fd);
        }
        /* efivarfs takes the attributes, then the data, in one write. */
        memcpy(buf, &attrs, 4);
        len = snprintf((char *) buf + 4, sizeof(buf) - 4, "%ld", val);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        errno = 0;
        if (fd < 0 || write(fd, buf, 4 + (size_t) len) != 4 + len) {
            snprintf(body, sizeof(body), "write failed: %s\n",
                     errno ? strerror(errno) : "short write");
            http_reply(500, "Internal Server Error", body);
            if (fd >= 0) {
                close(fd);
            }
            return 0;
        }
        close(fd);
        snprintf(body, sizeof(body), "set val=%ld\n", val);
        http_reply(200, "OK", body);
        return 0;
    }
    if (!op || strncmp(op + 3, "get", 3) != 0) {
        http_reply(400, "Bad Request",
                   "bad query: want op=set&val=N or op=get\n");
        return 0;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        http_reply(404, "Not Found", "unset\n");
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 4) {
        http_reply(500, "Internal Server Error", "read failed\n");
        return 0;
    }
    buf[n] = '\0';
    snprintf(body, sizeof(body), "val=%s\n", (char *) buf + 4);
    http_reply(200, "OK", body);
    return 0;
}

static int
cmd_counter_loop(const char *path)
{
    char tmp[PATH_MAX];
    struct timespec next;
    unsigned long long n = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        FILE *f = fopen(tmp, "we");

        if (f) {
            fprintf(f, "%llu\n", n);
            fclose(f);
            rename(tmp, path);
        }
        n++;
        next.tv_sec += 1;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
               EINTR) {
        }
    }
    return 0;
}

static int
cmd_disk_writer(const char *dev, long kib_per_sec)
{
    void *blk = NULL;
    unsigned long long n = 0;
    int fd;

    fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "umbra-work: open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    if (posix_memalign(&blk, DISK_BLOCK, DISK_BLOCK) != 0) {
        return 1;
    }
    for (;;) {
        long k;

        for (k = 0; k < kib_per_sec; k += DISK_BLOCK / 1024) {
            off_t off = (off_t) (n % DISK_SPAN_BLOCKS) * DISK_BLOCK;

            memset(blk, (int) (n & 0xff), DISK_BLOCK);
            snprintf(blk, 64, "umbra-work block %llu\n", n);
            if (pwrite(fd, blk, DISK_BLOCK, off) != DISK_BLOCK) {
                fprintf(stderr, "umbra-work: write: %s\n", strerror(errno));
            }
            n++;
        }
        if (pread(fd, blk, DISK_BLOCK, 0) < 0) {
            fprintf(stderr, "umbra-work: read: %s\n", strerror(errno));
        }
        sleep(1);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');

    name = name ? name + 1 : argv[0];
    if (strcmp(name, "work") == 0) {
        return cmd_work();
    }
    if (strcmp(name, "counter") == 0) {
        return cmd_counter();
    }
    if (strcmp(name, "disk") == 0) {
        return cmd_disk();
    }
    if (strcmp(name, "efivar") == 0) {
        return cmd_efivar();
    }
    if (argc >= 2 && strcmp(argv[1], "work") == 0) {
        return cmd_work();
    }
    if (argc >= 2 && strcmp(argv[1], "counter") == 0) {
        return cmd_counter();
    }
    if (argc >= 2 && strcmp(argv[1], "counter-loop") == 0) {
        return cmd_counter_loop(argc >= 3 ? argv[2] : COUNTER_FILE);
    }
    if (argc >= 3 && strcmp(argv[1], "disk-writer") == 0) {
        long kib = argc >= 4 ? strtol(argv[3], NULL, 10) : 8;

        return cmd_disk_writer(argv[2], kib > 0 ? kib : 8);
    }
    fprintf(stderr, "usage: umbra-work work|counter|counter-loop [FILE]|"
                    "disk-writer DEV [KIB_PER_SEC]\n");
    return 2;
}
