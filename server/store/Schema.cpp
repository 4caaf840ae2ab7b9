#include "store/Schema.h"

#include <array>
#include <string>

namespace plexus::store {

namespace {

// Each entry upgrades the schema from version i to i+1. Never edit a shipped entry.
const std::array<const char*, 5> migrations{
    R"sql(
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    address       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    type          TEXT NOT NULL CHECK (type IN ('PER', 'ORG', 'APP', 'CAB')),
    national_id   TEXT,              -- RPPS/ADELI of the professional (PER, CAB)
    structure_id  TEXT,              -- FINESS/SIRET of the structure (ORG, APP)
    password_hash TEXT,
    quota_bytes   INTEGER NOT NULL,
    used_bytes    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX accounts_national_id ON accounts (national_id);

-- A person's access, with their own credentials, to an organizational mailbox.
CREATE TABLE delegations (
    org_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, person_id)
);

-- IMAP folders of an account.
CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    special_use   TEXT,
    uidvalidity   INTEGER NOT NULL,
    uidnext       INTEGER NOT NULL DEFAULT 1,
    highestmodseq INTEGER NOT NULL DEFAULT 1,
    subscribed    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account_id, name)
);

-- One encrypted file per message, whatever the number of mailboxes holding it.
CREATE TABLE blobs (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL UNIQUE,  -- relative to the blob folder
    size      INTEGER NOT NULL,
    structure TEXT NOT NULL,         -- parsed MIME structure (JSON)
    refcount  INTEGER NOT NULL
);

CREATE TABLE messages (
    mailbox_id    INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    blob_id       INTEGER NOT NULL REFERENCES blobs (id),
    internal_date INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    flags         TEXT NOT NULL DEFAULT '',
    modseq        INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_blob ON messages (blob_id);

-- Remote recipients waiting for relay, one entry per destination domain.
CREATE TABLE outbound (
    id           INTEGER PRIMARY KEY,
    blob_id      INTEGER NOT NULL REFERENCES blobs (id),
    sender       TEXT NOT NULL,
    domain       TEXT NOT NULL,
    recipients   TEXT NOT NULL,      -- JSON: address, NOTIFY, ORCPT per recipient
    envid        TEXT,
    ret          TEXT,
    created_at   INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);

-- The durable event log that audit and async plugins consume.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    INTEGER NOT NULL,        -- microseconds since the epoch
    type    TEXT NOT NULL,
    actor   TEXT,
    client  TEXT,
    object  TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT                     -- JSON
);
)sql",
    R"sql(
-- IMAP subscriptions are names, kept when the folder goes (RFC 3501 §6.3.6).
-- Filled from mailboxes.subscribed, which stays but is unused from now on.
CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed = 1;

-- Access control lists (RFC 4314): the owner has every right without an entry.
CREATE TABLE acl (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL COLLATE NOCASE,  -- an account address, or "anyone"
    rights     TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, identifier)
) WITHOUT ROWID;
CREATE INDEX acl_identifier ON acl (identifier);  -- the folders shared with a user
-- Existing delegates get every right but "a" on the folders of their organization.
INSERT INTO acl (mailbox_id, identifier, rights)
    SELECT m.id, p.address, 'lrswipkxte'
    FROM delegations d JOIN mailboxes m ON m.account_id = d.org_id JOIN accounts p ON p.id = d.person_id;

-- The highest UIDVALIDITY ever given to a folder of the account, deleted ones
-- included, so that a re-created name gets a greater one (RFC 3501 §2.3.1.1).
ALTER TABLE accounts ADD COLUMN last_uidvalidity INTEGER NOT NULL DEFAULT 0;

-- Expunged UIDs and the modseq of their expunge (RFC 7162 QRESYNC VANISHED).
CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);

-- Text of each blob for SEARCH (rowid = blobs.id); trigram: substrings of 3+ characters.
CREATE VIRTUAL TABLE blob_text USING fts5 (header, body, tokenize = 'trigram');
CREATE TRIGGER blobs_text_delete AFTER DELETE ON blobs BEGIN
    DELETE FROM blob_text WHERE rowid = old.id;
END;
)sql",
    // 3: the text index per message, so that a SEARCH reads only its folder's
    // part of the index (a rowid range) instead of every mailbox's matches; a
    // list of what is still to index, instead of a scan of the whole folder;
    // structures out of the blobs table.
    R"sql(
DROP TRIGGER blobs_text_delete;
DROP TABLE blob_text;

-- rowid = mailbox_id << 32 | uid (UIDs are 32-bit); trigram: substrings of 3+ characters.
CREATE VIRTUAL TABLE message_text USING fts5 (header, body, tokenize = 'trigram');
CREATE TABLE message_text_pending (
    mailbox_id INTEGER NOT NULL,
    uid        INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TRIGGER messages_text_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO message_text_pending (mailbox_id, uid) VALUES (new.mailbox_id, new.uid);
END;
CREATE TRIGGER messages_text_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_text WHERE rowid = (old.mailbox_id << 32) | old.uid;
    DELETE FROM message_text_pending WHERE mailbox_id = old.mailbox_id AND uid = old.uid;
END;
-- Every stored message is indexed again, in the background (TextIndexer).
INSERT INTO message_text_pending (mailbox_id, uid) SELECT mailbox_id, uid FROM messages;

-- Parsed structures apart from the blobs, so that the blobs table joined to
-- messages on every FETCH and SEARCH stays a few dozen bytes a row.
CREATE TABLE blob_structures (
    blob_id   INTEGER PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
    structure TEXT NOT NULL    -- parsed MIME structure (JSON)
);
INSERT INTO blob_structures (blob_id, structure) SELECT id, structure FROM blobs;
ALTER TABLE blobs DROP COLUMN structure;
)sql",
    // 4: plugins' durable state: their own storage, their positions in the
    // event log, the events they could not process, and what plexusd loaded.
    R"sql(
