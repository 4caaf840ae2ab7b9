// Selected-state commands (RFC 3501 §6.4) with UIDPLUS (RFC 4315), MOVE
// (RFC 6851), CONDSTORE/QRESYNC (RFC 7162), ESEARCH (RFC 4731) and
// SORT/THREAD (RFC 5256), and the view refresh that reports other sessions'
// changes.
#include "imap/ImapSession.h"

#include "events/EventLog.h"
#include "imap/Flags.h"
#include "imap/ResponseSyntax.h"
#include "imap/Search.h"
#include "imap/SequenceSet.h"
#include "imap/Sort.h"
#include "mime/TextExtractor.h"

#include <Poco/String.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace plexus::imap {

namespace {

std::vector<std::int64_t> asInt64(const std::vector<std::uint32_t>& uids)
{
    return {uids.begin(), uids.end()};
}

// Audit detail naming messages of a folder.
Poco::JSON::Object messagesDetail(const std::vector<std::uint32_t>& uids, std::int64_t folderId)
{
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("folder_id", folderId);
    detail.set("uids", formatSequenceSet(uids));
    return detail;
}

// Rows of the selected folder by UID, for what the view does not keep: those
// from the least to the greatest of `uids` (all of them when it is empty).
std::map<std::uint32_t, store::MessageRow> rowsByUid(store::Database& db, std::int64_t folderId,
                                                     const std::vector<std::uint32_t>& uids = {})
{
    std::map<std::uint32_t, store::MessageRow> rows;
    const auto [least, greatest] = std::ranges::minmax_element(uids);
    for (auto& row : uids.empty() ? store::FolderStore::messages(db, folderId)
                                  : store::FolderStore::messages(db, folderId, *least, *greatest))
        rows.emplace(static_cast<std::uint32_t>(row.uid), std::move(row));
    return rows;
}

// A message's file, or nullopt when another session expunged the message after
// its row was read and the file is gone: the message is then left out, as one
// expunged before the command (RFC 2180 §4.1.3).
std::optional<store::BlobReader> openUnlessExpunged(const store::MailboxStore& mailboxes, store::Database& db,
                                                    std::int64_t folderId, const store::MessageRow& row)
{
    try {
        return mailboxes.openBlob(row.blobPath);
    } catch (const store::BlobError&) {
        if (store::FolderStore::messages(db, folderId, row.uid, row.uid).empty()) return std::nullopt;
        throw;
    }
}

// A message's parsed structure, or nullopt when its last copy was expunged
// by another session after its row was read (and the blob row went with it).
std::optional<mime::MessageStructure> structureUnlessExpunged(store::Database& db, const store::MessageRow& row)
{
    try {
        return mime::MessageStructure::fromJson(store::FolderStore::structure(db, row.blobId));
    } catch (const store::FolderError& e) {
        if (e.code() == store::FolderError::Code::NonExistent) return std::nullopt;
        throw;
    }
}

// The top-level header block, blank line included, read from the start of the
// message up to its first empty line (no need to parse the stored structure).
std::string topLevelHeader(store::BlobReader& blob, std::uint64_t limit)
{
    std::string header;
    std::size_t searchFrom = 0;
    while (header.size() < blob.size() && header.size() < limit) {
        header += blob.readRange(header.size(), 8192);
        // The earliest empty line, CRLF or bare LF (as the MIME parser ends the header).
        const auto crlf = header.find("\r\n\r\n", searchFrom);
        const auto lf = header.find("\n\n", searchFrom);
        if (crlf != std::string::npos && (lf == std::string::npos || crlf + 2 <= lf)) return header.substr(0, crlf + 4);
        if (lf != std::string::npos) return header.substr(0, lf + 2);
        searchFrom = header.size() - std::min<std::size_t>(header.size(), 3);
    }
    return header;
}

std::string firstAddress(const std::vector<mime::Address>& addresses)
{
    for (const auto& address : addresses)
        if (!address.isGroupStart() && !address.isGroupEnd()) return address.mailbox + "@" + address.host;
    return {};
}

}  // namespace

