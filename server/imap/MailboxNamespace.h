// The names a user sees (RFC 2342 NAMESPACE): their own folders at the top
// ("INBOX", "Sent", "Projets/2026"), organizational mailboxes delegated to
// them under "Shared/<address>/", and other people's folders shared with
// them (RFC 4314 ACL) under "Other Users/<address>/". The hierarchy
// separator is "/". Names here are UTF-8; the wire form is modified UTF-7.
#pragma once

#include "accounts/AccountStore.h"
#include "store/FolderStore.h"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::imap {

inline constexpr char kSeparator = '/';
inline constexpr std::string_view kSharedPrefix = "Shared/";
inline constexpr std::string_view kOtherUsersPrefix = "Other Users/";

// A folder the user may see, with their rights on it.
struct VisibleFolder {
    store::Folder folder;
    std::string name;    // as the user sees it
    std::string rights;  // RFC 4314 letters
    bool own = false;
};

struct ListedName {
    std::string name;
    std::set<std::string> attributes;  // "\Noselect", "\HasChildren", "\Sent", ...
};

class MailboxNamespace {
public:
    explicit MailboxNamespace(accounts::Account user) : user_(std::move(user)) {}

    const accounts::Account& user() const { return user_; }

    // INBOX is case-insensitive, in the user's own namespace and in shared ones.
    static std::string canonical(std::string_view name);

    // The folder behind a name, if it exists and the user has the "l" or "r"
    // right on it (others' folders the user may not see do not exist for them).
    std::optional<VisibleFolder> resolve(store::Database& db, std::string_view name) const;
    // Whether `name` would be one of the user's own folders (not in a shared namespace).
    bool isOwnName(std::string_view name) const;
    // For a name in a shared namespace: the owner's address and the folder name relative to them.
    std::optional<std::pair<std::string, std::string>> splitShared(std::string_view name) const;

    // Every folder the user may see, and the namespace and parent nodes above
    // them (\Noselect), with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes.
    std::vector<ListedName> listAll(store::Database& db) const;
    std::vector<VisibleFolder> visibleFolders(store::Database& db) const;

private:
    accounts::Account user_;
};

// RFC 3501 §6.3.8 LIST pattern matching: "*" matches anything, "%" anything
// but the separator; INBOX compares case-insensitively.
bool matchesListPattern(std::string_view name, std::string_view pattern);

}  // namespace plexus::imap
