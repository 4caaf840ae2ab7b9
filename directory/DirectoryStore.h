// The local copy of the national health directory: persons, structures and
// mailboxes in an SQLite database of their own (WAL, FTS5), written by the
// LDAP sync and the national-file importer, read by the queries of
// directory/DirectoryQueries.h.
//
// Every record carries its source ("ldap:NAME", "file:correspondance", ...)
// and its key within that source (entryUUID for LDAP, never a DN; the national
// id, structure id or address for the national files). Writers upsert and
// remove by (source, key) only, so that sources never overwrite each other.
// One DirectoryStore is one connection: use it from one thread at a time.
#pragma once

#include "store/Sqlite.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// A health professional. nationalId is the "Identification nationale PP":
// "8" + RPPS or "0" + ADELI, as the national files write it.
struct Person {
    std::string source;
    std::string sourceKey;
    std::string nationalId;
    std::string civility;         // "M", "MME", "DR", "PR"...; "" when unknown
    std::string lastName;
    std::string firstName;
    std::string professionCode;   // TRE_G15 code, e.g. "10" (médecin)
    std::string professionLabel;
    std::string specialtyCode;    // savoir-faire (TRE_R38...), "" when none
    std::string specialtyLabel;
    std::string practiceMode;     // "L" libéral, "S" salarié, "B" bénévole; "" when unknown

    bool operator==(const Person&) const = default;
};

// A place of care or an organization. structureId is the FINESS when there is
// one, else the SIRET (the identifier mailboxes refer to).
struct Structure {
    std::string source;
    std::string sourceKey;
    std::string finess;
    std::string siret;
    std::string name;
    std::string address;     // street line(s)
    std::string postcode;
    std::string city;
    std::string department;  // code, e.g. "75", "2A", "971"

    std::string structureId() const { return finess.empty() ? siret : finess; }
    bool operator==(const Structure&) const = default;
};

// An MSSanté mailbox. Its owner is a person (PER, CAB) or a structure (ORG,
// APP), referred to by national id / structure id within the same source.
struct Mailbox {
    std::string source;
    std::string sourceKey;
    std::string address;           // stored lower-case
    std::string type;              // "PER", "ORG", "APP", "CAB"
    std::string ownerNationalId;   // "" when owned by a structure
    std::string ownerStructureId;  // FINESS/SIRET; may be set for a PER too (place of practice)
    std::string service;           // "Service de rattachement"; "" when none
    bool hidden = false;           // "liste rouge": never returned by searches

    bool operator==(const Mailbox&) const = default;
};

enum class RecordKind { person, structure, mailbox };

// What an upsert did, for the sync and import summaries.
enum class UpsertOutcome { added, changed, unchanged };

class DirectoryStore {
public:
    // Opens (creating if needed) the directory database and brings its schema
    // up to date. Throws store::SqliteError.
    explicit DirectoryStore(const std::string& path);

    // One write transaction: a sync or an import writes thousands of records
    // per batch (one fsync at commit). Not committed = rolled back.
    // The search rows (mailbox_search) of the mailboxes a batch touches, directly
    // or through their owner, are refreshed once, at commit: searches on this
    // connection see a batch's records only once it is committed.
    class Batch {
    public:
        UpsertOutcome upsert(const Person& person);
        UpsertOutcome upsert(const Structure& structure);
        UpsertOutcome upsert(const Mailbox& mailbox);
        // The first load of a source that holds nothing yet: an insert without
        // the probe, and without refreshing other mailboxes' search rows (an
        // owner added later than a mailbox's own owner record never wins, see
        // mailbox_search_rows). A key already there after all gets the upsert.
        UpsertOutcome add(const Person& person);
        UpsertOutcome add(const Structure& structure);
        UpsertOutcome add(const Mailbox& mailbox);
        // False when there was no such record.
        bool remove(RecordKind kind, std::string_view source, std::string_view sourceKey);
        // Opaque per-source state persisted with the data it describes
        // (e.g. the RFC 4533 cookie), so that data and cookie commit together.
        void setSyncState(std::string_view source, std::string_view state);
        void commit();

    private:
        friend class DirectoryStore;
        explicit Batch(store::Database& db);
        // Marks for refresh at commit: one mailbox, or the mailboxes an owner has in a source.
        void touchMailbox(std::int64_t id);
        void touchOwnedBy(RecordKind owner, std::string_view source, std::string_view ownerId);
        // INSERT unless (source, key) is there: false then.
        bool insert(const Person& person);
        bool insert(const Structure& structure);
        bool insert(const Mailbox& mailbox);
        store::Database& db_;
        store::Transaction transaction_;
        // Mailboxes with a higher id were added by this batch: refreshed at commit
        // without being noted one by one (a first load adds them all).
        std::int64_t lastIdBefore_ = 0;
    };
    // The first batch turns this connection into a bulk writer (bigger page
    // cache, temporary tables in memory, synchronous=NORMAL under WAL).
    Batch begin();

    // Every source key of `kind` held for `source` (present-phase and
    // full-read reconciliation, import diffs).
    std::vector<std::string> keys(RecordKind kind, std::string_view source);
    std::size_t count(RecordKind kind, std::string_view source);
    bool contains(RecordKind kind, std::string_view source, std::string_view sourceKey);
    std::optional<std::string> syncState(std::string_view source);

    // For the read queries of DirectoryQueries.h on this connection.
    store::Database& database() { return db_; }

private:
    store::Database db_;
    bool bulkWriter_ = false;
};

}  // namespace plexus::directory
