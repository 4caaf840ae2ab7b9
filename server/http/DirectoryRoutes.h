// GET /api/directory/search?q=TEXT&profession=&specialty=&city=&structure=&limit=N:
// the national directory's visible mailboxes (JSON), for authenticated clients.
#pragma once

#include "http/ApiAuthentication.h"
#include "store/ConnectionPool.h"

namespace plexus::http {

// At most this many results per request (limit defaults to 20).
inline constexpr std::size_t directorySearchMaxLimit = 100;

// `directoryReads` reads the directory database; it must outlive the server.
void addDirectoryRoutes(HttpApi& api, const ApiAuthentication& authentication, store::ConnectionPool& directoryReads);

}  // namespace plexus::http