void ImapSession::loadView(SelectedMailbox& view, bool claimRecent)
{
    auto db = services_.reads.acquire();
    // The folder first: rows changed after this read are reported again by the next refresh.
    view.generation = services_.changes.generation(view.folder.id);
    const auto folder = store::FolderStore::byId(*db, view.folder.id);
    if (!folder) throw CommandFailure{"NO", "[NONEXISTENT] Mailbox was deleted"};
    view.folder = *folder;
    view.knownModseq = folder->highestModseq;
    const auto firstRecent =
        services_.changes.claimRecent(folder->id, static_cast<std::uint32_t>(folder->uidNext), !claimRecent);
    auto rows = store::FolderStore::messages(*db, folder->id);
    view.messages.clear();
    view.messages.reserve(rows.size());  // exactly: idle sessions keep their view for hours
    for (auto& row : rows) {
        const auto uid = static_cast<std::uint32_t>(row.uid);
        view.messages.push_back({uid, row.modseq, std::move(row.flags), uid >= firstRecent});
    }
}

void ImapSession::refresh(bool expungesAllowed, bool force)
{
    if (!selected_) return;
    auto& view = *selected_;
    const auto generation = services_.changes.generation(view.folder.id);
    if (!force && generation == view.generation) return;
    auto db = services_.reads.acquire();
    const auto folder = store::FolderStore::byId(*db, view.folder.id);
    if (!folder) closeSession("Mailbox " + view.name.substr(0, 200) + " was deleted");
    // RFC 4314: rights withdrawn by the owner take effect in sessions already open.
    if (folder->accountId != namespace_->user().id) {
        view.rights = store::FolderStore::rightsOf(*db, *folder, namespace_->user().id, namespace_->user().address);
        if (!view.may('r')) closeSession("Access to " + view.name.substr(0, 200) + " was withdrawn");
        if (!view.examined) view.readOnly = view.rights.find_first_of("stwe") == std::string::npos;
    }
    const auto changed = store::FolderStore::changedSince(*db, view.folder.id, view.knownModseq);
    const auto expunged = store::FolderStore::expungedSince(*db, view.folder.id, view.knownModseq);
    bool expungesLeft = false;
    std::vector<std::uint32_t> vanished;
    for (const auto uid64 : expunged) {
        const auto uid = static_cast<std::uint32_t>(uid64);
        const auto seq = view.sequenceOf(uid);
        if (!seq) continue;
        if (!expungesAllowed) {
            expungesLeft = true;
            continue;
        }
        if (!qresync_) untagged(std::to_string(*seq) + " EXPUNGE");
        view.messages.erase(view.messages.begin() + (*seq - 1));
        vanished.push_back(uid);
    }
    if (qresync_ && !vanished.empty()) untagged("VANISHED " + formatSequenceSet(vanished));

    const auto firstRecent = services_.changes.claimRecent(folder->id, static_cast<std::uint32_t>(folder->uidNext), view.readOnly);
    bool grew = false;
    for (const auto& row : changed) {
        const auto uid = static_cast<std::uint32_t>(row.uid);
        if (const auto seq = view.sequenceOf(uid)) {
            auto& message = view.messages[*seq - 1];
            if (row.modseq <= message.modseq) continue;
            const bool flagsChanged = message.flags != row.flags;
            message.modseq = row.modseq;
            message.flags = row.flags;
            if (flagsChanged || condstore_) sendFlagUpdate(message, qresync_, condstore_);
        } else if (uid > view.largestUid()) {
            view.messages.push_back({uid, row.modseq, row.flags, uid >= firstRecent});
            grew = true;
        }
    }
    if (grew) {
        untagged(std::to_string(view.exists()) + " EXISTS");
        const auto recent = std::count_if(view.messages.begin(), view.messages.end(), [](const ViewMessage& m) { return m.recent; });
        untagged(std::to_string(recent) + " RECENT");
    }
    // Expunges not yet told keep the refresh pending (RFC 3501 §7.4.1).
    if (!expungesLeft) {
        view.generation = generation;
        view.knownModseq = std::max(view.knownModseq, folder->highestModseq);
    }
}

CommandFailure ImapSession::readOnlyFailure() const
{
    // RFC 5530: READ-ONLY for EXAMINE, NOPERM when the ACL allows no change.
    if (selected_->examined) return {"NO", "[READ-ONLY] Mailbox was opened read-only (EXAMINE)"};
    return {"NO", "[NOPERM] You may not change this mailbox"};
}

void ImapSession::closeSession(const std::string& reason)
{
    untagged("BYE " + reason);
    state_ = State::Logout;
    throw SessionClosed{};
}

std::string ImapSession::flagsOf(const ViewMessage& message) const
{
    if (!message.recent) return message.flags;
    return message.flags.empty() ? "\\Recent" : message.flags + " \\Recent";
}

