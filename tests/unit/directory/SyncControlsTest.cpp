// RFC 4533 values against BER written by hand from the ASN.1 of §2.
#include "directory/SyncControls.h"

#include <gtest/gtest.h>

#include <initializer_list>

using namespace plexus::directory;

namespace {

std::string bytes(std::initializer_list<int> values)
{
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}

// 00 01 02 ... 0f, and ff fe ... f0.
const std::string kUuidA = bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
const std::string kUuidB =
    bytes({0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6, 0xf5, 0xf4, 0xf3, 0xf2, 0xf1, 0xf0});
constexpr const char* kTextA = "00010203-0405-0607-0809-0a0b0c0d0e0f";
constexpr const char* kTextB = "fffefdfc-fbfa-f9f8-f7f6-f5f4f3f2f1f0";

}  // namespace

TEST(SyncRequest, RefreshOnlyWithoutCookieIsTheModeAlone)
{
    EXPECT_EQ(encodeSyncRequest(SyncMode::RefreshOnly, std::nullopt), bytes({0x30, 0x03, 0x0a, 0x01, 0x01}));
}

TEST(SyncRequest, CookieAndReloadHintFollowTheMode)
{
    EXPECT_EQ(encodeSyncRequest(SyncMode::RefreshOnly, std::string("abc")),
              bytes({0x30, 0x08, 0x0a, 0x01, 0x01, 0x04, 0x03, 'a', 'b', 'c'}));
    EXPECT_EQ(encodeSyncRequest(SyncMode::RefreshAndPersist, std::string("abc"), true),
              bytes({0x30, 0x0b, 0x0a, 0x01, 0x03, 0x04, 0x03, 'a', 'b', 'c', 0x01, 0x01, 0xff}));
}

TEST(SyncRequest, BinaryCookieIsKeptByteForByte)
{
    const std::string cookie = bytes({0, 0xff, ')', '*'});
    const auto encoded = encodeSyncRequest(SyncMode::RefreshOnly, cookie);
    EXPECT_EQ(encoded.substr(5), bytes({0x04, 0x04}) + cookie);
}

TEST(SyncState, DecodesStateUuidAndCookie)
{
    const auto value = decodeSyncState(bytes({0x30, 0x18, 0x0a, 0x01, 0x01, 0x04, 0x10}) + kUuidA +
                                       bytes({0x04, 0x01, 'c'}));
    EXPECT_EQ(value.state, SyncState::Add);
    EXPECT_EQ(value.entryUuid, kTextA);
    EXPECT_EQ(value.cookie, "c");

    const auto present = decodeSyncState(bytes({0x30, 0x15, 0x0a, 0x01, 0x00, 0x04, 0x10}) + kUuidB);
    EXPECT_EQ(present.state, SyncState::Present);
    EXPECT_EQ(present.entryUuid, kTextB);
    EXPECT_FALSE(present.cookie);
    EXPECT_EQ(decodeSyncState(bytes({0x30, 0x15, 0x0a, 0x01, 0x03, 0x04, 0x10}) + kUuidB).state, SyncState::Delete);
}

TEST(SyncState, RefusesMalformedValues)
{
    const std::string good = bytes({0x30, 0x15, 0x0a, 0x01, 0x02, 0x04, 0x10}) + kUuidA;
    EXPECT_NO_THROW(decodeSyncState(good));
    EXPECT_THROW(decodeSyncState(good.substr(0, good.size() - 1)), SyncProtocolError);             // truncated
    EXPECT_THROW(decodeSyncState(bytes({0x30, 0x08, 0x0a, 0x01, 0x01, 0x04, 0x03, 1, 2, 3})), SyncProtocolError);  // short UUID
    EXPECT_THROW(decodeSyncState(bytes({0x30, 0x15, 0x0a, 0x01, 0x07, 0x04, 0x10}) + kUuidA), SyncProtocolError);  // no such state
    EXPECT_THROW(decodeSyncState(good + bytes({0x04, 0x00})), SyncProtocolError);                  // trailing data
    EXPECT_THROW(decodeSyncState(""), SyncProtocolError);
}

