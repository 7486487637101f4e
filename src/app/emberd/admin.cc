#include "app/emberd/admin.h"

#include "app/emberd/admin_tier.h"
#include "common/metrics.h"

namespace ember::app {

http::Handler adminHandler(std::function<Status()> healthy, std::function<void()> beforeMetrics,
                           tier::TierAdmin* tier) {
  return [healthy, beforeMetrics, tier](http::Request& req, http::RequestBody& reqBody,
                                        http::ResponseWriter& out) -> asio::awaitable<void> {
    if (isTierPath(req.path)) {
      co_await serveTier(tier, req, reqBody, out);
      co_return;
    }
    http::Response r;
    std::string body;
    if (req.method != "GET" && req.method != "HEAD") {
      r.status = 405;
      body = "method not allowed\n";
    } else if (req.path == "/metrics") {
      r.headers.add("Content-Type", "text/plain; version=0.0.4");
      if (beforeMetrics) {
        beforeMetrics();
      }
      body = metrics::Registry::global().render();
    } else if (req.path == "/healthz") {
      Status s = healthy();
      r.status = s ? 200 : 503;
      body = s ? "ok\n" : s.toString() + "\n";
    } else {
      r.status = 404;
      body = "not found: try /metrics, /healthz or /tier\n";
    }
    (co_await out.respond(std::move(r), body)).ignoreError();
  };
}

}  // namespace ember::app
