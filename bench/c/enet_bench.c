/* The reference: the same benchmarks as the bench/lua programs, written against Debian's C ENet
 * (libenet-dev, -lenet), plus the load generator that drives every fan-in server.
 *
 *   enet_bench pp-server  [limit=S]                         echo server, prints "PORT n"
 *   enet_bench pp-client  port=N [n=] [warmup=] [size=]     RTT of reliable request/response
 *   enet_bench stream-recv n= size= [limit=]                receiver: packets/s, MB/s
 *   enet_bench stream-send port=N n= size= [batch=]         pushes n reliable packets
 *   enet_bench server     mode=fanin|idle expect= [peers=] [warmup=] [measure=]
 *   enet_bench gen        port=N peers= [hosts=] [rate=] [duration=] [batch=]
 *   enet_bench loop       n= size= [batch=]        both hosts in one process (bench/profile.sh)
 *
 * Each measuring side prints one "RESULT key=value ..." line (see bench/run.sh). */
#include "util.h"

#include <enet/enet.h>
#include <poll.h>

static ENetHost *server_host(size_t peers) {
    ENetAddress a;
    ENetHost *h;
    enet_address_set_host_ip(&a, "127.0.0.1");
    a.port = 0;
    h = enet_host_create(&a, peers, 2, 0, 0);
    if (!h) { fprintf(stderr, "enet_host_create failed\n"); exit(1); }
    enet_socket_get_address(h->socket, &a);
    printf("PORT %u\n", a.port);
    fflush(stdout);
    return h;
}

static ENetPeer *client_connect(ENetHost *h, int argc, char **argv, double limit) {
    ENetAddress a;
    ENetEvent ev;
    ENetPeer *p;
    double deadline = now_s() + limit;
    enet_address_set_host_ip(&a, "127.0.0.1");
    a.port = (enet_uint16)opt_long(argc, argv, "port", 0);
    p = enet_host_connect(h, &a, 2, 0);
    while (p && now_s() < deadline)
        if (enet_host_service(h, &ev, 100) > 0 && ev.type == ENET_EVENT_TYPE_CONNECT) return p;
    fprintf(stderr, "connect failed\n");
    exit(1);
}

/* Services until the other side's disconnect arrives or `limit` seconds pass. */
static void await_disconnect(ENetHost *h, double limit) {
    ENetEvent ev;
    double deadline = now_s() + limit;
    while (now_s() < deadline) {
        if (enet_host_service(h, &ev, 10) > 0) {
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
            if (ev.type == ENET_EVENT_TYPE_DISCONNECT) return;
        }
    }
}

static void disconnect_all(ENetHost *h) {
    size_t i;
    for (i = 0; i < h->peerCount; i++)
        if (h->peers[i].state != ENET_PEER_STATE_DISCONNECTED)
            enet_peer_disconnect_now(&h->peers[i], 0);
    enet_host_flush(h);
}

static int pp_server(int argc, char **argv) {
    ENetHost *h = server_host(8);
    ENetEvent ev;
    double deadline = now_s() + opt_double(argc, argv, "limit", 120);
    while (now_s() < deadline) {
        if (enet_host_service(h, &ev, 100) <= 0) continue;
        if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
            ENetPacket *reply = enet_packet_create(ev.packet->data, ev.packet->dataLength,
                                                   ENET_PACKET_FLAG_RELIABLE);
            enet_peer_send(ev.peer, 0, reply);
            enet_packet_destroy(ev.packet);
        } else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
            break;
        }
    }
    enet_host_destroy(h);
    return 0;
}

