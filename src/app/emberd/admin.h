#pragma once
// The admin HTTP endpoint (default 127.0.0.1:9001): GET /metrics (Prometheus), GET /healthz, and
// the tier manager's routes under /tier (admin_tier.h; docs/tiering.md, "Admin API").

#include <functional>

#include "http/http.h"
#include "tier/admin.h"

namespace ember::app {

// `healthy` is polled by /healthz (200 "ok" or 503 with the reason). `beforeMetrics`, when set, runs
// before each /metrics rendering (to publish figures kept elsewhere, e.g. the KV engine's stats).
// `tier` answers /tier and /tier/...; null when no cold mappings are configured (those paths then
// answer 404 JSON). It must outlive the handler. Only /tier paths take POST and DELETE; other
// paths answer 405 to anything but GET and HEAD.
http::Handler adminHandler(std::function<Status()> healthy, std::function<void()> beforeMetrics = {},
                           tier::TierAdmin* tier = nullptr);

}  // namespace ember::app
