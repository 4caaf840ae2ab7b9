// /api/plugins/<name>/...: plugins' HTTP routes, behind the API's
// authentication, with bounded request bodies; credentials never reach a plugin.
#pragma once

#include "http/ApiAuthentication.h"
#include "http/HttpApi.h"
#include "plugins/PluginHost.h"

namespace plexus::http {

inline constexpr std::size_t kPluginRequestLimit = 1 << 20;

void addPluginRoutes(HttpApi& api, const ApiAuthentication& authentication, plugins::PluginHost& plugins);

}  // namespace plexus::http
