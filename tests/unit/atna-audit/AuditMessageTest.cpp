// Every mapped event type gives an audit message valid against the DICOM
// audit message schema (dicom2024d.xsd), with the codes of the mapping table.
#include "AuditMessage.h"
#include "AuditSchema.h"
#include "EventMapping.h"
#include "XercesSession.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace plexus::atna {
namespace {

const std::string kSchema = std::string(PLEXUS_SHARED_DIR) + "/schemas/atna/dicom2024d.xsd";

class AuditMessageTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        xerces_ = std::make_unique<XercesSession>();
        validator_ = std::make_unique<testing::SchemaValidator>(kSchema);
    }
    static void TearDownTestSuite()
    {
        validator_.reset();
        xerces_.reset();
    }

    static sdk::Event event(std::string type, std::string actor, std::string object, std::string outcome = "success",
                            std::string detail = "{}")
    {
        sdk::Event e;
        e.id = 42;
        e.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'764'630'000'123'456));
        e.type = std::move(type);
        e.actor = std::move(actor);
        e.client = "192.0.2.7";
        e.object = std::move(object);
        e.outcome = std::move(outcome);
        e.detailJson = std::move(detail);
        return e;
    }

    // The message's XML, checked against the schema.
    static std::string validXml(const sdk::Event& e, const EventFacts& facts = {})
    {
        const auto message = auditMessageFor(e, source_, facts);
        EXPECT_TRUE(message) << e.type << " is not audited";
        if (!message) return {};
        const auto xml = toXml(*message);
        EXPECT_EQ(validator_->errorsIn(xml), "") << xml;
        EXPECT_EQ(xml.find('\n'), std::string::npos) << "one line: " << xml;
        return xml;
    }

    static inline const AuditSource source_{"plexus-test", "FINESS-750000001", "mail.hopital.test"};
    static inline std::unique_ptr<XercesSession> xerces_;
    static inline std::unique_ptr<testing::SchemaValidator> validator_;
};

bool has(const std::string& xml, const std::string& text)
{
    return xml.find(text) != std::string::npos;
}

// The csd-code of each EventTypeCode, in order.
std::vector<std::string> eventTypeCodes(const std::string& xml)
{
    std::vector<std::string> codes;
    const std::string element = "<EventTypeCode ", attribute = "csd-code=\"";
    for (auto at = xml.find(element); at != std::string::npos; at = xml.find(element, at + 1)) {
        const auto start = xml.find(attribute, at) + attribute.size();
        codes.push_back(xml.substr(start, xml.find('"', start) - start));
    }
    return codes;
}

struct Expected {
    const char* type;
    const char* outcome;
    const char* eventId;
    const char* eventType;  // the one EventTypeCode; "" when none
    char action;
    int indicator;
};

