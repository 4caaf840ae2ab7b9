// Mailboxes and their messages: one encrypted blob per message, one index row
// per mailbox holding it. Writes happen inside CommitQueue jobs (the caller
// composes them with other writes of the same transaction, e.g. events).
#pragma once

#include "store/AtRestKey.h"
#include "store/BlobFile.h"
#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plexus::store {

struct NewBlob {
    BlobWriter writer;
    std::string relativePath;  // as stored in the index
    std::string directory;     // to fsync once the file is complete
};

struct OutboundEntry {
    std::string sender;
    std::string domain;
    std::string recipientsJson;
    std::optional<std::string> envid;
    std::optional<std::string> ret;
};

struct Delivery {
    std::string blobPath;
    std::uint64_t size = 0;
    std::string structureJson;
    std::int64_t internalDate = 0;  // seconds since the epoch
    std::vector<std::int64_t> accountIds;  // local recipients: the message goes to their INBOX
    std::vector<OutboundEntry> outbound;
};

struct DeliveredCopy {
    std::int64_t accountId;
    std::int64_t mailboxId;
    std::int64_t uid;
};

struct MessageSummary {
    std::int64_t uid;
    std::int64_t internalDate;
    std::int64_t size;
    std::string flags;
    std::string blobPath;
    std::string structureJson;
};

struct FolderInfo {
    std::int64_t id;
    std::string name;
    std::optional<std::string> specialUse;
    std::int64_t uidValidity;
    std::int64_t uidNext;
    std::int64_t messages;
};

class MailboxStore {
public:
    MailboxStore(std::string blobDirectory, AtRestKey key);

    NewBlob createBlob() const;
    BlobReader openBlob(const std::string& relativePath) const;

    // INBOX and the RFC 6154 special-use folders of a new account.
    static void createDefaultFolders(Database& db, std::int64_t accountId);
    std::vector<DeliveredCopy> recordDelivery(Database& db, const Delivery& delivery) const;
    static std::vector<FolderInfo> folders(Database& db, std::int64_t accountId);
    static std::vector<MessageSummary> messages(Database& db, std::int64_t mailboxId);
    // Deletes an account's folders and messages; returns the blob files no longer
    // referenced, to unlink once the transaction has committed.
    static std::vector<std::string> removeAccountContent(Database& db, std::int64_t accountId);
    void unlinkBlobs(const std::vector<std::string>& relativePaths) const;
    // At start, before any session: removes blob files that no committed row
    // references (written by a session that died before its commit).
    std::size_t removeOrphanBlobs(Database& db) const;

private:
    std::string blobDir_;
    AtRestKey key_;
};

}  // namespace plexus::store
