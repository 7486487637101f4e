#include "app/emberd/kv_service.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "kv/engine.h"
#include "resp/server.h"

namespace ember::app {

struct KvService::Impl {
  std::unique_ptr<kv::Engine> engine;
  std::unique_ptr<resp::KvServer> server;
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

}  // namespace ember::app