TEST(SyncDone, DefaultsAndExplicitValues)
{
    const auto empty = decodeSyncDone(bytes({0x30, 0x00}));
    EXPECT_FALSE(empty.cookie);
    EXPECT_FALSE(empty.refreshDeletes);
    const auto full = decodeSyncDone(bytes({0x30, 0x08, 0x04, 0x03, 'x', 'y', 'z', 0x01, 0x01, 0xff}));
    EXPECT_EQ(full.cookie, "xyz");
    EXPECT_TRUE(full.refreshDeletes);
    const auto flagOnly = decodeSyncDone(bytes({0x30, 0x03, 0x01, 0x01, 0xff}));
    EXPECT_FALSE(flagOnly.cookie);
    EXPECT_TRUE(flagOnly.refreshDeletes);
    EXPECT_THROW(decodeSyncDone(bytes({0x30, 0x05, 0x04, 0x03, 'x'})), SyncProtocolError);
}

TEST(SyncInfo, NewCookie)
{
    const auto info = decodeSyncInfo(bytes({0x80, 0x02, 'h', 'i'}));
    EXPECT_EQ(info.kind, SyncInfoValue::Kind::NewCookie);
    EXPECT_EQ(info.cookie, "hi");
}

TEST(SyncInfo, RefreshPhasesWithTheirDefaults)
{
    const auto present = decodeSyncInfo(bytes({0xa2, 0x03, 0x01, 0x01, 0x00}));
    EXPECT_EQ(present.kind, SyncInfoValue::Kind::RefreshPresent);
    EXPECT_FALSE(present.cookie);
    EXPECT_FALSE(present.refreshDone);
    const auto deletes = decodeSyncInfo(bytes({0xa1, 0x04, 0x04, 0x02, 'c', 'k'}));
    EXPECT_EQ(deletes.kind, SyncInfoValue::Kind::RefreshDelete);
    EXPECT_EQ(deletes.cookie, "ck");
    EXPECT_TRUE(deletes.refreshDone);  // DEFAULT TRUE
}

TEST(SyncInfo, SyncIdSetListsUuids)
{
    const auto info = decodeSyncInfo(bytes({0xa3, 0x2c, 0x04, 0x01, 'k', 0x01, 0x01, 0xff, 0x31, 0x24, 0x04, 0x10}) +
                                     kUuidA + bytes({0x04, 0x10}) + kUuidB);
    EXPECT_EQ(info.kind, SyncInfoValue::Kind::SyncIdSet);
    EXPECT_EQ(info.cookie, "k");
    EXPECT_TRUE(info.refreshDeletes);
    EXPECT_EQ(info.uuids, (std::vector<std::string>{kTextA, kTextB}));

    const auto presents = decodeSyncInfo(bytes({0xa3, 0x14, 0x31, 0x12, 0x04, 0x10}) + kUuidA);
    EXPECT_FALSE(presents.refreshDeletes);  // DEFAULT FALSE: the UUIDs are present
    EXPECT_EQ(presents.uuids, std::vector<std::string>{kTextA});
}

TEST(SyncInfo, RefusesUnknownChoicesAndBadUuids)
{
    EXPECT_THROW(decodeSyncInfo(bytes({0xa4, 0x00})), SyncProtocolError);
    EXPECT_THROW(decodeSyncInfo(bytes({0xa3, 0x07, 0x31, 0x05, 0x04, 0x03, 1, 2, 3})), SyncProtocolError);
    EXPECT_THROW(decodeSyncInfo(bytes({0xa3, 0x14, 0x31, 0x12, 0x04, 0x10}) + kUuidA.substr(0, 8)), SyncProtocolError);
    EXPECT_THROW(decodeSyncInfo(bytes({0x80, 0x02, 'h'})), SyncProtocolError);
}
