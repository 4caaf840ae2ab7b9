// What IMAP does to folders and the messages in them: names, subscriptions,
// append/copy/move, flags with CONDSTORE modification sequences, expunge with
// a record of expunged UIDs (QRESYNC), quota, access control lists (RFC 4314)
// and the full-text index. Every function runs on the Database it is given;
// writes are called inside CommitQueue jobs, which give them their transaction.
//
// Names are UTF-8 with "/" as the hierarchy separator. "INBOX" is matched
// case-insensitively and always exists. Owners have every right on their
// folders; others get theirs from the acl table.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::store {

// A refused folder operation, with the IMAP response code that fits it.
class FolderError : public std::runtime_error {
public:
    enum class Code { NonExistent, AlreadyExists, Cannot, OverQuota, NoPerm, Limit };
    FolderError(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
    Code code() const { return code_; }

private:
    Code code_;
};

struct Folder {
    std::int64_t id = 0;
    std::int64_t accountId = 0;  // owner
    std::string name;            // UTF-8, relative to the owner
    std::optional<std::string> specialUse;
    std::int64_t uidValidity = 0;
    std::int64_t uidNext = 1;
    std::int64_t highestModseq = 1;
};

struct MessageRow {
    std::int64_t uid = 0;
    std::int64_t modseq = 0;
    std::int64_t internalDate = 0;
    std::int64_t size = 0;
    std::string flags;  // space-separated system flags and keywords, as stored ("\Seen $Label1")
    std::int64_t blobId = 0;
    std::string blobPath;
};

struct FolderCounts {
    std::int64_t messages = 0, unseen = 0, size = 0;
};

struct StoredBlob {
    std::string path;           // relative path, as createBlob() gave it
    std::int64_t size = 0;
    std::string structureJson;
};

struct UnindexedMessage {
    std::int64_t uid = 0;
    std::int64_t blobId = 0;
    std::string blobPath;
    bool operator==(const UnindexedMessage&) const = default;
};

enum class TextScope { Body, Header, Anywhere };

enum class FlagChange { Add, Remove, Replace };

struct FlagUpdate {
    std::int64_t uid;
    std::string flags;   // after the change
    std::int64_t modseq;
};

struct StoreResult {
    std::vector<FlagUpdate> updated;         // rows whose flags changed (modseq bumped)
    std::vector<std::int64_t> modifiedSince; // UNCHANGEDSINCE failures (RFC 7162 §3.1.3)
};

struct AclEntry {
    std::string identifier;  // account address, or "anyone"
    std::string rights;      // RFC 4314 letters, e.g. "lrswipkxtea"
};

// A folder of another account that a user may see (RFC 4314 "l" right).
struct SharedFolder {
    Folder folder;
    std::string ownerAddress;
    std::string ownerType;  // "ORG" → shared namespace, others → other users' namespace
    std::string rights;
};

class FolderStore {
public:
    static constexpr std::string_view kAllRights = "lrswipkxtea";

    // Folders of an account, by name.
    static std::vector<Folder> folders(Database& db, std::int64_t accountId);
    static std::optional<Folder> find(Database& db, std::int64_t accountId, std::string_view name);
    static std::optional<Folder> byId(Database& db, std::int64_t folderId);
    // Folders of other accounts on which `address` (or "anyone") has the "l" right.
    static std::vector<SharedFolder> sharedWith(Database& db, std::string_view address);
    // The rights of `address` on a folder: all for the owner, the ACL's otherwise
    // (its own entry and "anyone" combined).
    static std::string rightsOf(Database& db, const Folder& folder, std::int64_t accountId, std::string_view address);

    // CREATE: parents are not created (the session does that); the new folder
    // gets the ACL of its parent (at the top level, of INBOX for ORG and CAB
    // accounts, none for the others) and a fresh UIDVALIDITY. Throws FolderError AlreadyExists, Cannot (bad name).
    static Folder create(Database& db, std::int64_t accountId, std::string_view name,
                         std::optional<std::string_view> specialUse = std::nullopt);
    // DELETE: the folder and its messages, not its children (RFC 3501 §6.3.4);
    // returns blob paths to unlink after commit. INBOX cannot be deleted (Cannot).
    static std::vector<std::string> remove(Database& db, const Folder& folder);
    // RENAME, children included (RFC 3501 §6.3.5). Renaming INBOX moves its
    // messages to a new folder of that name and leaves INBOX empty.
    static void rename(Database& db, std::int64_t accountId, std::string_view from, std::string_view to);

