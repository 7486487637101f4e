#pragma once
// Azure Blob XML bodies (pugixml inside): the List Containers and List Blobs responses, the Put
// Block List request and Get Block List response, and Service Properties. Element names and
// order follow reference azure-blob.md §2.1 and recorded Azure responses. Every document starts
// with <?xml version="1.0" encoding="utf-8"?>; empty values are written as empty elements.
//
// Names (container, blob, prefix, marker) that cannot travel in XML 1.0 (control characters,
// U+FFFE/U+FFFF, invalid UTF-8) are percent-encoded and marked Encoded="true", as Azure does;
// SDKs percent-decode such names.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::blob {

// Lease properties as the listing shows them, computed by the caller from the LeaseRecord and
// the clock: status "locked"/"unlocked", state "available"/"leased"/"expired"/"breaking"/
// "broken", duration "infinite"/"fixed" or "" (element omitted; Azure sends it only while leased).
struct LeaseView {
  std::string status = "unlocked";
  std::string state = "available";
  std::string duration;
};

// --- List Containers (GET /?comp=list) ---

struct ContainerEntry {
  store::BucketRecord bucket;  // name, etag (see containerEtag), mtimeMs, userMeta
  LeaseView lease;
  std::string publicAccess;    // "container" / "blob", or "" (element omitted)
};

struct ListContainersXml {
  std::string serviceEndpoint;        // "https://host/acct/" (attribute ServiceEndpoint)
  std::optional<std::string> prefix;  // elements written only when the request had them
  std::optional<std::string> marker;
  std::optional<uint32_t> maxResults;
  std::vector<ContainerEntry> containers;  // in name order
  bool includeMetadata = false;            // include=metadata: <Metadata> per container
  std::string nextMarker;                  // "" = end of listing (<NextMarker />)
};

// <EnumerationResults ServiceEndpoint=..>[Prefix][Marker][MaxResults]<Containers><Container>
// <Name/><Properties>Last-Modified (RFC 1123), Etag (quoted), LeaseStatus, LeaseState,
// [LeaseDuration], [PublicAccess], HasImmutabilityPolicy, HasLegalHold</Properties>[<Metadata>]
// </Container>...</Containers><NextMarker/></EnumerationResults>
std::string listContainersXml(const ListContainersXml& in);

// --- List Blobs (GET /c?restype=container&comp=list) ---

struct BlobItem {
  store::ObjectRecord record;  // key, size, etag, times, content headers, contentMd5, kind,
                               // sealed, userMeta, attrs ("copy-id", "copy-status", ...)
  LeaseView lease;
};
struct BlobPrefixItem {
  std::string name;  // "dir/"
};
using ListBlobsEntry = std::variant<BlobItem, BlobPrefixItem>;

struct ListBlobsXml {
  std::string serviceEndpoint;
  std::string containerName;
  std::optional<std::string> prefix;
  std::optional<std::string> marker;
  std::optional<uint32_t> maxResults;
  std::optional<std::string> delimiter;
  std::vector<ListBlobsEntry> entries;  // blobs and prefixes interleaved in byte order of name
  bool includeMetadata = false;         // include=metadata: <Metadata> per blob
  bool includeCopy = false;             // include=copy: Copy* properties from record.attrs
  std::string nextMarker;               // "" = end of listing
};

// <EnumerationResults ServiceEndpoint=.. ContainerName=..>[Prefix][Marker][MaxResults]
// [Delimiter]<Blobs>(<Blob><Name/><Properties>...</Properties>[<Metadata/>]</Blob> |
// <BlobPrefix><Name/></BlobPrefix>)*</Blobs><NextMarker/></EnumerationResults>
// Blob <Properties>, in the order recorded Azure responses use: Creation-Time, Last-Modified,
// Etag (unquoted), Content-Length, Content-Type, Content-Encoding, Content-Language,
// Content-CRC64, Content-MD5, Cache-Control, Content-Disposition, BlobType, AccessTier (Hot),
// AccessTierInferred (true), LeaseStatus, LeaseState, [LeaseDuration], [CopyId, CopySource,
// CopyStatus, CopyProgress, CopyCompletionTime, CopyStatusDescription: those present in attrs,
// with includeCopy], ServerEncrypted (true), [Sealed (sealed append blobs)].
// Metadata names that are not valid XML element names (set through S3, say) are written as
// <x-ms-invalid-name>name</x-ms-invalid-name>, which is how Azure reports such names.
std::string listBlobsXml(const ListBlobsXml& in);

// --- Block lists ---

struct BlockRef {
  enum class Kind { kCommitted, kUncommitted, kLatest };
  Kind kind = Kind::kLatest;
  std::string id;  // base64 as sent, surrounding whitespace trimmed (decode with decodeBlockId)
};

// Parses a Put Block List body: root <BlockList> whose element children are <Committed>,
// <Uncommitted> or <Latest> holding a block id as text, returned in document order. An empty
// <BlockList/> is valid (commits an empty blob). Comments and whitespace are ignored.
// Errors: kMalformedXml (not well-formed, another root, another child element, an entry with
// child elements).
Result<std::vector<BlockRef>> parseBlockList(std::string_view xml);

// The Get Block List body. `committed`/`uncommitted` hold (RAW id as stored, size); the writer
// base64-encodes the ids. <CommittedBlocks> is written when withCommitted, <UncommittedBlocks>
// when withUncommitted (blocklisttype committed / uncommitted / all), empty lists as empty
// elements: <BlockList><CommittedBlocks><Block><Name>b64</Name><Size>n</Size></Block>...
std::string blockListXml(const std::vector<std::pair<std::string, uint64_t>>& committed,
                         const std::vector<std::pair<std::string, uint64_t>>& uncommitted,
                         bool withCommitted, bool withUncommitted);

// --- Service properties ---

// The defaults Get Blob Service Properties returns: Logging (Version 1.0, Delete/Read/Write
// false, RetentionPolicy disabled), HourMetrics and MinuteMetrics (Version 1.0, disabled,
// RetentionPolicy disabled), empty Cors, DeleteRetentionPolicy and StaticWebsite disabled.
// DefaultServiceVersion is omitted (Azure omits it until one is set).
std::string defaultServicePropertiesXml();

// Checks a Set Blob Service Properties body: well-formed with root <StorageServiceProperties>.
// Errors: kMalformedXml.
Status validateServiceProperties(std::string_view xml);

}  // namespace ember::blob
