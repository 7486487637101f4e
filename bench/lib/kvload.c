// kvload: a small RESP load generator for bench/kv.sh, for what redis-benchmark cannot do: a mixed GET/SET
// workload with a latency distribution over all operations, and an exact preload of keys 0..K-1.
//
//   kvload load  -p PORT -k KEYS -d SIZE [-c CONNS] [-P DEPTH]         SET key:%012d for every key once
//   kvload mixed -p PORT -k KEYS -d SIZE [-c CONNS] [-s SECONDS] [-g GET_PERCENT] [-S SEED]
//
// Keys are named like redis-benchmark's -r keys (key:000000000042). Values: SIZE bytes, the key's number then
// filler. `mixed` keeps one request in flight per connection (like redis-benchmark -P 1), picks GET with
// probability GET_PERCENT/100 (default 90) else SET, on uniformly random keys, for SECONDS (default 10). One
// thread, epoll. Prints one JSON line: ops, seconds, ops_per_s, gets, sets, hits, misses, errors, and latency
// percentiles in microseconds (p50/p99/p999 over all operations, p99 of GETs and of SETs) measured from the
// request's write to its reply's last byte. Exit 1 on connection failure or any error reply.
//
// Build: cc -O2 -o kvload bench/lib/kvload.c   (bench/kv.sh does this in its scratch directory)

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_DEPTH 64
#define NBUCKETS (1024 + 64 * 40)

typedef struct {
  uint64_t count[NBUCKETS];
  uint64_t n;
} Hist;

// Buckets: 1 us wide below 1024 us, then 64 per power of two (under 1.6 % relative error).
static int bucket_of(uint64_t us) {
  if (us < 1024) return (int)us;
  int msb = 63 - __builtin_clzll(us);
  int b = 1024 + (msb - 10) * 64 + (int)((us >> (msb - 6)) & 63);
  return b < NBUCKETS ? b : NBUCKETS - 1;
}

static uint64_t value_of_bucket(int b) {
  if (b < 1024) return (uint64_t)b;
  int msb = (b - 1024) / 64 + 10;
  return ((uint64_t)(64 + (b - 1024) % 64)) << (msb - 6);
}

static void hist_add(Hist* h, uint64_t us) {
  h->count[bucket_of(us)]++;
  h->n++;
}

static uint64_t hist_pct(const Hist* h, double p) {
  if (h->n == 0) return 0;
  uint64_t want = (uint64_t)(p / 100.0 * (double)h->n);
  if (want >= h->n) want = h->n - 1;
  uint64_t seen = 0;
  for (int b = 0; b < NBUCKETS; b++) {
    seen += h->count[b];
    if (seen > want) return value_of_bucket(b);
  }
  return value_of_bucket(NBUCKETS - 1);
}

