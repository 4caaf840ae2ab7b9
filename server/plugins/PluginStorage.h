// Each plugin's persistent key-value storage (table plugin_storage). Stateless,
// like the other stores: reads take a pool lease, writes run inside a
// CommitQueue job, so that a put is durable when its job's future is.
// A plugin only ever reaches its own keys.
#pragma once

#include "store/Sqlite.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus::plugins {

class PluginStorage {
public:
    static constexpr std::size_t maxKeyBytes = 256;
    static constexpr std::size_t maxValueBytes = 1024 * 1024;

    // Keys are 1 to maxKeyBytes bytes of UTF-8 without NUL (std::invalid_argument
    // when empty, not UTF-8 or with a NUL; std::length_error when longer); values
    // are any bytes, at most maxValueBytes (std::length_error). `plugin` is the
    // plugin's configured name (std::invalid_argument when not a valid one).
    static void put(store::Database& db, std::string_view plugin, std::string_view key, std::string_view value);
    static std::optional<std::string> get(store::Database& db, std::string_view plugin, std::string_view key);
    // False when there was no such key.
    static bool remove(store::Database& db, std::string_view plugin, std::string_view key);
    // At most `limit` (key, value) pairs whose key starts with `prefix` ("" for
    // all; at most maxKeyBytes bytes), in byte order of the keys.
    static std::vector<std::pair<std::string, std::string>> list(store::Database& db, std::string_view plugin,
                                                                 std::string_view prefix, std::size_t limit);
};

}  // namespace plexus::plugins
