/* The floor: a 32-byte UDP request/response over loopback with no protocol at all.
 *   udp_pingpong server [wait=block|poll] [limit=S]     prints "PORT n", echoes until "quit"
 *   udp_pingpong client port=N [n=] [warmup=] [wait=]   prints a RESULT line (RTT in us)
 * wait=poll sleeps in poll(2) before each recvfrom, as an ENet service loop does; wait=block
 * sleeps in recvfrom itself (the cheapest wake-up the kernel offers). */
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int wait_poll;

static ssize_t receive(int fd, char *buf, size_t len, struct sockaddr_in *from, double deadline) {
    socklen_t fl = sizeof *from;
    for (;;) {
        if (wait_poll) {
            struct pollfd p = {fd, POLLIN, 0};
            int ms = (int)((deadline - now_s()) * 1000.0) + 1;
            if (ms <= 0) return -1;
            if (poll(&p, 1, ms) <= 0) {
                if (now_s() >= deadline) return -1;
                continue;
            }
            ssize_t n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
            if (n >= 0) return n;
            if (errno != EAGAIN && errno != EINTR) return -1;
        } else {
            ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &fl);
            if (n >= 0) return n;
            if (errno != EINTR && errno != EAGAIN) return -1;
            if (now_s() >= deadline) return -1;
        }
    }
}

int main(int argc, char **argv) {
    struct sockaddr_in addr = {0};
    char buf[2048];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    double limit = opt_double(argc, argv, "limit", 120);
    wait_poll = strcmp(opt(argc, argv, "wait", "block"), "poll") == 0;
    if (argc < 2 || fd < 0) return 2;
    /* A blocking recvfrom wakes every second so a lost peer cannot hang the run. */
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (strcmp(argv[1], "server") == 0) {
        socklen_t al = sizeof addr;
        double deadline = now_s() + limit;
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return 1;
        getsockname(fd, (struct sockaddr *)&addr, &al);
        printf("PORT %d\n", ntohs(addr.sin_port));
        fflush(stdout);
        for (;;) {
            struct sockaddr_in from;
            ssize_t n = receive(fd, buf, sizeof buf, &from, deadline);
            if (n < 0) break;
            if (n == 4 && memcmp(buf, "quit", 4) == 0) break;
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, sizeof from);
        }
        return 0;
    }

    long n = opt_long(argc, argv, "n", 10000);
    long warmup = opt_long(argc, argv, "warmup", 500);
    long size = opt_long(argc, argv, "size", 32);
    double *samples = calloc((size_t)n, sizeof *samples);
    struct sockaddr_in to = addr;
    double deadline = now_s() + limit;
    long i, got = 0;
    char payload[2048];
    to.sin_port = htons((unsigned short)opt_long(argc, argv, "port", 0));
    memset(payload, 'p', sizeof payload);
    double cpu0 = 0;
    for (i = 0; i < warmup + n; i++) {
        struct sockaddr_in from;
        if (i == warmup) cpu0 = cpu_s();
        double t0 = now_s();
        sendto(fd, payload, (size_t)size, 0, (struct sockaddr *)&to, sizeof to);
        if (receive(fd, buf, sizeof buf, &from, deadline) < 0) break;
        double t1 = now_s();
        if (i >= warmup) samples[got++] = (t1 - t0) * 1e6;
    }
    double cpu = cpu_s() - cpu0;
    sendto(fd, "quit", 4, 0, (struct sockaddr *)&to, sizeof to);
    double mean, p50, p99, max;
    summarize(samples, (size_t)got, &mean, &p50, &p99, &max);
    printf("RESULT n=%ld mean_us=%.2f p50_us=%.2f p99_us=%.2f max_us=%.2f client_cpu_us=%.2f\n",
           got, mean, p50, p99, max, got ? cpu / (double)got * 1e6 : 0);
    return got == n ? 0 : 1;
}