typedef struct {
  int fd;
  char* in;           // unparsed reply bytes
  size_t in_len, in_cap;
  char* out;          // bytes still to write
  size_t out_len, out_off, out_cap;
  uint64_t sent_ns[MAX_DEPTH];  // send time of each request in flight, oldest first (ring)
  int is_get[MAX_DEPTH];
  int head, inflight;
} Conn;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {  // xorshift64
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void die(const char* what) {
  fprintf(stderr, "kvload: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void out_reserve(Conn* c, size_t more) {
  if (c->out_len + more <= c->out_cap) return;
  while (c->out_len + more > c->out_cap) c->out_cap = c->out_cap ? c->out_cap * 2 : 1 << 17;
  c->out = realloc(c->out, c->out_cap);
  if (!c->out) die("realloc");
}

static const char* filler;
static int value_size;

// Appends SET key:%012d <value> or GET key:%012d to the connection's output.
static void queue_cmd(Conn* c, uint64_t key, int is_get) {
  char k[32];
  int kl = snprintf(k, sizeof k, "key:%012llu", (unsigned long long)key);
  out_reserve(c, (size_t)value_size + 96);
  char* p = c->out + c->out_len;
  if (is_get) {
    p += sprintf(p, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, k);
  } else {
    p += sprintf(p, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", kl, k, value_size);
    int head = value_size < kl ? value_size : kl;
    memcpy(p, k, (size_t)head);
    memcpy(p + head, filler, (size_t)(value_size - head));
    p += value_size;
    memcpy(p, "\r\n", 2);
    p += 2;
  }
  c->out_len = (size_t)(p - c->out);
  int slot = (c->head + c->inflight) % MAX_DEPTH;
  c->sent_ns[slot] = now_ns();
  c->is_get[slot] = is_get;
  c->inflight++;
}

static int flush_out(Conn* c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      die("write");
    }
    c->out_off += (size_t)n;
  }
  c->out_off = c->out_len = 0;
  return 1;
}

// Parses one complete reply at the start of c->in. Returns its length (0: incomplete); *kind: 0 ok/bulk,
// 1 null bulk (miss), 2 error.
static size_t parse_reply(const Conn* c, int* kind) {
  const char* b = c->in;
  const char* e = memchr(b, '\n', c->in_len);
  if (!e) return 0;
  size_t line = (size_t)(e - b) + 1;
  if (b[0] == '-') {
    fprintf(stderr, "kvload: error reply: %.*s\n", (int)line, b);
    *kind = 2;
    return line;
  }
  if (b[0] == '$') {
    long n = strtol(b + 1, NULL, 10);
    if (n < 0) {
      *kind = 1;
      return line;
    }
    if (c->in_len < line + (size_t)n + 2) return 0;
    *kind = 0;
    return line + (size_t)n + 2;
  }
  *kind = 0;  // +OK, :n
  return line;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kvload load|mixed -p PORT -k KEYS -d SIZE [-c CONNS] [-P DEPTH] [-s SECONDS] "
                    "[-g GET_PERCENT] [-S SEED]\n");
    return 2;
  }
  int mixed = strcmp(argv[1], "mixed") == 0;
  int port = 6379, conns = 50, depth = mixed ? 1 : 16, get_pct = 90;
  uint64_t keys = 100000;
  double seconds = 10;
  value_size = 4096;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char* f = argv[i];
    const char* v = argv[i + 1];
    if (!strcmp(f, "-p")) port = atoi(v);
    else if (!strcmp(f, "-k")) keys = strtoull(v, NULL, 10);
    else if (!strcmp(f, "-d")) value_size = atoi(v);
    else if (!strcmp(f, "-c")) conns = atoi(v);
    else if (!strcmp(f, "-P")) depth = atoi(v);
    else if (!strcmp(f, "-s")) seconds = atof(v);
    else if (!strcmp(f, "-g")) get_pct = atoi(v);
    else if (!strcmp(f, "-S")) rng_state = strtoull(v, NULL, 10) * 2654435761ull + 1;
    else {
      fprintf(stderr, "kvload: unknown option %s\n", f);
      return 2;
    }
  }
  if (depth < 1 || depth > MAX_DEPTH || conns < 1 || keys < 1 || value_size < 1) {
    fprintf(stderr, "kvload: bad arguments\n");
    return 2;
  }
  char* fill = malloc((size_t)value_size);
  for (int i = 0; i < value_size; i++) fill[i] = (char)('a' + i % 26);
  filler = fill;

  int ep = epoll_create1(0);
  Conn* cs = calloc((size_t)conns, sizeof(Conn));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  for (int i = 0; i < conns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
    cs[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }

  Hist* all = calloc(1, sizeof(Hist));
  Hist* hget = calloc(1, sizeof(Hist));
  Hist* hset = calloc(1, sizeof(Hist));
  uint64_t next_key = 0, done = 0, gets = 0, sets = 0, hits = 0, misses = 0, errors = 0;
  uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9);
  int stopping = 0, active = conns;

  // prime every connection
  for (int i = 0; i < conns; i++) {
    for (int d = 0; d < depth; d++) {
      if (mixed) {
        queue_cmd(&cs[i], rnd() % keys, (int)(rnd() % 100) < get_pct);
      } else if (next_key < keys) {
        queue_cmd(&cs[i], next_key++, 0);
      }
    }
  }
  struct epoll_event evs[256];
  while (active > 0) {
    int n = epoll_wait(ep, evs, 256, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    uint64_t t = now_ns();
    if (mixed && t >= deadline) stopping = 1;
    for (int j = 0; j < n; j++) {
      Conn* c = &cs[evs[j].data.u32];
      if (c->fd < 0) continue;
      if (evs[j].events & (EPOLLERR | EPOLLHUP)) {
        fprintf(stderr, "kvload: connection lost\n");
        return 1;
      }
      if (evs[j].events & EPOLLOUT) flush_out(c);
      if (!(evs[j].events & EPOLLIN)) continue;
      for (;;) {
        if (c->in_cap - c->in_len < 65536 + 1024) {
          c->in_cap = c->in_cap ? c->in_cap * 2 : 1 << 18;
          c->in = realloc(c->in, c->in_cap);
          if (!c->in) die("realloc");
        }
        ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (r <= 0) {
          fprintf(stderr, "kvload: connection closed by the server\n");
          return 1;
        }
        c->in_len += (size_t)r;
        size_t off = 0;
        int kind;
        for (;;) {
          Conn view = *c;
          view.in = c->in + off;
          view.in_len = c->in_len - off;
          if (view.in_len == 0) break;
          size_t len = parse_reply(&view, &kind);
          if (!len) break;
          off += len;
          uint64_t lat_us = (now_ns() - c->sent_ns[c->head]) / 1000;
          int was_get = c->is_get[c->head];
          c->head = (c->head + 1) % MAX_DEPTH;
          c->inflight--;
          done++;
          if (kind == 2) errors++;
          hist_add(all, lat_us);
          if (was_get) {
            gets++;
            hist_add(hget, lat_us);
            if (kind == 1) misses++; else hits++;
          } else {
            sets++;
            hist_add(hset, lat_us);
          }
          if (mixed && !stopping) {
            queue_cmd(c, rnd() % keys, (int)(rnd() % 100) < get_pct);
          } else if (!mixed && next_key < keys) {
            queue_cmd(c, next_key++, 0);
          }
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
        flush_out(c);
      }
      if (c->inflight == 0 && c->out_len == 0) {
        close(c->fd);
        c->fd = -1;
        active--;
      }
    }
  }
  double secs = (double)(now_ns() - t0) / 1e9;
  printf("{\"ops\": %llu, \"seconds\": %.3f, \"ops_per_s\": %.1f, \"gets\": %llu, \"sets\": %llu, \"hits\": %llu, "
         "\"misses\": %llu, \"errors\": %llu, \"p50_us\": %llu, \"p99_us\": %llu, \"p999_us\": %llu, "
         "\"get_p99_us\": %llu, \"set_p99_us\": %llu, \"conns\": %d, \"depth\": %d, \"value_size\": %d, "
         "\"keys\": %llu}\n",
         (unsigned long long)done, secs, (double)done / secs, (unsigned long long)gets, (unsigned long long)sets,
         (unsigned long long)hits, (unsigned long long)misses, (unsigned long long)errors,
         (unsigned long long)hist_pct(all, 50), (unsigned long long)hist_pct(all, 99),
         (unsigned long long)hist_pct(all, 99.9), (unsigned long long)hist_pct(hget, 99),
         (unsigned long long)hist_pct(hset, 99), conns, depth, value_size, (unsigned long long)keys);
  return errors ? 1 : 0;
}
