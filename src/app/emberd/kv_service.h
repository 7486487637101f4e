#pragma once
// The KV service as emberd runs it: the engine opened on [kv] dir and the Redis-protocol listener in front
// of it. Its own threads; emberd's shutdown stops the listener, then closes the engine (which writes out and
// fdatasyncs every shard, so a clean shutdown loses nothing in any durability mode).

#include <chrono>
#include <memory>

#include "app/emberd/config.h"
#include "common/status.h"

namespace ember::app {

class KvService {
 public:
  // Opens the engine (recovering what is on disk) and starts listening. Errors name the step that failed.
  static Result<std::unique_ptr<KvService>> start(const Config& cfg);
  ~KvService();

  uint16_t port() const;
  size_t activeConnections() const;
  // Stops accepting and closes connections; the destructor then joins and closes the engine.
  void stop(std::chrono::milliseconds grace);
  // Copies the engine's and the listener's figures into the process's metrics registry (ember_kv_*);
  // the admin endpoint calls it before rendering /metrics. Thread-safe.
  void publishMetrics();

 private:
  struct Impl;
  explicit KvService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::app
