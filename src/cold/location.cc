// Cold location parsing (cold_store.h).
#include <fmt/format.h>

#include "cold/cold_store.h"

namespace ember::cold {

namespace {

bool lowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// What an account, container or bucket name may be: a length range; besides lowercase letters
// and digits, the characters in `extra` (allowedText lists them all, for the error); and maybe
// a letter or digit at both ends and no "--".
struct NameRule {
  std::string_view what;  // "an Azure account name"
  size_t minSize;
  size_t maxSize;
  std::string_view extra;
  std::string_view allowedText;
  bool alnumEnds;
  bool noDoubleDash;  // with alnumEnds
};

constexpr NameRule kAccount{"an Azure account name", 3, 24, "", "lowercase letters and digits",
                            false, false};
constexpr NameRule kContainer{"an Azure container name", 3, 63, "-",
                              "lowercase letters, digits and '-'", true, true};
constexpr NameRule kBucket{"an S3 bucket name", 3, 63, ".-",
                           "lowercase letters, digits, '.' and '-'", true, false};

Status checkName(std::string_view s, const NameRule& rule) {
  if (s.size() < rule.minSize || s.size() > rule.maxSize) {
    return makeError(Code::kInvalidArgument, fmt::format("{} is {} to {} characters", rule.what,
                                                         rule.minSize, rule.maxSize));
  }
  for (char c : s) {
    if (!lowerOrDigit(c) && rule.extra.find(c) == std::string_view::npos) {
      return makeError(Code::kInvalidArgument,
                       fmt::format("{} has only {}", rule.what, rule.allowedText));
    }
  }
  if (rule.alnumEnds && (!lowerOrDigit(s.front()) || !lowerOrDigit(s.back()) ||
                         (rule.noDoubleDash && s.find("--") != std::string_view::npos))) {
    return makeError(Code::kInvalidArgument,
                     fmt::format("{} starts and ends with a letter or digit{}", rule.what,
                                 rule.noDoubleDash ? " and has no \"--\"" : ""));
  }
  return Status::ok();
}

// Drops slashes at both ends; refuses empty segments inside.
Result<std::string> normalizePrefix(std::string_view p) {
  while (!p.empty() && p.front() == '/') {
    p.remove_prefix(1);
  }
  while (!p.empty() && p.back() == '/') {
    p.remove_suffix(1);
  }
  if (p.find("//") != std::string_view::npos) {
    return unexpected(Code::kInvalidArgument, "the prefix has an empty path segment (\"//\")");
  }
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return unexpected(Code::kInvalidArgument, "the prefix has a control character");
    }
  }
  return std::string(p);
}

std::string_view nextSegment(std::string_view& rest) {
  size_t slash = rest.find('/');
  std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  return seg;
}

}  // namespace

std::string ColdLocation::objectName(std::string_view key) const {
  if (prefix.empty()) {
    return std::string(key);
  }
  return prefix + "/" + std::string(key);
}

std::string ColdLocation::relativeKey(std::string_view name) const {
  if (prefix.empty()) {
    return std::string(name);
  }
  if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix &&
      name[prefix.size()] == '/') {
    return std::string(name.substr(prefix.size() + 1));
  }
  return std::string(name);
}

std::string ColdLocation::toString() const {
  std::string s = kind == Kind::kAzure ? "az://" + account + "/" + container : "s3://" + container;
  if (!prefix.empty()) {
    s += "/" + prefix;
  }
  return s;
}

Result<ColdLocation> parseColdLocation(std::string_view text) {
  ColdLocation loc;
  std::string_view rest;
  if (text.substr(0, 5) == "az://") {
    loc.kind = ColdLocation::Kind::kAzure;
    rest = text.substr(5);
  } else if (text.substr(0, 5) == "s3://") {
    loc.kind = ColdLocation::Kind::kS3;
    rest = text.substr(5);
  } else {
    return unexpected(Code::kInvalidArgument,
                      fmt::format("cold location '{}' is neither az://account/container[/prefix] "
                                  "nor s3://bucket[/prefix]",
                                  text.substr(0, 80)));
  }
  if (loc.kind == ColdLocation::Kind::kAzure) {
    std::string_view account = nextSegment(rest);
    if (Status s = checkName(account, kAccount); !s.isOk()) {
      return unexpected(std::move(s));
    }
    loc.account = std::string(account);
    std::string_view container = nextSegment(rest);
    if (container.empty()) {
      return unexpected(Code::kInvalidArgument, "az:// location without a container");
    }
    if (Status s = checkName(container, kContainer); !s.isOk()) {
      return unexpected(std::move(s));
    }
    loc.container = std::string(container);
  } else {
    std::string_view bucket = nextSegment(rest);
    if (Status s = checkName(bucket, kBucket); !s.isOk()) {
      return unexpected(std::move(s));
    }
    loc.container = std::string(bucket);
  }
  auto prefix = normalizePrefix(rest);
  EMBER_TRY(prefix);
  loc.prefix = std::move(*prefix);
  return loc;
}

}  // namespace ember::cold
