// RAII over the SQLite C API: a connection and its prepared statements.
// Only prepared statements with bound parameters are offered: no SQL is ever
// built from data.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::store {

class SqliteError : public std::runtime_error {
public:
    SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    bool isConstraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

private:
    int code_;
};

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);

    // Bind by 1-based index; chainable.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
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
    // A statement stepped before is reset on its next bind, so it can be reused.
    void resetAfterStep();

    struct Finalizer {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
    bool needsReset_ = false;
};

class Database {
public:
    // Opens (creating if needed) in WAL mode with synchronous=FULL, so that a
    // committed transaction is on disk when commit returns.
    explicit Database(const std::string& path);

    Statement prepare(std::string_view sql) { return Statement(db_.get(), sql); }
    // For schema scripts and pragmas only (no parameters).
    void execute(const std::string& sql);
    std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }
    int changes() const { return sqlite3_changes(db_.get()); }
    sqlite3* handle() const { return db_.get(); }

private:
    struct Closer {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    std::unique_ptr<sqlite3, Closer> db_;
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
