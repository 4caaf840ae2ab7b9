// Encrypted-at-rest blob files and the at-rest key file.
#include "store/AtRestKey.h"
#include "store/BlobFile.h"
#include "store/BlobFormat.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace plexus::store {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSegment = blob::kSegmentSize;
constexpr std::size_t kSealedSegment = blob::kSegmentSize + blob::kTagSize;

std::string fileBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replaceFile(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

std::string sealedSegment(const std::string& file, std::size_t index)
{
    return file.substr(blob::kHeaderSize + index * kSealedSegment, kSealedSegment);
}

class BlobFileTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-blob-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        AtRestKey::generateFile(path("key"));
        key_.emplace(AtRestKey::loadFile(path("key")));
    }

    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    const AtRestKey& key() const { return *key_; }

    std::string randomBytes(std::size_t n)
    {
        std::string bytes(n, '\0');
        std::uniform_int_distribution<int> byte(0, 255);
        std::generate(bytes.begin(), bytes.end(), [&] { return static_cast<char>(byte(rng_)); });
        return bytes;
    }

    // Writes data in chunks of random sizes, as a network stream would arrive.
    void writeBlob(const std::string& file, const std::string& data)
    {
        BlobWriter writer(key(), file);
        std::uniform_int_distribution<std::size_t> chunkSize(1, 3 * kSegment / 2);
        for (std::size_t at = 0; at < data.size();) {
            const std::size_t n = std::min(chunkSize(rng_), data.size() - at);
            writer.write(data.data() + at, n);
            at += n;
        }
        ASSERT_EQ(writer.size(), data.size());
        writer.commit();
    }

    std::string readBlob(const std::string& file) { return BlobReader(key(), file).readAll(); }

    // A blob of three segments (full, full, partial) and its bytes on disk.
    std::string writeThreeSegmentBlob(const std::string& file)
    {
        writeBlob(file, randomBytes(2 * kSegment + 100));
        return fileBytes(file);
    }

    std::mt19937_64 rng_{20240611};
    fs::path dir_;
    std::optional<AtRestKey> key_;
};

// ---- round trips and random access ----

TEST_F(BlobFileTest, RoundTripsSizesAroundSegmentBoundaries)
{
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, kSegment - 1, kSegment, kSegment + 1,
                                   std::size_t{3} << 20}) {
        SCOPED_TRACE("size " + std::to_string(size));
        const std::string file = path("blob-" + std::to_string(size));
        const std::string data = randomBytes(size);
        writeBlob(file, data);

        const std::size_t segments = std::max<std::size_t>(1, (size + kSegment - 1) / kSegment);
        EXPECT_EQ(fs::file_size(file), blob::kHeaderSize + size + segments * blob::kTagSize);
        BlobReader reader(key(), file);
        EXPECT_EQ(reader.size(), size);
        EXPECT_TRUE(reader.readAll() == data);
    }
}

TEST_F(BlobFileTest, RandomAccessReadsMatchPlaintext)
{
    const std::string data = randomBytes(3 * kSegment + 1234);
    writeBlob(path("blob"), data);
    BlobReader reader(key(), path("blob"));

    // Ranges straddling each segment boundary, then random ones.
    std::vector<std::pair<std::uint64_t, std::size_t>> ranges;
    for (std::uint64_t boundary = kSegment; boundary < data.size(); boundary += kSegment)
        ranges.insert(ranges.end(), {{boundary - 1, 2}, {boundary - 10, kSegment + 20}, {boundary, 1}});
    ranges.push_back({0, data.size()});
    std::uniform_int_distribution<std::uint64_t> offset(0, data.size() - 1);
    std::uniform_int_distribution<std::size_t> length(0, 2 * kSegment);
    for (int i = 0; i < 300; ++i)
        ranges.push_back({offset(rng_), length(rng_)});

    std::vector<char> buffer;
    for (const auto& [at, n] : ranges) {
        buffer.assign(n, '\0');
        const std::size_t expected = std::min<std::uint64_t>(n, data.size() - at);
        ASSERT_EQ(reader.read(at, buffer.data(), n), expected) << "offset " << at << " length " << n;
        ASSERT_TRUE(std::equal(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(expected),
                               data.begin() + static_cast<std::ptrdiff_t>(at)))
            << "offset " << at << " length " << n;
        ASSERT_TRUE(reader.readRange(at, n) == data.substr(at, n)) << "offset " << at << " length " << n;
    }
}

