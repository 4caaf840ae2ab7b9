#include "directory/Publication.h"

#include "directory/DirectoryQueries.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <set>

namespace plexus::directory {

MappedEntry describeLocalMailbox(store::Database& directory, const LocalMailbox& local)
{
    MappedEntry entry;
    entry.mailbox = Mailbox{"local", local.address, local.address, local.type, local.nationalId, local.structureId,
                            "", false};
    if (!local.nationalId.empty()) {
        auto persons = personsOf(directory, local.nationalId);
        if (persons.empty()) {
            entry.person = Person{};
            entry.person->nationalId = local.nationalId;
        } else {
            entry.person = std::move(persons.front());
        }
    }
    if (!local.structureId.empty()) {
        entry.structure = structureOf(directory, local.structureId);
        if (!entry.structure) {
            entry.structure = Structure{};
            // Same rule as the national file: 14 characters is a SIRET, anything else a FINESS.
            (local.structureId.size() == 14 ? entry.structure->siret : entry.structure->finess) = local.structureId;
        }
    }
    return entry;
}

PublicationState publicationState(store::Database& directory, std::string_view target)
{
    auto s = directory.prepare("SELECT address, hash, dn FROM publication WHERE target = ?");
    s.bind(1, target);
    PublicationState state;
    while (s.step()) state.emplace(s.text(0), PublishedState{s.text(1), s.text(2)});
    return state;
}

void recordPublished(store::Database& directory, std::string_view target, std::string_view address,
                     const PublishedState& state)
{
    directory.prepare("INSERT OR REPLACE INTO publication (target, address, hash, dn) VALUES (?, ?, ?, ?)")
        .bind(1, target)
        .bind(2, address)
        .bind(3, state.hash)
        .bind(4, state.dn)
        .run();
}

void forgetPublished(store::Database& directory, std::string_view target, std::string_view address)
{
    directory.prepare("DELETE FROM publication WHERE target = ? AND address = ?").bind(1, target).bind(2, address).run();
}

std::string publicationHash(const std::vector<std::string>& parts)
{
    Poco::SHA2Engine sha256(Poco::SHA2Engine::SHA_256);
    for (const auto& part : parts) {
        const auto length = std::to_string(part.size()) + ':';
        sha256.update(length.data(), static_cast<unsigned>(length.size()));
        sha256.update(part.data(), static_cast<unsigned>(part.size()));
    }
    return Poco::DigestEngine::digestToHex(sha256.digest());
}

PublicationPlan planPublication(const std::vector<PublicationItem>& current, const PublicationState& previous)
{
    PublicationPlan plan;
    std::set<std::string_view> present;
    for (std::size_t i = 0; i < current.size(); ++i) {
        const auto& item = current[i];
        present.insert(item.address);
        const auto before = previous.find(item.address);
        if (before == previous.end()) plan.added.push_back(i);
        else if (before->second == item.state) ++plan.unchanged;
        else plan.changed.push_back(i);
    }
    for (const auto& [address, state] : previous)
        if (!present.contains(address)) plan.removed.emplace_back(address, state);
    return plan;
}

}  // namespace plexus::directory
