#include "store/Sqlite.h"

namespace plexus::store {

static void check(sqlite3* db, int rc, std::string_view what)
{
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        throw SqliteError(std::string(what) + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

namespace detail {

SqliteConnection::Idle::node_type SqliteConnection::acquire(std::string_view sql)
{
    if (auto it = idle.find(sql); it != idle.end()) return idle.extract(it);
    // Persistent: the statement is expected to be reused many times.
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt(raw);
    check(db.get(), rc, "prepare");
    // A node handle can only come out of a container: one allocation per compile,
    // none when a cached statement is reused.
    return idle.extract(idle.emplace(std::string(sql), std::move(stmt)));
}

void SqliteConnection::release(Idle::node_type node) noexcept
{
    sqlite3_stmt* stmt = node.mapped().get();
    if (!stmt) return;  // empty SQL compiles to no statement: nothing to keep
    // Also ends a statement abandoned mid-iteration or after an error, so that
    // the next user starts from the first row with nothing bound.
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (idle.size() < kMaxIdle) idle.insert(std::move(node));
}

}  // namespace detail

Statement& Statement::operator=(Statement&& other) noexcept
{
    if (this != &other) {
        giveBack();
        connection_ = other.connection_;
        node_ = std::move(other.node_);
        needsReset_ = other.needsReset_;
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value)
{
    resetAfterStep();
    check(db(), sqlite3_bind_int64(get(), index, value), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text)
{
    resetAfterStep();
    check(db(), sqlite3_bind_text64(get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
          "bind");
    return *this;
}

Statement& Statement::bindUncopied(int index, const std::string& text)
{
    resetAfterStep();
    // SQLITE_STATIC: SQLite reads the text when stepped; release() clears the
    // bindings before the statement is cached for its next user.
    check(db(), sqlite3_bind_text64(get(), index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8), "bind");
    return *this;
}

Statement& Statement::bindNull(int index)
{
    resetAfterStep();
    check(db(), sqlite3_bind_null(get(), index), "bind");
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
    const int rc = sqlite3_step(get());
    check(db(), rc, "step");
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
    sqlite3_reset(get());
    sqlite3_clear_bindings(get());
    needsReset_ = false;
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(get(), column); }

std::string Statement::text(int column) const
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(get(), column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(get(), column))) : std::string();
}

bool Statement::isNull(int column) const { return sqlite3_column_type(get(), column) == SQLITE_NULL; }

std::optional<std::string> Statement::optionalText(int column) const
{
    if (isNull(column)) return std::nullopt;
    return text(column);
}

namespace {
// SQLite's memory statistics take a global mutex on every allocation, and Plexus
// never reads them; they can only be turned off before SQLite initializes.
const bool kNoMemoryStatistics = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
}();
}  // namespace

Database::Database(const std::string& path) : connection_(std::make_unique<detail::SqliteConnection>())
{
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    connection_->db.reset(raw);
    if (rc != SQLITE_OK)
        throw SqliteError("cannot open database " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"), rc);
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, 10000);
    execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

void Database::execute(const std::string& sql)
{
    char* error = nullptr;
    const int rc = sqlite3_exec(handle(), sql.c_str(), nullptr, nullptr, &error);
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
