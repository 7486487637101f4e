#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "blob/errors.h"
#include "blob/xml.h"

namespace ember::blob {
namespace {

constexpr int64_t kT = 1700000000000;  // Tue, 14 Nov 2023 22:13:20 GMT

std::vector<std::string> childNames(pugi::xml_node n) {
  std::vector<std::string> out;
  for (pugi::xml_node c : n.children()) {
    if (c.type() == pugi::node_element) {
      out.emplace_back(c.name());
    }
  }
  return out;
}

using Names = std::vector<std::string>;

void load(pugi::xml_document& doc, const std::string& xml) {
  ASSERT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")) << xml;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
}

// --- List Containers ---

TEST(BlobXml, ListContainers) {
  ListContainersXml in;
  in.serviceEndpoint = "https://127.0.0.1:10000/devstoreaccount1/";
  in.prefix = "c";
  in.maxResults = 2;
  ContainerEntry a;
  a.bucket.name = "c1";
  a.bucket.createdMs = kT;
  a.bucket.mtimeMs = kT;
  a.bucket.etag = "0x8DBE5A1B2C3D4E5";
  a.bucket.userMeta = {{"Owner", "me"}, {"bad-name", "x"}};
  ContainerEntry b;
  b.bucket.name = "c2";
  b.bucket.createdMs = kT;
  b.lease = {"locked", "leased", "infinite"};
  b.publicAccess = "blob";
  in.containers = {a, b};
  in.includeMetadata = true;
  in.nextMarker = "YzM=";
  pugi::xml_document doc;
  load(doc, listContainersXml(in));
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "EnumerationResults");
  EXPECT_STREQ(root.attribute("ServiceEndpoint").value(), in.serviceEndpoint.c_str());
  EXPECT_EQ(childNames(root), (Names{"Prefix", "MaxResults", "Containers", "NextMarker"}));
  EXPECT_STREQ(root.child("MaxResults").text().get(), "2");
  EXPECT_STREQ(root.child("NextMarker").text().get(), "YzM=");
  pugi::xml_node c1 = root.child("Containers").first_child();
  EXPECT_EQ(childNames(c1), (Names{"Name", "Properties", "Metadata"}));
  EXPECT_STREQ(c1.child("Name").text().get(), "c1");
  EXPECT_EQ(childNames(c1.child("Properties")),
            (Names{"Last-Modified", "Etag", "LeaseStatus", "LeaseState", "HasImmutabilityPolicy",
                   "HasLegalHold"}));
  EXPECT_STREQ(c1.child("Properties").child("Last-Modified").text().get(),
               "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_STREQ(c1.child("Properties").child("Etag").text().get(), "\"0x8DBE5A1B2C3D4E5\"");
  EXPECT_STREQ(c1.child("Properties").child("LeaseStatus").text().get(), "unlocked");
  EXPECT_STREQ(c1.child("Properties").child("LeaseState").text().get(), "available");
  EXPECT_EQ(childNames(c1.child("Metadata")), (Names{"Owner", "x-ms-invalid-name"}));
  EXPECT_STREQ(c1.child("Metadata").child("Owner").text().get(), "me");
  EXPECT_STREQ(c1.child("Metadata").child("x-ms-invalid-name").text().get(), "bad-name");
  pugi::xml_node c2 = c1.next_sibling();
  EXPECT_EQ(childNames(c2.child("Properties")),
            (Names{"Last-Modified", "Etag", "LeaseStatus", "LeaseState", "LeaseDuration",
                   "PublicAccess", "HasImmutabilityPolicy", "HasLegalHold"}));
  // No stored etag: a derived, quoted one.
  std::string etag = c2.child("Properties").child("Etag").text().get();
  EXPECT_TRUE(etag.starts_with("\"0x8")) << etag;
  EXPECT_TRUE(c2.child("Metadata"));  // empty, but present with include=metadata
  EXPECT_FALSE(c2.child("Metadata").first_child());
}

TEST(BlobXml, ListContainersMinimal) {
  ListContainersXml in;
  in.serviceEndpoint = "http://h/a/";
  pugi::xml_document doc;
  std::string xml = listContainersXml(in);
  load(doc, xml);
  EXPECT_EQ(childNames(doc.document_element()), (Names{"Containers", "NextMarker"}));
  EXPECT_FALSE(doc.document_element().child("NextMarker").first_child());  // <NextMarker />
  // Marker present when the request had one, even empty.
  in.marker = "";
  load(doc, listContainersXml(in));
  EXPECT_EQ(childNames(doc.document_element()), (Names{"Marker", "Containers", "NextMarker"}));
}

// --- List Blobs ---

store::ObjectRecord record(std::string key) {
  store::ObjectRecord r;
  r.key = std::move(key);
  r.size = 11;
  r.etag = "\"0x8DAAAABBBBCCCCD\"";
  r.mtimeMs = kT;
  r.createdMs = kT - 1000;
  r.content.contentType = "text/plain";
  r.contentMd5 = "sQqNsWTgdUEFt6mb5y4/5Q==";
  return r;
}

TEST(BlobXml, ListBlobsOrderAndProperties) {
  ListBlobsXml in;
  in.serviceEndpoint = "https://h/acct/";
  in.containerName = "c";
  in.prefix = "";
  in.delimiter = "/";
  in.maxResults = 5000;
  BlobItem a{record("a.txt"), {}};
  a.record.userMeta = {{"mtime", "1700000000"}};
  a.record.attrs = {{"copy-status", "success"},
                    {"copy-id", "id-1"},
                    {"copy-source", "https://h/acct/c/src"},
                    {"copy-progress", "11/11"},
                    {"copy-completion-time", "Tue, 14 Nov 2023 22:13:20 GMT"}};
  in.entries.emplace_back(a);
  in.entries.emplace_back(BlobPrefixItem{"dir/"});
  BlobItem z{record("z"), {"locked", "leased", "fixed"}};
  z.record.kind = store::ObjectKind::kAppend;
  z.record.sealed = true;
  in.entries.emplace_back(z);
  in.includeMetadata = true;
  in.includeCopy = true;
  pugi::xml_document doc;
  load(doc, listBlobsXml(in));
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.attribute("ContainerName").value(), "c");
  EXPECT_STREQ(root.attribute("ServiceEndpoint").value(), "https://h/acct/");
  EXPECT_EQ(childNames(root), (Names{"Prefix", "MaxResults", "Delimiter", "Blobs", "NextMarker"}));
  pugi::xml_node blobs = root.child("Blobs");
  EXPECT_EQ(childNames(blobs), (Names{"Blob", "BlobPrefix", "Blob"}));
  pugi::xml_node b = blobs.first_child();
  EXPECT_EQ(childNames(b), (Names{"Name", "Properties", "Metadata"}));
  EXPECT_EQ(childNames(b.child("Properties")),
            (Names{"Creation-Time", "Last-Modified", "Etag", "Content-Length", "Content-Type",
                   "Content-Encoding", "Content-Language", "Content-CRC64", "Content-MD5",
                   "Cache-Control", "Content-Disposition", "BlobType", "AccessTier",
                   "AccessTierInferred", "LeaseStatus", "LeaseState", "CopyId", "CopySource",
                   "CopyStatus", "CopyProgress", "CopyCompletionTime", "ServerEncrypted"}));
  pugi::xml_node p = b.child("Properties");
  EXPECT_STREQ(p.child("Etag").text().get(), "0x8DAAAABBBBCCCCD");  // unquoted in blob XML
  EXPECT_STREQ(p.child("Creation-Time").text().get(), "Tue, 14 Nov 2023 22:13:19 GMT");
  EXPECT_STREQ(p.child("Last-Modified").text().get(), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_STREQ(p.child("Content-Length").text().get(), "11");
  EXPECT_STREQ(p.child("Content-MD5").text().get(), "sQqNsWTgdUEFt6mb5y4/5Q==");
  EXPECT_STREQ(p.child("BlobType").text().get(), "BlockBlob");
  EXPECT_STREQ(p.child("AccessTier").text().get(), "Hot");
  EXPECT_STREQ(p.child("AccessTierInferred").text().get(), "true");
  EXPECT_STREQ(p.child("ServerEncrypted").text().get(), "true");
  EXPECT_STREQ(p.child("CopyProgress").text().get(), "11/11");
  EXPECT_FALSE(p.child("Content-Encoding").first_child());  // empty element
  EXPECT_STREQ(b.child("Metadata").child("mtime").text().get(), "1700000000");
  EXPECT_STREQ(blobs.child("BlobPrefix").child("Name").text().get(), "dir/");
  pugi::xml_node zp = blobs.last_child().child("Properties");
  EXPECT_STREQ(zp.child("BlobType").text().get(), "AppendBlob");
  EXPECT_STREQ(zp.child("LeaseDuration").text().get(), "fixed");
  EXPECT_STREQ(zp.child("Sealed").text().get(), "true");
  Names zNames = childNames(zp);
  EXPECT_EQ(zNames.back(), "Sealed");
  EXPECT_EQ(zNames[zNames.size() - 2], "ServerEncrypted");
  EXPECT_EQ(zNames[16], "LeaseDuration");
}

TEST(BlobXml, ListBlobsWithoutIncludes) {
  ListBlobsXml in;
  in.serviceEndpoint = "https://h/acct/";
  in.containerName = "c";
  BlobItem a{record("a"), {}};
  a.record.userMeta = {{"k", "v"}};
  a.record.attrs = {{"copy-id", "x"}};
  in.entries.emplace_back(a);
  pugi::xml_document doc;
  load(doc, listBlobsXml(in));
  pugi::xml_node root = doc.document_element();
  EXPECT_EQ(childNames(root), (Names{"Blobs", "NextMarker"}));
  pugi::xml_node b = root.child("Blobs").child("Blob");
  EXPECT_EQ(childNames(b), (Names{"Name", "Properties"}));
  EXPECT_FALSE(b.child("Properties").child("CopyId"));
  EXPECT_FALSE(b.child("Properties").child("LeaseDuration"));
  EXPECT_FALSE(b.child("Properties").child("Sealed"));
}

TEST(BlobXml, EncodesXmlInvalidNames) {
  ListBlobsXml in;
  in.serviceEndpoint = "https://h/acct/";
  in.containerName = "c";
  in.entries.emplace_back(BlobItem{record(std::string("a\x01" "b/c d", 7)), {}});
  in.entries.emplace_back(BlobItem{record("caf\xc3\xa9 <&>"), {}});
  in.entries.emplace_back(BlobPrefixItem{"bad\xff/"});
  pugi::xml_document doc;
  load(doc, listBlobsXml(in));
  pugi::xml_node blobs = doc.document_element().child("Blobs");
  pugi::xml_node first = blobs.first_child().child("Name");
  EXPECT_STREQ(first.attribute("Encoded").value(), "true");
  EXPECT_STREQ(first.text().get(), "a%01b/c%20d");
  pugi::xml_node second = blobs.first_child().next_sibling().child("Name");
  EXPECT_FALSE(second.attribute("Encoded"));
  EXPECT_STREQ(second.text().get(), "caf\xc3\xa9 <&>");
  pugi::xml_node prefix = blobs.last_child().child("Name");
  EXPECT_STREQ(prefix.attribute("Encoded").value(), "true");
  EXPECT_STREQ(prefix.text().get(), "bad%FF/");
}

// --- Block lists ---

TEST(BlobXml, ParseBlockListMixed) {
  auto r = parseBlockList(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n  <Latest>QUFB</Latest>\n"
      "  <Committed> QkJC </Committed>\n  <!-- comment -->\n  <Uncommitted>Q0ND</Uncommitted>\n"
      "  <Latest>REDE</Latest>\n</BlockList>");
  ASSERT_TRUE(r) << r.error().toString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].kind, BlockRef::Kind::kLatest);
  EXPECT_EQ((*r)[0].id, "QUFB");
  EXPECT_EQ((*r)[1].kind, BlockRef::Kind::kCommitted);
  EXPECT_EQ((*r)[1].id, "QkJC");
  EXPECT_EQ((*r)[2].kind, BlockRef::Kind::kUncommitted);
  EXPECT_EQ((*r)[2].id, "Q0ND");
  EXPECT_EQ((*r)[3].kind, BlockRef::Kind::kLatest);
  EXPECT_EQ((*r)[3].id, "REDE");
}

