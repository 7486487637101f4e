#include "app/emberd/kv_service.h"

#include <filesystem>
#include <mutex>

#include <spdlog/spdlog.h>

#include "common/metrics.h"
#include "kv/engine.h"
#include "resp/server.h"

namespace ember::app {

struct KvService::Impl {
  std::unique_ptr<kv::Engine> engine;
  std::unique_ptr<resp::KvServer> server;
  // publishMetrics(): Prometheus counters only go up, so each publish adds what grew since the last.
  std::mutex metricsMu;
  std::vector<uint64_t> lastTotals;
};

KvService::KvService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KvService::~KvService() {
  if (impl_->server) {
    impl_->server->stop(std::chrono::milliseconds(0));
    impl_->server->join();
    impl_->server.reset();
  }
  impl_->engine.reset();  // writes out and fdatasyncs every shard
  spdlog::info("kv: engine closed");
}

Result<std::unique_ptr<KvService>> KvService::start(const Config& cfg) {
  kv::Options eo;
  eo.dir = cfg.kvDir.empty() ? (std::filesystem::path(cfg.dataDir) / "kv").string() : cfg.kvDir;
  eo.shards = cfg.kvShards;
  eo.durability = cfg.kvDurability == "none"   ? kv::Durability::kNone
                  : cfg.kvDurability == "sync" ? kv::Durability::kSync
                                               : kv::Durability::kBatch;
  eo.batchIntervalMs = cfg.kvBatchIntervalMs;
  eo.cacheBytes = cfg.kvCacheBytes;
  eo.maxIndexBytes = cfg.kvMaxIndexBytes;
  eo.segmentBytes = cfg.kvSegmentBytes;
  eo.maxKeyBytes = cfg.kvMaxKeyBytes;
  eo.maxValueBytes = cfg.kvMaxValueBytes;
  auto started = std::chrono::steady_clock::now();
  auto engine = kv::Engine::open(eo);
  if (!engine) {
    return unexpected(Code::kIOError, "kv: cannot open the engine in " + eo.dir + ": " +
                                          engine.error().toString());
  }
  kv::Stats st = (*engine)->stats();
  spdlog::info("kv: engine open in {} ({} durability, {} keys recovered, {} torn bytes dropped, {} ms)",
               eo.dir, cfg.kvDurability, st.recoveredKeys, st.truncatedBytes,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     started)
                   .count());

  resp::KvServerOptions so;
  so.address = cfg.kvAddress;
  so.port = cfg.kvPort;
  so.threads = cfg.kvThreads;
  so.maxClients = cfg.kvMaxClients;
  so.allowFlush = cfg.kvAllowFlush;
  so.maxKeysPattern = cfg.kvMaxKeysPattern;
  for (const Config::KvUser& u : cfg.kvUsers) {
    so.users.push_back(resp::User{u.name, u.password, u.readOnly});
  }
  // A bulk may exceed the value limit a little so that an oversize SET gets a clear error reply rather
  // than a protocol error and a closed connection; far beyond it, the connection is refused as garbage.
  so.limits.maxBulkBytes = std::max<size_t>(8ULL << 20, 4ULL * cfg.kvMaxValueBytes);

  auto impl = std::make_unique<Impl>();
  impl->engine = std::move(*engine);
  impl->server = std::make_unique<resp::KvServer>(std::move(so), *impl->engine);
  std::unique_ptr<KvService> svc(new KvService(std::move(impl)));
  if (Status s = svc->impl_->server->start(); !s) {
    return unexpected(s);
  }
  return svc;
}

uint16_t KvService::port() const { return impl_->server->port(); }

size_t KvService::activeConnections() const { return impl_->server->activeConnections(); }

void KvService::stop(std::chrono::milliseconds grace) { impl_->server->stop(grace); }

void KvService::publishMetrics() {
  metrics::Registry& r = metrics::Registry::global();
  kv::Stats st = impl_->engine->stats();
  const resp::ServerState& ss = impl_->server->state();
  auto gauge = [&](const char* name, const char* help, uint64_t v) {
    r.gauge(name, help).set(static_cast<int64_t>(v));
  };
  gauge("ember_kv_keys", "Keys in the KV engine (expired ones not yet reclaimed included).", st.keys);
  gauge("ember_kv_keys_with_expiry", "KV keys that have a TTL.", st.keysWithExpiry);
  gauge("ember_kv_index_bytes", "RAM held by the KV key index.", st.indexBytes);
  gauge("ember_kv_cache_bytes", "RAM held by cached KV values ([kv] cache_bytes is the limit).",
        st.cacheBytes);
  gauge("ember_kv_disk_bytes", "Bytes of KV segment files on disk.", st.diskBytes);
  gauge("ember_kv_live_bytes", "Bytes of KV records the index still points at.", st.liveBytes);
  gauge("ember_kv_segments", "KV segment files.", st.segments);
  gauge("ember_kv_connected_clients", "Open connections to the KV endpoint.",
        ss.connectedClients.load(std::memory_order_relaxed));
  gauge("ember_kv_last_fsync_unixtime_ms", "When the KV engine last fdatasync'ed a shard (Unix ms).",
        st.lastFsyncUnixMs);
  struct Total {
    const char* name;
    const char* help;
    uint64_t value;
  };
  const Total totals[] = {
      {"ember_kv_commands_total", "KV commands executed.", ss.totalCommands.load()},
      {"ember_kv_connections_total", "KV connections accepted.", ss.totalConnections.load()},
      {"ember_kv_rejected_connections_total", "KV connections refused at [kv] max_clients.",
       ss.rejectedConnections.load()},
      {"ember_kv_keyspace_hits_total", "KV reads that found their key.", ss.keyspaceHits.load()},
      {"ember_kv_keyspace_misses_total", "KV reads of absent keys.", ss.keyspaceMisses.load()},
      {"ember_kv_protocol_errors_total", "KV connections closed for a protocol error.",
       ss.protocolErrors.load()},
      {"ember_kv_net_input_bytes_total", "Bytes read from KV clients.", ss.netInputBytes.load()},
      {"ember_kv_net_output_bytes_total", "Bytes written to KV clients.", ss.netOutputBytes.load()},
      {"ember_kv_cache_hits_total", "KV value reads served from RAM.", st.cacheHits},
      {"ember_kv_cache_misses_total", "KV value reads served from a segment file.", st.cacheMisses},
      {"ember_kv_expired_keys_total", "KV keys removed because their TTL passed.", st.expiredKeys},
      {"ember_kv_compactions_total", "KV segments rewritten by compaction.", st.compactions},
      {"ember_kv_fsyncs_total", "fdatasync calls on KV segment files.", st.fsyncs},
  };
  std::lock_guard lock(impl_->metricsMu);
  impl_->lastTotals.resize(std::size(totals), 0);
  for (size_t i = 0; i < std::size(totals); ++i) {
    uint64_t& last = impl_->lastTotals[i];
    metrics::Counter& c = r.counter(totals[i].name, totals[i].help);  // exported from the first publish
    if (totals[i].value > last) {
      c.inc(totals[i].value - last);
      last = totals[i].value;
    }
  }
}

}  // namespace ember::app
