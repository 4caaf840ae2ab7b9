#include "queue/DsnNotifier.h"

#include "QueueFixture.h"

#include "events/EventLog.h"
#include "intake/MessageReceiver.h"
#include "intake/TextIndexer.h"
#include "mime/StructureParser.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>

using namespace plexus;
using queue::NoticeRecipient;
using queue::RecipientState;
using queue::ReportDestination;

namespace {

constexpr const char* kSender = "dr.martin@a.test";
constexpr std::int64_t kArrival = 1736154000;  // 2025-01-06 09:00:00 UTC

const std::string kOriginal =
    "From: Dr Martin <dr.martin@a.test>\r\n"
    "To: dr.x@b.test\r\n"
    "Subject: Compte rendu\r\n"
    "Message-ID: <cr-42@a.test>\r\n"
    "\r\n"
    "Bonjour.\r\n";

NoticeRecipient noticeFor(const std::string& address, RecipientState state, const std::string& reply)
{
    return {{address, "", "rfc822;" + address}, state, reply, "mx.b.test [192.0.2.25]:25", kArrival + 60};
}

bool hasLine(const std::string& text, const std::string& line)
{
    return text.find("\r\n" + line + "\r\n") != std::string::npos;
}

}  // namespace

// The queue's store fixture, with the original message in a blob as the queue keeps it.
class DsnNotifierTest : public queue::test::QueueFixture {
protected:
    void SetUp() override
    {
        QueueFixture::SetUp();
        intake::MessageReceiver receiver(*mailboxes_, 1 << 20, 1 << 20);
        receiver.append(kOriginal);
        originalBlob_ = receiver.finish().blobPath;
    }

    queue::DsnNotifier notifier(ReportDestination destination)
    {
        return queue::DsnNotifier({"mx.a.test", "a.test"}, {*mailboxes_, *commits_, changes_, *indexer_, {}},
                                  [destination](const std::string& address) {
                                      EXPECT_EQ(address, kSender);
                                      return destination;
                                  });
    }

    // The queue entry of the original message, as the queue hands it over.
    queue::OutboundMessage entry(const std::vector<NoticeRecipient>& recipients, std::string sender = kSender) const
    {
        queue::OutboundMessage message;
        message.id = 7;
        message.queueId = "0123456789ab";
        message.messageId = "<cr-42@a.test>";
        message.sender = std::move(sender);
        message.envid = "LIS+2B42";
        message.domain = "b.test";
        for (const auto& notice : recipients) message.recipients.push_back(notice.recipient);
        message.createdAt = kArrival;
        message.expiresAt = kArrival + 5 * 86400;
        message.size = kOriginal.size();
        message.openContent = [this] { return mailboxes_->openBlob(originalBlob_); };
        return message;
    }

    // The messages in the account's INBOX, as stored.
    std::vector<std::string> inbox(std::int64_t accountId)
    {
        auto db = reads_->acquire();
        std::vector<std::string> contents;
        for (const auto& folder : store::MailboxStore::folders(*db, accountId)) {
            if (folder.name != "INBOX") continue;
            for (const auto& message : store::MailboxStore::messages(*db, folder.id))
                contents.push_back(mailboxes_->openBlob(message.blobPath).readAll());
        }
        return contents;
    }

    std::vector<events::StoredEvent> events()
    {
        auto db = reads_->acquire();
        return events::EventLog::readAfter(*db, 0, 100);
    }

    struct Outbound {
        std::string sender, domain, recipientsJson;
    };
    std::vector<Outbound> outbound()
    {
        auto db = reads_->acquire();
        auto rows = db->prepare("SELECT sender, domain, recipients FROM outbound ORDER BY id");
        std::vector<Outbound> entries;
        while (rows.step()) entries.push_back({rows.text(0), rows.text(1), rows.text(2)});
        return entries;
    }

    // The message/delivery-status part of a stored report.
    static std::string statusPart(const std::string& report)
    {
        const auto structure = mime::parseMessage(report);
        EXPECT_EQ(structure.root.subtype, "report");
        const auto& part = structure.root.children.at(1);
        EXPECT_EQ(part.subtype, "delivery-status");
        return report.substr(part.bodyOffset, part.bodySize);
    }

    std::string originalBlob_;
};