TEST_F(AuditMessageTest, EveryMappedEventIsValidWithItsCodes)
{
    const Expected table[] = {
        {"auth.login", "success", "110114", "110122", 'E', 0},
        {"auth.login", "failure", "110114", "110122", 'E', 4},
        {"auth.logout", "success", "110114", "110123", 'E', 0},
        {"message.received", "success", "110107", "", 'C', 0},
        {"message.taken_over", "success", "110107", "", 'C', 0},
        {"message.refused", "domain not whitelisted", "110107", "", 'C', 4},
        {"message.submitted", "success", "110106", "", 'R', 0},
        {"message.relayed", "success", "110106", "", 'R', 0},
        {"message.deferred", "failure", "110106", "", 'R', 4},
        {"message.bounced", "failure", "110106", "", 'R', 8},
        {"mailbox.select", "success", "110112", "", 'E', 0},
        {"message.read", "success", "110103", "", 'R', 0},
        {"admin.message.read", "success", "110103", "", 'R', 0},
        {"message.appended", "success", "110103", "", 'C', 0},
        {"message.copied", "success", "110103", "", 'C', 0},
        {"message.moved", "success", "110103", "", 'U', 0},
        {"message.expunged", "success", "110103", "", 'D', 0},
        {"mailbox.created", "success", "110103", "", 'C', 0},
        {"mailbox.renamed", "success", "110103", "", 'U', 0},
        {"mailbox.deleted", "success", "110103", "", 'D', 0},
        {"acl.changed", "success", "110137", "", 'U', 0},
        {"admin.mailbox.added", "success", "110137", "", 'C', 0},
        {"admin.mailbox.removed", "success", "110137", "", 'D', 0},
        {"admin.delegate.added", "success", "110137", "", 'C', 0},
        {"admin.password.changed", "success", "110137", "", 'U', 0},
        {"plugin.xds.document_published", "success", "110106", "ITI-41", 'R', 0},
        {"plugin.xds.document_published", "registry refused", "110106", "ITI-41", 'R', 4},
        {"plugin.pseudo.pseudonymization_requested", "success", "110110", "PSEUDONYMIZATION", 'E', 0},
        {"plugin.viewer.message_opened", "success", "110103", "", 'R', 0},
    };
    // Every event's keys at once; "reason" (a logout's, a failure's) describes failures only.
    const std::string detail =
        R"({"service":"imaps","reason":"timeout","copies":[{"mailbox":"dr.martin@hopital.test","folder":"INBOX","uid":3}],"recipient":"a@b.test",)"
        R"("remote_host":"mx.b.test","message_ids":["<m1@x>","<m2@x>"],"uids":"1:2","identifier":"ide@h.test",)"
        R"("rights":"lr","patient_id":"1234567890123^^^&1.2.250.1.213.1.4.10&ISO","submission_set_uid":"1.2.3",)"
        R"("repository":"1.2.250.1.999","mailbox":"dr.martin@hopital.test","folder":"INBOX","message_id":"<m1@x>"})";
    for (const auto& expected : table) {
        SCOPED_TRACE(std::string(expected.type) + " " + expected.outcome);
        const auto xml = validXml(event(expected.type, "dr.martin@hopital.test", "<abc@hopital.test>", expected.outcome, detail));
        EXPECT_TRUE(has(xml, std::string("<EventID codeSystemName=\"DCM\" csd-code=\"") + expected.eventId + "\"")) << xml;
        EXPECT_EQ(eventTypeCodes(xml),
                  *expected.eventType ? std::vector<std::string>{expected.eventType} : std::vector<std::string>{})
            << xml;
        EXPECT_TRUE(has(xml, std::string("EventActionCode=\"") + expected.action + "\"")) << xml;
        EXPECT_TRUE(has(xml, "EventOutcomeIndicator=\"" + std::to_string(expected.indicator) + "\"")) << xml;
        EXPECT_EQ(has(xml, "<EventOutcomeDescription>"), expected.indicator != 0) << xml;
        EXPECT_TRUE(has(xml, "EventDateTime=\"2025-12-01T23:00:00.123456Z\"")) << xml;
        EXPECT_TRUE(has(xml, R"(AuditSourceID="plexus-test")")) << xml;
        EXPECT_TRUE(has(xml, R"(AuditEnterpriseSiteID="FINESS-750000001")")) << xml;
        EXPECT_TRUE(has(xml, R"(UserID="dr.martin@hopital.test")")) << xml;
        EXPECT_TRUE(has(xml, R"(UserIsRequestor="true")")) << xml;
        EXPECT_TRUE(has(xml, R"(NetworkAccessPointID="192.0.2.7" NetworkAccessPointTypeCode="2")")) << xml;
        EXPECT_TRUE(has(xml, R"(UserID="plexus-test" UserIsRequestor="false")")) << xml;
    }
}

