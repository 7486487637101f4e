#pragma once
// The Redis-protocol listener: accepts TCP connections and runs each one as a coroutine that reads, parses
// every complete command in what arrived (pipelining), dispatches them (command.h), and writes the replies
// back in one write.
//
// Threads: `threads` io_contexts, each run by its own thread; the acceptor hands each new connection to the
// next context round-robin, and a connection never leaves its context, so the per-command path takes no lock
// but the engine shard's. (This scales with cores where one io_context shared by many threads would not.)
//
// Durability: in kSync mode the replies of a batch that wrote something are held until the engine reports
// those writes fdatasync'ed (engine.whenDurable); the connection's thread serves other connections meanwhile.
//
// Memory per connection is bounded: the input buffer by Limits (one command at most maxCommandBytes, and the
// buffer never holds more than one partial command beyond what was parsed), the output by writing out
// whenever more than kFlushBytes of replies are pending, before parsing further.
//
// Asio stays inside server.cc: this header is all the rest of emberd sees.

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/status.h"
#include "kv/engine.h"
#include "resp/command.h"

namespace ember::resp {

class KvServer {
 public:
  KvServer(KvServerOptions options, kv::Engine& engine);
  ~KvServer();
  KvServer(const KvServer&) = delete;
  KvServer& operator=(const KvServer&) = delete;

  // Binds and starts the network threads. kIOError when the address cannot be bound.
  Status start();
  uint16_t port() const;
  // Stops accepting and closes idle connections now; connections still busy after `grace` are closed.
  // Returns at once; activeConnections() reaches 0 when done. join() then stops the threads.
  void stop(std::chrono::milliseconds grace);
  void join();
  size_t activeConnections() const;

  ServerState& state();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ember::resp
