#include "directory/DirectorySchema.h"

#include <array>
#include <string>

namespace plexus::directory {

namespace {

// Each entry upgrades the schema from version i to i+1. Never edit a shipped entry.
const std::array<const char*, 5> migrations{
    R"sql(
CREATE TABLE persons (
    id               INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    source_key       TEXT NOT NULL,
    national_id      TEXT NOT NULL,   -- "8"+RPPS or "0"+ADELI
    civility         TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    first_name       TEXT NOT NULL,
    profession_code  TEXT NOT NULL,
    profession_label TEXT NOT NULL,
    specialty_code   TEXT NOT NULL,
    specialty_label  TEXT NOT NULL,
    practice_mode    TEXT NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX persons_national_id ON persons (national_id, source);

CREATE TABLE structures (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    source_key   TEXT NOT NULL,
    structure_id TEXT NOT NULL,       -- FINESS, else SIRET: what mailboxes refer to
    finess       TEXT NOT NULL,
    siret        TEXT NOT NULL,
    name         TEXT NOT NULL,
    address      TEXT NOT NULL,
    postcode     TEXT NOT NULL,
    city         TEXT NOT NULL,
    department   TEXT NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX structures_structure_id ON structures (structure_id, source);

CREATE TABLE mailboxes (
    id                 INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,
    source_key         TEXT NOT NULL,
    address            TEXT NOT NULL,  -- lower-case
    type               TEXT NOT NULL CHECK (type IN ('PER', 'ORG', 'APP', 'CAB')),
    owner_national_id  TEXT NOT NULL,
    owner_structure_id TEXT NOT NULL,
    service            TEXT NOT NULL,
    hidden             INTEGER NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX mailboxes_address ON mailboxes (address);
CREATE INDEX mailboxes_owner_person ON mailboxes (owner_national_id, source);
CREATE INDEX mailboxes_owner_structure ON mailboxes (owner_structure_id, source);

-- Opaque per-source state, e.g. the RFC 4533 cookie, committed with the data.
CREATE TABLE sync_state (
    source TEXT PRIMARY KEY,
    state  TEXT NOT NULL
) WITHOUT ROWID;

-- One row per visible mailbox (rowid = mailboxes.id), with its owner's names:
-- hidden mailboxes ("liste rouge") are never in it, so no search can return them.
CREATE VIRTUAL TABLE mailbox_search USING fts5(
    name, service, profession, specialty, city, structure, address,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');

-- What mailbox_search holds for each visible mailbox. An owner is looked up in
-- the mailbox's own source; should a source hold two records for one id, the first wins.
CREATE VIEW mailbox_search_rows AS
SELECT m.id AS id,
       CASE WHEN p.id IS NOT NULL THEN p.first_name || ' ' || p.last_name ELSE coalesce(s.name, '') END AS name,
       m.service AS service,
       coalesce(p.profession_code || ' ' || p.profession_label, '') AS profession,
       coalesce(p.specialty_code || ' ' || p.specialty_label, '') AS specialty,
       coalesce(s.city || ' ' || s.postcode || ' ' || s.department, '') AS city,
       coalesce(s.name || ' ' || s.finess || ' ' || s.siret, '') AS structure,
       substr(m.address, 1, instr(m.address, '@') - 1) AS address
FROM mailboxes m
LEFT JOIN persons p ON p.id = (SELECT id FROM persons
                               WHERE national_id = m.owner_national_id AND source = m.source AND m.owner_national_id <> ''
                               ORDER BY id LIMIT 1)
LEFT JOIN structures s ON s.id = (SELECT id FROM structures
                                  WHERE structure_id = m.owner_structure_id AND source = m.source
                                        AND m.owner_structure_id <> ''
                                  ORDER BY id LIMIT 1)
WHERE m.hidden = 0;

CREATE TRIGGER mailboxes_insert AFTER INSERT ON mailboxes BEGIN
    INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address)
        SELECT * FROM mailbox_search_rows WHERE id = new.id;
END;
CREATE TRIGGER mailboxes_update AFTER UPDATE ON mailboxes BEGIN
    DELETE FROM mailbox_search WHERE rowid = old.id;
    INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address)
        SELECT * FROM mailbox_search_rows WHERE id = new.id;
END;
CREATE TRIGGER mailboxes_delete AFTER DELETE ON mailboxes BEGIN
    DELETE FROM mailbox_search WHERE rowid = old.id;
END;

-- A person's or structure's change refreshes the rows of the mailboxes it owns.
CREATE TRIGGER persons_insert AFTER INSERT ON persons BEGIN
    UPDATE mailboxes SET id = id WHERE owner_national_id = new.national_id AND source = new.source;
END;
CREATE TRIGGER persons_update AFTER UPDATE ON persons BEGIN
    UPDATE mailboxes SET id = id WHERE owner_national_id IN (old.national_id, new.national_id) AND source = new.source;
END;
CREATE TRIGGER persons_delete AFTER DELETE ON persons BEGIN
    UPDATE mailboxes SET id = id WHERE owner_national_id = old.national_id AND source = old.source;
END;
CREATE TRIGGER structures_insert AFTER INSERT ON structures BEGIN
    UPDATE mailboxes SET id = id WHERE owner_structure_id = new.structure_id AND source = new.source;
END;
CREATE TRIGGER structures_update AFTER UPDATE ON structures BEGIN
    UPDATE mailboxes SET id = id WHERE owner_structure_id IN (old.structure_id, new.structure_id) AND source = new.source;
END;
CREATE TRIGGER structures_delete AFTER DELETE ON structures BEGIN
    UPDATE mailboxes SET id = id WHERE owner_structure_id = old.structure_id AND source = old.source;
END;
)sql",
    R"sql(
-- What `plexusctl directory publish` last published of this instance's own
-- mailboxes, per target ("ldap URI BASE" or "export"): a hash of the entry or
-- line, and the DN it is at. Written as each entry succeeds, so that an
-- interrupted publication resumes where it stopped.
CREATE TABLE publication (
    target  TEXT NOT NULL,
    address TEXT NOT NULL,
    hash    TEXT NOT NULL,
    dn      TEXT NOT NULL,
    PRIMARY KEY (target, address)
) WITHOUT ROWID;
)sql",
    // 3: the search rows are refreshed by DirectoryStore::Batch once per commit
    // (from mailbox_search_rows, for the mailboxes the batch touched) instead of
    // by triggers on every row: a 1 M-entry load spent most of its time there.
    R"sql(
DROP TRIGGER mailboxes_insert;
DROP TRIGGER mailboxes_update;
DROP TRIGGER mailboxes_delete;
DROP TRIGGER persons_insert;
DROP TRIGGER persons_update;
DROP TRIGGER persons_delete;
DROP TRIGGER structures_insert;
DROP TRIGGER structures_update;
DROP TRIGGER structures_delete;
)sql",
    // 4: prefix indexes for one- and four-letter prefixes too. A prefix with no
    // index of its length is the merged doclists of every term it starts, built
    // before the first row ("Le G" is `"g"*`: 65 ms at 1 M entries; a 4-letter
    // one 1 to 3 ms); an indexed one is read lazily, up to the tier's bound.
    // And the ranking's sort fields in the row (UNINDEXED: stored, not
    // tokenized), so that ranking candidates reads no other table. The table is
    // rebuilt from the base tables.
    R"sql(
DROP TABLE mailbox_search;
DROP VIEW mailbox_search_rows;
CREATE VIRTUAL TABLE mailbox_search USING fts5(
    name, service, profession, specialty, city, structure, address,
    owner_is_person UNINDEXED, sort_last UNINDEXED, sort_first UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4');

CREATE VIEW mailbox_search_rows AS
SELECT m.id AS id,
       CASE WHEN p.id IS NOT NULL THEN p.first_name || ' ' || p.last_name ELSE coalesce(s.name, '') END AS name,
       m.service AS service,
       coalesce(p.profession_code || ' ' || p.profession_label, '') AS profession,
       coalesce(p.specialty_code || ' ' || p.specialty_label, '') AS specialty,
       coalesce(s.city || ' ' || s.postcode || ' ' || s.department, '') AS city,
       coalesce(s.name || ' ' || s.finess || ' ' || s.siret, '') AS structure,
       substr(m.address, 1, instr(m.address, '@') - 1) AS address,
       p.id IS NOT NULL AS owner_is_person,
       coalesce(p.last_name, s.name, '') AS sort_last,
       coalesce(p.first_name, '') AS sort_first
FROM mailboxes m
LEFT JOIN persons p ON p.id = (SELECT id FROM persons
                               WHERE national_id = m.owner_national_id AND source = m.source AND m.owner_national_id <> ''
                               ORDER BY id LIMIT 1)
LEFT JOIN structures s ON s.id = (SELECT id FROM structures
                                  WHERE structure_id = m.owner_structure_id AND source = m.source
                                        AND m.owner_structure_id <> ''
                                  ORDER BY id LIMIT 1)
WHERE m.hidden = 0;

INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address,
                            owner_is_person, sort_last, sort_first)
    SELECT * FROM mailbox_search_rows;
)sql",
    // 5: what a first load of 1 M entries spent most on.
    // The mailbox type's CHECK as comparisons: SQLite builds a temporary b-tree
    // for a list of more than two values on every statement it checks, which
    // made a mailbox insert cost twice a person's. A CHECK cannot be altered:
    // the table is rebuilt (legacy renaming leaves the view as written).
    // The search index without token positions (detail=column): searches match
    // words and prefixes in columns, never phrases; a third of the index's size
    // and of the time to build it goes. New words are held in memory up to
    // 32 MiB (FTS5 default: 1 MiB) before being written out as a segment, so
    // that a batch of 20,000 mailboxes is one segment, not a dozen to merge.
    R"sql(
DROP TABLE mailbox_search;
CREATE VIRTUAL TABLE mailbox_search USING fts5(
    name, service, profession, specialty, city, structure, address,
    owner_is_person UNINDEXED, sort_last UNINDEXED, sort_first UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4', detail = column);
INSERT INTO mailbox_search (mailbox_search, rank) VALUES ('hashsize', 33554432);

PRAGMA legacy_alter_table = ON;
CREATE TABLE mailboxes_v5 (
    id                 INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,
    source_key         TEXT NOT NULL,
    address            TEXT NOT NULL,  -- lower-case
    type               TEXT NOT NULL CHECK (type = 'PER' OR type = 'ORG' OR type = 'APP' OR type = 'CAB'),
    owner_national_id  TEXT NOT NULL,
    owner_structure_id TEXT NOT NULL,
    service            TEXT NOT NULL,
    hidden             INTEGER NOT NULL,
    UNIQUE (source, source_key)
);
INSERT INTO mailboxes_v5 (id, source, source_key, address, type, owner_national_id, owner_structure_id, service, hidden)
    SELECT id, source, source_key, address, type, owner_national_id, owner_structure_id, service, hidden FROM mailboxes;
DROP TABLE mailboxes;
ALTER TABLE mailboxes_v5 RENAME TO mailboxes;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX mailboxes_address ON mailboxes (address);
CREATE INDEX mailboxes_owner_person ON mailboxes (owner_national_id, source);
CREATE INDEX mailboxes_owner_structure ON mailboxes (owner_structure_id, source);

INSERT INTO mailbox_search (rowid, name, service, profession, specialty, city, structure, address,
                            owner_is_person, sort_last, sort_first)
    SELECT * FROM mailbox_search_rows;
)sql",
};

int currentVersion(store::Database& db)
{
    auto statement = db.prepare("PRAGMA user_version");
    statement.step();
    return static_cast<int>(statement.int64(0));
}

}  // namespace

void migrateDirectorySchema(store::Database& db)
{
    // The version is read inside the write transaction: plexusd and plexusctl may start together.
    for (;;) {
        store::Transaction tx(db);
        const int version = currentVersion(db);
        if (version >= static_cast<int>(migrations.size())) return;
        db.execute(migrations[static_cast<std::size_t>(version)]);
        db.execute("PRAGMA user_version = " + std::to_string(version + 1));
        tx.commit();
    }
}

}  // namespace plexus::directory