TEST(BlobXml, ParseBlockListEmptyAndMalformed) {
  auto empty = parseBlockList("<BlockList/>");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(parseBlockList("<?xml version=\"1.0\"?><BlockList></BlockList>"));
  for (const char* bad :
       {"", "not xml", "<BlockList>", "<BlockList><Latest>a</Latest>",
        "<Blocks><Latest>a</Latest></Blocks>", "<BlockList><Block>a</Block></BlockList>",
        "<BlockList><Latest><Id>a</Id></Latest></BlockList>",
        "<BlockList><Latest>a</Committed></BlockList>"}) {
    auto r = parseBlockList(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kMalformedXml) << bad;
    EXPECT_EQ(blobErrorForBlob(r.error()).code, "InvalidXmlDocument");
  }
}

TEST(BlobXml, BlockListResponse) {
  std::vector<std::pair<std::string, uint64_t>> committed = {{"AAA", 4}, {"BBB", 7}};
  std::vector<std::pair<std::string, uint64_t>> uncommitted = {{"CCC", 1}};
  pugi::xml_document doc;
  load(doc, blockListXml(committed, uncommitted, true, true));
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "BlockList");
  EXPECT_EQ(childNames(root), (Names{"CommittedBlocks", "UncommittedBlocks"}));
  pugi::xml_node first = root.child("CommittedBlocks").first_child();
  EXPECT_EQ(childNames(first), (Names{"Name", "Size"}));
  EXPECT_STREQ(first.child("Name").text().get(), "QUFB");
  EXPECT_STREQ(first.child("Size").text().get(), "4");
  EXPECT_STREQ(first.next_sibling().child("Name").text().get(), "QkJC");
  EXPECT_STREQ(root.child("UncommittedBlocks").first_child().child("Name").text().get(), "Q0ND");

  load(doc, blockListXml(committed, uncommitted, true, false));
  EXPECT_EQ(childNames(doc.document_element()), (Names{"CommittedBlocks"}));
  load(doc, blockListXml({}, {}, true, true));
  EXPECT_EQ(childNames(doc.document_element()), (Names{"CommittedBlocks", "UncommittedBlocks"}));
  EXPECT_FALSE(doc.document_element().child("CommittedBlocks").first_child());
}

