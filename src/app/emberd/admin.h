#pragma once
// The admin HTTP endpoint (default 127.0.0.1:9001): GET /metrics (Prometheus), GET /healthz.

#include <functional>

#include "http/http.h"

namespace ember::app {

// `healthy` is polled by /healthz (200 "ok" or 503 with the reason). `beforeMetrics`, when set, runs
// before each /metrics rendering (to publish figures kept elsewhere, e.g. the KV engine's stats).
http::Handler adminHandler(std::function<Status()> healthy, std::function<void()> beforeMetrics = {});

}  // namespace ember::app
