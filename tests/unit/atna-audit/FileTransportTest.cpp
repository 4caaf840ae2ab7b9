#include "BacklogWatch.h"
#include "FileTransport.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace plexus::atna {
namespace {

class FileTransportTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir_ = std::filesystem::temp_directory_path() / ("atna-file-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "audit.log").string();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string content() const
    {
        std::ifstream in(path_);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static AuditRecord record(std::int64_t id)
    {
        return {"<AuditMessage n=\"" + std::to_string(id) + "\"/>", id, {}, "src:" + std::to_string(id), "src", 0};
    }

    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(FileTransportTest, OneLinePerRecordWithItsUniqueId)
{
    FileTransport file(path_);
    file.send(record(1));
    file.send(record(2));
    EXPECT_EQ(content(), "src:1 <AuditMessage n=\"1\"/>\nsrc:2 <AuditMessage n=\"2\"/>\n");
    EXPECT_EQ(std::filesystem::status(path_).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(FileTransportTest, AppendsAfterALineCutByACrash)
{
    std::ofstream(path_) << "src:1 <AuditMessage n=\"1\"/>\nsrc:2 <AuditMe";
    FileTransport(path_).send(record(2));
    EXPECT_EQ(content(), "src:1 <AuditMessage n=\"1\"/>\nsrc:2 <AuditMe\nsrc:2 <AuditMessage n=\"2\"/>\n");
}

TEST_F(FileTransportTest, UnwritableFileIsATransportError)
{
    FileTransport file((dir_ / "missing" / "audit.log").string());
    EXPECT_THROW(file.send(record(1)), TransportError);
    std::filesystem::create_directories(dir_ / "missing");
    file.send(record(1));  // the same record goes once the directory exists
    EXPECT_TRUE(std::filesystem::exists(dir_ / "missing" / "audit.log"));
}

TEST(BacklogWatchTest, AlertsOnceWhenTheOldestUnsentEventIsTooOldAndEndsWhenSent)
{
    using namespace std::chrono_literals;
    BacklogWatch watch(60s);
    const auto t0 = BacklogWatch::Clock::now();
    EXPECT_EQ(watch.check(t0).age, 0s);
    watch.working(t0);
    watch.working(t0 + 30s);  // a retry of the same backlog keeps its oldest time
    auto state = watch.check(t0 + 50s);
    EXPECT_EQ(state.age, 50s);
    EXPECT_FALSE(state.alerting);
    state = watch.check(t0 + 61s);
    EXPECT_TRUE(state.alerting);
    EXPECT_TRUE(state.changed);
    EXPECT_FALSE(watch.check(t0 + 62s).changed);
    watch.sent();
    state = watch.check(t0 + 63s);
    EXPECT_FALSE(state.alerting);
    EXPECT_TRUE(state.changed);
    EXPECT_EQ(state.age, 0s);
}

}  // namespace
}  // namespace plexus::atna
