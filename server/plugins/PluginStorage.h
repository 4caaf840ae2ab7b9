// PLACEHOLDER (replaced by the wt-http branch)
#pragma once
#include "store/Sqlite.h"
#include <optional>
#include <string>
#include <vector>
namespace plexus::plugins {
class PluginStorage { public:
static void put(store::Database&, const std::string& plugin, std::string_view key, std::string_view value);
static std::optional<std::string> get(store::Database&, const std::string& plugin, std::string_view key);
static bool remove(store::Database&, const std::string& plugin, std::string_view key);
static std::vector<std::pair<std::string, std::string>> list(store::Database&, const std::string& plugin, std::string_view prefix, std::size_t limit);
};
}