void ImapSession::sendFlagUpdate(const ViewMessage& message, bool withUid, bool withModseq)
{
    const auto seq = selected_->sequenceOf(message.uid);
    std::string items;
    if (withUid) items += "UID " + std::to_string(message.uid) + " ";
    items += "FLAGS (" + flagsOf(message) + ")";
    if (withModseq) items += " MODSEQ (" + std::to_string(message.modseq) + ")";
    untagged(std::to_string(*seq) + " FETCH (" + items + ")");
}

std::vector<std::uint32_t> ImapSession::selectUids(const std::string& text, bool uid) const
{
    const auto set = SequenceSet::parse(text);
    if (!set) throw CommandFailure{"BAD", "Invalid sequence set"};
    const auto& messages = selected_->messages;
    auto ranges = set->resolve(uid ? selected_->largestUid() : selected_->exists());
    if (!uid)
        for (const auto& [first, last] : ranges)
            if (last > selected_->exists() || first == 0) throw CommandFailure{"BAD", "Sequence number out of range"};
    // Ranges sorted and merged once, then looked up in the view (sorted by UID):
    // clients send long sets (STORE of thousands of UIDs) on large mailboxes.
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<std::uint32_t, std::uint32_t>> merged;
    for (const auto& range : ranges) {
        if (!merged.empty() && std::uint64_t{range.first} <= std::uint64_t{merged.back().second} + 1)
            merged.back().second = std::max(merged.back().second, range.second);
        else
            merged.push_back(range);
    }
    std::vector<std::uint32_t> uids;
    for (const auto& [first, last] : merged) {
        if (uid) {
            auto it = std::lower_bound(messages.begin(), messages.end(), first,
                                       [](const ViewMessage& message, std::uint32_t value) { return message.uid < value; });
            for (; it != messages.end() && it->uid <= last; ++it) uids.push_back(it->uid);
        } else {
            for (std::uint64_t seq = first; seq <= last; ++seq) uids.push_back(messages[seq - 1].uid);
        }
    }
    return uids;
}

// RFC 3501 §6.4.1
void ImapSession::handleCheck(const Command& command)
{
    refresh(true, true);
    ok(command);
}

// RFC 3501 §6.4.2 CLOSE (silent expunge), RFC 3691 UNSELECT.
void ImapSession::handleClose(const Command& command, bool expunge)
{
    if (!command.args.empty()) throw CommandFailure{"BAD", "No arguments expected"};
    if (expunge && !selected_->readOnly && selected_->may('e')) {
        refresh(false, true);
        expungeDeleted(std::nullopt);
    }
    selected_.reset();
    state_ = State::Authenticated;
    ok(command);
}

// RFC 3501 §6.4.3, UID EXPUNGE of RFC 4315 §2.1.
void ImapSession::handleExpunge(const Command& command, bool uid)
{
    const std::size_t expected = uid ? 2 : 0;
    if (command.args.size() != expected) throw CommandFailure{"BAD", uid ? "UID EXPUNGE sequence-set" : "EXPUNGE takes no arguments"};
    if (selected_->readOnly) throw readOnlyFailure();
    if (!selected_->may('e')) throw CommandFailure{"NO", "[NOPERM] You may not expunge this mailbox"};
    refresh(true, true);
    std::set<std::uint32_t> wanted;
    if (uid) {
        if (!command.args[1].isAtom()) throw CommandFailure{"BAD", "Sequence set expected"};
        for (const auto u : selectUids(command.args[1].text, true)) wanted.insert(u);
    }
    if (expungeDeleted(uid ? std::optional(wanted) : std::nullopt)) refresh(true, true);
    ok(command);
}

bool ImapSession::expungeDeleted(const std::optional<std::set<std::uint32_t>>& among)
{
    std::vector<std::uint32_t> deleted;
    for (const auto& message : selected_->messages)
        if (message.flags.find("\\Deleted") != std::string::npos && (!among || among->contains(message.uid)))
            deleted.push_back(message.uid);
    if (deleted.empty()) return false;
    std::vector<std::string> released;
    const auto folder = selected_->folder;
    write([&](store::Database& db) {
        released = store::FolderStore::expunge(db, folder, asInt64(deleted));
        events::EventLog::append(db, {"message.expunged", namespace_->user().address, peer(), selected_->name,
                                      "success", events::detailJson(messagesDetail(deleted, folder.id))});
    }, {folder.id});
    services_.mailboxes.unlinkBlobs(released);
    return true;
}

