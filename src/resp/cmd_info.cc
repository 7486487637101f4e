// INFO and CONFIG: what monitoring tools and benchmarks read (redis-benchmark asks CONFIG GET for save and
// appendonly; exporters parse INFO). Sections, field names and reply shapes follow Redis 7; Ember's own
// numbers are in INFO's "ember" section and in CONFIG's ember-* parameters.

#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "resp/command.h"
#include "resp/glob.h"

namespace ember::resp {
namespace {

constexpr std::string_view kEmberVersion = "0.1.0";  // the CMake project version

// ---- INFO ------------------------------------------------------------------------------------------------

std::string humanBytes(uint64_t n) {
  static constexpr std::string_view kUnits = "BKMGTP";
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024 && u + 1 < kUnits.size()) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "B", n);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f%c", v, kUnits[u]);
  }
  return buf;
}

uint64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) {
    return 0;
  }
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// 40 hex digits, random per process (Redis's run_id / master_replid).
const std::string& runId() {
  static const std::string id = [] {
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 40; ++i) {
      s += "0123456789abcdef"[rd() & 15];
    }
    return s;
  }();
  return id;
}

// Commands per second between consecutive INFO calls at least a second apart (0 before there are two).
uint64_t instantaneousOps(uint64_t totalCommands, int64_t nowMs) {
  static std::mutex mu;
  static int64_t sampleMs = 0;
  static uint64_t sampleCount = 0, lastRate = 0;
  std::lock_guard lock(mu);
  if (sampleMs == 0 || totalCommands < sampleCount) {
    sampleMs = nowMs;
    sampleCount = totalCommands;
  } else if (nowMs - sampleMs >= 1000) {
    lastRate = (totalCommands - sampleCount) * 1000 / static_cast<uint64_t>(nowMs - sampleMs);
    sampleMs = nowMs;
    sampleCount = totalCommands;
  }
  return lastRate;
}

class InfoText {
 public:
  void section(std::string_view name) {
    if (!text_.empty()) {
      text_ += "\r\n";
    }
    text_ += "# ";
    text_ += name;
    text_ += "\r\n";
  }
  template <typename T>
  void field(std::string_view key, const T& value) {
    text_ += key;
    text_ += ':';
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      text_ += std::string_view(value);
    } else {
      text_ += std::to_string(value);
    }
    text_ += "\r\n";
  }
  // Unsigned fields, in the order given.
  void fields(std::initializer_list<std::pair<std::string_view, uint64_t>> entries) {
    for (const auto& [key, value] : entries) {
      field(key, value);
    }
  }
  std::string& text() { return text_; }

 private:
  std::string text_;
};

constexpr std::array<std::string_view, 12> kInfoSections = {
    "server", "clients", "memory",     "persistence", "stats",    "replication",
    "cpu",    "modules", "errorstats", "cluster",     "keyspace", "ember"};