TEST_F(DsnNotifierTest, FailureReportLandsInTheSendersInboxFromTheNullSender)
{
    const auto account = addAccount(kSender);
    const std::vector<NoticeRecipient> recipients{
        noticeFor("dr.x@b.test", RecipientState::Failed, "550 5.1.1 <dr.x@b.test>: Recipient address rejected")};
    notifier({ReportDestination::Kind::Mailbox, {account, kSender}}).failed(entry(recipients), recipients);

    const auto stored = inbox(account);
    ASSERT_EQ(stored.size(), 1u);
    const auto structure = mime::parseMessage(stored[0]);
    EXPECT_EQ(structure.root.param("report-type"), "delivery-status");
    ASSERT_EQ(structure.root.children.size(), 3u);
    EXPECT_EQ(structure.envelope.inReplyTo, "<cr-42@a.test>");
    const std::string status = statusPart(stored[0]);
    EXPECT_TRUE(status.starts_with("Original-Envelope-Id: LIS+42\r\nReporting-MTA: dns; mx.a.test\r\n")) << status;
    EXPECT_TRUE(hasLine(status, "X-Plexus-Queue-Id: 0123456789ab"));
    EXPECT_TRUE(hasLine(status, "Original-Recipient: rfc822;dr.x@b.test"));
    EXPECT_TRUE(hasLine(status, "Action: failed"));
    EXPECT_TRUE(hasLine(status, "Status: 5.1.1"));
    EXPECT_TRUE(hasLine(status, "Remote-MTA: dns; mx.b.test"));
    EXPECT_TRUE(hasLine(status, "Diagnostic-Code: smtp; 550 5.1.1 <dr.x@b.test>: Recipient address rejected"));
    EXPECT_TRUE(hasLine(status, "Last-Attempt-Date: Mon, 6 Jan 2025 09:01:00 +0000"));

    // Stored from <> (RFC 5321 §4.5.5), with what it is about for the audit trail.
    const auto logged = events();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].event.type, "message.received");
    EXPECT_EQ(logged[0].event.actor, "MAILER-DAEMON@a.test");
    const auto detail = Poco::JSON::Parser().parse(logged[0].event.detailJson).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(detail->getValue<std::string>("sender"), "");
    EXPECT_EQ(detail->getValue<std::string>("service"), "dsn");
    EXPECT_EQ(detail->getValue<std::string>("report"), "failed");
    EXPECT_EQ(detail->getValue<std::string>("about_queue_id"), "0123456789ab");
    EXPECT_TRUE(outbound().empty());
}

// A remote sender's report is relayed from <>, with NOTIFY=NEVER: nothing is
// ever reported about a report.
TEST_F(DsnNotifierTest, RemoteSendersReportQueuedFromTheNullSender)
{
    const std::vector<NoticeRecipient> recipients{
        noticeFor("dr.x@b.test", RecipientState::Failed, "554 5.7.1 relay denied")};
    notifier({ReportDestination::Kind::Remote, {}}).failed(entry(recipients), recipients);

    const auto entries = outbound();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].sender, "");
    EXPECT_EQ(entries[0].domain, "a.test");
    EXPECT_EQ(entries[0].recipientsJson, R"([{"address":"dr.martin@a.test","notify":"NEVER"}])");
    ASSERT_EQ(events().size(), 1u);
    EXPECT_EQ(events()[0].event.type, "message.submitted");
}

// Given up at expiry: Action failed, RFC 3463 X.4.7, the last reply kept.
TEST_F(DsnNotifierTest, ExpiredRecipientReportedAsDeliveryTimeExpired)
{
    const auto account = addAccount(kSender);
    const std::vector<NoticeRecipient> recipients{
        noticeFor("dr.x@b.test", RecipientState::Expired, "451 4.3.0 Temporary failure, try later")};
    notifier({ReportDestination::Kind::Mailbox, {account, kSender}}).failed(entry(recipients), recipients);

    const auto stored = inbox(account);
    ASSERT_EQ(stored.size(), 1u);
    const std::string status = statusPart(stored[0]);
    EXPECT_TRUE(hasLine(status, "Action: failed"));
    EXPECT_TRUE(hasLine(status, "Status: 4.4.7"));
    EXPECT_TRUE(hasLine(status, "Diagnostic-Code: smtp; 451 4.3.0 Temporary failure, try later"));
}

