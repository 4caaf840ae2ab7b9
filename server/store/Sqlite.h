// RAII over the SQLite C API: a connection and its prepared statements.
// Only prepared statements with bound parameters are offered: no SQL is ever
// built from data.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plexus::store {

class SqliteError : public std::runtime_error {
public:
    SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    bool isConstraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

private:
    int code_;
};

namespace detail {

// Compiling the same SQL on every call is measurable CPU under load, so each
// connection keeps its idle compiled statements for reuse, keyed by SQL text.
// It lives on the heap so that statements still find it after their Database
// has been moved. Not locked: like the handle, used by one thread at a time.
struct SqliteConnection {
    // Bounded: beyond this many idle statements, a returned one is finalized.
    static constexpr std::size_t kMaxIdle = 64;

    struct Closer {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    struct Finalizer {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    // Looks SQL up by string_view, without building a std::string per prepare.
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept { return std::hash<std::string_view>{}(sql); }
    };
    using Idle = std::unordered_multimap<std::string, std::unique_ptr<sqlite3_stmt, Finalizer>, SqlHash,
                                         std::equal_to<>>;

    SqliteConnection() { idle.reserve(kMaxIdle + 1); }  // never rehashes when a statement comes back

    // An idle statement for this SQL, taken out of the cache (nested uses each
    // get their own), or a newly compiled one. Throws SqliteError.
    Idle::node_type acquire(std::string_view sql);
    // Resets, clears bindings and keeps the statement for the next prepare.
    void release(Idle::node_type node) noexcept;

    // Declared first so destroyed last: every statement is finalized before close.
    std::unique_ptr<sqlite3, Closer> db;
    Idle idle;
};

}  // namespace detail

// Made only by Database::prepare. A Statement must not outlive its Database:
// on destruction it goes back to the Database's cache of compiled statements.
class Statement {
public:
    ~Statement() { giveBack(); }
    Statement(Statement&& other) noexcept = default;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Bind by 1-based index; chainable.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    // Binds without a copy, for hot loops over records that outlive the
    // statement: `text` must stay alive and unchanged until this Statement is
    // destroyed or the index rebound. No temporaries.
    Statement& bindUncopied(int index, const std::string& text);
    Statement& bindUncopied(int index, std::string&& text) = delete;
    Statement& bindNull(int index);
    Statement& bindOptional(int index, const std::optional<std::string>& text);

    // Advances to the next row; false when done.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    void reset();

    std::int64_t int64(int column) const;
    std::string text(int column) const;
    bool isNull(int column) const;
    std::optional<std::string> optionalText(int column) const;

private:
    friend class Database;
    Statement(detail::SqliteConnection& connection, std::string_view sql)
        : connection_(&connection), node_(connection.acquire(sql))
    {
    }

    sqlite3_stmt* get() const { return node_ ? node_.mapped().get() : nullptr; }
    sqlite3* db() const { return connection_->db.get(); }
    void giveBack() noexcept
    {
        if (node_) connection_->release(std::move(node_));
    }
    // A statement stepped before is reset on its next bind, so it can be reused.
    void resetAfterStep();

    detail::SqliteConnection* connection_;
    // Owns the compiled statement (finalized if dropped) along with its SQL key.
    detail::SqliteConnection::Idle::node_type node_;
    bool needsReset_ = false;
};

class Database {
public:
    // Idle compiled statements kept per connection.
    static constexpr std::size_t kMaxIdleStatements = detail::SqliteConnection::kMaxIdle;

    // Opens (creating if needed) in WAL mode with synchronous=FULL, so that a
    // committed transaction is on disk when commit returns.
    explicit Database(const std::string& path);

    // Reuses a compiled statement for this SQL when one is idle.
    Statement prepare(std::string_view sql) { return Statement(*connection_, sql); }
    // For schema scripts and pragmas only (no parameters).
    void execute(const std::string& sql);
    std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(handle()); }
    int changes() const { return sqlite3_changes(handle()); }
    sqlite3* handle() const { return connection_->db.get(); }

private:
    std::unique_ptr<detail::SqliteConnection> connection_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database& db_;
    bool done_ = false;
};

// A nested unit inside a transaction: one failing job does not undo the others.
class Savepoint {
public:
    explicit Savepoint(Database& db);
    ~Savepoint();
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void release();

private:
    Database& db_;
    bool done_ = false;
};

}  // namespace plexus::store