    // Subscriptions are names, kept when the folder goes (RFC 3501 §6.3.6).
    static void subscribe(Database& db, std::int64_t accountId, std::string_view name);
    static void unsubscribe(Database& db, std::int64_t accountId, std::string_view name);
    static std::vector<std::string> subscriptions(Database& db, std::int64_t accountId);

    // Rows by UID, all of them or those from `firstUid` to `lastUid`.
    static std::vector<MessageRow> messages(Database& db, std::int64_t folderId, std::int64_t firstUid = 1,
                                            std::int64_t lastUid = std::numeric_limits<std::int64_t>::max());
    // Rows with modseq > `modseq` (new or changed), by UID.
    static std::vector<MessageRow> changedSince(Database& db, std::int64_t folderId, std::int64_t modseq);
    // UIDs expunged with modseq > `modseq`, ascending.
    static std::vector<std::int64_t> expungedSince(Database& db, std::int64_t folderId, std::int64_t modseq);
    static FolderCounts counts(Database& db, std::int64_t folderId);
    static std::string structure(Database& db, std::int64_t blobId);

    // A new blob file's row, with `refcount` messages (or queue entries) to refer to it; returns its id.
    static std::int64_t insertBlob(Database& db, const StoredBlob& blob, std::int64_t refcount);
    // Drops one reference (a message row or a queue entry going); when it was the
    // last, deletes the blob's row and returns its path, to unlink once committed.
    static std::optional<std::string> releaseBlob(Database& db, std::int64_t blobId);
    // APPEND: indexes a new blob (refcount 1) in the folder, charging the
    // owner's quota (OverQuota when it would exceed it). Returns the row.
    static MessageRow append(Database& db, const Folder& folder, const StoredBlob& blob, std::int64_t internalDate,
                             std::string_view flags);
    // COPY: new UIDs in `to`, in the order of `uids`, sharing the blobs
    // (refcount), flags kept, quota charged to `to`'s owner. Returns the new UIDs.
    static std::vector<std::int64_t> copy(Database& db, const Folder& from, const std::vector<std::int64_t>& uids,
                                          const Folder& to);
    // STORE: flags of `uids` changed; rows whose flags do not change keep
    // their modseq. With `unchangedSince`, rows with a greater modseq are left
    // alone and reported.
    static StoreResult storeFlags(Database& db, const Folder& folder, const std::vector<std::int64_t>& uids,
                                  FlagChange change, const std::vector<std::string>& flags,
                                  std::optional<std::int64_t> unchangedSince = std::nullopt);
    // EXPUNGE: removes exactly the listed UIDs (the caller picks the \Deleted
    // ones), records them as expunged with a new modseq, releases quota;
    // returns blob paths no longer referenced, to unlink after commit.
    static std::vector<std::string> expunge(Database& db, const Folder& folder, const std::vector<std::int64_t>& uids);

    struct Quota {
        std::int64_t usedBytes = 0, limitBytes = 0;
    };
    static Quota quota(Database& db, std::int64_t accountId);

    static std::vector<AclEntry> acl(Database& db, std::int64_t folderId);
    // Sets (replaces) or, with empty rights, deletes an entry.
    static void setAcl(Database& db, std::int64_t folderId, std::string_view identifier, std::string_view rights);

    // Full-text index (FTS5, trigram: substring matches of 3+ characters), one
    // entry per message. New messages are listed as unindexed until indexText().
    static std::vector<UnindexedMessage> unindexedMessages(Database& db, std::int64_t folderId, std::size_t limit);
    // Folders with unindexed messages (what was left when the server stopped).
    static std::vector<std::int64_t> foldersToIndex(Database& db);
    // Ignored when the message is gone (expunged while its text was extracted).
    static void indexText(Database& db, std::int64_t folderId, std::int64_t uid, std::string_view headerText,
                          std::string_view bodyText);
    // UIDs of the folder whose indexed text contains `needle` (any length;
    // case-insensitive), in the body, the header fields (decoded) or both.
    static std::vector<std::int64_t> textSearch(Database& db, std::int64_t folderId, std::string_view needle,
                                                TextScope scope);
};

}  // namespace plexus::store
