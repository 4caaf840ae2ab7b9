#include "plugins/SyncedDirectory.h"

#include "directory/DirectoryQueries.h"

#include <algorithm>

namespace plexus::plugins {

namespace {

DirectoryEntry entryOf(const directory::DirectoryHit& hit)
{
    DirectoryEntry entry;
    entry.address = hit.mailbox.address;
    entry.type = hit.mailbox.type;
    entry.nationalId = hit.mailbox.ownerNationalId;
    entry.structureId = hit.mailbox.ownerStructureId;
    entry.displayName = hit.displayName();
    entry.profession = hit.person ? hit.person->professionLabel : "";
    entry.city = hit.structure ? hit.structure->city : "";
    entry.source = hit.mailbox.source;
    return entry;
}

}  // namespace

std::optional<DirectoryEntry> SyncedDirectory::lookup(std::string_view address)
{
    if (auto entry = local_.lookup(address)) return entry;
    auto db = directory_.acquire();
    if (const auto hit = directory::lookupAddress(*db, address)) return entryOf(*hit);
    return std::nullopt;
}

std::vector<DirectoryEntry> SyncedDirectory::search(const DirectoryQuery& query)
{
    const std::size_t limit = effectiveLimit(query);
    auto entries = local_.search(query);
    std::vector<directory::DirectoryHit> hits;
    {
        auto db = directory_.acquire();
        if (!query.nationalId.empty()) {
            hits = directory::mailboxesOf(*db, query.nationalId, false);
        } else {
            try {
                hits = directory::search(*db, {.text = query.text, .profession = query.profession,
                                               .city = query.city, .limit = limit});
            } catch (const directory::InvalidQuery&) {
                // An overlong field matches nothing, as it would locally.
            }
        }
    }
    for (const auto& hit : hits) {
        if (entries.size() >= limit) break;
        if (std::ranges::none_of(entries, [&](const DirectoryEntry& e) { return e.address == hit.mailbox.address; }))
            entries.push_back(entryOf(hit));
    }
    if (entries.size() > limit) entries.resize(limit);
    return entries;
}

}  // namespace plexus::plugins