namespace {

// A message of the selected folder as SEARCH sees it; loads what a key needs.
class ViewSearchSubject : public SearchSubject {
public:
    using TextMatcher = std::function<bool(std::uint32_t uid, std::string_view needle, store::TextScope scope)>;
    ViewSearchSubject(const SelectedMailbox& view, const std::map<std::uint32_t, store::MessageRow>& rows,
                      std::function<std::string(const store::MessageRow&)> headerOf, TextMatcher text)
        : view_(view), rows_(rows), headerOf_(std::move(headerOf)), text_(std::move(text))
    {
    }
    void moveTo(std::uint32_t seq)
    {
        seq_ = seq;
        const auto it = rows_.find(view_.messages[seq - 1].uid);
        row_ = it == rows_.end() ? nullptr : &it->second;
        header_.reset();
    }
    bool present() const { return row_ != nullptr; }

    std::uint32_t sequenceNumber() const override { return seq_; }
    std::uint32_t uid() const override { return view_.messages[seq_ - 1].uid; }
    std::uint32_t largestSequenceNumber() const override { return view_.exists(); }
    std::uint32_t largestUid() const override { return view_.largestUid(); }
    bool hasFlag(std::string_view flag) const override
    {
        const auto& message = view_.messages[seq_ - 1];
        if (Poco::icompare(std::string(flag), "\\Recent") == 0) return message.recent;
        std::istringstream flags(message.flags);
        for (std::string f; flags >> f;)
            if (Poco::icompare(f, std::string(flag)) == 0) return true;
        return false;
    }
    std::int64_t internalDate() const override { return row_->internalDate; }
    std::uint64_t size() const override { return static_cast<std::uint64_t>(row_->size); }
    std::uint64_t modseq() const override { return static_cast<std::uint64_t>(view_.messages[seq_ - 1].modseq); }
    const std::string& header() override
    {
        if (!header_) header_ = headerOf_(*row_);
        return *header_;
    }
    bool textContains(std::string_view needle, bool withHeader) override
    {
        return text_(uid(), needle, withHeader ? store::TextScope::Anywhere : store::TextScope::Body);
    }
    bool headerMayContain(std::string_view needle) override
    {
        // The index folds ASCII case exactly as SEARCH does; other text is checked in full.
        const bool ascii = std::all_of(needle.begin(), needle.end(), [](char c) { return (c & 0x80) == 0; });
        return !ascii || needle.size() < 3 || text_(uid(), needle, store::TextScope::Header);
    }

private:
    const SelectedMailbox& view_;
    const std::map<std::uint32_t, store::MessageRow>& rows_;
    std::function<std::string(const store::MessageRow&)> headerOf_;
    TextMatcher text_;
    std::uint32_t seq_ = 1;
    const store::MessageRow* row_ = nullptr;
    std::optional<std::string> header_;
};

}  // namespace

// Sequence numbers of the messages matching `key`, ascending.
std::vector<std::uint32_t> ImapSession::searchMessages(const SearchKey& key)
{
    auto db = services_.reads.acquire();
    const auto rows = rowsByUid(*db, selected_->folder.id);
    bool indexed = false;
    std::map<std::pair<std::string, store::TextScope>, std::set<std::uint32_t>> textMatches;
    const auto text = [&](std::uint32_t uid, std::string_view needle, store::TextScope scope) {
        if (!indexed) {
            services_.indexer.indexNow(selected_->folder.id);
            indexed = true;
        }
        auto [it, fresh] = textMatches.try_emplace({std::string(needle), scope});
        if (fresh)
            for (const auto u : store::FolderStore::textSearch(*db, selected_->folder.id, needle, scope))
                it->second.insert(static_cast<std::uint32_t>(u));
        return it->second.contains(uid);
    };
    std::set<std::uint32_t> gone;  // expunged by another session while searching
    const auto headerOf = [&](const store::MessageRow& row) {
        auto blob = openUnlessExpunged(services_.mailboxes, *db, selected_->folder.id, row);
        if (!blob) gone.insert(static_cast<std::uint32_t>(row.uid));
        return blob ? topLevelHeader(*blob, settings_.limits.headerSize) : std::string();
    };
    ViewSearchSubject subject(*selected_, rows, headerOf, text);
    std::vector<std::uint32_t> found;
    for (std::uint32_t seq = 1; seq <= selected_->exists(); ++seq) {
        subject.moveTo(seq);
        if (subject.present() && matches(key, subject) && !gone.contains(subject.uid())) found.push_back(seq);
    }
    return found;
}