TEST_F(BlobFileTest, ReadsAtOrPastTheEndReturnNothing)
{
    writeBlob(path("blob"), "hello");
    BlobReader reader(key(), path("blob"));
    char buffer[8];
    EXPECT_EQ(reader.read(5, buffer, sizeof buffer), 0u);
    EXPECT_EQ(reader.read(1000, buffer, sizeof buffer), 0u);
    EXPECT_EQ(reader.readRange(3, 100), "lo");
    EXPECT_EQ(reader.readRange(5, 1), "");
}

// ---- confidentiality ----

TEST_F(BlobFileTest, FileContainsNoPlaintext)
{
    std::string pattern;
    while (pattern.size() < 1024)
        pattern += "Patient DUPONT Jean, NIR 1850775123456, compte rendu d'hospitalisation. ";
    pattern.resize(1024);
    std::string data;
    for (int i = 0; i < 100; ++i)
        data += pattern;
    writeBlob(path("blob"), data);

    const std::string onDisk = fileBytes(path("blob"));
    EXPECT_EQ(onDisk.find(pattern), std::string::npos);
    for (std::size_t at = 0; at + 16 <= pattern.size(); at += 16)
        ASSERT_EQ(onDisk.find(pattern.substr(at, 16)), std::string::npos) << "plaintext run at " << at;
    EXPECT_TRUE(readBlob(path("blob")) == data);
}

TEST_F(BlobFileTest, SamePlaintextEncryptsDifferentlyEachTime)
{
    const std::string data(1000, 'x');
    writeBlob(path("a"), data);
    writeBlob(path("b"), data);
    const std::string a = fileBytes(path("a"));
    const std::string b = fileBytes(path("b"));
    EXPECT_NE(a.substr(blob::kHeaderSize), b.substr(blob::kHeaderSize));
}

TEST_F(BlobFileTest, CreatesFilesReadableByOwnerOnly)
{
    writeBlob(path("blob"), "x");
    struct stat st {};
    ASSERT_EQ(::stat(path("blob").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// ---- integrity ----

TEST_F(BlobFileTest, FlippedByteInAnySegmentIsDetected)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    for (std::size_t segment = 0; segment < 3; ++segment) {
        const std::size_t start = blob::kHeaderSize + segment * kSealedSegment;
        const std::size_t end = std::min(start + kSealedSegment, original.size());
        for (const std::size_t at : {start, (start + end) / 2, end - 1}) {  // ciphertext, ciphertext, tag
            SCOPED_TRACE("segment " + std::to_string(segment) + " byte " + std::to_string(at));
            std::string tampered = original;
            tampered[at] = static_cast<char>(tampered[at] ^ 0x01);
            replaceFile(path("blob"), tampered);
            EXPECT_THROW(readBlob(path("blob")), BlobError);
        }
    }
}

TEST_F(BlobFileTest, FlippedByteInHeaderIsDetectedAtOpen)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    for (std::size_t at = 0; at < blob::kHeaderSize; ++at) {
        SCOPED_TRACE("header byte " + std::to_string(at));
        std::string tampered = original;
        tampered[at] = static_cast<char>(tampered[at] ^ 0x01);
        replaceFile(path("blob"), tampered);
        EXPECT_THROW(BlobReader(key(), path("blob")), BlobError);
    }
}

TEST_F(BlobFileTest, TruncatedFileIsDetectedAtOpen)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    for (const std::size_t size : {original.size() - 1, original.size() - blob::kTagSize,
                                   blob::kHeaderSize + 2 * kSealedSegment,  // last segment dropped
                                   blob::kHeaderSize + kSealedSegment, blob::kHeaderSize, std::size_t{10},
                                   std::size_t{0}}) {
        SCOPED_TRACE("truncated to " + std::to_string(size));
        replaceFile(path("blob"), original.substr(0, size));
        EXPECT_THROW(BlobReader(key(), path("blob")), BlobError);
    }
}

TEST_F(BlobFileTest, EmptyBlobTruncatedToItsHeaderIsDetected)
{
    writeBlob(path("blob"), "");
    replaceFile(path("blob"), fileBytes(path("blob")).substr(0, blob::kHeaderSize));
    EXPECT_THROW(BlobReader(key(), path("blob")), BlobError);
}

TEST_F(BlobFileTest, RemovedSegmentIsDetected)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    for (std::size_t segment = 0; segment < 2; ++segment) {
        SCOPED_TRACE("segment " + std::to_string(segment) + " removed");
        std::string tampered = original;
        tampered.erase(blob::kHeaderSize + segment * kSealedSegment, kSealedSegment);
        replaceFile(path("blob"), tampered);
        EXPECT_THROW(readBlob(path("blob")), BlobError);
    }
}

