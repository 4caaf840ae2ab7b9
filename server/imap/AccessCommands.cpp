// Access control lists (RFC 4314) and quota (RFC 9208) commands.
#include "imap/ImapSession.h"

#include "events/EventLog.h"
#include "imap/MailboxName.h"
#include "imap/ResponseSyntax.h"

#include <Poco/String.h>

namespace plexus::imap {

namespace {

std::string wireName(const std::string& utf8)
{
    return imapString(encodeMailboxName(utf8));
}

// Applies "+rights", "-rights" or "rights" (RFC 4314 §3.1) to the current ones.
std::string modifiedRights(const std::string& current, const std::string& change)
{
    const auto letters = [](std::string_view text) {
        std::string valid;
        for (const char c : text) {
            // Obsolete RFC 2086 rights (RFC 4314 §2.1.1): c → k, d → x t e.
            if (c == 'c') valid += 'k';
            else if (c == 'd') valid += "xte";
            else if (store::FolderStore::kAllRights.find(c) != std::string_view::npos) valid += c;
            else throw CommandFailure{"BAD", std::string("Unknown right ") + c};
        }
        return valid;
    };
    std::string result;
    if (!change.empty() && (change[0] == '+' || change[0] == '-')) {
        const std::string delta = letters(std::string_view(change).substr(1));
        for (const char c : store::FolderStore::kAllRights) {
            const bool had = current.find(c) != std::string::npos;
            const bool named = delta.find(c) != std::string::npos;
            if (change[0] == '+' ? had || named : had && !named) result += c;
        }
        return result;
    }
    const std::string wanted = letters(change);
    for (const char c : store::FolderStore::kAllRights)
        if (wanted.find(c) != std::string::npos) result += c;
    return result;
}

}  // namespace

// RFC 4314 §3.3
void ImapSession::handleGetAcl(const Command& command)
{
    const std::string name = mailboxArg(command.args, 0);
    if (command.args.size() != 1) throw CommandFailure{"BAD", "GETACL mailbox"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    if (visible->rights.find('a') == std::string::npos) throw CommandFailure{"NO", "[NOPERM] You may not read this ACL"};
    auto db = services_.reads.acquire();
    const std::string owner = visible->own ? namespace_->user().address : namespace_->splitShared(visible->name)->first;
    std::string line = "ACL " + wireName(visible->name) + " " + imapAString(owner) + " " +
                       std::string(store::FolderStore::kAllRights);
    for (const auto& entry : store::FolderStore::acl(*db, visible->folder.id))
        line += " " + imapAString(entry.identifier) + " " + entry.rights;
    untagged(line);
    ok(command);
}

// RFC 4314 §3.1 SETACL, §3.2 DELETEACL
void ImapSession::handleSetAcl(const Command& command, bool remove)
{
    const auto& args = command.args;
    const std::string name = mailboxArg(args, 0);
    if (args.size() != (remove ? 2u : 3u) || !args[1].isAstring() || (!remove && !args[2].isAstring()))
        throw CommandFailure{"BAD", remove ? "DELETEACL mailbox identifier" : "SETACL mailbox identifier rights"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    if (visible->rights.find('a') == std::string::npos) throw CommandFailure{"NO", "[NOPERM] You may not change this ACL"};
    const std::string identifier = Poco::toLower(args[1].text);
    auto db = services_.reads.acquire();
    const auto target = identifier == "anyone" ? std::nullopt : accounts::AccountStore::find(*db, identifier);
    if (identifier != "anyone" && !target) throw CommandFailure{"NO", "[CANNOT] No such identifier " + identifier.substr(0, 200)};
    if (target && target->id == visible->folder.accountId) throw CommandFailure{"NO", "[CANNOT] The owner's rights are fixed"};
    std::string current;
    for (const auto& entry : store::FolderStore::acl(*db, visible->folder.id))
        if (Poco::icompare(entry.identifier, identifier) == 0) current = entry.rights;
    const std::string rights = remove ? std::string() : modifiedRights(current, args[2].text);
    // Sessions with the folder selected are told, so that they may look at their rights again.
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("identifier", identifier);
    detail.set("rights", rights);
    write([&](store::Database& w) {
        store::FolderStore::setAcl(w, visible->folder.id, identifier, rights);
        events::EventLog::append(w, {"acl.changed", namespace_->user().address, peer(), visible->name, "success",
                                     events::detailJson(detail)});
    }, {visible->folder.id});
    ok(command);
}

// RFC 4314 §3.4: the owner has every right; others may get any of them.
void ImapSession::handleListRights(const Command& command)
{
    const auto& args = command.args;
    const std::string name = mailboxArg(args, 0);
    if (args.size() != 2 || !args[1].isAstring()) throw CommandFailure{"BAD", "LISTRIGHTS mailbox identifier"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    if (visible->rights.find('a') == std::string::npos) throw CommandFailure{"NO", "[NOPERM] You may not read this ACL"};
    auto db = services_.reads.acquire();
    const auto target = accounts::AccountStore::find(*db, args[1].text);
    std::string line = "LISTRIGHTS " + wireName(visible->name) + " " + imapAString(args[1].text);
    if (target && target->id == visible->folder.accountId) {
        line += " " + std::string(store::FolderStore::kAllRights);
    } else {
        line += " \"\"";
        for (const char c : store::FolderStore::kAllRights) line += std::string(" ") + c;
    }
    untagged(line);
    ok(command);
}

// RFC 4314 §3.5
void ImapSession::handleMyRights(const Command& command)
{
    const std::string name = mailboxArg(command.args, 0);
    if (command.args.size() != 1) throw CommandFailure{"BAD", "MYRIGHTS mailbox"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    untagged("MYRIGHTS " + wireName(visible->name) + " " + visible->rights);
    ok(command);
}

namespace {

// One quota root per account: "" for the user's own, the owner's address for shared folders.
std::string quotaLine(const std::string& root, const store::FolderStore::Quota& quota)
{
    return "QUOTA " + imapString(root) + " (STORAGE " + std::to_string((quota.usedBytes + 1023) / 1024) + " " +
           std::to_string(quota.limitBytes / 1024) + ")";
}

}  // namespace

// RFC 9208 §4.2
void ImapSession::handleGetQuota(const Command& command)
{
    if (command.args.size() != 1 || !command.args[0].isAstring()) throw CommandFailure{"BAD", "GETQUOTA root"};
    const std::string& root = command.args[0].text;
    auto db = services_.reads.acquire();
    std::optional<std::int64_t> account;
    if (root.empty()) {
        account = namespace_->user().id;
    } else if (const auto owner = accounts::AccountStore::find(*db, root)) {
        // Only the roots of folders shared with the user exist for them.
        for (const auto& visible : namespace_->visibleFolders(*db))
            if (visible.folder.accountId == owner->id) account = owner->id;
    }
    if (!account) throw CommandFailure{"NO", "[NONEXISTENT] No such quota root"};
    untagged(quotaLine(root, store::FolderStore::quota(*db, *account)));
    ok(command);
}

// RFC 9208 §4.3
void ImapSession::handleGetQuotaRoot(const Command& command)
{
    const std::string name = mailboxArg(command.args, 0);
    if (command.args.size() != 1) throw CommandFailure{"BAD", "GETQUOTAROOT mailbox"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    const std::string root = visible->own ? "" : namespace_->splitShared(visible->name)->first;
    auto db = services_.reads.acquire();
    untagged("QUOTAROOT " + wireName(visible->name) + " " + imapString(root));
    untagged(quotaLine(root, store::FolderStore::quota(*db, visible->folder.accountId)));
    ok(command);
}

// RFC 9208 §4.1: limits are the operator's (plexusctl), not the user's.
void ImapSession::handleSetQuota(const Command& command)
{
    if (command.args.size() != 2 || !command.args[1].isList()) throw CommandFailure{"BAD", "SETQUOTA root (resource limit ...)"};
    throw CommandFailure{"NO", "[NOPERM] Quotas are set by the operator"};
}

}  // namespace plexus::imap