// RFC 3501 §6.4.4, ESEARCH (RFC 4731), MODSEQ (RFC 7162 §3.1.5).
void ImapSession::handleSearch(const Command& command, bool uid, std::size_t first)
{
    SearchQuery query;
    try {
        query = parseSearchQuery(command.args, first);
    } catch (const CommandError& error) {
        // RFC 3501 §6.4.4: an unsupported charset is a tagged NO, not a BAD.
        if (std::string_view(error.what()).starts_with("[BADCHARSET")) throw CommandFailure{"NO", error.what()};
        throw;
    }
    if (query.usesModSeq()) condstore_ = true;
    const auto found = searchMessages(query.root);
    std::vector<std::uint32_t> ids;
    std::int64_t highest = 0;
    for (const auto seq : found) {
        const auto& message = selected_->messages[seq - 1];
        ids.push_back(uid ? message.uid : seq);
        highest = std::max(highest, message.modseq);
    }
    const std::string modseqSuffix = query.usesModSeq() && !ids.empty() ? " (MODSEQ " + std::to_string(highest) + ")" : "";
    if (query.ret.esearch) {
        std::string line = "ESEARCH (TAG " + imapString(command.tag) + ")" + (uid ? " UID" : "");
        if (!ids.empty() && query.ret.min) line += " MIN " + std::to_string(ids.front());
        if (!ids.empty() && query.ret.max) line += " MAX " + std::to_string(ids.back());
        if (query.ret.count) line += " COUNT " + std::to_string(ids.size());
        if (!ids.empty() && query.ret.all) line += " ALL " + formatSequenceSet(ids);
        if (!ids.empty() && query.usesModSeq()) line += " MODSEQ " + std::to_string(highest);
        untagged(line);
    } else {
        std::string line = "SEARCH";
        for (const auto id : ids) line += " " + std::to_string(id);
        untagged(line + modseqSuffix);
    }
    refresh(uid);
    ok(command, uid ? "UID SEARCH completed" : "SEARCH completed");
}

// RFC 3501 §6.4.5, CHANGEDSINCE/VANISHED (RFC 7162 §3.1.4, §3.2.6).
void ImapSession::handleFetch(const Command& command, bool uid, std::size_t first)
{
    const auto& args = command.args;
    if (args.size() < first + 2 || !args[first].isAtom()) throw CommandFailure{"BAD", "FETCH sequence-set items"};
    const auto request = parseFetchRequest(args, first + 1);
    if (request.vanished && (!uid || !qresync_)) throw CommandFailure{"BAD", "VANISHED needs UID FETCH and QRESYNC enabled"};
    if (request.changedSince || request.wants(FetchItem::Kind::ModSeq)) condstore_ = true;
    refresh(uid);
    const auto uids = selectUids(args[first].text, uid);
    auto& view = *selected_;

    if (request.vanished) {
        std::vector<std::uint32_t> vanished;
        const auto set = SequenceSet::parse(args[first].text);
        auto db = services_.reads.acquire();
        for (const auto u : store::FolderStore::expungedSince(*db, view.folder.id, static_cast<std::int64_t>(*request.changedSince)))
            if (set->contains(static_cast<std::uint32_t>(u), view.largestUid())) vanished.push_back(static_cast<std::uint32_t>(u));
        if (!vanished.empty()) untagged("VANISHED (EARLIER) " + formatSequenceSet(vanished));
    }

    // RFC 3501 §6.4.5: fetching a body sets \Seen (when the session may).
    std::set<std::uint32_t> nowSeen;
    if (request.setsSeen() && !view.readOnly && view.may('s')) {
        std::vector<std::int64_t> unseen;
        for (const auto u : uids)
            if (view.messages[*view.sequenceOf(u) - 1].flags.find("\\Seen") == std::string::npos) unseen.push_back(u);
        if (!unseen.empty()) {
            store::StoreResult result;
            write([&](store::Database& db) {
                result = store::FolderStore::storeFlags(db, view.folder, unseen, store::FlagChange::Add, {"\\Seen"});
            }, {view.folder.id});
            for (const auto& update : result.updated) {
                auto& message = view.messages[*view.sequenceOf(static_cast<std::uint32_t>(update.uid)) - 1];
                message.flags = update.flags;
                message.modseq = update.modseq;
                nowSeen.insert(static_cast<std::uint32_t>(update.uid));
            }
        }
    }

    auto db = services_.reads.acquire();
    // Flag synchronisation (UID, FLAGS, MODSEQ), the commonest FETCH, is answered
    // from the view alone, without reading every row of the folder.
    const bool needsRows = request.needsStructure() || request.wants(FetchItem::Kind::InternalDate) ||
                           request.wants(FetchItem::Kind::Rfc822Size);
    const auto rows = needsRows && !uids.empty() ? rowsByUid(*db, view.folder.id, uids)
                                                 : std::map<std::uint32_t, store::MessageRow>{};
    std::vector<std::uint32_t> read;
    std::vector<std::string> messageIds;
    for (const auto u : uids) {
        const auto seq = *view.sequenceOf(u);
        const auto& message = view.messages[seq - 1];
        if (request.changedSince && static_cast<std::uint64_t>(message.modseq) <= *request.changedSince) continue;
        const auto row = rows.find(u);
        if (needsRows && row == rows.end()) continue;  // expunged by another session, not yet told (RFC 2180 §4.1.3)
        std::optional<mime::MessageStructure> structure;
        if (request.needsStructure() && !(structure = structureUnlessExpunged(*db, row->second))) continue;
        std::optional<store::BlobReader> blob;
        if (request.needsBlob()) {
            blob = openUnlessExpunged(services_.mailboxes, *db, view.folder.id, row->second);
            if (!blob) continue;
        }
        FetchedMessage fetched;
        fetched.uid = u;
        fetched.flags = flagsOf(message);
        if (needsRows) {
            fetched.internalDate = row->second.internalDate;
            fetched.size = static_cast<std::uint64_t>(row->second.size);
        }
        fetched.modseq = static_cast<std::uint64_t>(message.modseq);
        fetched.structure = structure ? &*structure : nullptr;
        fetched.blob = [&]() -> store::BlobReader& { return *blob; };
        std::string items;
        if (uid && !request.wants(FetchItem::Kind::Uid)) items += "UID " + std::to_string(u) + " ";
        // renderFetchItems gives the parenthesized list: its items go inside ours.
        const std::string rendered = renderFetchItems(request, fetched);
        items.append(rendered, 1, rendered.size() - 2);
        if (nowSeen.contains(u) && !request.wants(FetchItem::Kind::Flags)) items += " FLAGS (" + fetched.flags + ")";
        if ((request.changedSince || (condstore_ && nowSeen.contains(u))) && !request.wants(FetchItem::Kind::ModSeq))
            items += " MODSEQ (" + std::to_string(message.modseq) + ")";
        untagged(std::to_string(seq) + " FETCH (" + items + ")");
        if (request.needsBlob()) {
            read.push_back(u);
            if (structure && messageIds.size() < 50) messageIds.push_back(structure->envelope.messageId);
        }
    }
    if (!read.empty()) {
        auto detail = messagesDetail(read, view.folder.id);
        Poco::JSON::Array ids;
        for (const auto& id : messageIds) ids.add(id);
        detail.set("message_ids", ids);
        recordEvent("message.read", view.name, "success", events::detailJson(detail));
    }
    ok(command, uid ? "UID FETCH completed" : "FETCH completed");
}

