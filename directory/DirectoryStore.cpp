#include "directory/DirectoryStore.h"

#include "directory/DirectorySchema.h"

#include <algorithm>
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

// The id of the record (source, key) of this kind, if any.
std::optional<std::int64_t> findId(store::Database& db, RecordKind kind, std::string_view source,
                                   std::string_view key)
{
    const std::string sql = std::string("SELECT id FROM ") + tableOf(kind) + " WHERE source = ? AND source_key = ?";
    auto statement = db.prepare(sql);
    statement.bind(1, source).bind(2, key);
    if (!statement.step()) return std::nullopt;
    return statement.int64(0);
}

Person readPerson(store::Database& db, std::int64_t id)
{
    auto s = db.prepare("SELECT source, source_key, national_id, civility, last_name, first_name, profession_code, "
                        "profession_label, specialty_code, specialty_label, practice_mode FROM persons WHERE id = ?");
    s.bind(1, id).step();
    return Person{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5),
                  s.text(6), s.text(7), s.text(8), s.text(9), s.text(10)};
}

Structure readStructure(store::Database& db, std::int64_t id)
{
    auto s = db.prepare("SELECT source, source_key, finess, siret, name, address, postcode, city, department "
                        "FROM structures WHERE id = ?");
    s.bind(1, id).step();
    return Structure{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7), s.text(8)};
}

Mailbox readMailbox(store::Database& db, std::int64_t id)
{
    auto s = db.prepare("SELECT source, source_key, address, type, owner_national_id, owner_structure_id, service, "
                        "hidden FROM mailboxes WHERE id = ?");
    s.bind(1, id).step();
    return Mailbox{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.int64(7) != 0};
}

}  // namespace

DirectoryStore::DirectoryStore(const std::string& path) : db_(path)
{
    migrateDirectorySchema(db_);
}

UpsertOutcome DirectoryStore::Batch::upsert(const Person& p)
{
    const auto id = findId(db_, RecordKind::person, p.source, p.sourceKey);
    if (id && readPerson(db_, *id) == p) return UpsertOutcome::unchanged;
    auto s = id ? db_.prepare("UPDATE persons SET national_id = ?3, civility = ?4, last_name = ?5, first_name = ?6, "
                              "profession_code = ?7, profession_label = ?8, specialty_code = ?9, specialty_label = ?10, "
                              "practice_mode = ?11 WHERE source = ?1 AND source_key = ?2")
                : db_.prepare("INSERT INTO persons (source, source_key, national_id, civility, last_name, first_name, "
                              "profession_code, profession_label, specialty_code, specialty_label, practice_mode) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, p.source).bind(2, p.sourceKey).bind(3, p.nationalId).bind(4, p.civility).bind(5, p.lastName);
    s.bind(6, p.firstName).bind(7, p.professionCode).bind(8, p.professionLabel).bind(9, p.specialtyCode);
    s.bind(10, p.specialtyLabel).bind(11, p.practiceMode).run();
    return id ? UpsertOutcome::changed : UpsertOutcome::added;
}

UpsertOutcome DirectoryStore::Batch::upsert(const Structure& st)
{
    const auto id = findId(db_, RecordKind::structure, st.source, st.sourceKey);
    if (id && readStructure(db_, *id) == st) return UpsertOutcome::unchanged;
    auto s = id ? db_.prepare("UPDATE structures SET structure_id = ?3, finess = ?4, siret = ?5, name = ?6, "
                              "address = ?7, postcode = ?8, city = ?9, department = ?10 "
                              "WHERE source = ?1 AND source_key = ?2")
                : db_.prepare("INSERT INTO structures (source, source_key, structure_id, finess, siret, name, address, "
                              "postcode, city, department) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    s.bind(1, st.source).bind(2, st.sourceKey).bind(3, st.structureId()).bind(4, st.finess).bind(5, st.siret);
    s.bind(6, st.name).bind(7, st.address).bind(8, st.postcode).bind(9, st.city).bind(10, st.department).run();
    return id ? UpsertOutcome::changed : UpsertOutcome::added;
}

UpsertOutcome DirectoryStore::Batch::upsert(const Mailbox& mailbox)
{
    Mailbox m = mailbox;
    m.address = lowerAscii(m.address);
    const auto id = findId(db_, RecordKind::mailbox, m.source, m.sourceKey);
    if (id && readMailbox(db_, *id) == m) return UpsertOutcome::unchanged;
    auto s = id ? db_.prepare("UPDATE mailboxes SET address = ?3, type = ?4, owner_national_id = ?5, "
                              "owner_structure_id = ?6, service = ?7, hidden = ?8 WHERE source = ?1 AND source_key = ?2")
                : db_.prepare("INSERT INTO mailboxes (source, source_key, address, type, owner_national_id, "
                              "owner_structure_id, service, hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, m.source).bind(2, m.sourceKey).bind(3, m.address).bind(4, m.type).bind(5, m.ownerNationalId);
    s.bind(6, m.ownerStructureId).bind(7, m.service).bind(8, std::int64_t{m.hidden ? 1 : 0}).run();
    return id ? UpsertOutcome::changed : UpsertOutcome::added;
}

bool DirectoryStore::Batch::remove(RecordKind kind, std::string_view source, std::string_view sourceKey)
{
    const std::string sql = std::string("DELETE FROM ") + tableOf(kind) + " WHERE source = ? AND source_key = ?";
    db_.prepare(sql).bind(1, source).bind(2, sourceKey).run();
    return db_.changes() > 0;
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

std::optional<std::string> DirectoryStore::syncState(std::string_view source)
{
    auto statement = db_.prepare("SELECT state FROM sync_state WHERE source = ?");
    statement.bind(1, source);
    if (!statement.step()) return std::nullopt;
    return statement.text(0);
}

}  // namespace plexus::directory
