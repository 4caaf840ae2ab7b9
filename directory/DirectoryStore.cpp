#include "directory/DirectoryStore.h"

#include "directory/DirectorySchema.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace plexus::directory {

namespace {

std::string lowerAscii(std::string_view text)
{
    std::string lower(text);
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

const char* tableOf(RecordKind kind)
{
    switch (kind) {
    case RecordKind::person: return "persons";
    case RecordKind::structure: return "structures";
    case RecordKind::mailbox: return "mailboxes";
    }
    return "";
}

// Whether a text column of the current row holds `value`.
bool holds(const store::Statement& row, int column, std::string_view value)
{
    return row.text(column) == value;
}

// Mailboxes whose search row must be refreshed at commit. TEMP: private to
// this connection, rolled back with the batch.
constexpr const char* kCreateTouched = "CREATE TEMP TABLE IF NOT EXISTS search_touched (id INTEGER PRIMARY KEY)";

}  // namespace

DirectoryStore::DirectoryStore(const std::string& path) : db_(path)
{
    migrateDirectorySchema(db_);
}

DirectoryStore::Batch DirectoryStore::begin()
{
    if (!bulkWriter_) {
        // A 1 M-entry import is one transaction: a small cache would spill pages
        // to the WAL over and over. NORMAL under WAL stays consistent after a
        // crash (a re-sync or re-import redoes the last commits).
        db_.execute("PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA synchronous = NORMAL;");
        db_.execute(kCreateTouched);  // after temp_store: changing it drops the TEMP tables
        bulkWriter_ = true;
    }
    return Batch(db_);
}

DirectoryStore::Batch::Batch(store::Database& db) : db_(db), transaction_(db)
{
    auto last = db_.prepare("SELECT coalesce(max(id), 0) FROM mailboxes");
    last.step();
    lastIdBefore_ = last.int64(0);
}

void DirectoryStore::Batch::touchMailbox(std::int64_t id)
{
    db_.prepare("INSERT OR IGNORE INTO temp.search_touched (id) VALUES (?)").bind(1, id).run();
}

void DirectoryStore::Batch::touchOwnedBy(RecordKind owner, std::string_view source, std::string_view ownerId)
{
    if (ownerId.empty()) return;  // owns nothing (mailbox_search_rows)
    auto touch = db_.prepare(owner == RecordKind::person
                                 ? "INSERT OR IGNORE INTO temp.search_touched (id) SELECT id FROM mailboxes "
                                   "WHERE owner_national_id = ?1 AND source = ?2 AND id <= ?3"
                                 : "INSERT OR IGNORE INTO temp.search_touched (id) SELECT id FROM mailboxes "
                                   "WHERE owner_structure_id = ?1 AND source = ?2 AND id <= ?3");
    touch.bind(1, ownerId).bind(2, source).bind(3, lastIdBefore_).run();
}

// Each upsert is one indexed probe on (source, source_key) returning the row,
// compared here: an unchanged record costs nothing more. The old owner id read
// by the probe is what lets a person or structure refresh the mailboxes it
// stops owning (an INSERT ... ON CONFLICT ... RETURNING only sees the new row).
UpsertOutcome DirectoryStore::Batch::upsert(const Person& p)
{
    auto row = db_.prepare("SELECT id, national_id, civility, last_name, first_name, profession_code, profession_label, "
                           "specialty_code, specialty_label, practice_mode FROM persons "
                           "WHERE source = ? AND source_key = ?");
    row.bind(1, p.source).bind(2, p.sourceKey);
    if (!row.step()) {
        insert(p);
        touchOwnedBy(RecordKind::person, p.source, p.nationalId);
        return UpsertOutcome::added;
    }
    const std::string oldNationalId = row.text(1);
    if (oldNationalId == p.nationalId && holds(row, 2, p.civility) && holds(row, 3, p.lastName) &&
        holds(row, 4, p.firstName) && holds(row, 5, p.professionCode) && holds(row, 6, p.professionLabel) &&
        holds(row, 7, p.specialtyCode) && holds(row, 8, p.specialtyLabel) && holds(row, 9, p.practiceMode))
        return UpsertOutcome::unchanged;
    auto update = db_.prepare("UPDATE persons SET national_id = ?2, civility = ?3, last_name = ?4, first_name = ?5, "
                              "profession_code = ?6, profession_label = ?7, specialty_code = ?8, specialty_label = ?9, "
                              "practice_mode = ?10 WHERE id = ?1");
    update.bind(1, row.int64(0)).bind(2, p.nationalId).bind(3, p.civility).bind(4, p.lastName).bind(5, p.firstName);
    update.bind(6, p.professionCode).bind(7, p.professionLabel).bind(8, p.specialtyCode).bind(9, p.specialtyLabel);
    update.bind(10, p.practiceMode).run();
    touchOwnedBy(RecordKind::person, p.source, p.nationalId);
    if (oldNationalId != p.nationalId) touchOwnedBy(RecordKind::person, p.source, oldNationalId);
    return UpsertOutcome::changed;
}

UpsertOutcome DirectoryStore::Batch::upsert(const Structure& st)
{
    auto row = db_.prepare("SELECT id, structure_id, finess, siret, name, address, postcode, city, department "
                           "FROM structures WHERE source = ? AND source_key = ?");
    row.bind(1, st.source).bind(2, st.sourceKey);
    const std::string structureId = st.structureId();
    if (!row.step()) {
        insert(st);
        touchOwnedBy(RecordKind::structure, st.source, structureId);
        return UpsertOutcome::added;
    }
    const std::string oldStructureId = row.text(1);
    if (holds(row, 2, st.finess) && holds(row, 3, st.siret) && holds(row, 4, st.name) && holds(row, 5, st.address) &&
        holds(row, 6, st.postcode) && holds(row, 7, st.city) && holds(row, 8, st.department))
        return UpsertOutcome::unchanged;  // structure_id follows from finess and siret
    auto update = db_.prepare("UPDATE structures SET structure_id = ?2, finess = ?3, siret = ?4, name = ?5, "
                              "address = ?6, postcode = ?7, city = ?8, department = ?9 WHERE id = ?1");
    update.bind(1, row.int64(0)).bind(2, structureId).bind(3, st.finess).bind(4, st.siret).bind(5, st.name);
    update.bind(6, st.address).bind(7, st.postcode).bind(8, st.city).bind(9, st.department).run();
    touchOwnedBy(RecordKind::structure, st.source, structureId);
    if (oldStructureId != structureId) touchOwnedBy(RecordKind::structure, st.source, oldStructureId);
    return UpsertOutcome::changed;
}

UpsertOutcome DirectoryStore::Batch::upsert(const Mailbox& m)
{
    const std::string address = lowerAscii(m.address);
    const std::int64_t hidden = m.hidden ? 1 : 0;
    auto row = db_.prepare("SELECT id, address, type, owner_national_id, owner_structure_id, service, hidden "
                           "FROM mailboxes WHERE source = ? AND source_key = ?");
    row.bind(1, m.source).bind(2, m.sourceKey);
    if (!row.step()) {
        insert(m);
        return UpsertOutcome::added;
    }
    if (holds(row, 1, address) && holds(row, 2, m.type) && holds(row, 3, m.ownerNationalId) &&
        holds(row, 4, m.ownerStructureId) && holds(row, 5, m.service) && row.int64(6) == hidden)
        return UpsertOutcome::unchanged;
    const std::int64_t id = row.int64(0);
    auto update = db_.prepare("UPDATE mailboxes SET address = ?2, type = ?3, owner_national_id = ?4, "
                              "owner_structure_id = ?5, service = ?6, hidden = ?7 WHERE id = ?1");
    update.bind(1, id).bind(2, address).bind(3, m.type).bind(4, m.ownerNationalId).bind(5, m.ownerStructureId);
    update.bind(6, m.service).bind(7, hidden).run();
    touchMailbox(id);
    return UpsertOutcome::changed;
}

bool DirectoryStore::Batch::insert(const Person& p)
{
    auto insert = db_.prepare("INSERT INTO persons (source, source_key, national_id, civility, last_name, first_name, "
                              "profession_code, profession_label, specialty_code, specialty_label, practice_mode) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                              "ON CONFLICT (source, source_key) DO NOTHING");
    // The first load's hot path: fields bound in place (they outlive `insert`).
    insert.bindUncopied(1, p.source).bindUncopied(2, p.sourceKey).bindUncopied(3, p.nationalId);
    insert.bindUncopied(4, p.civility).bindUncopied(5, p.lastName).bindUncopied(6, p.firstName);
    insert.bindUncopied(7, p.professionCode).bindUncopied(8, p.professionLabel).bindUncopied(9, p.specialtyCode);
    insert.bindUncopied(10, p.specialtyLabel).bindUncopied(11, p.practiceMode).run();
    return db_.changes() > 0;
}

bool DirectoryStore::Batch::insert(const Structure& st)
{
    auto insert = db_.prepare("INSERT INTO structures (source, source_key, structure_id, finess, siret, name, address, "
                              "postcode, city, department) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                              "ON CONFLICT (source, source_key) DO NOTHING");
    insert.bindUncopied(1, st.source).bindUncopied(2, st.sourceKey).bind(3, st.structureId());
    insert.bindUncopied(4, st.finess).bindUncopied(5, st.siret).bindUncopied(6, st.name);
    insert.bindUncopied(7, st.address).bindUncopied(8, st.postcode).bindUncopied(9, st.city);
    insert.bindUncopied(10, st.department).run();
    return db_.changes() > 0;
}

bool DirectoryStore::Batch::insert(const Mailbox& m)
{
    auto insert = db_.prepare("INSERT INTO mailboxes (source, source_key, address, type, owner_national_id, "
                              "owner_structure_id, service, hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                              "ON CONFLICT (source, source_key) DO NOTHING");
    insert.bindUncopied(1, m.source).bindUncopied(2, m.sourceKey).bind(3, lowerAscii(m.address));
    insert.bindUncopied(4, m.type).bindUncopied(5, m.ownerNationalId).bindUncopied(6, m.ownerStructureId);
    insert.bindUncopied(7, m.service).bind(8, m.hidden ? 1 : 0).run();
    if (db_.changes() == 0) return false;
    // A rowid is max + 1, so it is at most lastIdBefore_ only after deletions in this batch.
    if (const auto id = db_.lastInsertId(); id <= lastIdBefore_) touchMailbox(id);
    return true;
}

UpsertOutcome DirectoryStore::Batch::add(const Person& person)
{
    return insert(person) ? UpsertOutcome::added : upsert(person);
}

UpsertOutcome DirectoryStore::Batch::add(const Structure& structure)
{
    return insert(structure) ? UpsertOutcome::added : upsert(structure);
}

UpsertOutcome DirectoryStore::Batch::add(const Mailbox& mailbox)
{
    return insert(mailbox) ? UpsertOutcome::added : upsert(mailbox);
}

bool DirectoryStore::Batch::remove(RecordKind kind, std::string_view source, std::string_view sourceKey)
{
    // RETURNING what the search rows depend on: the mailbox itself, or the owner id.
    static constexpr std::array<const char*, 3> sql{
        "DELETE FROM persons WHERE source = ? AND source_key = ? RETURNING national_id",
        "DELETE FROM structures WHERE source = ? AND source_key = ? RETURNING structure_id",
        "DELETE FROM mailboxes WHERE source = ? AND source_key = ? RETURNING id"};
    auto removal = db_.prepare(sql[static_cast<std::size_t>(kind)]);
    removal.bind(1, source).bind(2, sourceKey);
    if (!removal.step()) return false;
    if (kind == RecordKind::mailbox) touchMailbox(removal.int64(0));
    else touchOwnedBy(kind, source, removal.text(0));
    return true;
}

void DirectoryStore::Batch::setSyncState(std::string_view source, std::string_view state)
{
    db_.prepare("INSERT INTO sync_state (source, state) VALUES (?, ?) "
                "ON CONFLICT (source) DO UPDATE SET state = excluded.state")
        .bind(1, source)
        .bind(2, state)
        .run();
}

void DirectoryStore::Batch::commit()
{
    // Each touched mailbox's search row is rebuilt from its records as they now
    // are; hidden or deleted mailboxes get none (mailbox_search_rows).
    db_.prepare("DELETE FROM mailbox_search WHERE rowid IN (SELECT id FROM temp.search_touched)").run();
    db_.prepare("INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address, "
                "owner_is_person, sort_last, sort_first) "
                "SELECT * FROM mailbox_search_rows WHERE id IN (SELECT id FROM temp.search_touched)")
        .run();
    db_.prepare("INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address, "
                "owner_is_person, sort_last, sort_first) "
                "SELECT * FROM mailbox_search_rows WHERE id > ? AND id NOT IN (SELECT id FROM temp.search_touched)")
        .bind(1, lastIdBefore_)
        .run();
    db_.prepare("DELETE FROM temp.search_touched").run();
    transaction_.commit();
}

std::vector<std::string> DirectoryStore::keys(RecordKind kind, std::string_view source)
{
    const std::string sql = std::string("SELECT source_key FROM ") + tableOf(kind) + " WHERE source = ?";
    auto statement = db_.prepare(sql);
    statement.bind(1, source);
    std::vector<std::string> keys;
    while (statement.step()) keys.push_back(statement.text(0));
    return keys;
}

std::size_t DirectoryStore::count(RecordKind kind, std::string_view source)
{
    const std::string sql = std::string("SELECT count(*) FROM ") + tableOf(kind) + " WHERE source = ?";
    auto statement = db_.prepare(sql);
    statement.bind(1, source).step();
    return static_cast<std::size_t>(statement.int64(0));
}

bool DirectoryStore::contains(RecordKind kind, std::string_view source, std::string_view sourceKey)
{
    const std::string sql = std::string("SELECT 1 FROM ") + tableOf(kind) + " WHERE source = ? AND source_key = ?";
    auto statement = db_.prepare(sql);
    statement.bind(1, source).bind(2, sourceKey);
    return statement.step();
}

std::optional<std::string> DirectoryStore::syncState(std::string_view source)
{
    auto statement = db_.prepare("SELECT state FROM sync_state WHERE source = ?");
    statement.bind(1, source);
    if (!statement.step()) return std::nullopt;
    return statement.text(0);
}

}  // namespace plexus::directory