// --- Service properties ---

TEST(BlobXml, DefaultServiceProperties) {
  std::string xml = defaultServicePropertiesXml();
  pugi::xml_document doc;
  load(doc, xml);
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "StorageServiceProperties");
  EXPECT_EQ(childNames(root), (Names{"Logging", "HourMetrics", "MinuteMetrics", "Cors",
                                     "DeleteRetentionPolicy", "StaticWebsite"}));
  EXPECT_EQ(childNames(root.child("Logging")),
            (Names{"Version", "Delete", "Read", "Write", "RetentionPolicy"}));
  EXPECT_STREQ(root.child("Logging").child("Version").text().get(), "1.0");
  EXPECT_EQ(childNames(root.child("HourMetrics")),
            (Names{"Version", "Enabled", "RetentionPolicy"}));
  EXPECT_STREQ(root.child("MinuteMetrics").child("Enabled").text().get(), "false");
  EXPECT_STREQ(root.child("StaticWebsite").child("Enabled").text().get(), "false");
  EXPECT_TRUE(validateServiceProperties(xml));
}

TEST(BlobXml, ValidateServiceProperties) {
  EXPECT_TRUE(validateServiceProperties(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Cors/>"
      "</StorageServiceProperties>"));
  for (const char* bad : {"", "<StorageServiceProperties>", "<Other/>", "junk"}) {
    Status s = validateServiceProperties(bad);
    EXPECT_EQ(s.code(), Code::kMalformedXml) << bad;
  }
}

}  // namespace
}  // namespace ember::blob
