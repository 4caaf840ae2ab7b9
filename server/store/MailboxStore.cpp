#include "store/MailboxStore.h"

#include "store/FolderStore.h"


#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace plexus::store {

namespace fs = std::filesystem;

namespace {

struct DefaultFolder {
    const char* name;
    const char* specialUse;
};
// RFC 6154 special-use folders made for every new account.
constexpr std::array<DefaultFolder, 6> defaultFolders{{
    {"INBOX", nullptr},
    {"Sent", "\\Sent"},
    {"Drafts", "\\Drafts"},
    {"Trash", "\\Trash"},
    {"Junk", "\\Junk"},
    {"Archive", "\\Archive"},
}};

std::string randomHex(std::size_t bytes)
{
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : raw) {
        hex += digits[c >> 4];
        hex += digits[c & 0xf];
    }
    return hex;
}

std::int64_t uidValidityNow()
{
    // RFC 3501 2.3.1.1: strictly ascending across re-creations of a name; seconds suffice
    // in practice, and the store never re-creates a folder within the same second.
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

MailboxStore::MailboxStore(std::string blobDirectory, AtRestKey key) : blobDir_(std::move(blobDirectory)), key_(std::move(key))
{
    fs::create_directories(blobDir_);
}

NewBlob MailboxStore::createBlob() const
{
    const std::string name = randomHex(16);
    const std::string shard = name.substr(0, 2);
    const fs::path dir = fs::path(blobDir_) / shard;
    fs::create_directories(dir);
    return NewBlob{BlobWriter(key_, (dir / name).string()), shard + "/" + name, dir.string()};
}

BlobReader MailboxStore::openBlob(const std::string& relativePath) const
{
    return BlobReader(key_, (fs::path(blobDir_) / relativePath).string());
}

void MailboxStore::createDefaultFolders(Database& db, std::int64_t accountId)
{
    auto insert = db.prepare(
        "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES (?, ?, ?, ?)");
    // Subscribed too: clients that show only subscribed folders (Thunderbird's default) see them.
    auto subscribe = db.prepare("INSERT INTO subscriptions (account_id, name) VALUES (?, ?)");
    for (const auto& folder : defaultFolders) {
        insert.bind(1, accountId).bind(2, folder.name);
        if (folder.specialUse) insert.bind(3, folder.specialUse); else insert.bindNull(3);
        insert.bind(4, uidValidityNow()).run();
        subscribe.bind(1, accountId).bind(2, folder.name).run();
    }
}

std::vector<DeliveredCopy> MailboxStore::recordDelivery(Database& db, const Delivery& delivery) const
{
    const auto refs = static_cast<std::int64_t>(delivery.accountIds.size() + delivery.outbound.size());
    const std::int64_t blobId = FolderStore::insertBlob(
        db, {delivery.blobPath, static_cast<std::int64_t>(delivery.size), delivery.structureJson}, refs);

    std::vector<DeliveredCopy> copies;
    auto nextUid = db.prepare(
        "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 "
        "WHERE account_id = ? AND name = 'INBOX' RETURNING id, uidnext - 1, highestmodseq");
    auto insertMessage = db.prepare(
        "INSERT INTO messages (mailbox_id, uid, blob_id, internal_date, size, modseq) VALUES (?, ?, ?, ?, ?, ?)");
    auto chargeQuota = db.prepare("UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?");
    for (const std::int64_t accountId : delivery.accountIds) {
        nextUid.bind(1, accountId);
        if (!nextUid.step()) throw std::runtime_error("account " + std::to_string(accountId) + " has no INBOX");
        const DeliveredCopy copy{accountId, nextUid.int64(0), nextUid.int64(1)};
        const std::int64_t modseq = nextUid.int64(2);
        nextUid.reset();
        insertMessage.bind(1, copy.mailboxId)
            .bind(2, copy.uid)
            .bind(3, blobId)
            .bind(4, delivery.internalDate)
            .bind(5, static_cast<std::int64_t>(delivery.size))
            .bind(6, modseq)
            .run();
        chargeQuota.bind(1, static_cast<std::int64_t>(delivery.size)).bind(2, accountId).run();
        copies.push_back(copy);
    }

    auto insertOutbound = db.prepare(
        "INSERT INTO outbound (blob_id, sender, domain, recipients, envid, ret, created_at, next_attempt_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& entry : delivery.outbound) {
        insertOutbound.bind(1, blobId)
            .bind(2, entry.sender)
            .bind(3, entry.domain)
            .bind(4, entry.recipientsJson)
            .bindOptional(5, entry.envid)
            .bindOptional(6, entry.ret)
            .bind(7, delivery.internalDate)
            .bind(8, delivery.internalDate * 1000)  // due at once
            .run();
    }
    return copies;
}

std::vector<FolderInfo> MailboxStore::folders(Database& db, std::int64_t accountId)
{
    auto stmt = db.prepare(
        "SELECT m.id, m.name, m.special_use, m.uidvalidity, m.uidnext, "
        "(SELECT count(*) FROM messages WHERE mailbox_id = m.id) FROM mailboxes m WHERE m.account_id = ? ORDER BY m.id");
    stmt.bind(1, accountId);
    std::vector<FolderInfo> result;
    while (stmt.step())
        result.push_back({stmt.int64(0), stmt.text(1), stmt.optionalText(2), stmt.int64(3), stmt.int64(4), stmt.int64(5)});
    return result;
}

std::vector<MessageSummary> MailboxStore::messages(Database& db, std::int64_t mailboxId)
{
    auto stmt = db.prepare(
        "SELECT m.uid, m.internal_date, m.size, m.flags, b.path, s.structure FROM messages m "
        "JOIN blobs b ON b.id = m.blob_id JOIN blob_structures s ON s.blob_id = m.blob_id "
        "WHERE m.mailbox_id = ? ORDER BY m.uid");
    stmt.bind(1, mailboxId);
    std::vector<MessageSummary> result;
    while (stmt.step())
        result.push_back({stmt.int64(0), stmt.int64(1), stmt.int64(2), stmt.text(3), stmt.text(4), stmt.text(5)});
    return result;
}

std::vector<std::string> MailboxStore::removeAccountContent(Database& db, std::int64_t accountId)
{
    db.prepare(
          "UPDATE blobs SET refcount = refcount - (SELECT count(*) FROM messages m JOIN mailboxes f ON f.id = m.mailbox_id "
          "WHERE m.blob_id = blobs.id AND f.account_id = ?1) "
          "WHERE id IN (SELECT m.blob_id FROM messages m JOIN mailboxes f ON f.id = m.mailbox_id WHERE f.account_id = ?1)")
        .bind(1, accountId)
        .run();
    db.prepare("DELETE FROM mailboxes WHERE account_id = ?").bind(1, accountId).run();
    std::vector<std::string> released;
    auto dead = db.prepare("DELETE FROM blobs WHERE refcount <= 0 RETURNING path");
    while (dead.step()) released.push_back(dead.text(0));
    return released;
}

void MailboxStore::unlinkBlobs(const std::vector<std::string>& relativePaths) const
{
    for (const auto& path : relativePaths) {
        std::error_code ignored;  // already gone is fine: the index no longer references it
        fs::remove(fs::path(blobDir_) / path, ignored);
    }
}

std::size_t MailboxStore::removeOrphanBlobs(Database& db) const
{
    auto known = db.prepare("SELECT 1 FROM blobs WHERE path = ?");
    std::vector<fs::path> orphans;
    for (const auto& entry : fs::recursive_directory_iterator(blobDir_)) {
        if (!entry.is_regular_file()) continue;
        const std::string relative = fs::relative(entry.path(), blobDir_).string();
        known.bind(1, relative);
        if (!known.step()) orphans.push_back(entry.path());
        known.reset();
    }
    for (const auto& path : orphans) fs::remove(path);
    return orphans.size();
}

}  // namespace plexus::store