static int pp_client(int argc, char **argv) {
    long n = opt_long(argc, argv, "n", 10000);
    long warmup = opt_long(argc, argv, "warmup", 500);
    size_t size = (size_t)opt_long(argc, argv, "size", 32);
    double limit = opt_double(argc, argv, "limit", 120);
    double *samples = calloc((size_t)n, sizeof *samples);
    char payload[4096];
    ENetHost *h = enet_host_create(NULL, 1, 2, 0, 0);
    ENetPeer *peer = client_connect(h, argc, argv, 10);
    ENetEvent ev;
    long i, got = 0;
    double deadline = now_s() + limit, cpu0 = 0;
    memset(payload, 'p', sizeof payload);
    for (i = 0; i < warmup + n && now_s() < deadline; i++) {
        int answered = 0;
        if (i == warmup) cpu0 = cpu_s();
        double t0 = now_s();
        enet_peer_send(peer, 0, enet_packet_create(payload, size, ENET_PACKET_FLAG_RELIABLE));
        while (!answered && now_s() < deadline) {
            if (enet_host_service(h, &ev, 1000) <= 0) continue;
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                enet_packet_destroy(ev.packet);
                answered = 1;
            }
        }
        double t1 = now_s();
        if (answered && i >= warmup) samples[got++] = (t1 - t0) * 1e6;
    }
    double cpu = cpu_s() - cpu0;
    enet_peer_disconnect(peer, 0);
    await_disconnect(h, 1);
    double mean, p50, p99, max;
    summarize(samples, (size_t)got, &mean, &p50, &p99, &max);
    printf("RESULT n=%ld mean_us=%.2f p50_us=%.2f p99_us=%.2f max_us=%.2f client_cpu_us=%.2f\n",
           got, mean, p50, p99, max, got ? cpu / (double)got * 1e6 : 0);
    enet_host_destroy(h);
    return got == n ? 0 : 1;
}

static int stream_recv(int argc, char **argv) {
    long n = opt_long(argc, argv, "n", 100000);
    double limit = opt_double(argc, argv, "limit", 60);
    ENetHost *h = server_host(8);
    ENetEvent ev;
    ENetPeer *from = NULL;
    long count = 0;
    double bytes = 0, t_first = 0, t_last = 0, cpu_first = 0, cpu_last = 0;
    double deadline = now_s() + limit;
    while (count < n && now_s() < deadline) {
        if (enet_host_service(h, &ev, 100) <= 0) continue;
        if (ev.type != ENET_EVENT_TYPE_RECEIVE) continue;
        from = ev.peer;
        bytes += (double)ev.packet->dataLength;
        enet_packet_destroy(ev.packet);
        if (++count == 1) { t_first = now_s(); cpu_first = cpu_s(); }
    }
    t_last = now_s();
    cpu_last = cpu_s();
    if (from) enet_peer_disconnect_now(from, 0);
    enet_host_flush(h);
    double dt = t_last - t_first;
    printf("RESULT n=%ld pps=%.0f mbps=%.2f recv_cpu_ns=%.0f\n", count,
           dt > 0 ? (double)(count - 1) / dt : 0, dt > 0 ? bytes / dt / 1e6 : 0,
           count > 1 ? (cpu_last - cpu_first) / (double)(count - 1) * 1e9 : 0);
    enet_host_destroy(h);
    return count == n ? 0 : 1;
}