std::string buildInfo(Context& ctx, const std::array<bool, kInfoSections.size()>& want) {
  ServerState& st = ctx.server;
  const KvServerOptions& opts = *st.options;
  const kv::Options& eopts = ctx.engine.options();
  kv::Stats stats = ctx.engine.stats();
  int64_t now = nowUnixMs();
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - st.started);
  uint64_t used = stats.indexBytes + stats.cacheBytes;
  uint64_t rss = residentBytes();
  int64_t lastSaveMs =
      stats.lastFsyncUnixMs != 0 ? static_cast<int64_t>(stats.lastFsyncUnixMs) : st.startedUnixMs;
  InfoText out;
  for (size_t s = 0; s < kInfoSections.size(); ++s) {
    if (!want[s]) {
      continue;
    }
    std::string_view name = kInfoSections[s];
    if (name == "server") {
      utsname u{};
      uname(&u);
      out.section("Server");
      out.field("redis_version", opts.version);
      out.field("redis_git_sha1", "00000000");
      out.field("redis_git_dirty", 0);
      out.field("redis_mode", "standalone");
      out.field("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
      out.field("arch_bits", sizeof(void*) * 8);
      out.field("multiplexing_api", "epoll");
      out.field("process_id", static_cast<int64_t>(getpid()));
      out.field("process_supervised", "no");
      out.field("run_id", runId());
      out.field("tcp_port", ctx.server.port.load());
      out.field("server_time_usec", now * 1000);
      out.field("uptime_in_seconds", uptime.count());
      out.field("uptime_in_days", uptime.count() / 86400);
      out.field("hz", 10);
      out.field("configured_hz", 10);
      out.field("io_threads_active", opts.threads > 1 ? 1 : 0);
      out.field("ember_version", kEmberVersion);
      out.field("ember_network_threads", opts.threads);
    } else if (name == "clients") {
      out.section("Clients");
      out.field("connected_clients", st.connectedClients.load());
      out.field("cluster_connections", 0);
      out.field("maxclients", opts.maxClients);
      out.field("client_recent_max_input_buffer", 0);
      out.field("client_recent_max_output_buffer", 0);
      out.field("blocked_clients", 0);
      out.field("tracking_clients", 0);
      out.field("clients_in_timeout_table", 0);
    } else if (name == "memory") {
      // used_memory is what Ember holds in RAM for the data set: index plus value cache. maxmemory is the
      // index limit (writes of new keys beyond it fail with OOM); values beyond the cache live on disk and
      // are never evicted, hence noeviction.
      out.section("Memory");
      out.field("used_memory", used);
      out.field("used_memory_human", humanBytes(used));
      out.field("used_memory_rss", rss);
      out.field("used_memory_rss_human", humanBytes(rss));
      out.field("used_memory_dataset", stats.cacheBytes);
      out.field("maxmemory", eopts.maxIndexBytes);
      out.field("maxmemory_human", humanBytes(eopts.maxIndexBytes));
      out.field("maxmemory_policy", "noeviction");
      char ratio[32];
      std::snprintf(ratio, sizeof(ratio), "%.2f",
                    used > 0 ? static_cast<double>(rss) / static_cast<double>(used) : 1.0);
      out.field("mem_fragmentation_ratio", ratio);
      out.field("mem_allocator", "libc");
    } else if (name == "persistence") {
      out.section("Persistence");
      out.field("loading", 0);
      out.field("async_loading", 0);
      out.field("rdb_changes_since_last_save", 0);
      out.field("rdb_bgsave_in_progress", 0);
      out.field("rdb_last_save_time", lastSaveMs / 1000);
      out.field("rdb_last_bgsave_status", "ok");
      out.field("aof_enabled", eopts.durability == kv::Durability::kNone ? 0 : 1);
      out.field("aof_rewrite_in_progress", 0);
      out.field("aof_last_write_status", "ok");
      out.field("ember_durability", st.durabilityName);
      out.field("ember_last_fsync_time", stats.lastFsyncUnixMs / 1000);
      out.field("ember_fsyncs", stats.fsyncs);
    } else if (name == "stats") {
      uint64_t total = st.totalCommands.load(std::memory_order_relaxed);
      out.section("Stats");
      out.field("total_connections_received", st.totalConnections.load());
      out.field("total_commands_processed", total);
      out.field("instantaneous_ops_per_sec", instantaneousOps(total, now));
      out.field("total_net_input_bytes", st.netInputBytes.load());
      out.field("total_net_output_bytes", st.netOutputBytes.load());
      out.field("rejected_connections", st.rejectedConnections.load());
      out.field("expired_keys", stats.expiredKeys);
      out.field("evicted_keys", 0);
      out.field("keyspace_hits", st.keyspaceHits.load());
      out.field("keyspace_misses", st.keyspaceMisses.load());
      out.field("pubsub_channels", 0);
      out.field("pubsub_patterns", 0);
      out.field("total_error_replies", 0);
      out.field("ember_protocol_errors", st.protocolErrors.load());
    } else if (name == "replication") {
      out.section("Replication");
      out.field("role", "master");
      out.field("connected_slaves", 0);
      out.field("master_failover_state", "no-failover");
      out.field("master_replid", runId());
      out.field("master_replid2", std::string(40, '0'));
      out.field("master_repl_offset", 0);
      out.field("second_repl_offset", -1);
      out.field("repl_backlog_active", 0);
      out.field("repl_backlog_size", 0);
    } else if (name == "cpu") {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      char sys[32], user[32];
      std::snprintf(sys, sizeof(sys), "%ld.%06ld", static_cast<long>(ru.ru_stime.tv_sec),
                    static_cast<long>(ru.ru_stime.tv_usec));
      std::snprintf(user, sizeof(user), "%ld.%06ld", static_cast<long>(ru.ru_utime.tv_sec),
                    static_cast<long>(ru.ru_utime.tv_usec));
      out.section("CPU");
      out.field("used_cpu_sys", sys);
      out.field("used_cpu_user", user);
    } else if (name == "modules") {
      out.section("Modules");
    } else if (name == "errorstats") {
      out.section("Errorstats");
    } else if (name == "cluster") {
      out.section("Cluster");
      out.field("cluster_enabled", 0);
    } else if (name == "keyspace") {
      out.section("Keyspace");
      uint64_t keys = ctx.engine.size();
      if (keys > 0) {
        out.field("db0", "keys=" + std::to_string(keys) + ",expires=" + std::to_string(stats.keysWithExpiry) +
                             ",avg_ttl=0");
      }
    } else if (name == "ember") {
      uint64_t lookups = stats.cacheHits + stats.cacheMisses;
      char ratio[32];
      std::snprintf(ratio, sizeof(ratio), "%.4f",
                    lookups > 0 ? static_cast<double>(stats.cacheHits) / static_cast<double>(lookups) : 0.0);
      out.section("Ember");
      out.field("ember_version", kEmberVersion);
      out.fields({{"shards", eopts.shards}, {"keys", stats.keys}, {"keys_with_expiry", stats.keysWithExpiry},
                  {"index_bytes", stats.indexBytes}, {"cache_bytes", stats.cacheBytes},
                  {"cache_limit_bytes", eopts.cacheBytes}, {"cache_hits", stats.cacheHits},
                  {"cache_misses", stats.cacheMisses}});
      out.field("cache_hit_ratio", ratio);
      out.fields({{"disk_bytes", stats.diskBytes}, {"live_bytes", stats.liveBytes}, {"segments", stats.segments},
                  {"compactions", stats.compactions}, {"fsyncs", stats.fsyncs},
                  {"recovered_keys", stats.recoveredKeys}, {"truncated_bytes", stats.truncatedBytes},
                  {"max_key_bytes", eopts.maxKeyBytes}, {"max_value_bytes", eopts.maxValueBytes}});
      out.field("data_dir", st.dataDir);
    }
  }
  return std::move(out.text());
}

