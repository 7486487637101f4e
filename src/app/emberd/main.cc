// emberd: wiring only. Parses configuration, opens the store, starts the S3 and admin listeners,
// and shuts down gracefully on SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "app/emberd/admin.h"
#include "app/emberd/config.h"
#include "app/emberd/kv_service.h"
#include "core/namespace.h"
#include "http/client.h"
#include "http/http.h"
#include "io/offload.h"
#include "blob/api.h"
#include "common/digest.h"
#include "s3/api.h"
#include "store/local/local_store.h"
#include "tier/manager.h"

namespace {

using namespace ember;

std::string randomToken(size_t n, const char* alphabet) {
  std::random_device rd;
  std::string out;
  size_t len = std::strlen(alphabet);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(alphabet[rd() % len]);
  }
  return out;
}

// With no [[users]] configured, emberd uses one generated credential kept in the data directory
// (0600), so restarts keep working and nothing secret ships in the repository.
auth::Credential defaultCredential(const std::string& dataDir) {
  std::filesystem::path file = std::filesystem::path(dataDir) / "credentials.env";
  auth::Credential c{"admin", "", ""};
  if (std::ifstream in(file); in) {
    std::string line;
    while (std::getline(in, line)) {
      auto take = [&](const std::string& k, std::string& out) {
        std::string p = "export " + k + "=";
        if (line.starts_with(p)) {
          out = line.substr(p.size());
        }
      };
      take("AWS_ACCESS_KEY_ID", c.accessKey);
      take("AWS_SECRET_ACCESS_KEY", c.secretKey);
    }
  }
  if (c.accessKey.empty() || c.secretKey.empty()) {
    c.accessKey = "EMBER" + randomToken(15, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    c.secretKey = randomToken(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    std::ofstream out(file, std::ios::trunc);
    out << "export AWS_ACCESS_KEY_ID=" << c.accessKey << "\n"
        << "export AWS_SECRET_ACCESS_KEY=" << c.secretKey << "\n"
        << "export AWS_DEFAULT_REGION=us-east-1\n";
    out.close();
    std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  }
  return c;
}

int run(app::Config cfg) {
  spdlog::set_level(spdlog::level::from_str(cfg.logLevel));
  if (cfg.logFormat == "json") {
    spdlog::set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
  }
  std::filesystem::create_directories(cfg.dataDir);

  store::LocalStoreOptions so;
  so.dataDir = cfg.dataDir;
  so.inlineThreshold = cfg.inlineThreshold;
  so.reserveBytes = cfg.reserveBytes;
  so.blockCacheBytes = cfg.blockCacheBytes;
  auto store = store::LocalStore::open(so);
  if (!store) {
    spdlog::critical("cannot open store at {}: {}", cfg.dataDir, store.error().toString());
    return 1;
  }
  if (cfg.users.empty()) {
    cfg.users.push_back(defaultCredential(cfg.dataDir));
    std::printf("emberd: no [[users]] configured; using the generated credential in %s/"
                "credentials.env\n  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n",
                cfg.dataDir.c_str(), cfg.users[0].accessKey.c_str(),
                cfg.users[0].secretKey.c_str());
  }

  const bool derivedBlobAccount = cfg.blobEnabled && cfg.blobAccounts.empty();
  if (derivedBlobAccount) {
    // One Blob account for the first user, its key derived from that user's secret so it is
    // stable across restarts and never stored or shipped.
    std::string key = base64Encode(hmacSha256Raw(cfg.users[0].secretKey, "ember blob account"));
    cfg.blobAccounts.push_back({"ember", key, cfg.users[0].user});
    std::printf("emberd: no [[blob.accounts]] configured; Blob account for user %s:\n"
                "  AccountName=ember;AccountKey=%s\n",
                cfg.users[0].user.c_str(), key.c_str());
  }

  unsigned threads = cfg.networkThreads ? cfg.networkThreads
                                        : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context ioc(static_cast<int>(threads));
  BlockingPool pool(cfg.blockingThreads);
  std::unique_ptr<tier::TierManager> tierMgr;
  store::ObjectStorePtr nsStore = *store;
  if (!cfg.tier.mappings.empty()) {
    tier::TierOptions to;
    to.dir = (std::filesystem::path(cfg.dataDir) / "tier").string();
    to.mappings = cfg.tier.mappings;
    to.owner = cfg.users[0].user;
    to.uploadConcurrency = cfg.tier.uploadConcurrency;
    to.maxDirtyBytes = cfg.tier.maxDirtyBytes;
    if (to.maxDirtyBytes == 0) {
      auto cap = (*store)->capacity();
      if (cap) {
        to.maxDirtyBytes = cap->totalBytes / 100 * cfg.tier.maxDirtyPercent;
      }
    }
    to.writeThroughTimeout = std::chrono::milliseconds(cfg.tier.writeThroughTimeoutMs);
    to.retryBase = std::chrono::milliseconds(cfg.tier.retryBaseMs);
    to.retryMax = std::chrono::milliseconds(cfg.tier.retryMaxMs);
    to.chunkBytes = cfg.tier.chunkBytes;
    to.readAhead = cfg.tier.readAhead;
    to.fillCacheBytes = cfg.tier.fillCacheBytes;
    to.evict.highPercent = cfg.tier.evictHighPercent;
    to.evict.lowPercent = cfg.tier.evictLowPercent;
    to.evict.highBytes = cfg.tier.evictHighBytes;
    to.evict.lowBytes = cfg.tier.evictLowBytes;
    to.evictInterval = std::chrono::milliseconds(cfg.tier.evictIntervalMs);
    auto opened = tier::TierManager::open(*store, std::move(to));
    if (!opened) {
      spdlog::critical("cannot start the tier manager: {}", opened.error().toString());
      return 1;
    }
    tierMgr = std::move(*opened);
    if (Status s = tierMgr->start(); !s) {
      spdlog::critical("cannot start the tier manager: {}", s.toString());
      return 1;
    }
    nsStore = tierMgr->store();
  }
  core::NamespaceOptions nso;
  nso.minPartSize = cfg.minPartSize;
  core::Namespace ns(nsStore, pool, nso);
  if (tierMgr) {
    ns.setTierHooks(tierMgr.get());
  }
  s3::S3Options s3o;
  s3o.region = cfg.region;
  s3o.domains = cfg.domains;
  s3o.users = cfg.users;
  s3::S3Api api(ns, s3o);
  blob::BlobOptions bo;
  bo.domains = cfg.blobDomains;
  for (const app::Config::BlobAccount& a : cfg.blobAccounts) {
    auto key = base64Decode(a.key);
    if (!key || key->empty()) {
      spdlog::critical("blob account {}: key is not base64", a.name);
      return 1;
    }
    bo.accounts.push_back(blob::BlobAccount{a.name, {*key}, a.user.empty() ? cfg.users[0].user
                                                                           : a.user});
  }
  if (auto hosts = http::HostAllowList::parse(cfg.blobCopySourceHosts); hosts) {
    bo.copySourceHosts = std::move(*hosts);  // validated by loadConfig
  }
  bo.copySourceConnectTimeout = std::chrono::milliseconds(cfg.blobCopySourceConnectTimeoutMs);
  bo.copySourceReadTimeout = std::chrono::milliseconds(cfg.blobCopySourceReadTimeoutMs);
  if (cfg.blobEnabled && !bo.copySourceHosts.empty()) {
    auto tls = http::TlsContext::create(cfg.blobCopySourceCaFile);
    if (!tls) {
      spdlog::critical("blob.copy_source_ca_file: {}", tls.error().message());
      return 1;
    }
    bo.copySourceTls = std::move(*tls);
    spdlog::info("Blob copy sources: fetching from {} listed host(s) ([blob] copy_source_hosts)",
                 bo.copySourceHosts.size());
  } else if (!cfg.blobCopySourceCaFile.empty()) {
    spdlog::warn("blob.copy_source_ca_file is set but blob.copy_source_hosts is empty: remote "
                 "copy sources are refused");
  }
  blob::BlobApi blobApi(ns, bo);

  http::ServerOptions ho;
  ho.address = cfg.s3Address;
  ho.port = cfg.s3Port;
  ho.maxHeaderBytes = cfg.maxHeaderBytes;
  ho.maxConnections = cfg.maxConnections;
  ho.idleTimeout = std::chrono::milliseconds(cfg.idleTimeoutMs);
  ho.headerTimeout = std::chrono::milliseconds(cfg.headerTimeoutMs);
  ho.bodyStallTimeout = std::chrono::milliseconds(cfg.bodyStallTimeoutMs);
  ho.name = "s3";
  http::Server s3server(ioc, ho, api.handler());

  http::ServerOptions bho = ho;
  bho.address = cfg.blobAddress;
  bho.port = cfg.blobPort;
  bho.name = "blob";
  http::Server blobServer(ioc, bho, blobApi.handler());

  std::unique_ptr<app::KvService> kv;  // started below, before the admin endpoint
  http::ServerOptions ao;
  ao.address = cfg.adminAddress;
  ao.port = cfg.adminPort;
  ao.name = "admin";
  auto storePtr = *store;
  http::Server admin(ioc, ao, app::adminHandler([storePtr]() -> Status {
    auto cap = storePtr->capacity();
    return cap ? Status::ok() : cap.error();
  }, [&kv, &tierMgr]() {
    if (kv) {
      kv->publishMetrics();
    }
    if (tierMgr) {
      tierMgr->publishMetrics();
    }
  }, tierMgr.get()));

  if (Status s = s3server.start(); !s) {
    spdlog::critical("cannot listen for S3 on {}:{}: {}", ho.address, ho.port, s.toString());
    return 1;
  }
  if (cfg.blobEnabled) {
    if (Status s = blobServer.start(); !s) {
      spdlog::critical("cannot listen for Blob on {}:{}: {}", bho.address, bho.port,
                       s.toString());
      return 1;
    }
    spdlog::info("Blob endpoint http://{}:{}/<account> ({} account(s))", bho.address,
                 blobServer.port(), bo.accounts.size());
    if (derivedBlobAccount) {
      // For the tools (az, the Azure SDKs): the derived account as a connection string (0600).
      const app::Config::BlobAccount& a = cfg.blobAccounts[0];
      std::filesystem::path file = std::filesystem::path(cfg.dataDir) / "blob.env";
      {
        std::ofstream out(file, std::ios::trunc);
        out << "export AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=http;AccountName="
            << a.name << ";AccountKey=" << a.key << ";BlobEndpoint=http://" << bho.address << ":"
            << blobServer.port() << "/" << a.name << ";\"\n";
      }
      std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write);
    }
  }
  if (cfg.kvEnabled) {
    auto started = app::KvService::start(cfg);
    if (!started) {
      const std::string& why = started.error().message();
      spdlog::critical("cannot start the KV service on {}:{}: {}{}", cfg.kvAddress, cfg.kvPort, why,
                       why.find("bind") != std::string::npos
                           ? " (a redis-server on that port? set [kv] port, --kv-port, or [kv] enabled = false)"
                           : "");
      return 1;
    }
    kv = std::move(*started);
    spdlog::info("KV endpoint redis://{}:{} ({} durability)", cfg.kvAddress, kv->port(),
                 cfg.kvDurability);
  }
  if (Status s = admin.start(); !s) {
    spdlog::critical("cannot listen for admin on {}:{}: {}", ao.address, ao.port, s.toString());
    return 1;
  }
  spdlog::info("emberd {} listening: S3 http://{}:{}  admin http://{}:{}/metrics  data {}",
               "0.1.0", ho.address, s3server.port(), ao.address, admin.port(), cfg.dataDir);
  if (!cfg.portFile.empty()) {
    std::string tmp = cfg.portFile + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "{\"s3\": " << s3server.port() << ", \"admin\": " << admin.port();
      if (cfg.blobEnabled) {
        out << ", \"blob\": " << blobServer.port();
      }
      if (kv) {
        out << ", \"kv\": " << kv->port();
      }
      out << "}\n";
    }
    std::filesystem::rename(tmp, cfg.portFile);
  }

  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  asio::steady_timer drain(ioc);
  std::function<void()> waitDrained;
  auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  waitDrained = [&]() {
    if (s3server.activeConnections() == 0 && admin.activeConnections() == 0 &&
        blobServer.activeConnections() == 0 && (!kv || kv->activeConnections() == 0)) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](boost::system::error_code) { waitDrained(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) {
      return;
    }
    spdlog::info("signal {}: stopping (grace {} ms)", sig, cfg.shutdownGraceMs);
    auto grace = std::chrono::milliseconds(cfg.shutdownGraceMs);
    s3server.stop(grace);
    blobServer.stop(grace);
    admin.stop(grace);
    if (kv) {
      kv->stop(grace);
    }
    waitDrained();
  });

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) {
    workers.emplace_back([&ioc] { ioc.run(); });
  }
  ioc.run();
  for (auto& t : workers) {
    t.join();
  }
  kv.reset();  // joins the KV threads, then closes the engine (write-out + fdatasync)
  if (tierMgr) {
    tierMgr->stop();  // queued write-backs stay queued on disk
  }
  pool.stop();
  spdlog::info("emberd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"emberd: warm storage for GPU clusters (S3 and Azure Blob over a crash-safe local store, and a Redis-protocol KV service)"};
  std::string configPath;
  app::Config overrides;
  std::string dataDir, s3Address, logLevel, portFile;
  int s3Port = -1;
  int blobPort = -1;
  int adminPort = -1;
  int kvPort = -1;
  cli.add_option("-c,--config", configPath, "TOML configuration file");
  cli.add_option("--data-dir", dataDir, "data directory (store.data_dir)");
  cli.add_option("--s3-address", s3Address, "S3 listen address (server.s3_address)");
  cli.add_option("--s3-port", s3Port, "S3 listen port, 0 = any free port (server.s3_port)");
  cli.add_option("--blob-port", blobPort, "Blob listen port, 0 = any free port (blob.port)");
  cli.add_option("--kv-port", kvPort, "Redis-protocol KV port, 0 = any free port (kv.port)");
  cli.add_option("--admin-port", adminPort, "admin/metrics port (server.admin_port)");
  cli.add_option("--log-level", logLevel, "trace|debug|info|warn|error (log.level)");
  cli.add_option("--port-file", portFile, "write the bound ports as JSON to this file");
  CLI11_PARSE(cli, argc, argv);

  app::Config cfg;
  try {
    if (!configPath.empty()) {
      cfg = app::loadConfig(configPath);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emberd: %s\n", e.what());
    return 2;
  }
  if (!dataDir.empty()) cfg.dataDir = dataDir;
  if (!s3Address.empty()) cfg.s3Address = s3Address;
  if (s3Port >= 0) cfg.s3Port = static_cast<uint16_t>(s3Port);
  if (blobPort >= 0) cfg.blobPort = static_cast<uint16_t>(blobPort);
  if (kvPort >= 0) cfg.kvPort = static_cast<uint16_t>(kvPort);
  if (adminPort >= 0) cfg.adminPort = static_cast<uint16_t>(adminPort);
  if (!logLevel.empty()) cfg.logLevel = logLevel;
  cfg.portFile = portFile;
  std::signal(SIGPIPE, SIG_IGN);
  return run(std::move(cfg));
}