static int stream_send(int argc, char **argv) {
    long n = opt_long(argc, argv, "n", 100000);
    size_t size = (size_t)opt_long(argc, argv, "size", 64);
    long batch = opt_long(argc, argv, "batch", 256);
    double limit = opt_double(argc, argv, "limit", 60);
    char *payload = malloc(size);
    ENetHost *h = enet_host_create(NULL, 1, 2, 0, 0);
    ENetPeer *peer = client_connect(h, argc, argv, 10);
    ENetEvent ev;
    long sent = 0, i;
    memset(payload, 's', size);
    double cpu0 = cpu_s(), t0 = now_s();
    while (sent < n) {
        long k = n - sent < batch ? n - sent : batch;
        for (i = 0; i < k; i++)
            enet_peer_send(peer, 0, enet_packet_create(payload, size, ENET_PACKET_FLAG_RELIABLE));
        sent += k;
        while (enet_host_service(h, &ev, 0) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
    }
    double queued = now_s() - t0;
    await_disconnect(h, limit);
    printf("RESULT sent=%ld send_cpu_ns=%.0f queue_s=%.3f\n", sent,
           (cpu_s() - cpu0) / (double)n * 1e9, queued);
    enet_host_destroy(h);
    return 0;
}

/* Fan-in (mode=fanin): once `expect` peers are connected, waits `warmup` s, then measures CPU%
 * and send-to-event latency of timestamped messages for `measure` s. Idle (mode=idle): records
 * connect time and RSS per peer, then measures CPU% with every peer connected and silent. */
static int server(int argc, char **argv) {
    int idle = strcmp(opt(argc, argv, "mode", "fanin"), "idle") == 0;
    long expect = opt_long(argc, argv, "expect", 1000);
    size_t peers = (size_t)opt_long(argc, argv, "peers", expect);
    double warmup = opt_double(argc, argv, "warmup", 1);
    double measure = opt_double(argc, argv, "measure", 5);
    double limit = opt_double(argc, argv, "limit", 120);
    long rss0 = rss_kb();
    ENetHost *h = server_host(peers);
    long rss1 = rss_kb();
    long rss2 = 0, connected = 0, received = 0, got = 0, cap = 1 << 20;
    double *lat = calloc((size_t)cap, sizeof *lat);
    double t_first_connect = 0, t_ready = 0, t0 = 0, cpu0 = 0;
    double deadline = now_s() + limit;
    int measuring = 0;
    ENetEvent ev;
    while (now_s() < deadline) {
        if (enet_host_service(h, &ev, 100) > 0) {
            if (ev.type == ENET_EVENT_TYPE_CONNECT) {
                if (++connected == 1) t_first_connect = now_s();
                if (connected == expect) { t_ready = now_s(); rss2 = rss_kb(); }
            } else if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                if (measuring && got < cap) {
                    char digits[20];
                    memcpy(digits, ev.packet->data, 19);
                    digits[19] = 0;
                    lat[got++] = (double)(now_ns() - atoll(digits)) / 1e3;
                }
                if (measuring) received++;
                enet_packet_destroy(ev.packet);
            } else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
                connected--;
            }
        }
        double t = now_s();
        if (!measuring && t_ready > 0 && t >= t_ready + warmup) {
            measuring = 1;
            t0 = t;
            cpu0 = proc_cpu_s();
        } else if (measuring && t >= t0 + measure) {
            break;
        }
    }
    double dt = now_s() - t0, cpu = proc_cpu_s() - cpu0;
    double mean, p50, p99, max;
    summarize(lat, (size_t)got, &mean, &p50, &p99, &max);
    if (idle)
        printf("RESULT connected=%ld connect_s=%.3f cpu_pct=%.2f rss_host_kb=%ld "
               "rss_per_peer_b=%.0f\n",
               connected, t_ready - t_first_connect, measuring ? cpu / dt * 100 : -1,
               rss1 - rss0, expect ? (double)(rss2 - rss1) * 1024.0 / (double)expect : 0);
    else
        printf("RESULT connected=%ld cpu_pct=%.2f events_per_s=%.0f cpu_us_per_event=%.2f "
               "lat_mean_us=%.1f lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f\n",
               connected, measuring ? cpu / dt * 100 : -1, received / dt,
               received ? cpu / (double)received * 1e6 : 0, mean, p50, p99, max);
    fflush(stdout);
    disconnect_all(h);
    enet_host_destroy(h);
    return measuring ? 0 : 1;
}

/* Load generator: `peers` connections spread over `hosts` client hosts, connected `batch` at a
 * time per host with at most `inflight` handshakes outstanding (a burst of thousands overflows
 * the server's socket buffer, and then ENet's retransmission back-off, 0.5 s doubling, is all a
 * connect time would measure); then each peer sends a 32-byte reliable message carrying its CLOCK_MONOTONIC
 * send time `rate` times a second (0: idle) until the server leaves or `duration` s pass. */