void replyLines(Context& ctx, std::initializer_list<std::string_view> lines) {
  ctx.out.array(lines.size());
  for (std::string_view line : lines) {
    ctx.out.simple(line);
  }
}

// ---- CONFIG ----------------------------------------------------------------------------------------------

std::vector<std::pair<std::string_view, std::string>> configTable(Context& ctx) {
  const KvServerOptions& o = *ctx.server.options;
  const kv::Options& e = ctx.engine.options();
  std::string_view fsync = e.durability == kv::Durability::kSync    ? "always"
                           : e.durability == kv::Durability::kBatch ? "everysec"
                                                                    : "no";
  return {
      {"maxmemory", std::to_string(e.maxIndexBytes)},
      {"maxmemory-policy", "noeviction"},
      {"save", ""},
      {"appendonly", e.durability == kv::Durability::kNone ? "no" : "yes"},
      {"appendfsync", std::string(fsync)},
      {"databases", "1"},
      {"port", std::to_string(ctx.server.port.load())},
      {"bind", o.address},
      {"timeout", std::to_string(o.idleTimeoutMs / 1000)},
      {"maxclients", std::to_string(o.maxClients)},
      {"proto-max-bulk-len", std::to_string(o.limits.maxBulkBytes)},
      {"client-query-buffer-limit", std::to_string(o.limits.maxCommandBytes)},
      {"dir", ctx.server.dataDir},
      {"dbfilename", ""},
      {"io-threads", std::to_string(o.threads)},
      {"cluster-enabled", "no"},
      {"hz", "10"},
      {"tcp-keepalive", "300"},
      {"ember-durability", ctx.server.durabilityName},
      {"ember-batch-interval-ms", std::to_string(e.batchIntervalMs)},
      {"ember-cache-bytes", std::to_string(e.cacheBytes)},
      {"ember-max-value-bytes", std::to_string(e.maxValueBytes)},
      {"ember-max-key-bytes", std::to_string(e.maxKeyBytes)},
      {"ember-shards", std::to_string(e.shards)},
      {"ember-segment-bytes", std::to_string(e.segmentBytes)},
  };
}

}  // namespace

