#include "SyslogMessage.h"

#include <gtest/gtest.h>

namespace plexus::atna {
namespace {

using namespace std::chrono;

AuditRecord record(int outcome = 0)
{
    AuditRecord r;
    r.xml = "<AuditMessage><EventIdentification EventActionCode=\"R\"/></AuditMessage>";
    r.eventId = 42;
    r.time = system_clock::time_point(seconds(1796166313) + microseconds(123456));  // 2026-12-01T23:05:13.123456Z
    r.uniqueId = "hopital:42";
    r.sourceId = "mail.hopital.test";
    r.outcome = outcome;
    return r;
}

TEST(SyslogMessage, HeaderStructuredDataAndBom)
{
    const SyslogOrigin origin{10, "plexus", "4711"};
    EXPECT_EQ(formatSyslogMessage(record(), origin),
              "<85>1 2026-12-01T23:05:13.123456Z mail.hopital.test plexus 4711 IHE+RFC-3881 "
              "[plexus@32473 id=\"hopital:42\"] \xEF\xBB\xBF<AuditMessage><EventIdentification "
              "EventActionCode=\"R\"/></AuditMessage>");
}

TEST(SyslogMessage, PriorityFollowsFacilityAndOutcome)
{
    EXPECT_EQ(formatSyslogMessage(record(0), {10, "a", "1"}).substr(0, 5), "<85>1");  // authpriv.notice
    EXPECT_EQ(formatSyslogMessage(record(4), {10, "a", "1"}).substr(0, 5), "<84>1");  // authpriv.warning
    EXPECT_EQ(formatSyslogMessage(record(12), {13, "a", "1"}).substr(0, 5), "<108>");  // log audit (13).warning
    EXPECT_EQ(formatSyslogMessage(record(0), {0, "a", "1"}).substr(0, 4), "<5>1");
    EXPECT_THROW(formatSyslogMessage(record(), {24, "a", "1"}), std::invalid_argument);
    EXPECT_THROW(formatSyslogMessage(record(), {-1, "a", "1"}), std::invalid_argument);
}

TEST(SyslogMessage, TimestampIsUtcWithMicroseconds)
{
    EXPECT_EQ(syslogTimestamp(system_clock::time_point(seconds(0))), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(syslogTimestamp(system_clock::time_point(seconds(951782400) + microseconds(999999))),
              "2000-02-29T00:00:00.999999Z");
}

TEST(SyslogMessage, SdParamValueEscapesQuoteBackslashBracket)
{
    EXPECT_EQ(escapeSdParamValue(R"(a"b\c]d[e)"), R"(a\"b\\c\]d[e)");
    auto r = record();
    r.uniqueId = "site]\"1";
    EXPECT_NE(formatSyslogMessage(r, {}).find(R"([plexus@32473 id="site\]\"1"])"), std::string::npos);
}

TEST(SyslogMessage, HeaderFieldsAreLimitedAndPrintable)
{
    auto r = record();
    r.sourceId = std::string(300, 'h');
    const std::string longApp(60, 'a');
    const std::string message = formatSyslogMessage(r, {10, longApp, std::string(200, 'p')});
    // RFC 5424 6: HOSTNAME 255, APP-NAME 48, PROCID 128 octets.
    EXPECT_NE(message.find(" " + std::string(255, 'h') + " " + std::string(48, 'a') + " " + std::string(128, 'p') +
                           " IHE+RFC-3881 "),
              std::string::npos);

    r.sourceId = "mail hôpital";
    const std::string odd = formatSyslogMessage(r, {10, "", ""});
    EXPECT_NE(odd.find(" mail_h__pital - - IHE+RFC-3881 "), std::string::npos);  // ô is two octets; NILVALUE for ""
}

TEST(SyslogMessage, OctetCountingFrame)
{
    EXPECT_EQ(octetCountingFrame("<85>1 - - - - - -"), "17 <85>1 - - - - - -");
    const std::string utf8 = "\xEF\xBB\xBF\xC3\xA9";  // BOM then é: 5 octets, not 2 characters
    EXPECT_EQ(octetCountingFrame(utf8), "5 " + utf8);
    EXPECT_EQ(octetCountingFrame(std::string(2048, 'x')).substr(0, 5), "2048 ");
}

TEST(SyslogMessage, TruncationKeepsUtf8Whole)
{
    EXPECT_EQ(truncateSyslogMessage("abcdef", 10), "abcdef");
    EXPECT_EQ(truncateSyslogMessage("abcdef", 4), "abcd");
    EXPECT_EQ(truncateSyslogMessage("ab\xC3\xA9z", 3), "ab");  // not half of é
    EXPECT_EQ(truncateSyslogMessage("ab\xC3\xA9z", 4), "ab\xC3\xA9");
    EXPECT_EQ(truncateSyslogMessage("a\xE2\x82\xAC", 3), "a");  // not two thirds of €
}

}  // namespace
}  // namespace plexus::atna