TEST_F(BlobFileTest, AppendedSegmentIsDetected)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    // A genuine segment of this file, and one sealed by the same key in another file.
    writeBlob(path("other"), randomBytes(2 * kSegment));
    for (const std::string& extra : {sealedSegment(original, 0), sealedSegment(fileBytes(path("other")), 1)}) {
        replaceFile(path("blob"), original + extra);
        EXPECT_THROW(readBlob(path("blob")), BlobError);
    }
}

TEST_F(BlobFileTest, BytesAppendedAfterAFullLastSegmentAreDetected)
{
    // Such a file would otherwise parse as the original blob plus an empty last segment.
    writeBlob(path("blob"), randomBytes(2 * kSegment));
    const std::string original = fileBytes(path("blob"));
    for (const std::size_t extra : {std::size_t{1}, blob::kTagSize, blob::kTagSize + 1}) {
        SCOPED_TRACE(std::to_string(extra) + " bytes appended");
        replaceFile(path("blob"), original + std::string(extra, '\0'));
        EXPECT_THROW(BlobReader(key(), path("blob")), BlobError);
    }
}

TEST_F(BlobFileTest, SwappedSegmentsAreDetected)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    const std::string swapped = original.substr(0, blob::kHeaderSize) + sealedSegment(original, 1) +
                                sealedSegment(original, 0) + original.substr(blob::kHeaderSize + 2 * kSealedSegment);
    ASSERT_EQ(swapped.size(), original.size());
    replaceFile(path("blob"), swapped);

    BlobReader reader(key(), path("blob"));  // the last segment is intact
    try {
        reader.readRange(0, 10);
        FAIL() << "reading a swapped segment succeeded";
    } catch (const BlobError& e) {
        EXPECT_NE(std::string(e.what()).find("is corrupt"), std::string::npos) << e.what();
    }
}

TEST_F(BlobFileTest, SegmentFromAnotherBlobIsDetected)
{
    const std::string original = writeThreeSegmentBlob(path("blob"));
    const std::string other = writeThreeSegmentBlob(path("other"));
    std::string spliced = original;
    spliced.replace(blob::kHeaderSize, kSealedSegment, sealedSegment(other, 0));
    replaceFile(path("blob"), spliced);
    EXPECT_THROW(readBlob(path("blob")), BlobError);
}