// RFC 3501 §6.4.6, UNCHANGEDSINCE (RFC 7162 §3.1.3).
void ImapSession::handleStore(const Command& command, bool uid, std::size_t first)
{
    const auto& args = command.args;
    std::size_t next = first;
    if (next >= args.size() || !args[next].isAtom()) throw CommandFailure{"BAD", "STORE sequence-set item flags"};
    const std::string setText = args[next++].text;
    std::optional<std::int64_t> unchangedSince;
    if (next < args.size() && args[next].isList()) {
        const auto& mods = args[next++].items;
        if (mods.size() != 2 || !mods[0].is("UNCHANGEDSINCE") || !mods[1].isAtom()) throw CommandFailure{"BAD", "STORE modifiers: (UNCHANGEDSINCE n)"};
        try {
            unchangedSince = std::stoll(mods[1].text);
        } catch (const std::exception&) {
            throw CommandFailure{"BAD", "UNCHANGEDSINCE takes a number"};
        }
        condstore_ = true;
    }
    if (next + 1 >= args.size() || !args[next].isAtom()) throw CommandFailure{"BAD", "STORE sequence-set item flags"};
    std::string item = Poco::toUpper(args[next++].text);
    const bool silent = item.ends_with(".SILENT");
    if (silent) item.resize(item.size() - 7);
    store::FlagChange change;
    if (item == "FLAGS") change = store::FlagChange::Replace;
    else if (item == "+FLAGS") change = store::FlagChange::Add;
    else if (item == "-FLAGS") change = store::FlagChange::Remove;
    else throw CommandFailure{"BAD", "STORE item is FLAGS, +FLAGS or -FLAGS"};
    std::vector<std::string> flags;
    for (; next < args.size(); ++next) appendFlags(args[next], flags);
    auto& view = *selected_;
    if (view.readOnly) throw readOnlyFailure();
    // RFC 4314 §4: \Seen needs "s", \Deleted "t", other flags "w".
    for (const auto& flag : flags) {
        const std::string upper = Poco::toUpper(flag);
        const char right = upper == "\\SEEN" ? 's' : upper == "\\DELETED" ? 't' : 'w';
        if (!view.may(right)) throw CommandFailure{"NO", "[NOPERM] You may not change " + flag.substr(0, 32)};
    }
    refresh(uid);
    const auto uids = selectUids(setText, uid);
    // A bound on the flags of a message (each keyword also goes into every FLAGS response of the mailbox).
    for (const auto u : uids) {
        if (change == store::FlagChange::Remove) break;
        std::set<std::string> after;
        if (change == store::FlagChange::Add) {
            std::istringstream current(view.messages[*view.sequenceOf(u) - 1].flags);
            for (std::string flag; current >> flag;) after.insert(Poco::toUpper(flag));
        }
        for (const auto& flag : flags) after.insert(Poco::toUpper(flag));
        if (after.size() > kMaxFlagsPerMessage)
            throw CommandFailure{"NO", "[LIMIT] A message has at most " + std::to_string(kMaxFlagsPerMessage) + " flags"};
    }
    store::StoreResult result;
    if (!uids.empty()) {
        write([&](store::Database& db) {
            result = store::FolderStore::storeFlags(db, view.folder, asInt64(uids), change, flags, unchangedSince);
        }, {view.folder.id});
    }
    std::set<std::uint32_t> updated;
    for (const auto& update : result.updated) {
        const auto u = static_cast<std::uint32_t>(update.uid);
        auto& message = view.messages[*view.sequenceOf(u) - 1];
        message.flags = update.flags;
        message.modseq = update.modseq;
        updated.insert(u);
    }
    const std::set<std::int64_t> modified(result.modifiedSince.begin(), result.modifiedSince.end());
    for (const auto u : uids) {
        if (modified.contains(u)) continue;
        const auto& message = view.messages[*view.sequenceOf(u) - 1];
        if (silent && !(condstore_ && updated.contains(u))) continue;
        std::string items = uid ? "UID " + std::to_string(u) + " " : "";
        if (!silent) items += "FLAGS (" + flagsOf(message) + ")";
        if (condstore_) items += std::string(silent ? "" : " ") + "MODSEQ (" + std::to_string(message.modseq) + ")";
        untagged(std::to_string(*view.sequenceOf(u)) + " FETCH (" + items + ")");
    }
    if (!modified.empty()) {
        std::vector<std::uint32_t> ids;
        for (const auto u : modified) ids.push_back(uid ? static_cast<std::uint32_t>(u) : *view.sequenceOf(static_cast<std::uint32_t>(u)));
        std::sort(ids.begin(), ids.end());
        ok(command, "[MODIFIED " + formatSequenceSet(ids) + "] Conditional STORE failed for some messages");
        return;
    }
    ok(command, uid ? "UID STORE completed" : "STORE completed");
}