CREATE TABLE plugin_storage (
    plugin     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL,     -- seconds since the epoch
    PRIMARY KEY (plugin, key)
) WITHOUT ROWID;

-- The last event each consumer has processed (at least once: it may see it again).
CREATE TABLE plugin_cursors (
    plugin        TEXT NOT NULL,
    consumer      TEXT NOT NULL,
    last_event_id INTEGER NOT NULL,
    PRIMARY KEY (plugin, consumer)
) WITHOUT ROWID;

-- Events a consumer gave up on ("poison"), kept for the operator.
CREATE TABLE plugin_poison (
    plugin       TEXT NOT NULL,
    consumer     TEXT NOT NULL,
    event_id     INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    error        TEXT NOT NULL,
    set_aside_at INTEGER NOT NULL,   -- seconds since the epoch
    PRIMARY KEY (plugin, consumer, event_id)
) WITHOUT ROWID;

-- What the running plexusd loaded, for plexusctl plugins.
CREATE TABLE plugin_status (
    name         TEXT PRIMARY KEY,
    path         TEXT NOT NULL,
    version      TEXT NOT NULL DEFAULT '',
    abi          TEXT NOT NULL DEFAULT '',
    capabilities INTEGER NOT NULL DEFAULT 0,
    hooks        TEXT NOT NULL DEFAULT '',   -- e.g. "message,rcpt_to,consumer:audit,timer,http"
    state        TEXT NOT NULL CHECK (state IN ('loaded', 'failed', 'stopped')),
    error        TEXT NOT NULL DEFAULT '',
    loaded_at    INTEGER,
    updated_at   INTEGER NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,  -- errors, exceptions and timeouts
    timeouts     INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 5: the outbound queue's state: an entry is claimed while an attempt runs;
    // each recipient has its outcome and the delivery status notice it is due;
    // retries are timed in milliseconds (fractions of a second in tests).
    R"sql(
ALTER TABLE outbound RENAME COLUMN next_attempt TO next_attempt_ms;
UPDATE outbound SET next_attempt_ms = next_attempt_ms * 1000;
-- queued: waiting for next_attempt_ms; delivering: an attempt is running;
-- done: no recipient pending, notices still to hand over (then the entry goes).
ALTER TABLE outbound ADD COLUMN state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'delivering', 'done'));
ALTER TABLE outbound ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;  -- RFC 3461 §5.2.5: once
ALTER TABLE outbound ADD COLUMN last_attempt INTEGER;                     -- seconds since the epoch
CREATE INDEX outbound_due ON outbound (state, next_attempt_ms);

-- The recipients of an entry (outbound.recipients, as received) and what became of each.
CREATE TABLE outbound_recipients (
    entry_id     INTEGER NOT NULL REFERENCES outbound (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,   -- index in outbound.recipients
    address      TEXT NOT NULL,
    notify       TEXT NOT NULL,      -- RFC 3461 NOTIFY; '' when not given
    orcpt        TEXT NOT NULL,      -- RFC 3461 ORCPT; '' when not given
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'expired')),
    reply        TEXT,               -- the last reply or reason
    remote_host  TEXT,               -- who gave it
    last_attempt INTEGER,            -- seconds since the epoch
    notice       TEXT CHECK (notice IN ('delayed', 'failed', 'delivered')),  -- due, not yet handed over
    PRIMARY KEY (entry_id, position)
) WITHOUT ROWID;

-- Whoever writes an entry (intake), its recipients get their rows.
CREATE TRIGGER outbound_recipients_insert AFTER INSERT ON outbound BEGIN
    INSERT INTO outbound_recipients (entry_id, position, address, notify, orcpt)
        SELECT new.id, key, json_extract(value, '$.address'), coalesce(json_extract(value, '$.notify'), ''),
               coalesce(json_extract(value, '$.orcpt'), '')
        FROM json_each(new.recipients);
END;
INSERT INTO outbound_recipients (entry_id, position, address, notify, orcpt)
    SELECT o.id, r.key, json_extract(r.value, '$.address'), coalesce(json_extract(r.value, '$.notify'), ''),
           coalesce(json_extract(r.value, '$.orcpt'), '')
    FROM outbound o, json_each(o.recipients) r;
)sql",
};

int currentVersion(Database& db)
{
    auto stmt = db.prepare("PRAGMA user_version");
    stmt.step();
    return static_cast<int>(stmt.int64(0));
}

}  // namespace

void migrateSchema(Database& db)
{
    // The version is read inside the write transaction: plexusd and plexusctl may start together.
    for (;;) {
        Transaction tx(db);
        const int version = currentVersion(db);
        if (version >= static_cast<int>(migrations.size())) return;
        db.execute(migrations[static_cast<std::size_t>(version)]);
        db.execute("PRAGMA user_version = " + std::to_string(version + 1));
        tx.commit();
    }
}

}  // namespace plexus::store
