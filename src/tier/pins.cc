#include "tier/pins.h"

#include <algorithm>
#include <cstring>

#include "common/time_util.h"

namespace ember::tier {

namespace {

std::string pinValue(const Pin& p) {
  std::string v(1, '\1');
  char b[16];
  std::memcpy(b, &p.createdMs, 8);
  std::memcpy(b + 8, &p.expiresMs, 8);
  v.append(b, 16);
  return v;
}

bool live(const Pin& p, int64_t now) { return p.expiresMs == 0 || p.expiresMs > now; }

bool sameId(const Pin& p, const std::string& bucket, const std::string& prefix) {
  return p.bucket == bucket && p.prefix == prefix;
}

}  // namespace

Status PinSet::load() {
  std::vector<Pin> loaded;
  EMBER_TRY(db_.forEachPin([&](std::string_view id, std::string_view value) {
    if (value.size() != 17 || value[0] != '\1') {
      return;  // unknown format: ignored (a later version's record)
    }
    Pin p;
    auto [bucket, prefix] = splitTierKey(id);
    p.bucket = std::string(bucket);
    p.prefix = std::string(prefix);
    std::memcpy(&p.createdMs, value.data() + 1, 8);
    std::memcpy(&p.expiresMs, value.data() + 9, 8);
    loaded.push_back(std::move(p));
  }));
  {
    std::lock_guard<std::mutex> g(mu_);
    pins_ = std::move(loaded);
  }
  expire();
  return Status::ok();
}

Status PinSet::add(const std::string& bucket, const std::string& prefix, int64_t expiresMs) {
  Pin p{bucket, prefix, nowMillis(), expiresMs};
  EMBER_TRY(db_.putPin(tierKey(bucket, prefix), pinValue(p)));
  std::lock_guard<std::mutex> g(mu_);
  auto it = std::find_if(pins_.begin(), pins_.end(),
                         [&](const Pin& q) { return sameId(q, bucket, prefix); });
  if (it != pins_.end()) {
    p.createdMs = it->createdMs;
    *it = p;
  } else {
    pins_.push_back(p);
  }
  return Status::ok();
}

Status PinSet::remove(const std::string& bucket, const std::string& prefix) {
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = std::find_if(pins_.begin(), pins_.end(),
                           [&](const Pin& q) { return sameId(q, bucket, prefix); });
    if (it == pins_.end()) {
      return makeError(Code::kNotFound, "no pin on '" + bucket + "/" + prefix + "'");
    }
    pins_.erase(it);
  }
  return db_.erasePin(tierKey(bucket, prefix));
}

bool PinSet::pinned(std::string_view bucket, std::string_view key) const {
  int64_t now = nowMillis();
  std::lock_guard<std::mutex> g(mu_);
  return std::any_of(pins_.begin(), pins_.end(), [&](const Pin& p) {
    return p.bucket == bucket && key.starts_with(p.prefix) && live(p, now);
  });
}

std::vector<Pin> PinSet::list() const {
  int64_t now = nowMillis();
  std::vector<Pin> out;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const Pin& p : pins_) {
      if (live(p, now)) {
        out.push_back(p);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Pin& a, const Pin& b) {
    return std::tie(a.bucket, a.prefix) < std::tie(b.bucket, b.prefix);
  });
  return out;
}

void PinSet::expire() {
  int64_t now = nowMillis();
  std::vector<Pin> gone;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto keep = std::stable_partition(pins_.begin(), pins_.end(),
                                      [&](const Pin& p) { return live(p, now); });
    gone.assign(keep, pins_.end());
    pins_.erase(keep, pins_.end());
  }
  for (const Pin& p : gone) {
    (void)db_.erasePin(tierKey(p.bucket, p.prefix));
  }
}

}  // namespace ember::tier