// RFC 3501 §6.4.7 COPY, RFC 6851 MOVE, COPYUID of RFC 4315.
void ImapSession::handleCopy(const Command& command, bool uid, std::size_t first, bool move)
{
    const auto& args = command.args;
    if (args.size() != first + 2 || !args[first].isAtom()) throw CommandFailure{"BAD", std::string(move ? "MOVE" : "COPY") + " sequence-set mailbox"};
    const std::string targetName = mailboxArg(args, first + 1);
    refresh(uid || move);
    const auto uids = selectUids(args[first].text, uid);
    const auto target = resolve(targetName);
    if (!target) throw CommandFailure{"NO", "[TRYCREATE] No mailbox " + targetName.substr(0, 200)};
    if (target->rights.find('i') == std::string::npos) throw CommandFailure{"NO", "[NOPERM] You may not add messages to " + targetName.substr(0, 200)};
    auto& view = *selected_;
    if (move && (view.readOnly || !view.may('t') || !view.may('e')))
        throw CommandFailure{"NO", "[NOPERM] You may not remove messages from this mailbox"};
    if (uids.empty()) {
        ok(command, std::string(move ? "MOVE" : "COPY") + " completed: no messages");
        return;
    }
    std::vector<std::int64_t> newUids;
    std::vector<std::string> released;
    const auto source = view.folder;
    auto detail = messagesDetail(uids, source.id);
    detail.set("to", target->folder.id);
    write([&](store::Database& db) {
        newUids = store::FolderStore::copy(db, source, asInt64(uids), target->folder);
        if (move) released = store::FolderStore::expunge(db, source, asInt64(uids));
        events::EventLog::append(db, {move ? "message.moved" : "message.copied", namespace_->user().address, peer(),
                                      view.name, "success", events::detailJson(detail)});
    }, {source.id});
    // The copies are \Recent for the first session to see them (RFC 3501 §6.4.7),
    // also in a folder no session has looked at yet.
    services_.changes.notify(target->folder.id, newUids.empty() ? 0 : static_cast<std::uint32_t>(newUids.front()));
    services_.mailboxes.unlinkBlobs(released);
    std::vector<std::uint32_t> created(newUids.begin(), newUids.end());
    std::vector<std::uint32_t> sourceSorted = uids;
    // COPYUID pairs the sets in order (RFC 4315 §3); our UIDs are ascending in both.
    const std::string copyUid = "[COPYUID " + std::to_string(target->folder.uidValidity) + " " + formatSequenceSet(sourceSorted) +
                                " " + formatSequenceSet(created) + "]";
    if (move) {
        untagged("OK " + copyUid + " Moved");
        refresh(true, true);
        ok(command, uid ? "UID MOVE completed" : "MOVE completed");
        return;
    }
    if (target->folder.id == view.folder.id) refresh(uid, true);
    ok(command, copyUid + " " + (uid ? "UID COPY completed" : "COPY completed"));
}

