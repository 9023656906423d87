/* Shared helpers for the C benchmark programs: clocks, /proc readers, percentiles, RESULT lines.
 * Every program prints its measurements as one "RESULT key=value ..." line that bench/run.sh
 * collects; the Lua programs print the same shape through bench/lua/common.lua. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Process CPU time (user + system), microsecond resolution. */
static inline double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* utime + stime from /proc/self/stat, in seconds (clock-tick resolution). */
static inline double proc_cpu_s(void) {
    FILE *f = fopen("/proc/self/stat", "r");
    char buf[4096];
    size_t n;
    char *p;
    unsigned long utime = 0, stime = 0;
    int field;
    if (!f) return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may contain spaces: fields are counted from the last ')'. */
    p = strrchr(buf, ')');
    if (!p) return -1;
    p += 2; /* field 3 */
    for (field = 3; field < 14 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    if (!p || sscanf(p, "%lu %lu", &utime, &stime) != 2) return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static inline long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts samples in place; writes mean, p50, p99 and max. */
static inline void summarize(double *s, size_t n, double *mean, double *p50, double *p99, double *max) {
    double sum = 0;
    size_t i;
    if (n == 0) { *mean = *p50 = *p99 = *max = 0; return; }
    qsort(s, n, sizeof *s, cmp_double);
    for (i = 0; i < n; i++) sum += s[i];
    *mean = sum / (double)n;
    *p50 = s[(size_t)((double)(n - 1) * 0.50 + 0.5)];
    *p99 = s[(size_t)((double)(n - 1) * 0.99 + 0.5)];
    *max = s[n - 1];
}

/* Option lookup in "key=value" arguments: opt(argc, argv, "n", "1000"). */
static inline const char *opt(int argc, char **argv, const char *key, const char *def) {
    size_t k = strlen(key);
    int i;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], key, k) == 0 && argv[i][k] == '=') return argv[i] + k + 1;
    return def;
}

static inline long opt_long(int argc, char **argv, const char *key, long def) {
    const char *v = opt(argc, argv, key, NULL);
    return v ? strtol(v, NULL, 10) : def;
}

static inline double opt_double(int argc, char **argv, const char *key, double def) {
    const char *v = opt(argc, argv, key, NULL);
    return v ? strtod(v, NULL) : def;
}

#endif