static int gen(int argc, char **argv) {
    long peers = opt_long(argc, argv, "peers", 1000);
    long hosts = opt_long(argc, argv, "hosts", 4);
    double rate = opt_double(argc, argv, "rate", 10);
    double duration = opt_double(argc, argv, "duration", 30);
    long batch = opt_long(argc, argv, "batch", 64);
    ENetHost **hs = calloc((size_t)hosts, sizeof *hs);
    ENetPeer **ps = calloc((size_t)peers, sizeof *ps);
    double *next = calloc((size_t)peers, sizeof *next);
    struct pollfd *fds = calloc((size_t)hosts, sizeof *fds);
    long *started_on = calloc((size_t)hosts, sizeof *started_on);
    long inflight = opt_long(argc, argv, "inflight", 256);
    long per_host = (peers + hosts - 1) / hosts, started = 0, connected = 0, gone = 0, sent = 0;
    long i, j;
    ENetAddress a;
    ENetEvent ev;
    enet_address_set_host_ip(&a, "127.0.0.1");
    a.port = (enet_uint16)opt_long(argc, argv, "port", 0);
    for (j = 0; j < hosts; j++) {
        hs[j] = enet_host_create(NULL, (size_t)per_host, 2, 0, 0);
        if (!hs[j]) return 1;
        fds[j].fd = hs[j]->socket;
        fds[j].events = POLLIN;
    }
    double t_start = now_s(), t_connected = 0, deadline = t_start + duration;
    while (now_s() < deadline && gone < peers) {
        for (j = 0; j < hosts; j++)
            for (i = 0; i < batch && started_on[j] < per_host && started - connected < inflight;
                 i++) {
                long k = j * per_host + started_on[j]++;
                if (k >= peers) break;
                ps[k] = enet_host_connect(hs[j], &a, 2, 0);
                if (!ps[k]) return 1;
                started++;
            }
        double t = now_s();
        if (t_connected > 0 && rate > 0) {
            char msg[33];
            for (i = 0; i < peers; i++) {
                if (next[i] > t) continue;
                snprintf(msg, sizeof msg, "%019lld............", now_ns());
                enet_peer_send(ps[i], 0, enet_packet_create(msg, 32, ENET_PACKET_FLAG_RELIABLE));
                sent++;
                next[i] += 1.0 / rate;
                if (next[i] < t) next[i] = t + 1.0 / rate;
            }
        }
        for (j = 0; j < hosts; j++) {
            while (enet_host_service(hs[j], &ev, 0) > 0) {
                if (ev.type == ENET_EVENT_TYPE_CONNECT) {
                    if (++connected == peers) {
                        t_connected = now_s();
                        /* Spread the first sends evenly over one period. */
                        for (i = 0; i < peers; i++)
                            next[i] = t_connected + (double)i / (double)peers / (rate > 0 ? rate : 1);
                    }
                } else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
                    gone++;
                } else if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                    enet_packet_destroy(ev.packet);
                }
            }
        }
        poll(fds, (nfds_t)hosts, 1);
    }
    printf("RESULT gen_connected=%ld gen_connect_s=%.3f gen_sent=%ld\n", connected,
           t_connected > 0 ? t_connected - t_start : -1, sent);
    for (j = 0; j < hosts; j++) {
        disconnect_all(hs[j]);
        enet_host_destroy(hs[j]);
    }
    return connected == peers ? 0 : 1;
}

/* The C twin of bench/lua/loop.lua: one process, a client pushing `batch` packets per frame to
 * a server that drains its events every frame. For instruction counts under callgrind. */
static int loop(int argc, char **argv) {
    long n = opt_long(argc, argv, "n", 20000);
    size_t size = (size_t)opt_long(argc, argv, "size", 64);
    long batch = opt_long(argc, argv, "batch", 64);
    char *payload = malloc(size);
    ENetHost *server = server_host(8);
    ENetHost *client = enet_host_create(NULL, 1, 2, 0, 0);
    ENetAddress a;
    ENetEvent ev;
    ENetPeer *peer;
    long sent = 0, received = 0, calls = 0, i;
    double bytes = 0, deadline = now_s() + opt_double(argc, argv, "limit", 120);
    int connected = 0;
    memset(payload, 'l', size);
    enet_socket_get_address(server->socket, &a);
    enet_address_set_host_ip(&a, "127.0.0.1");
    peer = enet_host_connect(client, &a, 2, 0);
    while (!connected && now_s() < deadline) {
        enet_host_service(server, &ev, 1);
        connected = enet_host_service(client, &ev, 1) > 0 && ev.type == ENET_EVENT_TYPE_CONNECT;
    }
    while (received < n && now_s() < deadline) {
        long k = n - sent < batch ? n - sent : batch;
        for (i = 0; i < k; i++)
            enet_peer_send(peer, 0, enet_packet_create(payload, size, ENET_PACKET_FLAG_RELIABLE));
        sent += k;
        while (enet_host_service(client, &ev, 0) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
        for (;;) {
            int r = enet_host_service(server, &ev, 0);
            calls++;
            if (r <= 0) break;
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                bytes += (double)ev.packet->dataLength;
                enet_packet_destroy(ev.packet);
                received++;
            }
        }
    }
    printf("RESULT received=%ld bytes=%.0f server_service_calls=%ld\n", received, bytes, calls);
    enet_host_destroy(client);
    enet_host_destroy(server);
    return received == n ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || enet_initialize() != 0) return 2;
    atexit(enet_deinitialize);
    if (strcmp(argv[1], "pp-server") == 0) return pp_server(argc, argv);
    if (strcmp(argv[1], "pp-client") == 0) return pp_client(argc, argv);
    if (strcmp(argv[1], "stream-recv") == 0) return stream_recv(argc, argv);
    if (strcmp(argv[1], "stream-send") == 0) return stream_send(argc, argv);
    if (strcmp(argv[1], "server") == 0) return server(argc, argv);
    if (strcmp(argv[1], "gen") == 0) return gen(argc, argv);
    if (strcmp(argv[1], "loop") == 0) return loop(argc, argv);
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
