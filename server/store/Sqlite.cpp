#include "store/Sqlite.h"

namespace plexus::store {

static void check(sqlite3* db, int rc, std::string_view what)
{
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        throw SqliteError(std::string(what) + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db)
{
    sqlite3_stmt* raw = nullptr;
    check(db, sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr), "prepare");
    stmt_.reset(raw);
}

Statement& Statement::bind(int index, std::int64_t value)
{
    resetAfterStep();
    check(db_, sqlite3_bind_int64(stmt_.get(), index, value), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text)
{
    resetAfterStep();
    check(db_, sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
          "bind");
    return *this;
}

Statement& Statement::bindNull(int index)
{
    resetAfterStep();
    check(db_, sqlite3_bind_null(stmt_.get(), index), "bind");
    return *this;
}

Statement& Statement::bindOptional(int index, const std::optional<std::string>& text)
{
    return text ? bind(index, *text) : bindNull(index);
}

void Statement::resetAfterStep()
{
    if (needsReset_) reset();
}

bool Statement::step()
{
    needsReset_ = true;
    const int rc = sqlite3_step(stmt_.get());
    check(db_, rc, "step");
    return rc == SQLITE_ROW;
}

void Statement::run()
{
    while (step()) {
    }
    reset();
}

void Statement::reset()
{
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    needsReset_ = false;
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::text(int column) const
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column))) : std::string();
}

bool Statement::isNull(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

std::optional<std::string> Statement::optionalText(int column) const
{
    if (isNull(column)) return std::nullopt;
    return text(column);
}

Database::Database(const std::string& path)
{
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK)
        throw SqliteError("cannot open database " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"), rc);
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, 10000);
    execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

void Database::execute(const std::string& sql)
{
    char* error = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw SqliteError(message, rc);
    }
}

Transaction::Transaction(Database& db) : db_(db) { db_.execute("BEGIN IMMEDIATE"); }

Transaction::~Transaction()
{
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit()
{
    db_.execute("COMMIT");
    done_ = true;
}

Savepoint::Savepoint(Database& db) : db_(db) { db_.execute("SAVEPOINT job"); }

Savepoint::~Savepoint()
{
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK TO job; RELEASE job", nullptr, nullptr, nullptr);
}

void Savepoint::release()
{
    db_.execute("RELEASE job");
    done_ = true;
}

}  // namespace plexus::store
