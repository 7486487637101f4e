#include "blob/xml.h"

#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "blob/wire.h"
#include "common/digest.h"

namespace ember::blob {

namespace {

constexpr const char* kMalformed = "XML specified is not syntactically valid.";

// Length of the UTF-8 sequence at s[i] if it encodes a character XML 1.0 allows, else 0.
size_t xmlCharAt(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    return c >= 0x20 ? 1 : 0;  // control characters (also tab/CR/LF: CR does not survive parsing)
  }
  size_t len = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
      cp == 0xFFFF) {
    return 0;
  }
  return len;
}

bool xmlSafe(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = xmlCharAt(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string percentEncode(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// A pugixml document with the Azure declaration and small append helpers.
class Doc {
 public:
  explicit Doc(const char* root) {
    auto decl = doc_.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "utf-8";
    root_ = doc_.append_child(root);
  }
  pugi::xml_node root() const { return root_; }

  // <name>text</name>, or <name/> when text is empty.
  static pugi::xml_node add(pugi::xml_node parent, const char* name, std::string_view text) {
    pugi::xml_node n = parent.append_child(name);
    if (!text.empty()) {
      n.append_child(pugi::node_pcdata).set_value(std::string(text).c_str());
    }
    return n;
  }
  // Like add(), percent-encoding the text with Encoded="true" when XML cannot carry it.
  static pugi::xml_node addName(pugi::xml_node parent, const char* name, std::string_view text) {
    if (xmlSafe(text)) {
      return add(parent, name, text);
    }
    pugi::xml_node n = add(parent, name, percentEncode(text));
    n.append_attribute("Encoded") = "true";
    return n;
  }

  std::string finish() const {
    std::ostringstream out;
    doc_.save(out, "", pugi::format_raw, pugi::encoding_utf8);
    return out.str();
  }

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
};

void addListHeader(pugi::xml_node root, const std::optional<std::string>& prefix,
                   const std::optional<std::string>& marker,
                   const std::optional<uint32_t>& maxResults) {
  if (prefix) {
    Doc::addName(root, "Prefix", *prefix);
  }
  if (marker) {
    Doc::addName(root, "Marker", *marker);
  }
  if (maxResults) {
    Doc::add(root, "MaxResults", std::to_string(*maxResults));
  }
}

void addMetadata(pugi::xml_node parent, const store::StringPairs& meta) {
  pugi::xml_node m = parent.append_child("Metadata");
  for (const auto& [name, value] : meta) {
    if (validMetadataName(name)) {
      Doc::add(m, name.c_str(), xmlSafe(value) ? value : percentEncode(value));
    } else {
      Doc::addName(m, "x-ms-invalid-name", name);
    }
  }
}

void addLease(pugi::xml_node props, const LeaseView& lease) {
  Doc::add(props, "LeaseStatus", lease.status);
  Doc::add(props, "LeaseState", lease.state);
  if (!lease.duration.empty()) {
    Doc::add(props, "LeaseDuration", lease.duration);
  }
}

const std::string* attr(const store::StringPairs& attrs, std::string_view key) {
  for (const auto& [k, v] : attrs) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

void addBlob(pugi::xml_node blobs, const BlobItem& item, const ListBlobsXml& in) {
  const store::ObjectRecord& r = item.record;
  pugi::xml_node blob = blobs.append_child("Blob");
  Doc::addName(blob, "Name", r.key);
  pugi::xml_node p = blob.append_child("Properties");
  Doc::add(p, "Creation-Time", rfc1123(r.createdMs != 0 ? r.createdMs : r.mtimeMs));
  Doc::add(p, "Last-Modified", rfc1123(r.mtimeMs));
  Doc::add(p, "Etag", unquoteEtag(r.etag));
  Doc::add(p, "Content-Length", std::to_string(r.size));
  Doc::add(p, "Content-Type", r.content.contentType);
  Doc::add(p, "Content-Encoding", r.content.contentEncoding);
  Doc::add(p, "Content-Language", r.content.contentLanguage);
  Doc::add(p, "Content-CRC64", "");
  Doc::add(p, "Content-MD5", r.contentMd5);
  Doc::add(p, "Cache-Control", r.content.cacheControl);
  Doc::add(p, "Content-Disposition", r.content.contentDisposition);
  Doc::add(p, "BlobType", r.kind == store::ObjectKind::kAppend ? "AppendBlob" : "BlockBlob");
  Doc::add(p, "AccessTier", "Hot");
  Doc::add(p, "AccessTierInferred", "true");
  addLease(p, item.lease);
  if (in.includeCopy) {
    static constexpr std::pair<const char*, std::string_view> kCopy[] = {
        {"CopyId", "copy-id"},
        {"CopySource", "copy-source"},
        {"CopyStatus", "copy-status"},
        {"CopyProgress", "copy-progress"},
        {"CopyCompletionTime", "copy-completion-time"},
        {"CopyStatusDescription", "copy-status-description"},
    };
    for (const auto& [element, key] : kCopy) {
      if (const std::string* v = attr(r.attrs, key)) {
        Doc::add(p, element, xmlSafe(*v) ? *v : percentEncode(*v));
      }
    }
  }
  Doc::add(p, "ServerEncrypted", "true");
  if (r.kind == store::ObjectKind::kAppend && r.sealed) {
    Doc::add(p, "Sealed", "true");
  }
  if (in.includeMetadata) {
    addMetadata(blob, r.userMeta);
  }
}

Result<pugi::xml_node> parseRoot(pugi::xml_document& doc, std::string_view xml,
                                 std::string_view rootName) {
  auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!res) {
    return unexpected(Code::kMalformedXml, kMalformed);
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != rootName) {
    return unexpected(Code::kMalformedXml,
                      fmt::format("the root element must be {}", rootName));
  }
  return root;
}

std::string_view trimXmlSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string listContainersXml(const ListContainersXml& in) {
  Doc d("EnumerationResults");
  pugi::xml_node root = d.root();
  root.append_attribute("ServiceEndpoint") = in.serviceEndpoint.c_str();
  addListHeader(root, in.prefix, in.marker, in.maxResults);
  pugi::xml_node list = root.append_child("Containers");
  for (const ContainerEntry& c : in.containers) {
    pugi::xml_node node = list.append_child("Container");
    Doc::addName(node, "Name", c.bucket.name);
    pugi::xml_node p = node.append_child("Properties");
    Doc::add(p, "Last-Modified", rfc1123(containerLastModifiedMs(c.bucket)));
    Doc::add(p, "Etag", quoteEtag(containerEtag(c.bucket)));
    addLease(p, c.lease);
    if (!c.publicAccess.empty()) {
      Doc::add(p, "PublicAccess", c.publicAccess);
    }
    Doc::add(p, "HasImmutabilityPolicy", "false");
    Doc::add(p, "HasLegalHold", "false");
    if (in.includeMetadata) {
      addMetadata(node, c.bucket.userMeta);
    }
  }
  Doc::addName(root, "NextMarker", in.nextMarker);
  return d.finish();
}

std::string listBlobsXml(const ListBlobsXml& in) {
  Doc d("EnumerationResults");
  pugi::xml_node root = d.root();
  root.append_attribute("ServiceEndpoint") = in.serviceEndpoint.c_str();
  root.append_attribute("ContainerName") = in.containerName.c_str();
  addListHeader(root, in.prefix, in.marker, in.maxResults);
  if (in.delimiter) {
    Doc::addName(root, "Delimiter", *in.delimiter);
  }
  pugi::xml_node blobs = root.append_child("Blobs");
  for (const ListBlobsEntry& e : in.entries) {
    if (const auto* item = std::get_if<BlobItem>(&e)) {
      addBlob(blobs, *item, in);
    } else {
      pugi::xml_node prefix = blobs.append_child("BlobPrefix");
      Doc::addName(prefix, "Name", std::get<BlobPrefixItem>(e).name);
    }
  }
  Doc::addName(root, "NextMarker", in.nextMarker);
  return d.finish();
}

Result<std::vector<BlockRef>> parseBlockList(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parseRoot(doc, xml, "BlockList");
  EMBER_TRY(root);
  std::vector<BlockRef> out;
  for (pugi::xml_node n : root->children()) {
    if (n.type() != pugi::node_element) {
      continue;  // whitespace, comments, processing instructions
    }
    std::string_view name = n.name();
    BlockRef ref;
    if (name == "Latest") {
      ref.kind = BlockRef::Kind::kLatest;
    } else if (name == "Committed") {
      ref.kind = BlockRef::Kind::kCommitted;
    } else if (name == "Uncommitted") {
      ref.kind = BlockRef::Kind::kUncommitted;
    } else {
      return unexpected(Code::kMalformedXml,
                        fmt::format("unexpected element <{}> in BlockList", name));
    }
    for (pugi::xml_node c : n.children()) {
      if (c.type() == pugi::node_element) {
        return unexpected(Code::kMalformedXml,
                          fmt::format("<{}> must hold a block id, not elements", name));
      }
    }
    ref.id = std::string(trimXmlSpace(n.text().get()));
    out.push_back(std::move(ref));
  }
  return out;
}

std::string blockListXml(const std::vector<std::pair<std::string, uint64_t>>& committed,
                         const std::vector<std::pair<std::string, uint64_t>>& uncommitted,
                         bool withCommitted, bool withUncommitted) {
  Doc d("BlockList");
  auto addBlocks = [&](const char* name, const std::vector<std::pair<std::string, uint64_t>>& v) {
    pugi::xml_node list = d.root().append_child(name);
    for (const auto& [id, size] : v) {
      pugi::xml_node b = list.append_child("Block");
      Doc::add(b, "Name", base64Encode(id));
      Doc::add(b, "Size", std::to_string(size));
    }
  };
  if (withCommitted) {
    addBlocks("CommittedBlocks", committed);
  }
  if (withUncommitted) {
    addBlocks("UncommittedBlocks", uncommitted);
  }
  return d.finish();
}

std::string defaultServicePropertiesXml() {
  Doc d("StorageServiceProperties");
  pugi::xml_node root = d.root();
  auto retention = [](pugi::xml_node parent) {
    Doc::add(parent.append_child("RetentionPolicy"), "Enabled", "false");
  };
  pugi::xml_node logging = root.append_child("Logging");
  Doc::add(logging, "Version", "1.0");
  Doc::add(logging, "Delete", "false");
  Doc::add(logging, "Read", "false");
  Doc::add(logging, "Write", "false");
  retention(logging);
  for (const char* metrics : {"HourMetrics", "MinuteMetrics"}) {
    pugi::xml_node m = root.append_child(metrics);
    Doc::add(m, "Version", "1.0");
    Doc::add(m, "Enabled", "false");
    retention(m);
  }
  root.append_child("Cors");
  Doc::add(root.append_child("DeleteRetentionPolicy"), "Enabled", "false");
  Doc::add(root.append_child("StaticWebsite"), "Enabled", "false");
  return d.finish();
}

Status validateServiceProperties(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parseRoot(doc, xml, "StorageServiceProperties");
  EMBER_TRY(root);
  return Status::ok();
}

}  // namespace ember::blob