TEST_F(AuditMessageTest, ParticipantObjectsNameTheMailboxMessageAndPatient)
{
    EventFacts facts;
    facts.actorNationalId = "810001234567";
    facts.patientIds = {"2770763220829^^^&1.2.250.1.213.1.4.8&ISO"};
    const auto xml = validXml(
        event("message.received", "labo@hopital.test", "<cr-42@labo.test>", "success",
              R"({"copies":[{"mailbox":"dr.martin@hopital.test","folder":"INBOX","uid":7}]})"),
        facts);
    EXPECT_TRUE(has(xml, R"(AlternativeUserID="810001234567")")) << xml;
    EXPECT_TRUE(has(xml, R"(ParticipantObjectID="&lt;cr-42@labo.test>")")) << xml;
    EXPECT_TRUE(has(xml, R"(ParticipantObjectID="dr.martin@hopital.test/INBOX")")) << xml;
    EXPECT_TRUE(has(xml, R"(ParticipantObjectID="2770763220829^^^&amp;1.2.250.1.213.1.4.8&amp;ISO" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1")"))
        << xml;
}

TEST_F(AuditMessageTest, ImapFolderEventsNameTheActorsMailbox)
{
    const auto xml = validXml(event("mailbox.select", "ide.durand@hopital.test", "INBOX"));
    EXPECT_TRUE(has(xml, R"(ParticipantObjectID="ide.durand@hopital.test/INBOX")")) << xml;
}

TEST_F(AuditMessageTest, FailedLoginWithoutAccountIsStillValid)
{
    auto e = event("auth.login", "", "", "failure", R"({"mechanism":"PLAIN","reason":"bad password"})");
    const auto xml = validXml(e);
    EXPECT_TRUE(has(xml, R"(UserID="unknown")")) << xml;
    EXPECT_TRUE(has(xml, "<EventOutcomeDescription>failure: bad password</EventOutcomeDescription>")) << xml;
}

TEST_F(AuditMessageTest, HostileValuesAreEscapedAndKeepTheMessageValid)
{
    const std::string hostile = "x\"/><Evil a='1'>&amp;]]><!--\r\n\t\x01\x7f\xff\xc3(";
    auto e = event("acl.changed", hostile + "@h.test", hostile, "failure " + hostile,
                   R"({"identifier":"<script>","rights":"\u0000lr"})");
    e.client = hostile;
    const auto xml = validXml(e);
    EXPECT_FALSE(has(xml, "<Evil")) << xml;
    EXPECT_FALSE(has(xml, "<script>")) << xml;
    EXPECT_FALSE(has(xml, "<!--")) << xml;
    EXPECT_TRUE(has(xml, "UserID=\"x&quot;/>&lt;Evil a='1'>&amp;amp;]]>&lt;!--     ")) << "attribute: " << xml;
    EXPECT_TRUE(has(xml, "failure x\"/&gt;&lt;Evil a='1'&gt;&amp;amp;]]&gt;&lt;!--     ")) << "text: " << xml;
    EXPECT_TRUE(has(xml, "type=\"identifier\" value=\"PHNjcmlwdD4=\"")) << "details in base64: " << xml;
    EXPECT_TRUE(has(xml, "\xEF\xBF\xBD")) << "invalid UTF-8 replaced: " << xml;
}

TEST_F(AuditMessageTest, EventsOutsideTheTableAreNotAudited)
{
    for (const char* type : {"trust.whitelist_refreshed", "plugin.failed", "plugin.atna-audit.backlog_alert", "queue.other"})
        EXPECT_FALSE(auditMessageFor(event(type, "plexusd", "x"), source_, {})) << type;
}

TEST_F(AuditMessageTest, ValidatorRefusesWhatTheSchemaRefuses)
{
    EXPECT_NE(validator_->errorsIn("<AuditMessage/>"), "");
    EXPECT_NE(validator_->errorsIn("<!DOCTYPE a [<!ENTITY x \"y\">]><AuditMessage/>"), "");
}

TEST(AuditMessageTime, IsUtcWithMicroseconds)
{
    EXPECT_EQ(isoTime(std::chrono::system_clock::time_point(std::chrono::microseconds(5))), "1970-01-01T00:00:00.000005Z");
}

}  // namespace
}  // namespace plexus::atna
