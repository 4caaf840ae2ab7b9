// Authenticated-state commands (RFC 3501 §6.3) and the extensions acting on
// whole mailboxes: NAMESPACE, IDLE, ACL, QUOTA.
#include "imap/ImapSession.h"

#include "events/EventLog.h"
#include "intake/MessageReceiver.h"
#include "imap/Flags.h"
#include "imap/MailboxName.h"
#include "imap/ResponseSyntax.h"
#include "imap/SequenceSet.h"
#include "net/IdleMemory.h"

#include <Poco/String.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <sstream>

namespace plexus::imap {

namespace {

const std::string kSystemFlags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

std::string wireName(const std::string& utf8)
{
    return imapString(encodeMailboxName(utf8));
}

std::string attributesOf(const std::set<std::string>& attributes)
{
    std::string text;
    for (const auto& attribute : attributes) text += (text.empty() ? "" : " ") + attribute;
    return "(" + text + ")";
}

}  // namespace

// RFC 3501 §6.3.1/§6.3.2; CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5).
void ImapSession::handleSelect(const Command& command, bool readOnly)
{
    const auto& args = command.args;
    const std::string name = mailboxArg(args, 0);
    struct Qresync {
        std::int64_t uidValidity, modseq;
        std::optional<SequenceSet> knownUids;
    };
    std::optional<Qresync> qresync;
    if (args.size() > 2) throw CommandFailure{"BAD", "Too many arguments"};
    if (args.size() == 2) {
        const auto& params = args[1];
        if (!params.isList() || params.items.empty()) throw CommandFailure{"BAD", "SELECT parameters are a list"};
        for (std::size_t i = 0; i < params.items.size(); ++i) {
            const auto& param = params.items[i];
            if (param.is("CONDSTORE")) {
                condstore_ = true;
            } else if (param.is("QRESYNC") && i + 1 < params.items.size() && params.items[i + 1].isList()) {
                if (!qresync_) throw CommandFailure{"BAD", "QRESYNC must be enabled first (ENABLE QRESYNC)"};
                const auto& q = params.items[++i].items;
                if (q.size() < 2 || !q[0].isAtom() || !q[1].isAtom()) throw CommandFailure{"BAD", "QRESYNC (uidvalidity modseq [known-uids])"};
                try {
                    qresync = Qresync{std::stoll(q[0].text), std::stoll(q[1].text), std::nullopt};
                } catch (const std::exception&) {
                    throw CommandFailure{"BAD", "QRESYNC numbers expected"};
                }
                if (q.size() >= 3 && q[2].isAtom()) {
                    qresync->knownUids = SequenceSet::parse(q[2].text);
                    if (!qresync->knownUids) throw CommandFailure{"BAD", "Invalid known-uids"};
                }
            } else {
                throw CommandFailure{"BAD", "Unknown SELECT parameter"};
            }
        }
    }
    // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
    if (selected_) {
        selected_.reset();
        state_ = State::Authenticated;
        if (qresync_) untagged("OK [CLOSED] Previous mailbox closed");
    }
    auto visible = resolve(name);
    if (!visible || visible->rights.find('r') == std::string::npos)
        throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};

    SelectedMailbox view;
    view.folder = visible->folder;
    view.name = visible->name;
    view.rights = visible->rights;
    view.examined = readOnly;
    view.readOnly = readOnly || visible->rights.find_first_of("stwe") == std::string::npos;
    loadView(view, !view.readOnly);