namespace {

void checkCharset(const Arg& charset)
{
    if (!charset.isAstring()) throw CommandFailure{"BAD", "Charset expected"};
    const std::string name = Poco::toUpper(charset.text);
    if (name != "UTF-8" && name != "US-ASCII") throw CommandFailure{"NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset"};
}

}  // namespace

std::vector<SortData> ImapSession::sortData(const std::vector<std::uint32_t>& sequences, bool uid)
{
    auto db = services_.reads.acquire();
    const auto rows = rowsByUid(*db, selected_->folder.id);
    std::vector<SortData> data;
    for (const auto seq : sequences) {
        const auto u = selected_->messages[seq - 1].uid;
        const auto found = rows.find(u);
        if (found == rows.end()) continue;  // expunged by another session since the search
        const auto& row = found->second;
        const auto structure = structureUnlessExpunged(*db, row);
        if (!structure) continue;
        const auto& envelope = structure->envelope;
        SortData item;
        item.id = uid ? u : seq;
        item.sequence = seq;
        item.arrival = row.internalDate;
        item.sent = parseSentDate(envelope.date).value_or(row.internalDate);
        item.size = static_cast<std::uint64_t>(row.size);
        item.subject = envelope.subject;
        item.from = firstAddress(envelope.from);
        item.to = firstAddress(envelope.to);
        item.cc = firstAddress(envelope.cc);
        item.messageId = envelope.messageId;
        item.inReplyTo = envelope.inReplyTo;
        item.references = std::string(structure->header("References").value_or(""));
        data.push_back(std::move(item));
    }
    return data;
}

// RFC 5256 §3 SORT
void ImapSession::handleSort(const Command& command, bool uid, std::size_t first)
{
    const auto& args = command.args;
    if (args.size() < first + 3 || !args[first].isList()) throw CommandFailure{"BAD", "SORT (criteria) charset keys"};
    const auto criteria = parseSortCriteria(args[first]);
    checkCharset(args[first + 1]);
    const auto key = parseSearchKeys(args, first + 2);
    const auto ids = sortMessages(sortData(searchMessages(key), uid), criteria);
    std::string line = "SORT";
    for (const auto id : ids) line += " " + std::to_string(id);
    untagged(line);
    refresh(uid);
    ok(command, uid ? "UID SORT completed" : "SORT completed");
}

// RFC 5256 §4 THREAD
void ImapSession::handleThread(const Command& command, bool uid, std::size_t first)
{
    const auto& args = command.args;
    if (args.size() < first + 3 || !args[first].isAtom()) throw CommandFailure{"BAD", "THREAD algorithm charset keys"};
    const std::string algorithm = Poco::toUpper(args[first].text);
    if (algorithm != "REFERENCES" && algorithm != "ORDEREDSUBJECT") throw CommandFailure{"BAD", "Unknown threading algorithm"};
    checkCharset(args[first + 1]);
    const auto key = parseSearchKeys(args, first + 2);
    const auto data = sortData(searchMessages(key), uid);
    const std::string threads = algorithm == "REFERENCES" ? threadReferences(data) : threadOrderedSubject(data);
    untagged(threads.empty() ? "THREAD" : "THREAD " + threads);
    refresh(uid);
    ok(command, uid ? "UID THREAD completed" : "THREAD completed");
}

}  // namespace plexus::imap
