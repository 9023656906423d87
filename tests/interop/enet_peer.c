/* One end of the interop matrix, on C ENet (Debian's libenet 1.3.17): an echo server or a
 * driving client, with ENet's range coder and/or CRC32 switched on as C programs do it.
 * tests/interop/peer.lua is the same program on module_enet; ci/suites.d/interop.sh runs
 * each against the other. The protocol, payload format and exit codes are described in echo.lua,
 * which is the same program in Lua.
 *
 *   enet_peer server [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
 *   enet_peer client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
 */
#include <enet/enet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_CORRUPT = 2, EXIT_FAILED = 3, EXIT_USAGE = 64 };

static const char KINDS[4] = { 'R', 'U', 'S', 'F' };
static const int COUNTS[4] = { 20, 20, 20, 3 };

static enet_uint32 flags_of(int channel) {
    switch (channel) {
    case 1: return 0;
    case 2: return ENET_PACKET_FLAG_UNSEQUENCED;
    default: return ENET_PACKET_FLAG_RELIABLE;
    }
}

static size_t length_of(int channel, uint32_t seq) {
    switch (channel) {
    case 0: return 64 + (seq * 97) % 1200;
    case 3: return 100000 + seq;
    default: return 64 + (seq * 53) % 1000;
    }
}

static uint32_t adler32(const unsigned char *p, size_t n) {
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

/* kind, big-endian sequence number, a pattern, Adler-32 of everything before it. */
static unsigned char *make_payload(int channel, uint32_t seq, size_t *len) {
    size_t n = length_of(channel, seq);
    unsigned char *p = malloc(n);
    if (!p) return NULL;
    p[0] = (unsigned char)KINDS[channel];
    p[1] = seq >> 24; p[2] = seq >> 16; p[3] = seq >> 8; p[4] = seq;
    for (size_t i = 5; i < n - 4; i++) p[i] = (unsigned char)(i * 7 + seq * 31 + KINDS[channel]);
    uint32_t sum = adler32(p, n - 4);
    p[n - 4] = sum >> 24; p[n - 3] = sum >> 16; p[n - 2] = sum >> 8; p[n - 1] = sum;
    *len = n;
    return p;
}

/* The sequence number of an intact payload that belongs on `channel`, or -1. */
static long check_payload(int channel, const unsigned char *p, size_t n) {
    if (channel < 0 || channel > 3 || n < 9 || p[0] != (unsigned char)KINDS[channel]) return -1;
    uint32_t seq = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
    size_t want_len;
    unsigned char *want = make_payload(channel, seq, &want_len);
    long ok = want && want_len == n && memcmp(want, p, n) == 0 ? (long)seq : -1;
    free(want);
    return ok;
}

struct options {
    int compress, crc32;
    enet_uint32 timeout_ms, deadline_ms;
};

/* ENet's sender-side throttle drops unreliable packets when round-trip times vary, as they do
 * on a busy machine; deceleration 0 keeps it fully open, so a missing packet is a real loss.
 * Set once connected: the handshake checks the values it sent. */
static void open_throttle(ENetPeer *peer) {
    enet_peer_throttle_configure(peer, ENET_PEER_PACKET_THROTTLE_INTERVAL, 2, 0);
}

static ENetHost *make_host(const ENetAddress *bind, const struct options *o) {
    ENetHost *host = enet_host_create(bind, 4, 4, 0, 0);
    if (!host) return NULL;
    if (o->compress && enet_host_compress_with_range_coder(host) != 0) {
        enet_host_destroy(host);
        return NULL;
    }
    if (o->crc32) host->checksum = enet_crc32;
    return host;
}

static int run_server(const struct options *o) {
    ENetAddress bind;
    enet_address_set_host_ip(&bind, "127.0.0.1");
    bind.port = 0;
    ENetHost *host = make_host(&bind, o);
    ENetAddress bound;
    if (!host || enet_socket_get_address(host->socket, &bound) != 0) {
        printf("RESULT failed cannot create host\n");
        return EXIT_FAILED;
    }
    printf("PORT %u\n", bound.port);
    fflush(stdout);
    enet_uint32 start = enet_time_get();
    long received = 0, corrupt = 0;
    int connected = 0;
    ENetEvent event;
    while (enet_time_get() - start < o->deadline_ms) {
        if (enet_host_service(host, &event, 20) <= 0) continue;
        if (event.type == ENET_EVENT_TYPE_CONNECT) {
            connected = 1;
            enet_peer_timeout(event.peer, 32, o->timeout_ms / 5, o->timeout_ms);
            open_throttle(event.peer);
        } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            received++;
            if (check_payload(event.channelID, event.packet->data, event.packet->dataLength) < 0) {
                corrupt++;
            } else {
                ENetPacket *echo = enet_packet_create(event.packet->data, event.packet->dataLength,
                                                      flags_of(event.channelID));
                if (echo && enet_peer_send(event.peer, event.channelID, echo) != 0)
                    enet_packet_destroy(echo);
            }
            enet_packet_destroy(event.packet);
        } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            enet_host_flush(host);
            printf("RESULT %s received=%ld corrupt=%ld\n", corrupt ? "corrupt" : "ok", received, corrupt);
            enet_host_destroy(host);
            return corrupt ? EXIT_CORRUPT : EXIT_OK;
        }
    }
    printf("RESULT failed %s received=%ld corrupt=%ld\n",
           connected ? "deadline before disconnect" : "no connection", received, corrupt);
    enet_host_destroy(host);
    return corrupt ? EXIT_CORRUPT : EXIT_FAILED;
}

