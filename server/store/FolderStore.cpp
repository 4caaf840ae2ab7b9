#include "store/FolderStore.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <set>

namespace plexus::store {

namespace {

using Code = FolderError::Code;

constexpr std::string_view kInbox = "INBOX";
constexpr std::size_t kMaxLevelBytes = 255;
constexpr std::size_t kMaxNameBytes = 1024;
// Canonical case and order of the system flags in the stored form.
constexpr std::array<std::string_view, 5> kSystemFlags{"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};

char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view text)
{
    std::string result(text);
    std::ranges::transform(result, result.begin(), [](char c) { return asciiLower(c); });
    return result;
}

bool iequals(std::string_view a, std::string_view b)
{
    return std::ranges::equal(a, b, [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

std::int64_t nowSeconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// ---- names

// "INBOX" is case-insensitive, as the first level of a name too: "inbox/x" is "INBOX/x".
std::string canonicalName(std::string_view name)
{
    const std::string_view first = name.substr(0, name.find('/'));
    if (!iequals(first, kInbox)) return std::string(name);
    return std::string(kInbox) + std::string(name.substr(first.size()));
}

// Names come decoded (UTF-8) from the session; refused here is what no folder may be called.
void validateName(std::string_view name)
{
    const auto refuse = [](const std::string& why) { throw FolderError(Code::Cannot, "invalid folder name: " + why); };
    if (name.empty()) refuse("empty");
    if (name.size() > kMaxNameBytes) refuse("longer than " + std::to_string(kMaxNameBytes) + " bytes");
    for (const unsigned char c : name) {
        if (c == '*' || c == '%') refuse("it contains a LIST wildcard");
        if (c < 0x20 || c == 0x7f) refuse("it contains a control character");
    }
    std::size_t levelStart = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        if (i < name.size() && name[i] != '/') continue;
        if (i == levelStart) refuse("empty hierarchy level");
        if (i - levelStart > kMaxLevelBytes)
            refuse("a level is longer than " + std::to_string(kMaxLevelBytes) + " bytes");
        levelStart = i + 1;
    }
}

bool isUnder(std::string_view name, std::string_view parent)
{
    return name.size() > parent.size() && name.starts_with(parent) && name[parent.size()] == '/';
}

constexpr const char* kSelectFolder =
    "SELECT id, account_id, name, special_use, uidvalidity, uidnext, highestmodseq FROM mailboxes ";

Folder readFolder(const Statement& stmt)
{
    return Folder{stmt.int64(0), stmt.int64(1), stmt.text(2), stmt.optionalText(3),
                  stmt.int64(4), stmt.int64(5), stmt.int64(6)};
}

// Strictly greater than any UIDVALIDITY the account's folders ever had, deleted
// ones included, even when a name is re-created within the second (RFC 3501 §2.3.1.1).
std::int64_t nextUidValidity(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare(
        "UPDATE accounts SET last_uidvalidity = max(?2, last_uidvalidity + 1, "
        "coalesce((SELECT max(uidvalidity) + 1 FROM mailboxes WHERE account_id = ?1), 0)) "
        "WHERE id = ?1 RETURNING last_uidvalidity");
    stmt.bind(1, accountId).bind(2, nowSeconds());
    if (!stmt.step()) throw FolderError(Code::NonExistent, "no account " + std::to_string(accountId));
    return stmt.int64(0);
}

// Whether the account is an organization's, shared by delegation (ORG, CAB).
bool isDelegatedAccount(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare("SELECT type IN ('ORG', 'CAB') FROM accounts WHERE id = ?");
    stmt.bind(1, accountId);
    return stmt.step() && stmt.int64(0) != 0;
}

// A new folder gets the ACL of its parent (RFC 4314 §4). A top-level folder has
// none: an organization's gets the ACL of its INBOX, so that its delegates see
// it; a person's gets none, so that sharing one's INBOX does not share every
// folder made later.
void inheritAcl(Database& db, std::int64_t accountId, std::string_view name, std::int64_t folderId)
{
    const auto slash = name.rfind('/');
    auto parent =
        slash == std::string_view::npos ? std::nullopt : FolderStore::find(db, accountId, name.substr(0, slash));
    if (!parent && isDelegatedAccount(db, accountId)) parent = FolderStore::find(db, accountId, kInbox);
    if (!parent) return;
    db.prepare("INSERT INTO acl (mailbox_id, identifier, rights) "
               "SELECT ?, identifier, rights FROM acl WHERE mailbox_id = ?")
        .bind(1, folderId)
        .bind(2, parent->id)
        .run();
}

// ---- flags

std::vector<std::string> splitFlags(std::string_view text)
{
    std::vector<std::string> flags;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = std::min(text.find(' ', start), text.size());
        if (end > start) flags.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return flags;
}

// Index in kSystemFlags; kSystemFlags.size() for keywords.
std::size_t flagRank(std::string_view flag)
{
    const auto it = std::ranges::find_if(kSystemFlags, [&](std::string_view s) { return iequals(s, flag); });
    return static_cast<std::size_t>(it - kSystemFlags.begin());
}

// The stored form of a set of flags: system flags in canonical case and order,
// then keywords as given, sorted case-insensitively; no duplicates (the first
// spelling wins), no \Recent (session state). Equal sets give equal strings.
std::string normaliseFlags(std::vector<std::string> flags)
{
    std::erase_if(flags, [](const std::string& f) { return iequals(f, "\\Recent"); });
    for (auto& flag : flags)
        if (const auto rank = flagRank(flag); rank < kSystemFlags.size()) flag = kSystemFlags[rank];
    std::ranges::stable_sort(flags, {}, [](const std::string& f) { return std::pair(flagRank(f), lowered(f)); });
    const auto duplicates =
        std::ranges::unique(flags, [](const std::string& a, const std::string& b) { return iequals(a, b); });
    flags.erase(duplicates.begin(), duplicates.end());
    std::string joined;
    for (const auto& flag : flags) joined += (joined.empty() ? "" : " ") + flag;
    return joined;
}

std::string changedFlags(std::string_view current, FlagChange change, const std::vector<std::string>& flags)
{
    auto result = splitFlags(current);
    switch (change) {
    case FlagChange::Add: result.insert(result.end(), flags.begin(), flags.end()); break;
    case FlagChange::Remove:
        std::erase_if(result, [&](const std::string& f) {
            return std::ranges::any_of(flags, [&](const std::string& removed) { return iequals(f, removed); });
        });
        break;
    case FlagChange::Replace: result = flags; break;
    }
    return normaliseFlags(std::move(result));
}

// ---- messages

constexpr const char* kSelectMessage =
    "SELECT m.uid, m.modseq, m.internal_date, m.size, m.flags, m.blob_id, b.path "
    "FROM messages m JOIN blobs b ON b.id = m.blob_id ";

MessageRow readMessage(const Statement& stmt)
{
    return MessageRow{stmt.int64(0), stmt.int64(1), stmt.int64(2), stmt.int64(3),
                      stmt.text(4),  stmt.int64(5), stmt.text(6)};
}

std::vector<MessageRow> readMessages(Statement& stmt)
{
    std::vector<MessageRow> rows;
    while (stmt.step()) rows.push_back(readMessage(stmt));
    return rows;
}

// The rows of the folder among `uids`, in the order of `uids`; missing UIDs are skipped.
std::vector<MessageRow> rowsOf(Database& db, std::int64_t folderId, const std::vector<std::int64_t>& uids)
{
    auto stmt = db.prepare(std::string(kSelectMessage) + "WHERE m.mailbox_id = ? AND m.uid = ?");
    std::vector<MessageRow> rows;
    for (const auto uid : uids) {
        stmt.bind(1, folderId).bind(2, uid);
        if (stmt.step()) rows.push_back(readMessage(stmt));
    }
    return rows;
}

std::vector<std::int64_t> sortedUnique(std::vector<std::int64_t> uids)
{
    std::ranges::sort(uids);
    const auto duplicates = std::ranges::unique(uids);
    uids.erase(duplicates.begin(), duplicates.end());
    return uids;
}

struct Allocation {
    std::int64_t firstUid;
    std::int64_t modseq;
};

// `count` fresh UIDs and one new modseq for the whole operation (Dovecot style):
// every row an operation changes gets the same modseq.
Allocation allocate(Database& db, std::int64_t folderId, std::int64_t count)
{
    auto stmt = db.prepare(
        "UPDATE mailboxes SET uidnext = uidnext + ?2, highestmodseq = highestmodseq + 1 WHERE id = ?1 "
        "RETURNING uidnext - ?2, highestmodseq");
    stmt.bind(1, folderId).bind(2, count);
    if (!stmt.step()) throw FolderError(Code::NonExistent, "the folder no longer exists");
    return {stmt.int64(0), stmt.int64(1)};
}

void insertMessages(Database& db, std::int64_t folderId, const std::vector<MessageRow>& rows)
{
    auto insert = db.prepare(
        "INSERT INTO messages (mailbox_id, uid, blob_id, internal_date, size, flags, modseq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& row : rows)
        insert.bind(1, folderId)
            .bind(2, row.uid)
            .bind(3, row.blobId)
            .bind(4, row.internalDate)
            .bind(5, row.size)
            .bind(6, row.flags)
            .bind(7, row.modseq)
            .run();
}

void recordExpunged(Database& db, std::int64_t folderId, const std::vector<MessageRow>& rows, std::int64_t modseq)
{
    auto remove = db.prepare("DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
    auto record = db.prepare("INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)");
    for (const auto& row : rows) {
        remove.bind(1, folderId).bind(2, row.uid).run();
        record.bind(1, folderId).bind(2, row.uid).bind(3, modseq).run();
    }
}

// ---- quota and blobs

std::int64_t totalSize(const std::vector<MessageRow>& rows)
{
    std::int64_t bytes = 0;
    for (const auto& row : rows) bytes += row.size;
    return bytes;
}

// Checked and charged in one statement, so concurrent jobs cannot both pass the check.
void chargeQuota(Database& db, std::int64_t accountId, std::int64_t bytes)
{
    db.prepare("UPDATE accounts SET used_bytes = used_bytes + ?2 WHERE id = ?1 AND used_bytes + ?2 <= quota_bytes")
        .bind(1, accountId)
        .bind(2, bytes)
        .run();
    if (db.changes() == 0) throw FolderError(Code::OverQuota, "the mailbox quota would be exceeded");
}

void releaseQuota(Database& db, std::int64_t accountId, std::int64_t bytes)
{
    db.prepare("UPDATE accounts SET used_bytes = max(0, used_bytes - ?2) WHERE id = ?1")
        .bind(1, accountId)
        .bind(2, bytes)
        .run();
}

// Drops one reference per removed message row; deletes the blobs no longer
// referenced (by messages or the outbound queue) and returns their paths.
std::vector<std::string> releaseBlobs(Database& db, const std::vector<MessageRow>& removedRows)
{
    std::vector<std::string> released;
    for (const auto& row : removedRows)
        if (auto path = FolderStore::releaseBlob(db, row.blobId)) released.push_back(std::move(*path));
    return released;
}

// ---- rights

// The letters of kAllRights present in `rights`, in kAllRights order.
std::string orderedRights(std::string_view rights)
{
    std::string result;
    for (const char right : FolderStore::kAllRights)
        if (rights.find(right) != std::string_view::npos) result += right;
    return result;
}

// RFC 4314 letters, the obsolete "c" and "d" mapped as §2.1.1 says for servers where
// "c" is create ("k") and "d" is delete ("x", "t", "e").
std::string validatedRights(std::string_view rights)
{
    std::string expanded;
    for (const char right : rights) {
        if (right == 'c') expanded += 'k';
        else if (right == 'd') expanded += "xte";
        else if (FolderStore::kAllRights.find(right) != std::string_view::npos) expanded += right;
        else throw FolderError(Code::Cannot, std::string("unknown right \"") + right + "\"");
    }
    return orderedRights(expanded);
}

// ---- text search

std::size_t characterCount(std::string_view utf8)
{
    return static_cast<std::size_t>(
        std::ranges::count_if(utf8, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// An FTS5 string: the needle taken literally, whatever it contains (quotes doubled).
std::string ftsString(std::string_view needle)
{
    std::string quoted = "\"";
    for (const char c : needle) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

// A LIKE pattern for "contains `needle`", with ESCAPE '\'.
std::string containsPattern(std::string_view needle)
{
    std::string pattern = "%";
    for (const char c : needle) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    return pattern + "%";
}

std::vector<std::int64_t> readUids(Statement& stmt)
{
    std::vector<std::int64_t> uids;
    while (stmt.step()) uids.push_back(stmt.int64(0));
    return uids;
}

// RENAME INBOX (RFC 3501 §6.3.5): its messages go to `target` with new UIDs and
// are expunged from INBOX, which keeps its UIDVALIDITY and its children.
void moveInboxMessages(Database& db, const Folder& inbox, const Folder& target)
{
    auto rows = FolderStore::messages(db, inbox.id);
    if (rows.empty()) return;
    recordExpunged(db, inbox.id, rows, allocate(db, inbox.id, 0).modseq);
    const auto at = allocate(db, target.id, static_cast<std::int64_t>(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].uid = at.firstUid + static_cast<std::int64_t>(i);
        rows[i].modseq = at.modseq;
    }
    insertMessages(db, target.id, rows);
}

}  // namespace

// ---- folders

std::vector<Folder> FolderStore::folders(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare(std::string(kSelectFolder) + "WHERE account_id = ? ORDER BY name");
    stmt.bind(1, accountId);
    std::vector<Folder> result;
    while (stmt.step()) result.push_back(readFolder(stmt));
    return result;
}

std::optional<Folder> FolderStore::find(Database& db, std::int64_t accountId, std::string_view name)
{
    auto stmt = db.prepare(std::string(kSelectFolder) + "WHERE account_id = ? AND name = ?");
    stmt.bind(1, accountId).bind(2, canonicalName(name));
    if (!stmt.step()) return std::nullopt;
    return readFolder(stmt);
}

std::optional<Folder> FolderStore::byId(Database& db, std::int64_t folderId)
{
    auto stmt = db.prepare(std::string(kSelectFolder) + "WHERE id = ?");
    stmt.bind(1, folderId);
    if (!stmt.step()) return std::nullopt;
    return readFolder(stmt);
}

std::vector<SharedFolder> FolderStore::sharedWith(Database& db, std::string_view address)
{
    auto stmt = db.prepare(
        "SELECT f.id, f.account_id, f.name, f.special_use, f.uidvalidity, f.uidnext, f.highestmodseq, "
        "o.address, o.type, group_concat(a.rights, '') "
        "FROM acl a JOIN mailboxes f ON f.id = a.mailbox_id JOIN accounts o ON o.id = f.account_id "
        "WHERE a.identifier IN (?1, 'anyone') AND o.address <> ?1 "
        "GROUP BY f.id ORDER BY o.address, f.name");
    stmt.bind(1, address);
    std::vector<SharedFolder> result;
    while (stmt.step()) {
        SharedFolder shared{readFolder(stmt), stmt.text(7), stmt.text(8), orderedRights(stmt.text(9))};
        if (shared.rights.find('l') != std::string::npos) result.push_back(std::move(shared));
    }
    return result;
}

std::string FolderStore::rightsOf(Database& db, const Folder& folder, std::int64_t accountId, std::string_view address)
{
    if (folder.accountId == accountId) return std::string(kAllRights);
    auto stmt =
        db.prepare("SELECT group_concat(rights, '') FROM acl WHERE mailbox_id = ? AND identifier IN (?, 'anyone')");
    stmt.bind(1, folder.id).bind(2, address);
    stmt.step();
    return orderedRights(stmt.text(0));
}

Folder FolderStore::create(Database& db, std::int64_t accountId, std::string_view name,
                           std::optional<std::string_view> specialUse)
{
    const std::string canonical = canonicalName(name);
    validateName(canonical);
    if (find(db, accountId, canonical)) throw FolderError(Code::AlreadyExists, "the folder already exists");
    auto insert = db.prepare("INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES (?, ?, ?, ?)");
    insert.bind(1, accountId).bind(2, canonical);
    if (specialUse) insert.bind(3, *specialUse); else insert.bindNull(3);
    insert.bind(4, nextUidValidity(db, accountId)).run();
    const std::int64_t id = db.lastInsertId();
    inheritAcl(db, accountId, canonical, id);
    return *byId(db, id);
}

// A folder with children goes too, its children stay (RFC 3501 §6.3.4): its
// name is then only their parent, which LIST shows as \Noselect.
std::vector<std::string> FolderStore::remove(Database& db, const Folder& folder)
{
    if (iequals(folder.name, kInbox)) throw FolderError(Code::Cannot, "INBOX cannot be deleted");
    const auto rows = messages(db, folder.id);
    auto drop = db.prepare("DELETE FROM mailboxes WHERE id = ? RETURNING uidvalidity");
    drop.bind(1, folder.id);
    if (!drop.step()) throw FolderError(Code::NonExistent, "the folder no longer exists");
    const std::int64_t uidValidity = drop.int64(0);
    drop.reset();
    // Kept so that re-creating the name gives a greater UIDVALIDITY.
    db.prepare("UPDATE accounts SET last_uidvalidity = max(last_uidvalidity, ?) WHERE id = ?")
        .bind(1, uidValidity)
        .bind(2, folder.accountId)
        .run();
    releaseQuota(db, folder.accountId, totalSize(rows));
    return releaseBlobs(db, rows);
}

void FolderStore::rename(Database& db, std::int64_t accountId, std::string_view from, std::string_view to)
{
    const std::string source = canonicalName(from);
    const std::string target = canonicalName(to);
    validateName(target);
    const auto folder = find(db, accountId, source);
    if (!folder) throw FolderError(Code::NonExistent, "no folder " + source);
    if (find(db, accountId, target)) throw FolderError(Code::AlreadyExists, "the folder " + target + " already exists");
    if (source == kInbox) return moveInboxMessages(db, *folder, create(db, accountId, target));
    if (isUnder(target, source)) throw FolderError(Code::Cannot, "a folder cannot be moved under itself");

    std::vector<Folder> moving;
    std::set<std::string> staying;
    for (auto& f : folders(db, accountId)) {
        if (f.id == folder->id || isUnder(f.name, source)) moving.push_back(std::move(f));
        else staying.insert(f.name);
    }
    for (auto& f : moving) {
        f.name = target + f.name.substr(source.size());
        validateName(f.name);
        if (staying.contains(f.name))
            throw FolderError(Code::AlreadyExists, "the folder " + f.name + " already exists");
    }
    // Shortest new names (parents) first: a child's new name may be its parent's
    // old one ("a/b" renamed "a" while "a/b/b" exists).
    std::ranges::sort(moving, {}, [](const Folder& f) { return f.name.size(); });
    auto update = db.prepare("UPDATE mailboxes SET name = ? WHERE id = ?");
    for (const auto& f : moving) update.bind(1, f.name).bind(2, f.id).run();
}

// ---- subscriptions

void FolderStore::subscribe(Database& db, std::int64_t accountId, std::string_view name)
{
    const std::string canonical = canonicalName(name);
    validateName(canonical);
    db.prepare("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)")
        .bind(1, accountId)
        .bind(2, canonical)
        .run();
}

void FolderStore::unsubscribe(Database& db, std::int64_t accountId, std::string_view name)
{
    db.prepare("DELETE FROM subscriptions WHERE account_id = ? AND name = ?")
        .bind(1, accountId)
        .bind(2, canonicalName(name))
        .run();
}

std::vector<std::string> FolderStore::subscriptions(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare("SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name");
    stmt.bind(1, accountId);
    std::vector<std::string> names;
    while (stmt.step()) names.push_back(stmt.text(0));
    return names;
}

// ---- messages

std::vector<MessageRow> FolderStore::messages(Database& db, std::int64_t folderId, std::int64_t firstUid,
                                              std::int64_t lastUid)
{
    auto stmt = db.prepare(std::string(kSelectMessage) + "WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid");
    stmt.bind(1, folderId).bind(2, firstUid).bind(3, lastUid);
    return readMessages(stmt);
}

std::vector<MessageRow> FolderStore::changedSince(Database& db, std::int64_t folderId, std::int64_t modseq)
{
    auto stmt = db.prepare(std::string(kSelectMessage) + "WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid");
    stmt.bind(1, folderId).bind(2, modseq);
    return readMessages(stmt);
}

std::vector<std::int64_t> FolderStore::expungedSince(Database& db, std::int64_t folderId, std::int64_t modseq)
{
    auto stmt = db.prepare("SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
    stmt.bind(1, folderId).bind(2, modseq);
    return readUids(stmt);
}

FolderCounts FolderStore::counts(Database& db, std::int64_t folderId)
{
    // Flags are stored normalised, so "\Seen" is always spelled so, between spaces or ends.
    auto stmt = db.prepare(
        "SELECT count(*), coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0), coalesce(sum(size), 0) "
        "FROM messages WHERE mailbox_id = ?");
    stmt.bind(1, folderId);
    stmt.step();
    return {stmt.int64(0), stmt.int64(1), stmt.int64(2)};
}

std::string FolderStore::structure(Database& db, std::int64_t blobId)
{
    auto stmt = db.prepare("SELECT structure FROM blob_structures WHERE blob_id = ?");
    stmt.bind(1, blobId);
    if (!stmt.step()) throw FolderError(Code::NonExistent, "no blob " + std::to_string(blobId));
    return stmt.text(0);
}

std::int64_t FolderStore::insertBlob(Database& db, const StoredBlob& blob, std::int64_t refcount)
{
    db.prepare("INSERT INTO blobs (path, size, refcount) VALUES (?, ?, ?)")
        .bind(1, blob.path)
        .bind(2, blob.size)
        .bind(3, refcount)
        .run();
    const std::int64_t blobId = db.lastInsertId();
    db.prepare("INSERT INTO blob_structures (blob_id, structure) VALUES (?, ?)").bind(1, blobId).bind(2, blob.structureJson).run();
    return blobId;
}

std::optional<std::string> FolderStore::releaseBlob(Database& db, std::int64_t blobId)
{
    auto decrement = db.prepare("UPDATE blobs SET refcount = refcount - 1 WHERE id = ? RETURNING refcount, path");
    decrement.bind(1, blobId);
    if (!decrement.step() || decrement.int64(0) > 0) return std::nullopt;
    std::string path = decrement.text(1);
    decrement.reset();
    db.prepare("DELETE FROM blobs WHERE id = ?").bind(1, blobId).run();
    return path;
}

MessageRow FolderStore::append(Database& db, const Folder& folder, const StoredBlob& blob, std::int64_t internalDate,
                               std::string_view flags)
{
    chargeQuota(db, folder.accountId, blob.size);
    const std::int64_t blobId = insertBlob(db, blob, 1);
    const auto at = allocate(db, folder.id, 1);
    const MessageRow row{at.firstUid, at.modseq, internalDate, blob.size, normaliseFlags(splitFlags(flags)), blobId,
                         blob.path};
    insertMessages(db, folder.id, {row});
    return row;
}

// All or nothing (RFC 3501 §6.4.7): a UID no longer in `from` (expunged by
// another session) refuses the whole copy with NonExistent before any write.
std::vector<std::int64_t> FolderStore::copy(Database& db, const Folder& from, const std::vector<std::int64_t>& uids,
                                            const Folder& to)
{
    auto rows = rowsOf(db, from.id, uids);
    if (rows.size() != uids.size()) throw FolderError(Code::NonExistent, "some of the messages no longer exist");
    if (rows.empty()) return {};
    chargeQuota(db, to.accountId, totalSize(rows));
    const auto at = allocate(db, to.id, static_cast<std::int64_t>(rows.size()));
    auto reference = db.prepare("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?");
    std::vector<std::int64_t> newUids;
    for (auto& row : rows) {
        row.uid = at.firstUid + static_cast<std::int64_t>(newUids.size());
        row.modseq = at.modseq;
        reference.bind(1, row.blobId).run();
        newUids.push_back(row.uid);
    }
    insertMessages(db, to.id, rows);
    return newUids;
}

StoreResult FolderStore::storeFlags(Database& db, const Folder& folder, const std::vector<std::int64_t>& uids,
                                    FlagChange change, const std::vector<std::string>& flags,
                                    std::optional<std::int64_t> unchangedSince)
{
    StoreResult result;
    for (const auto& row : rowsOf(db, folder.id, sortedUnique(uids))) {
        if (unchangedSince && row.modseq > *unchangedSince) {
            result.modifiedSince.push_back(row.uid);
            continue;
        }
        // Equal sets normalise to strings equal but for the case of keywords.
        std::string after = changedFlags(row.flags, change, flags);
        if (!iequals(after, normaliseFlags(splitFlags(row.flags))))
            result.updated.push_back({row.uid, std::move(after), 0});
    }
    if (result.updated.empty()) return result;
    const std::int64_t modseq = allocate(db, folder.id, 0).modseq;
    auto update = db.prepare("UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?");
    for (auto& updated : result.updated) {
        updated.modseq = modseq;
        update.bind(1, updated.flags).bind(2, modseq).bind(3, folder.id).bind(4, updated.uid).run();
    }
    return result;
}

std::vector<std::string> FolderStore::expunge(Database& db, const Folder& folder, const std::vector<std::int64_t>& uids)
{
    const auto rows = rowsOf(db, folder.id, sortedUnique(uids));
    if (rows.empty()) return {};
    recordExpunged(db, folder.id, rows, allocate(db, folder.id, 0).modseq);
    releaseQuota(db, folder.accountId, totalSize(rows));
    return releaseBlobs(db, rows);
}

FolderStore::Quota FolderStore::quota(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare("SELECT used_bytes, quota_bytes FROM accounts WHERE id = ?");
    stmt.bind(1, accountId);
    if (!stmt.step()) throw FolderError(Code::NonExistent, "no account " + std::to_string(accountId));
    return {stmt.int64(0), stmt.int64(1)};
}

// ---- access control

std::vector<AclEntry> FolderStore::acl(Database& db, std::int64_t folderId)
{
    auto stmt = db.prepare("SELECT identifier, rights FROM acl WHERE mailbox_id = ? ORDER BY identifier");
    stmt.bind(1, folderId);
    std::vector<AclEntry> entries;
    while (stmt.step()) entries.push_back({stmt.text(0), stmt.text(1)});
    return entries;
}

void FolderStore::setAcl(Database& db, std::int64_t folderId, std::string_view identifier, std::string_view rights)
{
    if (!byId(db, folderId)) throw FolderError(Code::NonExistent, "the folder no longer exists");
    if (rights.empty()) {
        db.prepare("DELETE FROM acl WHERE mailbox_id = ? AND identifier = ?")
            .bind(1, folderId)
            .bind(2, identifier)
            .run();
        return;
    }
    db.prepare("INSERT OR REPLACE INTO acl (mailbox_id, identifier, rights) VALUES (?, ?, ?)")
        .bind(1, folderId)
        .bind(2, identifier)
        .bind(3, validatedRights(rights))
        .run();
}

// ---- full-text index

namespace {
// The index's rowids for a folder: its UIDs in the low 32 bits (as the schema's triggers).
std::int64_t textRowId(std::int64_t folderId, std::int64_t uid) { return (folderId << 32) | uid; }
constexpr std::int64_t kUidMask = 0xffffffff;
}  // namespace

std::vector<UnindexedMessage> FolderStore::unindexedMessages(Database& db, std::int64_t folderId, std::size_t limit)
{
    auto stmt = db.prepare(
        "SELECT m.uid, b.id, b.path FROM message_text_pending p "
        "JOIN messages m ON m.mailbox_id = p.mailbox_id AND m.uid = p.uid JOIN blobs b ON b.id = m.blob_id "
        "WHERE p.mailbox_id = ? ORDER BY p.uid LIMIT ?");
    stmt.bind(1, folderId).bind(2, static_cast<std::int64_t>(limit));
    std::vector<UnindexedMessage> messages;
    while (stmt.step()) messages.push_back({stmt.int64(0), stmt.int64(1), stmt.text(2)});
    return messages;
}

std::vector<std::int64_t> FolderStore::foldersToIndex(Database& db)
{
    auto stmt = db.prepare("SELECT DISTINCT mailbox_id FROM message_text_pending ORDER BY mailbox_id");
    std::vector<std::int64_t> folders;
    while (stmt.step()) folders.push_back(stmt.int64(0));
    return folders;
}

void FolderStore::indexText(Database& db, std::int64_t folderId, std::int64_t uid, std::string_view headerText,
                            std::string_view bodyText)
{
    db.prepare("INSERT OR REPLACE INTO message_text (rowid, header, body) SELECT ?1, ?2, ?3 "
               "WHERE EXISTS (SELECT 1 FROM messages WHERE mailbox_id = ?4 AND uid = ?5)")
        .bind(1, textRowId(folderId, uid))
        .bind(2, headerText)
        .bind(3, bodyText)
        .bind(4, folderId)
        .bind(5, uid)
        .run();
    db.prepare("DELETE FROM message_text_pending WHERE mailbox_id = ? AND uid = ?").bind(1, folderId).bind(2, uid).run();
}

// Needles of 3+ characters use the trigram index, whose folding is Unicode-aware
// ("É" finds "é"). Shorter ones cannot (a trigram needs 3 characters): they are
// matched with LIKE on the folder's rows, case-insensitive for ASCII letters only.
// Neither ignores accents ("e" does not find "é").
std::vector<std::int64_t> FolderStore::textSearch(Database& db, std::int64_t folderId, std::string_view needle,
                                                  TextScope scope)
{
    // The folder's part of the index is the rowid range of its UIDs.
    const std::int64_t first = textRowId(folderId, 0), last = textRowId(folderId, kUidMask);
    std::optional<Statement> stmt;
    if (characterCount(needle) >= 3) {
        // A column name on the left of MATCH limits the search to that column.
        stmt.emplace(db.prepare(scope == TextScope::Body     ? "SELECT rowid FROM message_text WHERE body MATCH ?1 "
                                                               "AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid"
                                : scope == TextScope::Header ? "SELECT rowid FROM message_text WHERE header MATCH ?1 "
                                                               "AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid"
                                                             : "SELECT rowid FROM message_text WHERE message_text MATCH ?1 "
                                                               "AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid"));
        stmt->bind(1, ftsString(needle));
    } else {
        stmt.emplace(db.prepare(
            "SELECT rowid FROM message_text WHERE rowid BETWEEN ?2 AND ?3 "
            "AND ((?4 AND body LIKE ?1 ESCAPE '\\') OR (?5 AND header LIKE ?1 ESCAPE '\\')) ORDER BY rowid"));
        stmt->bind(1, containsPattern(needle))
            .bind(4, std::int64_t{scope != TextScope::Header})
            .bind(5, std::int64_t{scope != TextScope::Body});
    }
    stmt->bind(2, first).bind(3, last);
    std::vector<std::int64_t> uids;
    while (stmt->step()) uids.push_back(stmt->int64(0) & kUidMask);
    return uids;
}

}  // namespace plexus::store
