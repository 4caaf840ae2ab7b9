#include "plugins/PluginStorage.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

using plexus::plugins::PluginStorage;
using plexus::store::Database;
using Entries = std::vector<std::pair<std::string, std::string>>;

class PluginStorageTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-plugin-storage-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        db_ = std::make_unique<Database>(dir_ + "/plexus.db");
        plexus::store::migrateSchema(*db_);
    }
    void TearDown() override
    {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }
    std::vector<std::string> keys(const std::string& plugin, const std::string& prefix, std::size_t limit = 100)
    {
        std::vector<std::string> result;
        for (const auto& [key, value] : PluginStorage::list(*db_, plugin, prefix, limit)) result.push_back(key);
        return result;
    }
    std::string dir_;
    std::unique_ptr<Database> db_;
};

TEST_F(PluginStorageTest, BinaryValuesRoundTripAsBlobs)
{
    std::string value("\0head\0\xff\xfe tail\0", 14);
    PluginStorage::put(*db_, "xds", "doc/1", value);
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "doc/1"), value);
    auto type = db_->prepare("SELECT typeof(value), length(value) FROM plugin_storage");
    ASSERT_TRUE(type.step());
    EXPECT_EQ(type.text(0), "blob");
    EXPECT_EQ(type.int64(1), 14);
    PluginStorage::put(*db_, "xds", "empty", "");
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "empty"), "");
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "missing"), std::nullopt);
}

TEST_F(PluginStorageTest, PutOverwritesAndRemoveSaysWhetherThereWasAKey)
{
    PluginStorage::put(*db_, "xds", "k", "one");
    PluginStorage::put(*db_, "xds", "k", "two");
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "k"), "two");
    EXPECT_EQ(keys("xds", ""), std::vector<std::string>{"k"});
    EXPECT_TRUE(PluginStorage::remove(*db_, "xds", "k"));
    EXPECT_FALSE(PluginStorage::remove(*db_, "xds", "k"));
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "k"), std::nullopt);
}

TEST_F(PluginStorageTest, PluginsNeverSeeEachOthersKeys)
{
    PluginStorage::put(*db_, "xds", "shared-name", "xds's");
    PluginStorage::put(*db_, "atna", "shared-name", "atna's");
    PluginStorage::put(*db_, "atna", "own", "x");
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "shared-name"), "xds's");
    EXPECT_EQ(PluginStorage::get(*db_, "atna", "shared-name"), "atna's");
    EXPECT_EQ(PluginStorage::get(*db_, "xds", "own"), std::nullopt);
    EXPECT_EQ(keys("xds", ""), std::vector<std::string>{"shared-name"});
    EXPECT_FALSE(PluginStorage::remove(*db_, "xds", "own"));
    EXPECT_TRUE(PluginStorage::remove(*db_, "xds", "shared-name"));
    EXPECT_EQ(PluginStorage::get(*db_, "atna", "shared-name"), "atna's");
}

TEST_F(PluginStorageTest, ListTakesEveryByteOfThePrefixLiterally)
{
    for (const char* key :
         {"100%", "100%/a", "100x", "100", "a_b", "a_b/1", "aXb", "a\\b", "caf\xc3\xa9", "café/2", "z"})
        PluginStorage::put(*db_, "p", key, std::string("v:") + key);
    EXPECT_EQ(keys("p", "100%"), (std::vector<std::string>{"100%", "100%/a"}));
    EXPECT_EQ(keys("p", "a_b"), (std::vector<std::string>{"a_b", "a_b/1"}));
    EXPECT_EQ(keys("p", "a\\"), std::vector<std::string>{"a\\b"});
    EXPECT_EQ(keys("p", "caf\xc3"), (std::vector<std::string>{"café", "café/2"}));  // a prefix cut inside a character
    EXPECT_EQ(keys("p", "\xff"), std::vector<std::string>{});
    EXPECT_EQ(keys("p", "%"), std::vector<std::string>{});
    EXPECT_EQ(keys("p", "").size(), 11u);
    EXPECT_EQ(keys("p", "", 3), (std::vector<std::string>{"100", "100%", "100%/a"}));  // byte order, limited
    EXPECT_EQ(keys("p", "", 0), std::vector<std::string>{});
    const auto entries = PluginStorage::list(*db_, "p", "z", 10);
    EXPECT_EQ(entries, (Entries{{"z", "v:z"}}));
}

TEST_F(PluginStorageTest, KeysAndValuesHaveLimits)
{
    PluginStorage::put(*db_, "p", std::string(256, 'k'), std::string(PluginStorage::maxValueBytes, 'v'));
    EXPECT_EQ(PluginStorage::get(*db_, "p", std::string(256, 'k'))->size(), 1024u * 1024u);
    const auto message = [](auto&& call) {
        try {
            call();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    EXPECT_THROW(PluginStorage::put(*db_, "p", "", "v"), std::invalid_argument);
    EXPECT_EQ(message([&] { PluginStorage::put(*db_, "p", "", "v"); }), "plugin storage key is empty");
    EXPECT_THROW(PluginStorage::put(*db_, "p", std::string(257, 'k'), "v"), std::length_error);
    EXPECT_EQ(message([&] { PluginStorage::get(*db_, "p", std::string(257, 'k')); }),
              "plugin storage key is 257 bytes; at most 256");
    EXPECT_THROW(PluginStorage::put(*db_, "p", "bad\xff", "v"), std::invalid_argument);
    EXPECT_EQ(message([&] { PluginStorage::remove(*db_, "p", "bad\xc3"); }), "plugin storage key is not valid UTF-8");
    EXPECT_EQ(message([&] { PluginStorage::put(*db_, "p", std::string("a\0b", 3), "v"); }),
              "plugin storage key contains a NUL byte");
    EXPECT_THROW(PluginStorage::put(*db_, "p", "k", std::string(PluginStorage::maxValueBytes + 1, 'v')),
                 std::length_error);
    EXPECT_EQ(message([&] { PluginStorage::put(*db_, "p", "k", std::string(PluginStorage::maxValueBytes + 1, 'v')); }),
              "plugin storage value is 1048577 bytes; at most 1048576 (1 MiB)");
    EXPECT_THROW(PluginStorage::list(*db_, "p", std::string(257, 'k'), 10), std::length_error);
    EXPECT_THROW(PluginStorage::put(*db_, "Not A Plugin", "k", "v"), std::invalid_argument);
    EXPECT_EQ(PluginStorage::get(*db_, "p", "k"), std::nullopt);
}
