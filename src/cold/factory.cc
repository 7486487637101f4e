// makeColdStore (cold_store.h): common checks, the TLS context, then the protocol's constructor.
#include "cold/store_factory.h"

namespace ember::cold {

Result<std::unique_ptr<ColdStore>> makeColdStore(asio::any_io_executor executor,
                                                 ColdStoreConfig config) {
  if (config.partSize == 0 || config.parallelParts < 1) {
    return unexpected(Code::kInvalidArgument, "cold store partSize and parallelParts must be > 0");
  }
  if (config.multipartThreshold < 1) {
    config.multipartThreshold = 1;
  }
  auto tls = http::TlsContext::create(config.caFile);
  EMBER_TRY(tls);
  if (config.location.kind == ColdLocation::Kind::kAzure) {
    return makeAzureStore(std::move(executor), std::move(config), std::move(*tls));
  }
  return makeS3Store(std::move(executor), std::move(config), std::move(*tls));
}

}  // namespace ember::cold
