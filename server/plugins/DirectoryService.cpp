#include "plugins/DirectoryService.h"

#include "accounts/AccountStore.h"

#include <algorithm>
#include <cstdint>

namespace plexus::plugins {

namespace {

DirectoryEntry localEntry(std::string address, std::string type, std::optional<std::string> nationalId,
                          std::optional<std::string> structureId)
{
    DirectoryEntry entry;
    entry.address = std::move(address);
    entry.type = std::move(type);
    entry.nationalId = nationalId.value_or("");
    entry.structureId = structureId.value_or("");
    entry.source = "local";
    return entry;
}

// A LIKE pattern matching values that start with `text`, every character of
// it literal (escape character '\').
std::string startsWithPattern(std::string_view text)
{
    std::string pattern;
    for (const char c : text) {
        if (c == '\\' || c == '%' || c == '_') pattern += '\\';
        pattern += c;
    }
    return pattern + '%';
}

}  // namespace

std::size_t DirectoryService::effectiveLimit(const DirectoryQuery& query)
{
    return query.limit == 0 ? defaultLimit : std::min(query.limit, maxLimit);
}

std::optional<DirectoryEntry> LocalDirectory::lookup(std::string_view address)
{
    auto db = pool_.acquire();
    const auto account = accounts::AccountStore::find(*db, address);  // the address column is COLLATE NOCASE
    if (!account) return std::nullopt;
    return localEntry(account->address, std::string(accounts::toString(account->type)), account->nationalId,
                      account->structureId);
}

std::vector<DirectoryEntry> LocalDirectory::search(const DirectoryQuery& query)
{
    // Local accounts have no profession or city: a query asking for one matches none of them.
    if (!query.profession.empty() || !query.city.empty()) return {};
    auto db = pool_.acquire();
    // LIKE is case-insensitive for ASCII, which addresses and national ids are.
    auto stmt = db->prepare(
        "SELECT address, type, national_id, structure_id FROM accounts "
        "WHERE (address LIKE ?1 ESCAPE '\\' OR substr(address, instr(address, '@') + 1) LIKE ?1 ESCAPE '\\' "
        "       OR national_id LIKE ?1 ESCAPE '\\') "
        "  AND (?2 = '' OR national_id = ?2) "
        "ORDER BY address LIMIT ?3");
    stmt.bind(1, startsWithPattern(query.text))
        .bind(2, query.nationalId)
        .bind(3, static_cast<std::int64_t>(effectiveLimit(query)));
    std::vector<DirectoryEntry> entries;
    while (stmt.step())
        entries.push_back(localEntry(stmt.text(0), stmt.text(1), stmt.optionalText(2), stmt.optionalText(3)));
    return entries;
}

}  // namespace plexus::plugins
