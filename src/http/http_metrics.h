#pragma once
// Internal to src/http: the per-server metric handles, looked up once. Requests are counted by
// method and status; the (method, status) counters are cached in a lock-free table so that the
// registry's mutex is taken once per combination, not once per request.

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "common/metrics.h"

namespace ember::http::detail {

class HttpMetrics {
 public:
  // Method labels; anything else is counted as "OTHER" to bound cardinality.
  static constexpr std::array<std::string_view, 8> kMethods = {
      "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "OTHER"};

  // Registers the families in metrics::Registry::global() with label server=`server`.
  explicit HttpMetrics(const std::string& server);

  static size_t methodIndex(std::string_view method);

  // ember_http_requests_total{server,method,status}. Thread-safe.
  metrics::Counter& requests(size_t method, int status);
  // ember_http_request_duration_seconds{server,method}.
  metrics::Histogram& duration(size_t method) { return *durations_[method]; }

  metrics::Counter& bytesReceived;      // ember_http_bytes_received_total{server}
  metrics::Counter& bytesSent;          // ember_http_bytes_sent_total{server}
  metrics::Gauge& connectionsActive;    // ember_http_connections_active{server}
  metrics::Counter& handlerExceptions;  // ember_http_handler_exceptions_total{server}

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  static constexpr size_t kStatuses = kMaxStatus - kMinStatus + 1;

  std::string server_;
  std::array<metrics::Histogram*, kMethods.size()> durations_{};
  // [method][status - 100]; filled on first use. Registry handles never move, so a racing
  // double fill stores the same pointer.
  std::unique_ptr<std::atomic<metrics::Counter*>[]> requests_;
};

}  // namespace ember::http::detail