    std::set<std::string> keywords;
    std::uint32_t firstUnseen = 0, recent = 0;
    for (std::size_t i = 0; i < view.messages.size(); ++i) {
        const auto& message = view.messages[i];
        std::istringstream flags(message.flags);
        bool seen = false;
        for (std::string flag; flags >> flag;) {
            if (flag[0] != '\\') keywords.insert(flag);
            else if (flag == "\\Seen") seen = true;
        }
        if (!seen && firstUnseen == 0) firstUnseen = static_cast<std::uint32_t>(i + 1);
        if (message.recent) ++recent;
    }
    std::string flagList = kSystemFlags;
    for (const auto& keyword : keywords) flagList += " " + keyword;
    untagged("FLAGS (" + flagList + ")");
    // Only the flags this user may change (RFC 3501 §6.3.1; RFC 4314 §4: \Seen needs
    // "s", \Deleted "t", the others and new keywords "w").
    std::string permanent;
    if (!view.readOnly) {
        for (const std::string flag : {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"})
            if (view.may(flag == "\\Seen" ? 's' : flag == "\\Deleted" ? 't' : 'w')) permanent += " " + flag;
        if (view.may('w')) permanent += flagList.substr(kSystemFlags.size()) + " \\*";
    }
    untagged("OK [PERMANENTFLAGS (" + (permanent.empty() ? permanent : permanent.substr(1)) + ")] Flags permitted");
    untagged(std::to_string(view.exists()) + " EXISTS");
    untagged(std::to_string(recent) + " RECENT");
    if (firstUnseen) untagged("OK [UNSEEN " + std::to_string(firstUnseen) + "] First unseen");
    untagged("OK [UIDVALIDITY " + std::to_string(view.folder.uidValidity) + "] UIDs valid");
    untagged("OK [UIDNEXT " + std::to_string(view.folder.uidNext) + "] Predicted next UID");
    untagged("OK [HIGHESTMODSEQ " + std::to_string(view.knownModseq) + "] Highest");

    if (qresync && qresync->uidValidity == view.folder.uidValidity) {
        auto db = services_.reads.acquire();
        std::vector<std::uint32_t> vanished;
        for (const auto uid : store::FolderStore::expungedSince(*db, view.folder.id, qresync->modseq)) {
            const auto u = static_cast<std::uint32_t>(uid);
            if (!qresync->knownUids || qresync->knownUids->contains(u, view.largestUid())) vanished.push_back(u);
        }
        if (!vanished.empty()) untagged("VANISHED (EARLIER) " + formatSequenceSet(vanished));
        for (std::size_t i = 0; i < view.messages.size(); ++i) {
            const auto& message = view.messages[i];
            if (message.modseq > qresync->modseq)
                untagged(std::to_string(i + 1) + " FETCH (UID " + std::to_string(message.uid) + " FLAGS (" +
                         flagsOf(message) + ") MODSEQ (" + std::to_string(message.modseq) + "))");
        }
    }
    selected_ = std::move(view);
    state_ = State::Selected;
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("folder_id", selected_->folder.id);
    detail.set("read_only", selected_->readOnly);
    recordEvent("mailbox.select", selected_->name, "success", events::detailJson(detail));
    ok(command, std::string(selected_->readOnly ? "[READ-ONLY]" : "[READ-WRITE]") + " " +
                    (readOnly ? "EXAMINE" : "SELECT") + " completed");
}

// RFC 3501 §6.3.3: missing parents are created too; a trailing separator is dropped.
void ImapSession::handleCreate(const Command& command)
{
    std::string name = mailboxArg(command.args, 0);
    if (command.args.size() > 2) throw CommandFailure{"BAD", "CREATE mailbox"};
    while (!name.empty() && name.back() == kSeparator) name.pop_back();
    if (name.empty()) throw CommandFailure{"NO", "[CANNOT] Empty mailbox name"};
    if (Poco::icompare(name, "INBOX") == 0) throw CommandFailure{"NO", "[ALREADYEXISTS] INBOX always exists"};
    auto db = services_.reads.acquire();
    std::int64_t ownerId = namespace_->user().id;
    std::string relative = name;
    if (!namespace_->isOwnName(name)) {
        // In a shared namespace: the "k" right on the nearest existing parent
        // (RFC 4314 §4), on the owner's INBOX at the top level, whose ACL the
        // new folder then gets (FolderStore::create).
        const auto split = namespace_->splitShared(name);
        if (!split) throw CommandFailure{"NO", "[NOPERM] You may not create mailboxes there"};
        const std::string prefix = name.substr(0, name.size() - split->second.size());
        std::optional<VisibleFolder> parent;
        for (std::string above = split->second; !parent;) {
            const auto slash = above.rfind(kSeparator);
            if (slash == std::string::npos || slash == 0) break;
            above.resize(slash);
            parent = namespace_->resolve(*db, prefix + above);
        }
        if (!parent) parent = namespace_->resolve(*db, prefix + "INBOX");
        if (!parent || parent->rights.find('k') == std::string::npos)
            throw CommandFailure{"NO", "[NOPERM] You may not create mailboxes there"};
        ownerId = parent->folder.accountId;
        relative = split->second;
    }
    if (store::FolderStore::find(*db, ownerId, relative)) throw CommandFailure{"NO", "[ALREADYEXISTS] Mailbox exists"};
    std::vector<std::string> missing;
    for (auto slash = relative.find(kSeparator); slash != std::string::npos; slash = relative.find(kSeparator, slash + 1))
        if (!store::FolderStore::find(*db, ownerId, relative.substr(0, slash))) missing.push_back(relative.substr(0, slash));
    missing.push_back(relative);
    write([&](store::Database& w) {
        for (const auto& folder : missing) store::FolderStore::create(w, ownerId, folder);
        events::EventLog::append(w, {"mailbox.created", namespace_->user().address, peer(), name, "success", "{}"});
    });
    ok(command);
}

// RFC 3501 §6.3.4
void ImapSession::handleDelete(const Command& command)
{
    const std::string name = mailboxArg(command.args, 0);
    if (command.args.size() != 1) throw CommandFailure{"BAD", "DELETE mailbox"};
    if (Poco::icompare(name, "INBOX") == 0) throw CommandFailure{"NO", "[CANNOT] INBOX cannot be deleted"};
    const auto visible = resolve(name);
    if (!visible) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    if (visible->rights.find('x') == std::string::npos) throw CommandFailure{"NO", "[NOPERM] You may not delete this mailbox"};
    std::vector<std::string> released;
    write([&](store::Database& db) {
        released = store::FolderStore::remove(db, visible->folder);
        events::EventLog::append(db, {"mailbox.deleted", namespace_->user().address, peer(), name, "success", "{}"});
    }, {visible->folder.id});
    services_.mailboxes.unlinkBlobs(released);
    if (selected_ && selected_->folder.id == visible->folder.id) {
        selected_.reset();
        state_ = State::Authenticated;
    }
    ok(command);
}

// RFC 3501 §6.3.5, within the user's own folders.
void ImapSession::handleRename(const Command& command)
{
    const std::string from = mailboxArg(command.args, 0);
    std::string to = mailboxArg(command.args, 1);
    if (command.args.size() != 2) throw CommandFailure{"BAD", "RENAME from to"};
    while (!to.empty() && to.back() == kSeparator) to.pop_back();
    if (!namespace_->isOwnName(from) || !namespace_->isOwnName(to))
        throw CommandFailure{"NO", "[CANNOT] Only your own mailboxes can be renamed"};
    if (Poco::icompare(to, "INBOX") == 0) throw CommandFailure{"NO", "[ALREADYEXISTS] INBOX always exists"};
    const auto source = resolve(from);
    if (!source) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + from.substr(0, 200)};
    if (resolve(to)) throw CommandFailure{"NO", "[ALREADYEXISTS] Mailbox " + to.substr(0, 200) + " exists"};
    const std::int64_t owner = namespace_->user().id;
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("to", to);
    write([&](store::Database& db) {
        // Missing parents of the new name are created (RFC 3501 §6.3.5).
        for (auto slash = to.find(kSeparator); slash != std::string::npos; slash = to.find(kSeparator, slash + 1))
            if (!store::FolderStore::find(db, owner, to.substr(0, slash))) store::FolderStore::create(db, owner, to.substr(0, slash));
        store::FolderStore::rename(db, owner, from, to);
        events::EventLog::append(db, {"mailbox.renamed", namespace_->user().address, peer(), from, "success",
                                      events::detailJson(detail)});
    }, {source->folder.id});
    if (selected_ && selected_->folder.id == source->folder.id && from != "INBOX") {
        selected_->name = to;
    }
    ok(command);
}

// RFC 3501 §6.3.6/§6.3.7: subscriptions are names, existing or not.
void ImapSession::handleSubscribe(const Command& command, bool subscribe)
{
    const std::string name = mailboxArg(command.args, 0);
    if (command.args.size() != 1) throw CommandFailure{"BAD", "Mailbox name expected"};
    if (subscribe && !resolve(name)) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    write([&](store::Database& db) {
        if (subscribe) store::FolderStore::subscribe(db, namespace_->user().id, name);
        else store::FolderStore::unsubscribe(db, namespace_->user().id, name);
    });
    ok(command);
}

// RFC 3501 §6.3.8/§6.3.9 with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes.
void ImapSession::handleList(const Command& command, bool lsub)
{
    const auto& args = command.args;
    if (args.size() != 2 || !args[0].isAstring() || !args[1].isAstring())
        throw CommandFailure{"BAD", std::string(lsub ? "LSUB" : "LIST") + " reference pattern"};
    const auto reference = decodeMailboxName(args[0].text);
    const auto pattern = decodeMailboxName(args[1].text);
    if (!reference || !pattern) throw CommandFailure{"BAD", "Names are modified UTF-7 (RFC 3501 5.1.3)"};
    const std::string verb = lsub ? "LSUB" : "LIST";
    if (pattern->empty()) {
        // The hierarchy delimiter and the root of the reference.
        if (!lsub) untagged("LIST (\\Noselect) \"/\" \"\"");
        ok(command);
        return;
    }
    const std::string full = *reference + *pattern;
    auto db = services_.reads.acquire();
    const auto names = namespace_->listAll(*db);
    if (!lsub) {
        for (const auto& entry : names)
            if (matchesListPattern(entry.name, full))
                untagged("LIST " + attributesOf(entry.attributes) + " \"/\" " + wireName(entry.name));
        ok(command);
        return;
    }
    std::set<std::string> existing;
    for (const auto& entry : names)
        if (!entry.attributes.contains("\\Noselect")) existing.insert(entry.name);
    std::set<std::string> listed;
    for (const auto& subscribed : store::FolderStore::subscriptions(*db, namespace_->user().id)) {
        if (matchesListPattern(subscribed, full)) {
            listed.insert(subscribed);
            untagged("LSUB " + std::string(existing.contains(subscribed) ? "()" : "(\\Noselect)") + " \"/\" " + wireName(subscribed));
            continue;
        }
        // RFC 3501 §6.3.9: "%" matching a parent of a subscribed name lists it as \Noselect.
        for (auto slash = subscribed.find(kSeparator); slash != std::string::npos; slash = subscribed.find(kSeparator, slash + 1)) {
            const std::string parent = subscribed.substr(0, slash);
            if (matchesListPattern(parent, full) && listed.insert(parent).second)
                untagged("LSUB (\\Noselect) \"/\" " + wireName(parent));
        }
    }
    ok(command);
}

// RFC 3501 §6.3.10, HIGHESTMODSEQ of RFC 7162 §3.1.9.
void ImapSession::handleStatus(const Command& command)
{
    const auto& args = command.args;
    const std::string name = mailboxArg(args, 0);
    if (args.size() != 2 || !args[1].isList() || args[1].items.empty()) throw CommandFailure{"BAD", "STATUS mailbox (items)"};
    const auto visible = resolve(name);
    if (!visible || visible->rights.find('r') == std::string::npos)
        throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    auto db = services_.reads.acquire();
    const auto folder = store::FolderStore::byId(*db, visible->folder.id);
    if (!folder) throw CommandFailure{"NO", "[NONEXISTENT] No mailbox " + name.substr(0, 200)};
    const auto counts = store::FolderStore::counts(*db, folder->id);
    std::string items;
    for (const auto& item : args[1].items) {
        const std::string key = item.isAtom() ? Poco::toUpper(item.text) : "";
        std::string value;
        if (key == "MESSAGES") value = std::to_string(counts.messages);
        else if (key == "UNSEEN") value = std::to_string(counts.unseen);
        else if (key == "UIDNEXT") value = std::to_string(folder->uidNext);
        else if (key == "UIDVALIDITY") value = std::to_string(folder->uidValidity);
        else if (key == "HIGHESTMODSEQ") {
            value = std::to_string(folder->highestModseq);
            condstore_ = true;  // a CONDSTORE enabling command (RFC 7162 §3.1)
        }
        else if (key == "RECENT") {
            const auto first = services_.changes.claimRecent(folder->id, static_cast<std::uint32_t>(folder->uidNext), true);
            std::int64_t recent = 0;
            for (const auto& row : store::FolderStore::changedSince(*db, folder->id, 0)) recent += row.uid >= first;
            value = std::to_string(recent);
        } else {
            throw CommandFailure{"BAD", "Unknown STATUS item"};
        }
        items += (items.empty() ? "" : " ") + key + " " + value;
    }
    untagged("STATUS " + wireName(visible->name) + " (" + items + ")");
    ok(command);
}

// RFC 3501 §6.3.11, APPENDUID of RFC 4315. Large messages stream from the
// literal into an encrypted blob; nothing is indexed until all bytes arrived.
void ImapSession::handleAppend(Command& command)
{
    auto& args = command.args;
    const std::string name = mailboxArg(args, 0);
    std::size_t next = 1;
    std::vector<std::string> flags;
    std::optional<std::int64_t> date;
    const bool pending = command.pendingLiteral.has_value();
    auto isMessageArg = [&](std::size_t i) { return !pending && i + 1 == args.size() && args[i].isString() && args[i].literal; };
    if (next < args.size() && args[next].isList() && !isMessageArg(next)) appendFlags(args[next++], flags);
    if (next < args.size() && args[next].isString() && !isMessageArg(next)) {
        date = parseImapDateTime(args[next++].text);
        if (!date) throw CommandFailure{"BAD", "Invalid date-time"};
    }
    const std::uint64_t size = pending ? *command.pendingLiteral : (next < args.size() ? args[next].text.size() : 0);
    if (!pending && (next + 1 != args.size() || !isMessageArg(next)))
        throw CommandFailure{"BAD", "APPEND mailbox [(flags)] [date-time] literal"};
    if (pending && next != args.size()) throw CommandFailure{"BAD", "APPEND mailbox [(flags)] [date-time] literal"};

    // Refusals before the literal's bytes (RFC 3501 §7.5: the client then does not send them).
    auto refuse = [&](const std::string& text) {
        if (pending) reader_.abandonPending(command);
        throw CommandFailure{"NO", text};
    };
    const auto visible = resolve(name);
    if (!visible) refuse("[TRYCREATE] No mailbox " + name.substr(0, 200));
    if (visible->rights.find('i') == std::string::npos) refuse("[NOPERM] You may not append to this mailbox");
    if (size > settings_.limits.messageSize)
        refuse("[TOOBIG] Message exceeds the limit of " + std::to_string(settings_.limits.messageSize) + " bytes");
    {
        auto db = services_.reads.acquire();
        const auto quota = store::FolderStore::quota(*db, visible->folder.accountId);
        if (quota.usedBytes + static_cast<std::int64_t>(size) > quota.limitBytes) refuse("[OVERQUOTA] Mailbox is full");
    }

    intake::MessageReceiver receiver(services_.mailboxes, settings_.limits.messageSize, settings_.limits.headerSize);
    if (pending) {
        if (!command.pendingLiteralNonSync) {
            connection_.write("+ Ready for literal data\r\n");
            connection_.flush();
        }
        if (!connection_.readExact(size, [&](std::string_view bytes) { receiver.append(bytes); })) {
            state_ = State::Logout;  // the client vanished mid-literal: the unfinished blob is removed
            return;
        }
        const std::size_t before = args.size();
        reader_.resume(command);
        if (args.size() != before) throw CommandFailure{"BAD", "MULTIAPPEND is not supported"};
    } else {
        receiver.append(args[next].text);
    }
    if (receiver.problem() == intake::MessageProblem::HeaderTooBig) throw CommandFailure{"NO", "[LIMIT] Header too large"};
    if (receiver.problem() != intake::MessageProblem::None) throw CommandFailure{"NO", "[TOOBIG] Message too large"};
    if (size == 0) throw CommandFailure{"NO", "[CANNOT] Empty message"};

    auto received = receiver.finish();
    const store::StoredBlob blob{received.blobPath, static_cast<std::int64_t>(received.size), received.structure.toJson()};
    const std::int64_t internalDate = date.value_or(std::time(nullptr));
    std::string flagText;
    for (const auto& flag : flags) flagText += (flagText.empty() ? "" : " ") + flag;
    store::MessageRow row;
    try {
        services_.commits.submit([&](store::Database& db) {
            row = store::FolderStore::append(db, visible->folder, blob, internalDate, flagText);
            Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
            detail.set("uid", row.uid);
            detail.set("size", blob.size);
            events::EventLog::append(db, {"message.appended", namespace_->user().address, peer(), visible->name, "success",
                                          events::detailJson(detail)});
        }, {received.blobDirectory}).get();
    } catch (...) {
        services_.mailboxes.unlinkBlobs({received.blobPath});
        throw;
    }
    services_.changes.notify(visible->folder.id, static_cast<std::uint32_t>(row.uid));
    services_.indexer.schedule(visible->folder.id);
    if (selected_ && selected_->folder.id == visible->folder.id) refresh(true);
    ok(command, "[APPENDUID " + std::to_string(visible->folder.uidValidity) + " " + std::to_string(row.uid) + "] APPEND completed");
}

// RFC 2342: personal "", other users "Other Users/", shared "Shared/".
void ImapSession::handleNamespace(const Command& command)
{
    if (!command.args.empty()) throw CommandFailure{"BAD", "NAMESPACE takes no arguments"};
    untagged("NAMESPACE ((\"\" \"/\")) ((" + imapString(kOtherUsersPrefix) + " \"/\")) ((" + imapString(kSharedPrefix) + " \"/\"))");
    ok(command);
}

// RFC 2177: changes are looked for twice a second, so a delivery
// reaches an idling client within a second.
void ImapSession::handleIdle(const Command& command)
{
    if (!idling_) {
        if (!command.args.empty()) throw CommandFailure{"BAD", "IDLE takes no arguments"};
        connection_.write("+ idling\r\n");
        idling_ = Idling{command, std::chrono::steady_clock::now() + settings_.limits.idleTimeout};
    }
    // One look, at the start and whenever the parker resumes the session: changes
    // told (a delivery wakes it at once), then DONE, or more waiting.
    if (state_ == State::Selected) refresh(true);
    if (connection_.serverStopping()) {
        ending_ = events::SessionEnd::Shutdown;
        closeSession("Server shutting down");
    }
    if (!connection_.waitForInput(Poco::Timespan(0))) {
        if (std::chrono::steady_clock::now() >= idling_->deadline) throw Poco::TimeoutException("idle");
        if (idling_->next != Idling::Next::WaitHere) {
            net::releaseFreeHeap();  // a session may idle for hours, with only what it holds resident
            idling_->next = Idling::Next::Park;
            return;
        }
        // Not parked (the parker is full or stopping): wait here a little, then try again.
        idling_->next = Idling::Next::Look;
        if (!connection_.waitForInput(Poco::Timespan(0, 500'000))) return;
    }
    idling_.reset();
    const auto line = reader_.readLine();
    if (!line) {
        state_ = State::Logout;
        return;
    }
    if (Poco::icompare(*line, "DONE") != 0) throw CommandFailure{"BAD", "Expected DONE"};
    ok(command, "IDLE terminated");
}

}  // namespace plexus::imap