TEST_F(BlobFileTest, WrongKeyIsReportedAsKeyIdMismatch)
{
    writeBlob(path("blob"), "secret");
    AtRestKey::generateFile(path("other-key"));
    const AtRestKey otherKey = AtRestKey::loadFile(path("other-key"));
    try {
        BlobReader(otherKey, path("blob"));
        FAIL() << "a blob opened with the wrong key";
    } catch (const BlobError& e) {
        EXPECT_NE(std::string(e.what()).find("key id mismatch"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(AtRestKey::idHex(key().id())), std::string::npos) << e.what();
    }
}

TEST_F(BlobFileTest, SameKeyLoadedAgainReadsBlobs)
{
    writeBlob(path("blob"), "secret");
    const AtRestKey reloaded = AtRestKey::loadFile(path("key"));
    EXPECT_EQ(reloaded.id(), key().id());
    EXPECT_EQ(BlobReader(reloaded, path("blob")).readAll(), "secret");
}

TEST_F(BlobFileTest, MissingOrForeignFileIsRefused)
{
    EXPECT_THROW(BlobReader(key(), path("missing")), BlobError);
    replaceFile(path("foreign"), std::string(200, 'A'));
    EXPECT_THROW(BlobReader(key(), path("foreign")), BlobError);
}

// ---- writer lifecycle ----

TEST_F(BlobFileTest, WriterDestroyedWithoutCommitLeavesNoFile)
{
    {
        BlobWriter writer(key(), path("blob"));
        const std::string data = randomBytes(3 * kSegment);  // some segments reach the disk
        writer.write(data.data(), data.size());
        ASSERT_TRUE(fs::exists(path("blob")));
    }
    EXPECT_FALSE(fs::exists(path("blob")));
}

TEST_F(BlobFileTest, MovedWriterKeepsOwnershipOfTheFile)
{
    std::optional<BlobWriter> first(std::in_place, key(), path("blob"));
    first->write("abc", 3);
    BlobWriter second = std::move(*first);
    first.reset();  // destroying the moved-from writer must not remove the file
    ASSERT_TRUE(fs::exists(path("blob")));
    second.write("def", 3);
    EXPECT_THROW(first.emplace(key(), path("blob")), BlobError);  // still exclusively created
    second.commit();
    EXPECT_EQ(readBlob(path("blob")), "abcdef");
}

TEST_F(BlobFileTest, MoveAssignmentDiscardsTheUncommittedTarget)
{
    BlobWriter target(key(), path("discarded"));
    target.write("x", 1);
    target = BlobWriter(key(), path("kept"));
    EXPECT_FALSE(fs::exists(path("discarded")));
    target.write("y", 1);
    target.commit();
    EXPECT_EQ(readBlob(path("kept")), "y");
}

TEST_F(BlobFileTest, WriterRefusesAnExistingFileAndLeavesItAlone)
{
    replaceFile(path("blob"), "precious");
    EXPECT_THROW(BlobWriter(key(), path("blob")), BlobError);
    EXPECT_EQ(fileBytes(path("blob")), "precious");
}

TEST_F(BlobFileTest, WriterRefusesUseAfterCommit)
{
    BlobWriter writer(key(), path("blob"));
    writer.write("abc", 3);
    writer.commit();
    EXPECT_THROW(writer.write("d", 1), BlobError);
    EXPECT_THROW(writer.commit(), BlobError);
    EXPECT_EQ(readBlob(path("blob")), "abc");
}

TEST_F(BlobFileTest, SyncDirectory)
{
    EXPECT_NO_THROW(BlobWriter::syncDirectory(dir_.string()));
    EXPECT_THROW(BlobWriter::syncDirectory(path("missing")), BlobError);
}

// ---- at-rest key file ----

TEST_F(BlobFileTest, GeneratedKeyFileIsPrivateHex)
{
    struct stat st {};
    ASSERT_EQ(::stat(path("key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string text = fileBytes(path("key"));
    ASSERT_EQ(text.size(), 65u);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), 64u);
    EXPECT_EQ(AtRestKey::idHex(key().id()).size(), 16u);
}

TEST_F(BlobFileTest, GeneratedKeysDiffer)
{
    AtRestKey::generateFile(path("other-key"));
    EXPECT_NE(fileBytes(path("other-key")), fileBytes(path("key")));
    EXPECT_NE(AtRestKey::loadFile(path("other-key")).id(), key().id());
}

TEST_F(BlobFileTest, GenerateFileRefusesToOverwrite)
{
    const std::string before = fileBytes(path("key"));
    EXPECT_THROW(AtRestKey::generateFile(path("key")), AtRestKeyError);
    EXPECT_EQ(fileBytes(path("key")), before);
}

TEST_F(BlobFileTest, KeyFileAccessibleByGroupOrOthersIsRefused)
{
    for (const fs::perms extra : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write}) {
        fs::permissions(path("key"), fs::perms::owner_read | fs::perms::owner_write | extra);
        try {
            AtRestKey::loadFile(path("key"));
            ADD_FAILURE() << "loaded a key file with mode " << std::oct << static_cast<unsigned>(extra);
        } catch (const AtRestKeyError& e) {
            EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
        }
    }
    fs::permissions(path("key"), fs::perms::owner_read);
    EXPECT_NO_THROW(AtRestKey::loadFile(path("key")));
}

TEST_F(BlobFileTest, MissingOrMalformedKeyFileIsRefused)
{
    EXPECT_THROW(AtRestKey::loadFile(path("missing")), AtRestKeyError);
    const std::string hex = fileBytes(path("key")).substr(0, 64);
    for (const std::string& content : {hex.substr(0, 63) + "\n", hex + "0\n", hex + "\n\n", "g" + hex.substr(1),
                                       std::string(32, '\x01'), std::string()}) {
        replaceFile(path("bad-key"), content);
        fs::permissions(path("bad-key"), fs::perms::owner_read | fs::perms::owner_write);
        EXPECT_THROW(AtRestKey::loadFile(path("bad-key")), AtRestKeyError) << "content size " << content.size();
    }
    replaceFile(path("no-newline-key"), hex);
    fs::permissions(path("no-newline-key"), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(AtRestKey::loadFile(path("no-newline-key")).id(), key().id());
}

TEST_F(BlobFileTest, MovedFromKeyCannotEncrypt)
{
    AtRestKey moved = std::move(*key_);
    EXPECT_THROW(BlobWriter(*key_, path("blob")), AtRestKeyError);
    EXPECT_FALSE(fs::exists(path("blob")));
    EXPECT_NO_THROW(BlobWriter(moved, path("blob")));
}

}  // namespace
}  // namespace plexus::store
