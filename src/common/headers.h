#pragma once
// Case-insensitive multimap of HTTP header fields, in arrival order. Shared by the HTTP server,
// the signers/verifiers in src/auth and the protocol adapters.

#include <string>
#include <string_view>
#include <vector>

namespace ember {

// ASCII case-insensitive equality (header names, algorithm names).
bool iequals(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);

class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };
  // First value of `name` (ASCII case-insensitive), or nullptr.
  const std::string* find(std::string_view name) const;
  std::string_view get(std::string_view name, std::string_view fallback = {}) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  void add(std::string name, std::string value);
  // Replaces every field named `name` with one field.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

}  // namespace ember