TEST_F(DsnNotifierTest, DelayReportSaysUntilWhenAndWhy)
{
    const auto account = addAccount(kSender);
    auto refused = noticeFor("dr.x@b.test", RecipientState::Pending, "connection refused by 192.0.2.25:25");
    refused.remoteHost.clear();
    const std::vector<NoticeRecipient> recipients{
        refused, noticeFor("dr.y@b.test", RecipientState::Pending, "421 4.7.0 Try again later")};
    notifier({ReportDestination::Kind::Mailbox, {account, kSender}}).delayed(entry(recipients), recipients);

    const auto stored = inbox(account);
    ASSERT_EQ(stored.size(), 1u);
    const std::string status = statusPart(stored[0]);
    EXPECT_NE(status.find("Final-Recipient: rfc822; dr.x@b.test\r\nAction: delayed\r\nStatus: 4.0.0\r\n"
                          "Diagnostic-Code: X-Plexus; connection refused by 192.0.2.25:25\r\n"),
              std::string::npos)
        << status;
    EXPECT_NE(status.find("Final-Recipient: rfc822; dr.y@b.test\r\nAction: delayed\r\nStatus: 4.7.0\r\n"
                          "Remote-MTA: dns; mx.b.test\r\n"),
              std::string::npos)
        << status;
    EXPECT_TRUE(hasLine(status, "Will-Retry-Until: Sat, 11 Jan 2025 09:00:00 +0000"));
}

// RFC 3461 §5.2.2: the peer took the message but not the DSN request.
TEST_F(DsnNotifierTest, SuccessNoticeSaysRelayed)
{
    const auto account = addAccount(kSender);
    const std::vector<NoticeRecipient> recipients{
        noticeFor("dr.x@b.test", RecipientState::Delivered, "250 2.0.0 Ok: queued as 4XyZ")};
    notifier({ReportDestination::Kind::Mailbox, {account, kSender}}).delivered(entry(recipients), recipients);

    const auto stored = inbox(account);
    ASSERT_EQ(stored.size(), 1u);
    const std::string status = statusPart(stored[0]);
    EXPECT_TRUE(hasLine(status, "Action: relayed"));
    EXPECT_TRUE(hasLine(status, "Status: 2.0.0"));
}

// RFC 3464 §2.3.3: the message is in the recipient's mailbox here.
TEST_F(DsnNotifierTest, FinalDeliveryHereSaysDelivered)
{
    const auto account = addAccount(kSender);
    const std::vector<NoticeRecipient> recipients{
        {{"dr.y@a.test", "SUCCESS", ""}, RecipientState::Delivered, "", "", kArrival}};
    notifier({ReportDestination::Kind::Mailbox, {account, kSender}}).deliveredHere(entry(recipients), recipients);

    const auto stored = inbox(account);
    ASSERT_EQ(stored.size(), 1u);
    const std::string status = statusPart(stored[0]);
    EXPECT_TRUE(hasLine(status, "Action: delivered"));
    EXPECT_TRUE(hasLine(status, "Status: 2.0.0"));
    EXPECT_EQ(status.find("Remote-MTA"), std::string::npos);
}

// RFC 5321 §4.5.5: nothing is reported about a message from <>.
TEST_F(DsnNotifierTest, NoReportForTheNullSender)
{
    const auto account = addAccount(kSender);
    const std::vector<NoticeRecipient> recipients{noticeFor("dr.x@b.test", RecipientState::Failed, "550 5.1.1 no")};
    queue::DsnNotifier reports({"mx.a.test", "a.test"}, {*mailboxes_, *commits_, changes_, *indexer_, {}},
                               [](const std::string&) -> ReportDestination {
                                   ADD_FAILURE() << "no destination is looked up for <>";
                                   return {};
                               });
    EXPECT_NO_THROW(reports.failed(entry(recipients, ""), recipients));
    EXPECT_TRUE(inbox(account).empty());
    EXPECT_TRUE(outbound().empty());
    EXPECT_TRUE(events().empty());
}

// A sender of a local domain without a mailbox: the report has nowhere to go
// and is dropped, rather than sent to ourselves.
TEST_F(DsnNotifierTest, ReportToAMissingLocalMailboxDropped)
{
    const std::vector<NoticeRecipient> recipients{noticeFor("dr.x@b.test", RecipientState::Failed, "550 5.1.1 no")};
    EXPECT_NO_THROW(notifier({ReportDestination::Kind::Nowhere, {}}).failed(entry(recipients), recipients));
    EXPECT_TRUE(outbound().empty());
    EXPECT_TRUE(events().empty());
}