// INFO [section ...]: no section or "default" gives the default set, "all" and "everything" every section;
// unknown sections are ignored (an empty reply if nothing matched), as in Redis.
void cmdInfo(Context& ctx, std::span<const std::string_view> args) {
  std::array<bool, kInfoSections.size()> want{};
  if (args.size() == 1) {
    want.fill(true);
  }
  for (size_t i = 1; i < args.size(); ++i) {
    if (equalsIgnoreCase(args[i], "all") || equalsIgnoreCase(args[i], "everything") ||
        equalsIgnoreCase(args[i], "default")) {
      want.fill(true);
      continue;
    }
    for (size_t s = 0; s < kInfoSections.size(); ++s) {
      if (equalsIgnoreCase(args[i], kInfoSections[s])) {
        want[s] = true;
      }
    }
  }
  ctx.out.verbatim("txt", buildInfo(ctx, want));
}

void cmdConfig(Context& ctx, std::span<const std::string_view> args) {
  std::string_view sub = args[1];
  if (equalsIgnoreCase(sub, "get")) {
    auto table = configTable(ctx);
    std::vector<bool> hit(table.size(), false);
    size_t n = 0;
    for (size_t i = 2; i < args.size(); ++i) {
      for (size_t j = 0; j < table.size(); ++j) {
        if (!hit[j] && globMatch(args[i], table[j].first, true)) {
          hit[j] = true;
          ++n;
        }
      }
    }
    ctx.out.map(n);
    for (size_t j = 0; j < table.size(); ++j) {
      if (hit[j]) {
        ctx.out.bulk(table[j].first);
        ctx.out.bulk(table[j].second);
      }
    }
  } else if (equalsIgnoreCase(sub, "set")) {
    ctx.out.error("ERR CONFIG SET is not supported by Ember (restart with a new config)");
  } else if (equalsIgnoreCase(sub, "resetstat")) {
    ServerState& st = ctx.server;
    for (std::atomic<uint64_t>* counter :
         {&st.totalCommands, &st.totalConnections, &st.rejectedConnections, &st.keyspaceHits,
          &st.keyspaceMisses, &st.netInputBytes, &st.netOutputBytes, &st.protocolErrors}) {
      counter->store(0, std::memory_order_relaxed);
    }
    ctx.out.ok();
  } else if (equalsIgnoreCase(sub, "rewrite")) {
    ctx.out.error("ERR CONFIG REWRITE is not supported by Ember (edit the config file)");
  } else {
    replyLines(ctx, {"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                     "GET <pattern> [<pattern> ...]",
                     "    Return parameters matching the glob-like <pattern> and their values.",
                     "SET <directive> <value>", "    Refused: restart Ember with a new config.", "RESETSTAT",
                     "    Reset statistics reported by the INFO command."});
  }
}

}  // namespace ember::resp
