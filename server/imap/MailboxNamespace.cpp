#include "imap/MailboxNamespace.h"

#include <Poco/Ascii.h>
#include <Poco/String.h>

#include <algorithm>
#include <map>

namespace plexus::imap {

namespace {

bool isInbox(std::string_view name)
{
    return Poco::icompare(std::string(name), "INBOX") == 0;
}

// "INBOX" in any case, alone or as the first level, is written "INBOX".
std::string canonicalRelative(std::string_view name)
{
    if (name.size() >= 5 && isInbox(name.substr(0, 5)) && (name.size() == 5 || name[5] == kSeparator))
        return "INBOX" + std::string(name.substr(5));
    return std::string(name);
}

bool startsWith(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string MailboxNamespace::canonical(std::string_view name)
{
    for (const auto prefix : {kSharedPrefix, kOtherUsersPrefix}) {
        if (!startsWith(name, prefix)) continue;
        const auto rest = name.substr(prefix.size());
        const auto slash = rest.find(kSeparator);
        if (slash == std::string_view::npos) return std::string(name);
        return std::string(name.substr(0, prefix.size() + slash + 1)) + canonicalRelative(rest.substr(slash + 1));
    }
    return canonicalRelative(name);
}

bool MailboxNamespace::isOwnName(std::string_view name) const
{
    return !startsWith(name, kSharedPrefix) && !startsWith(name, kOtherUsersPrefix) &&
           name != kSharedPrefix.substr(0, kSharedPrefix.size() - 1) &&
           name != kOtherUsersPrefix.substr(0, kOtherUsersPrefix.size() - 1);
}

std::optional<std::pair<std::string, std::string>> MailboxNamespace::splitShared(std::string_view name) const
{
    for (const auto prefix : {kSharedPrefix, kOtherUsersPrefix}) {
        if (!startsWith(name, prefix)) continue;
        const auto rest = name.substr(prefix.size());
        const auto slash = rest.find(kSeparator);
        if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return std::nullopt;
        return std::pair{std::string(rest.substr(0, slash)), canonicalRelative(rest.substr(slash + 1))};
    }
    return std::nullopt;
}

std::optional<VisibleFolder> MailboxNamespace::resolve(store::Database& db, std::string_view name) const
{
    const std::string wanted = canonical(name);
    if (isOwnName(wanted)) {
        auto folder = store::FolderStore::find(db, user_.id, wanted);
        if (!folder) return std::nullopt;
        return VisibleFolder{*folder, wanted, std::string(store::FolderStore::kAllRights), true};
    }
    const auto shared = splitShared(wanted);
    if (!shared) return std::nullopt;
    const auto owner = accounts::AccountStore::find(db, shared->first);
    if (!owner || owner->id == user_.id) return std::nullopt;
    // The namespace must match the owner's kind: ORG mailboxes are under Shared/.
    const bool orgOwner = owner->type == accounts::AccountType::ORG;
    if (orgOwner != startsWith(wanted, kSharedPrefix)) return std::nullopt;
    auto folder = store::FolderStore::find(db, owner->id, shared->second);
    if (!folder) return std::nullopt;
    auto rights = store::FolderStore::rightsOf(db, *folder, user_.id, user_.address);
    if (rights.find_first_of("lr") == std::string::npos) return std::nullopt;
    return VisibleFolder{*folder, wanted, std::move(rights), false};
}

std::vector<VisibleFolder> MailboxNamespace::visibleFolders(store::Database& db) const
{
    std::vector<VisibleFolder> result;
    for (auto& folder : store::FolderStore::folders(db, user_.id)) {
        std::string name = folder.name;
        result.push_back({std::move(folder), std::move(name), std::string(store::FolderStore::kAllRights), true});
    }
    for (auto& shared : store::FolderStore::sharedWith(db, user_.address)) {
        const auto prefix = shared.ownerType == "ORG" ? kSharedPrefix : kOtherUsersPrefix;
        std::string name = std::string(prefix) + shared.ownerAddress + kSeparator + shared.folder.name;
        result.push_back({std::move(shared.folder), std::move(name), std::move(shared.rights), false});
    }
    return result;
}

std::vector<ListedName> MailboxNamespace::listAll(store::Database& db) const
{
    std::map<std::string, ListedName> names;
    for (const auto& visible : visibleFolders(db)) {
        auto& entry = names[visible.name];
        entry.name = visible.name;
        if (visible.folder.specialUse) entry.attributes.insert(*visible.folder.specialUse);
    }
    // Parents that are not folders themselves (namespace nodes, "a" above "a/b").
    std::map<std::string, ListedName> parents;
    for (const auto& [name, entry] : names) {
        for (auto slash = name.find(kSeparator); slash != std::string::npos; slash = name.find(kSeparator, slash + 1)) {
            const std::string parent = name.substr(0, slash);
            if (!names.contains(parent)) parents[parent] = ListedName{parent, {"\\Noselect"}};
        }
    }
    names.merge(parents);
    for (auto& [name, entry] : names) {
        const auto next = names.upper_bound(name + kSeparator);
        const bool hasChildren = next != names.end() && startsWith(next->first, name + kSeparator);
        entry.attributes.insert(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
    }
    std::vector<ListedName> result;
    for (auto& [name, entry] : names) result.push_back(std::move(entry));
    return result;
}

bool matchesListPattern(std::string_view name, std::string_view pattern)
{
    // Dynamic programming over (name prefix, pattern prefix): linear in each, whatever the wildcards.
    const std::string wanted = MailboxNamespace::canonical(pattern);
    // The letters of a leading "INBOX" match in any case ("inb*" finds INBOX).
    const bool inbox = name.starts_with("INBOX") && (name.size() == 5 || name[5] == kSeparator);
    const std::size_t inboxLetters = inbox ? 5 : 0;
    const auto same = [&](std::size_t i, char p) {
        return name[i] == p || (i < inboxLetters && name[i] == Poco::Ascii::toUpper(p));
    };
    std::vector<char> row(name.size() + 1, 0), next(name.size() + 1, 0);
    row[0] = 1;
    for (const char p : wanted) {
        std::fill(next.begin(), next.end(), 0);
        if (p == '*' || p == '%') {
            char reachable = 0;
            for (std::size_t i = 0; i <= name.size(); ++i) {
                if (p == '%' && i > 0 && name[i - 1] == kSeparator) reachable = 0;
                reachable = static_cast<char>(reachable | row[i]);
                next[i] = reachable;
            }
        } else {
            for (std::size_t i = 1; i <= name.size(); ++i) next[i] = static_cast<char>(row[i - 1] && same(i - 1, p));
        }
        row.swap(next);
    }
    return row[name.size()] != 0;
}

}  // namespace plexus::imap
