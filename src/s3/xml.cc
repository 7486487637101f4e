#include "s3/xml.h"

#include <charconv>
#include <sstream>

#include <pugixml.hpp>

namespace ember::s3 {

struct XmlWriter::Impl {
  pugi::xml_document doc;
  std::vector<pugi::xml_node> stack;
};

XmlWriter::XmlWriter(std::string_view root, bool withNamespace) : impl_(std::make_unique<Impl>()) {
  auto decl = impl_->doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto node = impl_->doc.append_child(std::string(root).c_str());
  if (withNamespace) {
    node.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  }
  impl_->stack.push_back(node);
}

XmlWriter::~XmlWriter() = default;

XmlWriter& XmlWriter::add(std::string_view name, std::string_view text) {
  auto n = impl_->stack.back().append_child(std::string(name).c_str());
  n.append_child(pugi::node_pcdata).set_value(std::string(text).c_str());
  return *this;
}

XmlWriter& XmlWriter::open(std::string_view name) {
  impl_->stack.push_back(impl_->stack.back().append_child(std::string(name).c_str()));
  return *this;
}

XmlWriter& XmlWriter::close() {
  if (impl_->stack.size() > 1) {
    impl_->stack.pop_back();
  }
  return *this;
}

std::string XmlWriter::finish() {
  std::ostringstream out;
  impl_->doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

namespace {

Result<pugi::xml_node> parseRoot(pugi::xml_document& doc, std::string_view xml,
                                 std::string_view rootName) {
  auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!res) {
    return unexpected(Code::kMalformedXml,
                      "The XML you provided was not well-formed or did not validate against our "
                      "published schema.");
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != rootName) {
    return unexpected(Code::kMalformedXml,
                      "The XML you provided was not well-formed or did not validate against our "
                      "published schema.");
  }
  return root;
}

std::string_view childText(pugi::xml_node n, const char* name) {
  return n.child(name).text().get();
}

std::string unquote(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  // Some clients send &quot;-escaped quotes, which pugixml already decoded.
  return std::string(s);
}

}  // namespace

Result<DeleteRequest> parseDelete(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parseRoot(doc, xml, "Delete");
  EMBER_TRY(root);
  DeleteRequest req;
  std::string_view quiet = childText(*root, "Quiet");
  req.quiet = quiet == "true" || quiet == "True";
  for (pugi::xml_node obj : root->children("Object")) {
    if (!obj.child("Key")) {
      return unexpected(Code::kMalformedXml, "Object element without a Key");
    }
    req.keys.emplace_back(childText(obj, "Key"));
  }
  if (req.keys.empty() || req.keys.size() > 1000) {
    return unexpected(Code::kMalformedXml,
                      "The XML you provided was not well-formed or did not validate against our "
                      "published schema.");
  }
  return req;
}

Result<std::vector<core::CompletePart>> parseCompleteMultipart(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parseRoot(doc, xml, "CompleteMultipartUpload");
  EMBER_TRY(root);
  std::vector<core::CompletePart> parts;
  for (pugi::xml_node p : root->children("Part")) {
    core::CompletePart part;
    std::string_view num = childText(p, "PartNumber");
    uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || ptr != num.data() + num.size() || !p.child("ETag")) {
      return unexpected(Code::kMalformedXml,
                        "The XML you provided was not well-formed or did not validate against "
                        "our published schema.");
    }
    part.number = n;
    part.etag = unquote(childText(p, "ETag"));
    for (const char* algo : {"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}) {
      std::string tag = std::string("Checksum") + algo;
      if (p.child(tag.c_str())) {
        part.checksums.emplace_back(algo, std::string(childText(p, tag.c_str())));
      }
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

Result<std::string> parseCreateBucket(std::string_view xml) {
  bool blank = xml.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    return std::string();
  }
  pugi::xml_document doc;
  auto root = parseRoot(doc, xml, "CreateBucketConfiguration");
  EMBER_TRY(root);
  return std::string(childText(*root, "LocationConstraint"));
}

}  // namespace ember::s3
