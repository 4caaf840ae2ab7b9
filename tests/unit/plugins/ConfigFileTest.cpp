// plexusctl's INI editor: edits touch only their own lines, saves are atomic.
#include "cli/ConfigFile.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace plexus::cli {
namespace {

namespace fs = std::filesystem;

const std::string kConfig =
    "; Plexus instance\n"
    "[server]\n"
    "hostname = mail.example.test\n"
    "Data_Dir=/srv/plexus   \n"
    "\n"
    "# operators' notes stay\n"
    "[tls]\n"
    "key = /srv/plexus/pki/server.key\n"
    "\n"
    "[plugins]\n"
    "; load order\n"
    "enabled = audit\n"
    "; dir = /srv/plexus/plugins\n"
    "\n"
    "; The audit plugin\n"
    "[plugin.audit]\n"
    "path = /opt/audit.so\n"
    "; deadline_ms = 5000\n"
    "\n"
    "[limits]\n"
    "recipients = 500\n";

class ConfigFileTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-config-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        write(kConfig);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path() const { return (dir_ / "plexus.conf").string(); }
    void write(const std::string& text) const { std::ofstream(path(), std::ios::binary) << text; }
    std::string read() const
    {
        std::ifstream in(path(), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    fs::path dir_;
};

TEST_F(ConfigFileTest, LoadsAndSavesTheSameBytes)
{
    const auto config = ConfigFile::load(path());
    EXPECT_EQ(config.text(), kConfig);
    config.save();
    EXPECT_EQ(read(), kConfig);
    write("[a]\nx = 1");  // no final newline
    EXPECT_EQ(ConfigFile::load(path()).text(), "[a]\nx = 1");
}

TEST_F(ConfigFileTest, ReadsValuesAsPocoDoes)
{
    const auto config = ConfigFile::load(path());
    EXPECT_EQ(config.value("server", "data_dir"), "/srv/plexus");
    EXPECT_EQ(config.value("SERVER", "hostname"), "mail.example.test");
    EXPECT_EQ(config.value("plugins", "enabled"), "audit");
    EXPECT_EQ(config.value("plugins", "dir"), std::nullopt);  // commented out
    EXPECT_EQ(config.value("tls", "hostname"), std::nullopt);
    EXPECT_TRUE(config.hasSection("plugin.audit"));
    EXPECT_FALSE(config.hasSection("plugin"));
}

TEST_F(ConfigFileTest, SetValueRewritesOnlyThatLine)
{
    auto config = ConfigFile::load(path());
    config.setValue("plugins", "enabled", "audit, noop");
    config.setValue("server", "data_dir", "/data");
    std::string expected = kConfig;
    expected.replace(expected.find("enabled = audit\n"), 16, "enabled = audit, noop\n");
    expected.replace(expected.find("Data_Dir=/srv/plexus   \n"), 24, "Data_Dir = /data\n");
    EXPECT_EQ(config.text(), expected);
}

TEST_F(ConfigFileTest, SetValueAddsAKeyAfterTheSectionsLastLine)
{
    auto config = ConfigFile::load(path());
    config.setValue("plugins", "dir", "/opt/plugins");
    std::string expected = kConfig;
    const std::string after = "; dir = /srv/plexus/plugins\n";
    expected.insert(expected.find(after) + after.size(), "dir = /opt/plugins\n");
    EXPECT_EQ(config.text(), expected);
}

TEST_F(ConfigFileTest, SetValueAddsAMissingSectionAtTheEnd)
{
    write("[server]\nhostname = x");
    auto config = ConfigFile::load(path());
    config.setValue("plugins", "enabled", "noop");
    EXPECT_EQ(config.text(), "[server]\nhostname = x\n\n[plugins]\nenabled = noop\n");
}

TEST_F(ConfigFileTest, AppendedSectionsRemoveToTheSameBytes)
{
    auto config = ConfigFile::load(path());
    config.appendSection("plugin.noop", {"; noop 1.0.0", "path = /opt/noop.so"});
    EXPECT_EQ(config.text(), kConfig + "\n[plugin.noop]\n; noop 1.0.0\npath = /opt/noop.so\n");
    EXPECT_THROW(config.appendSection("plugin.noop", {}), ConfigFileError);
    EXPECT_TRUE(config.removeSection("plugin.noop"));
    EXPECT_EQ(config.text(), kConfig);
}

TEST_F(ConfigFileTest, RemoveTakesTheSectionAndItsCommentsOnly)
{
    auto config = ConfigFile::load(path());
    EXPECT_TRUE(config.removeSection("plugin.audit"));
    std::string expected = kConfig;
    const std::string section = "; The audit plugin\n[plugin.audit]\npath = /opt/audit.so\n; deadline_ms = 5000\n\n";
    expected.erase(expected.find(section), section.size());
    EXPECT_EQ(config.text(), expected);
    EXPECT_FALSE(config.removeSection("plugin.audit"));
    EXPECT_TRUE(config.removeSection("limits"));
    EXPECT_EQ(config.text(), expected.substr(0, expected.find("\n\n[limits]") + 1));
}

TEST_F(ConfigFileTest, RemoveTakesEveryPartOfARepeatedSection)
{
    write("[a]\nx = 1\n\n[b]\ny = 2\n\n[a]\nz = 3\n");
    auto config = ConfigFile::load(path());
    EXPECT_TRUE(config.removeSection("a"));
    EXPECT_EQ(config.text(), "[b]\ny = 2\n");
}

TEST_F(ConfigFileTest, SaveReplacesTheFileKeepingItsMode)
{
    ASSERT_EQ(::chmod(path().c_str(), 0640), 0);
    struct stat original {};
    ASSERT_EQ(::stat(path().c_str(), &original), 0);
    auto config = ConfigFile::load(path());
    config.setValue("plugins", "enabled", "");
    config.save();
    struct stat saved {};
    ASSERT_EQ(::stat(path().c_str(), &saved), 0);
    EXPECT_NE(saved.st_ino, original.st_ino);  // a new file renamed over the old one, not rewritten in place
    EXPECT_EQ(saved.st_mode & 07777, 0640u);
    EXPECT_EQ(ConfigFile::load(path()).value("plugins", "enabled"), "");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temporary file left
}

TEST_F(ConfigFileTest, SaveThroughASymbolicLinkReplacesItsTarget)
{
    const auto link = dir_ / "link.conf";
    fs::create_symlink(path(), link);
    auto config = ConfigFile::load(link.string());
    config.setValue("limits", "recipients", "10");
    config.save();
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(ConfigFile::load(path()).value("limits", "recipients"), "10");
}

TEST_F(ConfigFileTest, FailedSaveLeavesNoTemporaryFile)
{
    auto config = ConfigFile::load(path());
    config.setValue("limits", "recipients", "10");
    // A folder where the file was: the final rename fails, even for root.
    fs::remove(path());
    fs::create_directory(path());
    EXPECT_THROW(config.save(), ConfigFileError);
    EXPECT_TRUE(fs::is_directory(path()));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ConfigFileTest, MissingFile)
{
    try {
        ConfigFile::load((dir_ / "absent.conf").string());
        FAIL();
    } catch (const ConfigFileError& e) {
        EXPECT_EQ(std::string(e.what()), "configuration file " + (dir_ / "absent.conf").string() + " does not exist");
    }
}

}  // namespace
}  // namespace plexus::cli
