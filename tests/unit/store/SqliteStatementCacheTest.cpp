// Database::prepare reuses compiled statements; callers must not notice.
#include "store/Sqlite.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using namespace plexus::store;
namespace fs = std::filesystem;

namespace {

// Every compiled statement on the connection, live or cached.
std::vector<sqlite3_stmt*> statementsOn(const Database& db)
{
    std::vector<sqlite3_stmt*> all;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s; s = sqlite3_next_stmt(db.handle(), s))
        all.push_back(s);
    return all;
}

std::vector<std::int64_t> readAll(Statement& stmt)
{
    std::vector<std::int64_t> values;
    while (stmt.step()) values.push_back(stmt.int64(0));
    return values;
}

constexpr const char* kSelectAll = "SELECT v FROM t ORDER BY v";

}  // namespace

class SqliteStatementCacheTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-stmt-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        db_.emplace(dir_ + "/test.db");
        db_->execute("CREATE TABLE t (v INTEGER PRIMARY KEY); INSERT INTO t (v) VALUES (1), (2), (3);");
    }
    void TearDown() override
    {
        db_.reset();
        fs::remove_all(dir_);
    }

    Database& db() { return *db_; }

    std::string dir_;
    std::optional<Database> db_;
};

TEST_F(SqliteStatementCacheTest, SameSqlPreparedAgainReusesTheCompiledStatement)
{
    ASSERT_TRUE(statementsOn(db()).empty());
    sqlite3_stmt* first = nullptr;
    {
        auto stmt = db().prepare(kSelectAll);
        EXPECT_EQ(readAll(stmt), (std::vector<std::int64_t>{1, 2, 3}));
        ASSERT_EQ(statementsOn(db()).size(), 1u);
        first = statementsOn(db()).front();
    }
    // Cached, not finalized, and reset so it holds no read snapshot.
    ASSERT_EQ(statementsOn(db()), std::vector<sqlite3_stmt*>{first});
    EXPECT_EQ(sqlite3_stmt_busy(first), 0);

    auto again = db().prepare(kSelectAll);
    EXPECT_EQ(statementsOn(db()), std::vector<sqlite3_stmt*>{first});
    EXPECT_EQ(readAll(again), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(SqliteStatementCacheTest, NestedStatementsWithTheSameSqlIterateIndependently)
{
    std::vector<std::int64_t> outerValues;
    {
        auto outer = db().prepare(kSelectAll);
        while (outer.step()) {
            outerValues.push_back(outer.int64(0));
            auto inner = db().prepare(kSelectAll);
            EXPECT_EQ(readAll(inner), (std::vector<std::int64_t>{1, 2, 3}));
            EXPECT_EQ(statementsOn(db()).size(), 2u);
        }
    }
    EXPECT_EQ(outerValues, (std::vector<std::int64_t>{1, 2, 3}));

    // Both were kept: nesting again compiles nothing new.
    const auto cached = statementsOn(db());
    ASSERT_EQ(cached.size(), 2u);
    auto a = db().prepare(kSelectAll);
    auto b = db().prepare(kSelectAll);
    ASSERT_TRUE(a.step());
    ASSERT_TRUE(b.step());
    ASSERT_TRUE(b.step());
    EXPECT_EQ(a.int64(0), 1);
    EXPECT_EQ(b.int64(0), 2);
    EXPECT_EQ(statementsOn(db()), cached);
}

TEST_F(SqliteStatementCacheTest, BindingsDoNotLeakIntoTheNextUse)
{
    {
        auto stmt = db().prepare("SELECT ?1 IS NULL, ?1");
        stmt.bind(1, std::int64_t{42});
        ASSERT_TRUE(stmt.step());
        EXPECT_EQ(stmt.int64(0), 0);
        EXPECT_EQ(stmt.int64(1), 42);
    }
    auto stmt = db().prepare("SELECT ?1 IS NULL, ?1");
    ASSERT_EQ(statementsOn(db()).size(), 1u);  // the same, reused
    ASSERT_TRUE(stmt.step());
    EXPECT_EQ(stmt.int64(0), 1);
    EXPECT_TRUE(stmt.isNull(1));
}

TEST_F(SqliteStatementCacheTest, StatementAbandonedMidIterationStartsAgainFromTheFirstRow)
{
    {
        auto stmt = db().prepare(kSelectAll);
        ASSERT_TRUE(stmt.step());
        EXPECT_EQ(stmt.int64(0), 1);
    }
    const auto cached = statementsOn(db());
    ASSERT_EQ(cached.size(), 1u);
    EXPECT_EQ(sqlite3_stmt_busy(cached.front()), 0);
    // The next use reads a fresh snapshot: a row written meanwhile is seen.
    Database other(dir_ + "/test.db");
    other.execute("INSERT INTO t (v) VALUES (4)");

    auto stmt = db().prepare(kSelectAll);
    EXPECT_EQ(readAll(stmt), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(SqliteStatementCacheTest, StatementThatFailedMidStepIsReusable)
{
    const char* insert = "INSERT INTO t (v) VALUES (?)";
    try {
        db().prepare(insert).bind(1, std::int64_t{1}).run();
        FAIL() << "duplicate key accepted";
    } catch (const SqliteError& e) {
        EXPECT_TRUE(e.isConstraint());
    }
    ASSERT_EQ(statementsOn(db()).size(), 1u);
    db().prepare(insert).bind(1, std::int64_t{5}).run();
    EXPECT_EQ(db().changes(), 1);
    EXPECT_EQ(statementsOn(db()).size(), 1u);
    auto stmt = db().prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(stmt.step());
    EXPECT_EQ(stmt.int64(0), 4);
}

TEST_F(SqliteStatementCacheTest, FailedPrepareThrowsAndCachesNothing)
{
    EXPECT_THROW(db().prepare("SELEKT 1"), SqliteError);
    try {
        db().prepare("SELECT * FROM missing_table");
        FAIL() << "prepare of a missing table succeeded";
    } catch (const SqliteError& e) {
        EXPECT_EQ(e.code() & 0xff, SQLITE_ERROR);
        EXPECT_NE(std::string(e.what()).find("missing_table"), std::string::npos);
    }
    EXPECT_TRUE(statementsOn(db()).empty());
    auto stmt = db().prepare(kSelectAll);
    EXPECT_EQ(readAll(stmt), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(SqliteStatementCacheTest, CacheIsBounded)
{
    const std::size_t bound = Database::kMaxIdleStatements;
    const std::size_t distinct = bound + 10;
    for (int round = 0; round < 2; ++round) {
        for (std::size_t i = 0; i < distinct; ++i) {
            auto stmt = db().prepare("SELECT " + std::to_string(i));
            ASSERT_TRUE(stmt.step());
            EXPECT_EQ(stmt.int64(0), static_cast<std::int64_t>(i));
            EXPECT_FALSE(stmt.step());
            EXPECT_LE(statementsOn(db()).size(), bound + 1);
        }
        EXPECT_EQ(statementsOn(db()).size(), bound);
    }

    // Live statements come on top of the idle ones and still work.
    std::vector<Statement> live;
    for (std::size_t i = 0; i < 5; ++i) live.push_back(db().prepare("SELECT 'live', " + std::to_string(i)));
    EXPECT_LE(statementsOn(db()).size(), bound + live.size());
    for (std::size_t i = 0; i < live.size(); ++i) {
        ASSERT_TRUE(live[i].step());
        EXPECT_EQ(live[i].int64(1), static_cast<std::int64_t>(i));
    }
    live.clear();
    EXPECT_EQ(statementsOn(db()).size(), bound);
}

TEST_F(SqliteStatementCacheTest, MovedStatementsGoBackOnce)
{
    std::optional<Statement> holder;
    holder.emplace(db().prepare(kSelectAll));
    Statement moved = std::move(*holder);
    holder.reset();  // the moved-from statement gives nothing back
    ASSERT_TRUE(moved.step());
    EXPECT_EQ(moved.int64(0), 1);

    // Move assignment hands the old statement back first.
    moved = db().prepare("SELECT 7");
    EXPECT_EQ(statementsOn(db()).size(), 2u);
    ASSERT_TRUE(moved.step());
    EXPECT_EQ(moved.int64(0), 7);
    auto first = db().prepare(kSelectAll);
    EXPECT_EQ(statementsOn(db()).size(), 2u);
    EXPECT_EQ(readAll(first), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(SqliteStatementCacheTest, StatementFollowsItsDatabaseWhenTheDatabaseIsMoved)
{
    std::optional<Database> moved;  // declared first: outlives the statement
    auto stmt = db().prepare(kSelectAll);
    moved.emplace(std::move(*db_));
    db_.reset();
    EXPECT_EQ(readAll(stmt), (std::vector<std::int64_t>{1, 2, 3}));
    stmt = moved->prepare("SELECT 1");  // the first one goes back to the moved connection
    EXPECT_EQ(statementsOn(*moved).size(), 2u);
}

TEST_F(SqliteStatementCacheTest, CachedStatementsSurviveSchemaChanges)
{
    {
        auto stmt = db().prepare("SELECT * FROM t ORDER BY v");
        ASSERT_TRUE(stmt.step());
    }
    db().execute("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 9");
    auto stmt = db().prepare("SELECT * FROM t ORDER BY v");
    ASSERT_TRUE(stmt.step());
    EXPECT_EQ(stmt.int64(0), 1);
    EXPECT_EQ(stmt.int64(1), 9);
}

TEST_F(SqliteStatementCacheTest, UncopiedTextIsReadWhenSteppedAndNotKeptByTheCache)
{
    db().execute("CREATE TABLE words (w TEXT)");
    constexpr const char* kInsert = "INSERT INTO words (w) VALUES (?1)";
    {
        std::string word = "first";
        auto insert = db().prepare(kInsert);
        insert.bindUncopied(1, word);
        word[0] = 'F';  // read at step, not at bind: the text must stay as it is meant
        insert.run();
    }
    {
        // The cached statement comes back with nothing bound: no pointer into the string gone above.
        auto again = db().prepare(kInsert);
        again.run();
    }
    std::vector<std::optional<std::string>> words;
    auto rows = db().prepare("SELECT w FROM words ORDER BY rowid");
    while (rows.step()) words.push_back(rows.optionalText(0));
    EXPECT_EQ(words, (std::vector<std::optional<std::string>>{"First", std::nullopt}));
}
