#include "common/headers.h"

#include <algorithm>

namespace ember {

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = lower(c);
  }
  return out;
}

const std::string* Headers::find(std::string_view name) const {
  for (const Field& f : fields_) {
    if (iequals(f.name, name)) {
      return &f.value;
    }
  }
  return nullptr;
}

std::string_view Headers::get(std::string_view name, std::string_view fallback) const {
  const std::string* v = find(name);
  return v ? std::string_view(*v) : fallback;
}

void Headers::add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.name, name); });
}

}  // namespace ember
