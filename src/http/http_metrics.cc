#include "http/http_metrics.h"

#include <algorithm>

namespace ember::http::detail {

namespace {

metrics::Registry& registry() { return metrics::Registry::global(); }

}  // namespace

HttpMetrics::HttpMetrics(const std::string& server)
    : bytesReceived(registry().counter("ember_http_bytes_received_total",
                                       "Bytes read from HTTP client connections.",
                                       {{"server", server}})),
      bytesSent(registry().counter("ember_http_bytes_sent_total",
                                   "Bytes written to HTTP client connections.",
                                   {{"server", server}})),
      connectionsActive(registry().gauge("ember_http_connections_active",
                                         "Open HTTP client connections.", {{"server", server}})),
      handlerExceptions(registry().counter("ember_http_handler_exceptions_total",
                                           "Exceptions that escaped an HTTP request handler.",
                                           {{"server", server}})),
      server_(server),
      requests_(std::make_unique<std::atomic<metrics::Counter*>[]>(kMethods.size() * kStatuses)) {
  for (size_t i = 0; i < kMethods.size(); ++i) {
    durations_[i] = &registry().histogram(
        "ember_http_request_duration_seconds",
        "Time from a complete request head to the end of the response.",
        {{"server", server}, {"method", std::string(kMethods[i])}});
  }
  for (size_t i = 0; i < kMethods.size() * kStatuses; ++i) {
    requests_[i].store(nullptr, std::memory_order_relaxed);
  }
}

size_t HttpMetrics::methodIndex(std::string_view method) {
  // Exact, case-sensitive match: methods are case-sensitive tokens (RFC 9110 9.1).
  for (size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) {
      return i;
    }
  }
  return kMethods.size() - 1;
}

metrics::Counter& HttpMetrics::requests(size_t method, int status) {
  status = std::clamp(status, kMinStatus, kMaxStatus);
  std::atomic<metrics::Counter*>& slot =
      requests_[method * kStatuses + static_cast<size_t>(status - kMinStatus)];
  metrics::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &registry().counter("ember_http_requests_total", "HTTP requests answered.",
                            {{"server", server_},
                             {"method", std::string(kMethods[method])},
                             {"status", std::to_string(status)}});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

}  // namespace ember::http::detail