/* Services until `*done` or the deadline; echoes are checked against what was sent. */
static int pump(ENetHost *host, enet_uint32 until, int *got, long *corrupt, int *disconnected) {
    ENetEvent event;
    while (enet_time_get() < until) {
        if (enet_host_service(host, &event, 20) <= 0) return 0;
        if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            if (check_payload(event.channelID, event.packet->data, event.packet->dataLength) < 0)
                (*corrupt)++;
            else
                got[event.channelID]++;
            enet_packet_destroy(event.packet);
        } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            *disconnected = 1;
            return 1;
        } else if (event.type == ENET_EVENT_TYPE_CONNECT) {
            return 1;
        }
    }
    return 0;
}

static int run_client(enet_uint16 port, const struct options *o) {
    ENetHost *host = make_host(NULL, o);
    ENetAddress to;
    enet_address_set_host_ip(&to, "127.0.0.1");
    to.port = port;
    ENetPeer *peer = host ? enet_host_connect(host, &to, 4, 0) : NULL;
    if (!peer) {
        printf("RESULT failed cannot connect\n");
        return EXIT_FAILED;
    }
    enet_peer_timeout(peer, 32, o->timeout_ms / 5, o->timeout_ms);
    enet_uint32 deadline = enet_time_get() + o->deadline_ms;
    int got[4] = { 0, 0, 0, 0 }, disconnected = 0;
    long corrupt = 0;
    while (peer->state != ENET_PEER_STATE_CONNECTED && !disconnected && enet_time_get() < deadline)
        pump(host, deadline, got, &corrupt, &disconnected);
    if (peer->state != ENET_PEER_STATE_CONNECTED) {
        printf("RESULT failed no connection (%s)\n", disconnected ? "disconnect event" : "deadline");
        enet_host_destroy(host);
        return EXIT_FAILED;
    }
    open_throttle(peer);
    for (int ch = 0; ch < 4 && !disconnected; ch++) {
        for (int seq = 1; seq <= COUNTS[ch]; seq++) {
            size_t n;
            unsigned char *p = make_payload(ch, (uint32_t)seq, &n);
            ENetPacket *packet = p ? enet_packet_create(p, n, flags_of(ch)) : NULL;
            free(p);
            if (!packet || enet_peer_send(peer, ch, packet) != 0) {
                printf("RESULT failed send\n");
                return EXIT_FAILED;
            }
        }
        while (got[ch] < COUNTS[ch] && !disconnected && enet_time_get() < deadline)
            pump(host, deadline, got, &corrupt, &disconnected);
    }
    int complete = 1;
    for (int ch = 0; ch < 4; ch++) complete &= got[ch] == COUNTS[ch];
    if (complete && !disconnected) {
        enet_peer_disconnect(peer, 0);
        while (!disconnected && enet_time_get() < deadline)
            pump(host, deadline, got, &corrupt, &disconnected);
    }
    const char *verdict = corrupt ? "corrupt" : complete && disconnected ? "ok" : "failed";
    printf("RESULT %s R=%d/%d U=%d/%d S=%d/%d F=%d/%d corrupt=%ld\n", verdict, got[0], COUNTS[0],
           got[1], COUNTS[1], got[2], COUNTS[2], got[3], COUNTS[3], corrupt);
    enet_host_destroy(host);
    return corrupt ? EXIT_CORRUPT : complete && disconnected ? EXIT_OK : EXIT_FAILED;
}

int main(int argc, char **argv) {
    struct options o = { 0, 0, 5000, 30000 };
    int server = argc > 1 && strcmp(argv[1], "server") == 0;
    int client = argc > 2 && strcmp(argv[1], "client") == 0;
    if (!server && !client) {
        fprintf(stderr, "usage: enet_peer server|client PORT [--compress] [--crc32] "
                        "[--timeout-ms N] [--deadline-ms N]\n");
        return EXIT_USAGE;
    }
    for (int i = client ? 3 : 2; i < argc; i++) {
        if (strcmp(argv[i], "--compress") == 0) o.compress = 1;
        else if (strcmp(argv[i], "--crc32") == 0) o.crc32 = 1;
        else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) o.timeout_ms = (enet_uint32)atol(argv[++i]);
        else if (strcmp(argv[i], "--deadline-ms") == 0 && i + 1 < argc) o.deadline_ms = (enet_uint32)atol(argv[++i]);
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (enet_initialize() != 0) return EXIT_FAILED;
    atexit(enet_deinitialize);
    return server ? run_server(&o) : run_client((enet_uint16)atoi(argv[2]), &o);
}
