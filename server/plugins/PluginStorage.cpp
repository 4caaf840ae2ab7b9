#include "plugins/PluginStorage.h"

#include "mime/Text.h"
#include "plugins/PluginLibrary.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace plexus::plugins {

namespace {

void checkPlugin(std::string_view plugin)
{
    if (!isValidPluginName(plugin))
        throw std::invalid_argument("plugin storage: \"" + std::string(plugin) + "\" is not a plugin name");
}

void checkKey(std::string_view key)
{
    if (key.empty()) throw std::invalid_argument("plugin storage key is empty");
    if (key.size() > PluginStorage::maxKeyBytes)
        throw std::length_error("plugin storage key is " + std::to_string(key.size()) + " bytes; at most " +
                                std::to_string(PluginStorage::maxKeyBytes));
    // Keys reach plugins as C strings: a NUL would cut them short.
    if (key.find('\0') != std::string_view::npos) throw std::invalid_argument("plugin storage key contains a NUL byte");
    if (!mime::isValidUtf8(key)) throw std::invalid_argument("plugin storage key is not valid UTF-8");
}

// The least string greater than every string starting with `prefix`, in byte
// order. Keys are UTF-8, which never has the byte 0xFF: "\xFF" is past them all.
std::string successorOf(std::string_view prefix)
{
    std::string next(prefix);
    while (!next.empty() && static_cast<unsigned char>(next.back()) == 0xFF) next.pop_back();
    if (next.empty()) return "\xFF";
    next.back() = static_cast<char>(static_cast<unsigned char>(next.back()) + 1);
    return next;
}

std::int64_t nowSeconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void PluginStorage::put(store::Database& db, std::string_view plugin, std::string_view key, std::string_view value)
{
    checkPlugin(plugin);
    checkKey(key);
    if (value.size() > maxValueBytes)
        throw std::length_error("plugin storage value is " + std::to_string(value.size()) + " bytes; at most " +
                                std::to_string(maxValueBytes) + " (1 MiB)");
    // Statement binds text only: CAST keeps the bytes as they are (embedded NULs
    // included) and stores them as a BLOB.
    db.prepare("INSERT INTO plugin_storage (plugin, key, value, updated_at) VALUES (?, ?, CAST(? AS BLOB), ?) "
               "ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
        .bind(1, plugin)
        .bind(2, key)
        .bind(3, value)
        .bind(4, nowSeconds())
        .run();
}

std::optional<std::string> PluginStorage::get(store::Database& db, std::string_view plugin, std::string_view key)
{
    checkPlugin(plugin);
    checkKey(key);
    auto stmt = db.prepare("SELECT value FROM plugin_storage WHERE plugin = ? AND key = ?");
    stmt.bind(1, plugin).bind(2, key);
    if (!stmt.step()) return std::nullopt;
    return stmt.text(0);
}

bool PluginStorage::remove(store::Database& db, std::string_view plugin, std::string_view key)
{
    checkPlugin(plugin);
    checkKey(key);
    db.prepare("DELETE FROM plugin_storage WHERE plugin = ? AND key = ?").bind(1, plugin).bind(2, key).run();
    return db.changes() > 0;
}

std::vector<std::pair<std::string, std::string>> PluginStorage::list(store::Database& db, std::string_view plugin,
                                                                     std::string_view prefix, std::size_t limit)
{
    checkPlugin(plugin);
    if (prefix.size() > maxKeyBytes)
        throw std::length_error("plugin storage prefix is " + std::to_string(prefix.size()) + " bytes; at most " +
                                std::to_string(maxKeyBytes));
    // A key range rather than LIKE: every byte of the prefix is literal, and the
    // primary key index serves the range. Keys compare as bytes (BINARY collation).
    auto stmt = db.prepare("SELECT key, value FROM plugin_storage WHERE plugin = ? AND key >= ? AND key < ? "
                           "ORDER BY key LIMIT ?");
    stmt.bind(1, plugin)
        .bind(2, prefix)
        .bind(3, successorOf(prefix))
        .bind(4, static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<std::pair<std::string, std::string>> entries;
    while (stmt.step()) entries.emplace_back(stmt.text(0), stmt.text(1));
    return entries;
}

}  // namespace plexus::plugins
