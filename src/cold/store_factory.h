#pragma once
// The per-protocol constructors behind makeColdStore (cold_store.h). Internal to src/cold.

#include <memory>

#include "cold/cold_store.h"
#include "http/client.h"

namespace ember::cold {

// Both check the credentials and endpoint in `config` (kInvalidArgument when unusable).
Result<std::unique_ptr<ColdStore>> makeAzureStore(asio::any_io_executor executor,
                                                  ColdStoreConfig config,
                                                  std::shared_ptr<http::TlsContext> tls);
Result<std::unique_ptr<ColdStore>> makeS3Store(asio::any_io_executor executor,
                                               ColdStoreConfig config,
                                               std::shared_ptr<http::TlsContext> tls);

}  // namespace ember::cold
