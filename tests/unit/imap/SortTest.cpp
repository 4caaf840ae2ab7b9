#include "imap/Sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

using namespace plexus::imap;

namespace {

using Key = SortCriterion::Key;

Arg atom(std::string_view text)
{
    Arg arg;
    arg.text = std::string(text);
    return arg;
}

Arg list(std::initializer_list<std::string_view> words)
{
    Arg arg;
    arg.kind = Arg::Kind::List;
    for (const auto word : words) arg.items.push_back(atom(word));
    return arg;
}

// A message for threading: id and sequence alike, sent date as given.
SortData mail(std::uint32_t number, std::string subject, std::int64_t sent, std::string messageId = "",
              std::string references = "", std::string inReplyTo = "")
{
    SortData message;
    message.id = message.sequence = number;
    message.arrival = message.sent = sent;
    message.subject = std::move(subject);
    message.messageId = std::move(messageId);
    message.references = std::move(references);
    message.inReplyTo = std::move(inReplyTo);
    return message;
}

// A message for sorting: UID 10 + sequence.
SortData sortable(std::uint32_t sequence, std::int64_t arrival, std::int64_t sent, std::uint64_t size, std::string subject,
                  std::string from, std::string to, std::string cc)
{
    SortData message;
    message.id = 10 + sequence;
    message.sequence = sequence;
    message.arrival = arrival;
    message.sent = sent;
    message.size = size;
    message.subject = std::move(subject);
    message.from = std::move(from);
    message.to = std::move(to);
    message.cc = std::move(cc);
    return message;
}

void expectBad(const Arg& criteria)
{
    try {
        parseSortCriteria(criteria);
        ADD_FAILURE() << "accepted";
    } catch (const CommandError& error) {
        EXPECT_EQ(error.tag(), "");
    }
}

}  // namespace

// ---- sort criteria (RFC 5256 §3) ----

TEST(SortCriteria, KeysAndReverseCaseInsensitive)
{
    const auto criteria =
        parseSortCriteria(list({"reverse", "Subject", "DATE", "arrival", "Cc", "FROM", "size", "REVERSE", "to"}));
    ASSERT_EQ(criteria.size(), 7u);
    const std::vector<std::pair<Key, bool>> expected{{Key::Subject, true}, {Key::Date, false}, {Key::Arrival, false},
                                                     {Key::Cc, false},     {Key::From, false}, {Key::Size, false},
                                                     {Key::To, true}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(criteria[i].key, expected[i].first) << i;
        EXPECT_EQ(criteria[i].reverse, expected[i].second) << i;
    }
}

TEST(SortCriteria, MalformedListsAreBad)
{
    expectBad(list({}));
    expectBad(list({"SUBJECT", "COLOR"}));
    expectBad(list({"REVERSE", "REVERSE", "DATE"}));
    expectBad(list({"DATE", "REVERSE"}));
    expectBad(atom("DATE"));
    Arg nested = list({"DATE"});
    nested.items.push_back(list({"SIZE"}));
    expectBad(nested);
    Arg quoted = list({});
    quoted.items.push_back(atom("DATE"));
    quoted.items.front().kind = Arg::Kind::String;
    expectBad(quoted);
}

// ---- sorting ----

class SortMessages : public testing::Test {
protected:
    std::vector<SortData> messages{
        sortable(1, 10, 300, 500, "Re: beta", "=?UTF-8?Q?Zo=C3=A9?= <bob@x.fr>",
                 "=?UTF-8?Q?=C3=89quipe?=: zed@x.fr, amy@x.fr;", "carl@x.fr"),
        sortable(2, 30, 100, 100, "alpha", "alice@x.fr", "\"Yann\" <yann@x.fr>", ""),
        sortable(3, 20, 200, 500, "Beta (fwd)", "\"Bob\" <BOB@y.fr>", "=?UTF-8?Q?Ad=C3=A8le?= <adele@x.fr>",
                 "\"b c\\\"d\"@x.fr"),
        sortable(4, 40, 200, 300, "[list] Alpha", "", "", "Bert <bert@x.fr>, aaron@x.fr"),
    };

    std::vector<std::uint32_t> sorted(std::initializer_list<std::string_view> criteria)
    {
        return sortMessages(messages, parseSortCriteria(list(criteria)));
    }
};

TEST_F(SortMessages, SingleKeys)
{
    using Ids = std::vector<std::uint32_t>;
    EXPECT_EQ(sorted({"ARRIVAL"}), (Ids{11, 13, 12, 14}));
    EXPECT_EQ(sorted({"DATE"}), (Ids{12, 13, 14, 11}));  // 13 and 14 sent alike: sequence order
    EXPECT_EQ(sorted({"SIZE"}), (Ids{12, 14, 11, 13}));
    EXPECT_EQ(sorted({"SUBJECT"}), (Ids{12, 14, 11, 13}));  // ALPHA, ALPHA, BETA, BETA
}

TEST_F(SortMessages, AddressKeysUseTheFirstMailboxLocalPartIgnoringCase)
{
    using Ids = std::vector<std::uint32_t>;
    // From: "" (missing) < ALICE < BOB = BOB (display names ignored).
    EXPECT_EQ(sorted({"FROM"}), (Ids{14, 12, 11, 13}));
    // To: "" < ADELE < YANN < \xC3\x89QUIPE (a group's name, decoded; octets compared).
    EXPECT_EQ(sorted({"TO"}), (Ids{14, 13, 12, 11}));
    // Cc: "" < BC"D (unquoted) < BERT (first of two) < CARL.
    EXPECT_EQ(sorted({"CC"}), (Ids{12, 13, 14, 11}));
}

TEST_F(SortMessages, ReverseAppliesToItsKeyAndTiesGoToTheNextKeyThenSequence)
{
    using Ids = std::vector<std::uint32_t>;
    EXPECT_EQ(sorted({"SUBJECT", "DATE"}), (Ids{12, 14, 13, 11}));
    EXPECT_EQ(sorted({"REVERSE", "SUBJECT", "DATE"}), (Ids{13, 11, 12, 14}));
    EXPECT_EQ(sorted({"SUBJECT", "REVERSE", "DATE"}), (Ids{14, 12, 11, 13}));
    EXPECT_EQ(sorted({"REVERSE", "SIZE", "ARRIVAL"}), (Ids{11, 13, 14, 12}));
    EXPECT_EQ(sorted({"REVERSE", "FROM"}), (Ids{11, 13, 12, 14}));  // the BOB tie stays in sequence order
    EXPECT_EQ(sorted({"REVERSE", "DATE"}), (Ids{11, 13, 14, 12}));
}

TEST_F(SortMessages, InputOrderDoesNotMatter)
{
    std::swap(messages[0], messages[3]);
    std::swap(messages[1], messages[2]);
    EXPECT_EQ(sorted({"DATE"}), (std::vector<std::uint32_t>{12, 13, 14, 11}));
    EXPECT_TRUE(sortMessages({}, parseSortCriteria(list({"DATE"}))).empty());
}

// ---- sent date (RFC 5256 §2.2) ----

TEST(SortSentDate, ZonesAreAppliedToGetUtc)
{
    EXPECT_EQ(parseSentDate("Mon, 1 Jan 2024 10:00:00 +0000"), 1704103200);
    EXPECT_EQ(parseSentDate("Mon, 1 Jan 2024 10:00:00 +0200"), 1704103200 - 2 * 3600);
    EXPECT_EQ(parseSentDate("1 Jan 2024 10:00 -0130"), 1704103200 + 90 * 60);
    EXPECT_EQ(parseSentDate("Mon, 1 Jan 2024 10:00:00 EST"), 1704103200 + 5 * 3600);
    EXPECT_EQ(parseSentDate("Mon, 01 Jan 2024 10:00:00 +0200 (CEST)"), 1704103200 - 2 * 3600);
    EXPECT_EQ(parseSentDate("Sun, 31 Dec 2023 23:30:00 -0100"), 1704069000);
}

TEST(SortSentDate, ObsoleteYears)
{
    EXPECT_EQ(parseSentDate("Mon, 1 Jan 24 10:00:00 GMT"), 1704103200);
    EXPECT_EQ(parseSentDate("Fri, 31 Dec 99 23:59:59 +0000"), 946684799);
}

TEST(SortSentDate, UnparsableOrImpossibleDates)
{
    EXPECT_EQ(parseSentDate(""), std::nullopt);
    EXPECT_EQ(parseSentDate("yesterday"), std::nullopt);
    EXPECT_EQ(parseSentDate("Sat, 31 Feb 2024 10:00:00 +0000"), std::nullopt);
    EXPECT_EQ(parseSentDate("Mon, 1 Jan 2024 25:00:00 +0000"), std::nullopt);
}

// ---- base subject (RFC 5256 §2.1) ----

TEST(BaseSubject, PlainSubjectsAreUppercasedWithSpacesCollapsed)
{
    EXPECT_EQ(baseSubject("Hello world"), "HELLO WORLD");
    EXPECT_EQ(baseSubject("  Hello\t\tworld\r\n  again  "), "HELLO WORLD AGAIN");
    EXPECT_EQ(baseSubject(""), "");
}

TEST(BaseSubject, ReplyAndForwardLeaders)
{
    EXPECT_EQ(baseSubject("Re: hello"), "HELLO");
    EXPECT_EQ(baseSubject("RE:hello"), "HELLO");
    EXPECT_EQ(baseSubject("Fw: hello"), "HELLO");
    EXPECT_EQ(baseSubject("fwd : hello"), "HELLO");
    EXPECT_EQ(baseSubject("Re[2]: hello"), "HELLO");
    EXPECT_EQ(baseSubject("Re [2] : hello"), "HELLO");
    EXPECT_EQ(baseSubject("Re: Re: Fwd: hello"), "HELLO");
    EXPECT_EQ(baseSubject("[list] Re: hello"), "HELLO");
    EXPECT_EQ(baseSubject("Re: [PATCH] Fwd: hello (fwd)"), "HELLO");
    EXPECT_EQ(baseSubject("Reply: hello"), "REPLY: HELLO");
    EXPECT_EQ(baseSubject("Re(2): hello"), "RE(2): HELLO");
}

TEST(BaseSubject, OnlyTheRfcMarkersAreRemoved)
{
    // Like Dovecot, no French (or other) forms: every client computes the same key.
    EXPECT_EQ(baseSubject("TR: hello"), "TR: HELLO");
    EXPECT_EQ(baseSubject("=?UTF-8?Q?R=C3=A9p?=: hello"), "R\xC3\xA9P: HELLO");
}

TEST(BaseSubject, TrailersAndForwardWrappers)
{
    EXPECT_EQ(baseSubject("hello (fwd) (FWD)  "), "HELLO");
    EXPECT_EQ(baseSubject("[fwd: Re: x]"), "X");
    EXPECT_EQ(baseSubject("[Fwd: [fwd: hello (fwd)]]"), "HELLO");
    EXPECT_EQ(baseSubject("Re: [fwd: hello] (fwd)"), "HELLO");
    EXPECT_EQ(baseSubject("(fwd) hello"), "(FWD) HELLO");
}

TEST(BaseSubject, BlobsGoOnlyWhenSomethingRemains)
{
    EXPECT_EQ(baseSubject("[PATCH] hello"), "HELLO");
    EXPECT_EQ(baseSubject("[PATCH]"), "[PATCH]");
    EXPECT_EQ(baseSubject("[a] [b]"), "[B]");
    EXPECT_EQ(baseSubject("[a][b] Re: [c]"), "[C]");
    EXPECT_EQ(baseSubject("[R\xC3\xA9seau sant\xC3\xA9] hello"), "HELLO");
    EXPECT_EQ(baseSubject("[unclosed hello"), "[UNCLOSED HELLO");
}

TEST(BaseSubject, SubjectsThatReduceToNothing)
{
    EXPECT_EQ(baseSubject("Re:Re: "), "");
    EXPECT_EQ(baseSubject("Re: (fwd)"), "");
    EXPECT_EQ(baseSubject("[fwd: ]"), "");
    EXPECT_EQ(baseSubject("   "), "");
}

TEST(BaseSubject, EncodedWordsAreDecodedFirst)
{
    EXPECT_EQ(baseSubject("=?UTF-8?Q?Re=3A_r=C3=A9sultats?="), "R\xC3\xA9SULTATS");
    EXPECT_EQ(baseSubject("=?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?w6k=?="), "CAF\xC3\xA9\xC3\xA9");
    EXPECT_EQ(baseSubject("=?UTF-8?Q?R=C3=A9p?="), "R\xC3\xA9P");
    EXPECT_EQ(baseSubject("Re: =?UTF-8?Q?a=09b?="), "A B");
}

// ---- ORDEREDSUBJECT (RFC 5256 §4) ----

TEST(ThreadOrderedSubject, GroupsByBaseSubjectInSentOrder)
{
    const std::vector<SortData> messages{
        mail(1, "B", 10), mail(2, "A", 20), mail(3, "Re: B", 30), mail(4, "a", 5), mail(5, "re: b", 40), mail(6, "C", 25),
    };
    EXPECT_EQ(threadOrderedSubject(messages), "(4 2)(1 (3)(5))(6)");
}

TEST(ThreadOrderedSubject, EqualDatesFallBackOnSequenceAndIdsAreListed)
{
    std::vector<SortData> messages{mail(3, "x", 7), mail(1, "x", 7), mail(2, "y", 7)};
    for (auto& message : messages) message.id = message.sequence + 100;
    EXPECT_EQ(threadOrderedSubject(messages), "(101 103)(102)");
    EXPECT_EQ(threadOrderedSubject({}), "");
}

// ---- REFERENCES (RFC 5256 §4) ----

TEST(ThreadReferences, EmptyMailbox)
{
    EXPECT_EQ(threadReferences({}), "");
}

// The tree of the RFC's example answer "(2)(3 6 (4 23)(44 7 96))".
TEST(ThreadReferences, RfcExample)
{
    const std::vector<SortData> messages{
        mail(2, "Lunch", 1, "<m2@x>"),
        mail(3, "Plans", 2, "<m3@x>"),
        mail(4, "Re: Plans", 4, "<m4@x>", "<m3@x> <m6@x>"),
        mail(6, "Re: Plans", 3, "<m6@x>", "<m3@x>"),
        mail(7, "Re: Plans", 7, "<m7@x>", "<m3@x> <m6@x> <m44@x>"),
        mail(23, "Re: Plans", 6, "<m23@x>", "<m3@x> <m6@x> <m4@x>"),
        mail(44, "Re: Plans", 5, "<m44@x>", "<m3@x> <m6@x>"),
        mail(96, "Re: Plans", 8, "<m96@x>", "<m3@x> <m6@x> <m44@x> <m7@x>"),
    };
    EXPECT_EQ(threadReferences(messages), "(2)(3 6 (4 23)(44 7 96))");
}

TEST(ThreadReferences, ReplyChainAndUids)
{
    std::vector<SortData> messages{
        mail(1, "Hi", 1, "<a@x>"),
        mail(2, "Re: Hi", 2, "<b@x>", "<a@x>"),
        mail(3, "Re: Hi", 3, "<c@x>", "<a@x>\r\n <b@x>"),
    };
    EXPECT_EQ(threadReferences(messages), "(1 2 3)");
    for (auto& message : messages) message.id = message.sequence * 10;
    EXPECT_EQ(threadReferences(messages), "(10 20 30)");
}

TEST(ThreadReferences, InReplyToOnlyWithoutReferencesAndOnlyItsFirstId)
{
    const std::vector<SortData> messages{
        mail(1, "One", 1, "<a@x>"),
        mail(2, "Two", 2, "<b@x>", "", "Your message of Monday <a@x>"),
        mail(3, "Three", 3, "<c@x>", "", "<missing@x> <a@x>"),
        mail(4, "Four", 4, "<d@x>", "<gone@x>", "<a@x>"),
    };
    EXPECT_EQ(threadReferences(messages), "(1 2)(3)(4)");
}

TEST(ThreadReferences, MissingParentsBecomeDummies)
{
    // Two replies to an absent message: a dummy root keeps them together.
    EXPECT_EQ(threadReferences({mail(1, "Re: S", 1, "<a@x>", "<p@x>"), mail(2, "Re: S", 2, "<b@x>", "<p@x>")}),
              "((1)(2))");
    // One reply: the dummy goes and the reply is the root.
    EXPECT_EQ(threadReferences({mail(1, "Re: S", 1, "<a@x>", "<p@x>"), mail(2, "T", 2, "<b@x>")}), "(1)(2)");
    // A dummy inside a thread: its children move up to its place.
    EXPECT_EQ(threadReferences({mail(1, "S", 1, "<a@x>"), mail(2, "Re: S", 2, "<b@x>", "<a@x> <m@x>"),
                                mail(3, "Re: S", 3, "<c@x>", "<a@x> <m@x>")}),
              "(1 (2)(3))");
}

TEST(ThreadReferences, LaterReferencesFixTruncatedOnes)
{
    // 2 makes <c> a child of <b> (absent); 3, which is <c>, says its parent is <a>.
    const std::vector<SortData> messages{
        mail(1, "T", 1, "<a@x>"),
        mail(2, "Re: T", 3, "<d@x>", "<b@x> <c@x>"),
        mail(3, "Re: T", 2, "<c@x>", "<a@x>"),
    };
    EXPECT_EQ(threadReferences(messages), "(1 3 2)");
}

TEST(ThreadReferences, LoopsInReferencesAreNotLinked)
{
    // Each names the other as parent: the first link stands, the second would close a loop.
    EXPECT_EQ(threadReferences({mail(1, "A", 2, "<a@x>", "<b@x>"), mail(2, "B", 1, "<b@x>", "<a@x>")}), "(2 1)");
    // A message among its own references.
    EXPECT_EQ(threadReferences({mail(1, "A", 1, "<a@x>", "<x@x> <a@x> <x@x>")}), "(1)");
    EXPECT_EQ(threadReferences({mail(1, "A", 1, "<a@x>", "<a@x>")}), "(1)");
}

TEST(ThreadReferences, DuplicateIdsStayWithTheLowestSequence)
{
    const std::vector<SortData> messages{
        mail(3, "Re: One", 3, "<r@x>", "<x@x>"),
        mail(2, "Two", 2, "<x@x>"),
        mail(1, "One", 1, "<x@x>"),
    };
    EXPECT_EQ(threadReferences(messages), "(1 3)(2)");
}

TEST(ThreadReferences, MessagesWithoutIdsAreKeptApart)
{
    EXPECT_EQ(threadReferences({mail(1, "A", 1), mail(2, "B", 2, "no id here"), mail(3, "C", 3, "", "<>")}),
              "(1)(2)(3)");
}

TEST(ThreadReferences, SiblingsAndThreadsInSentOrderThenSequence)
{
    const std::vector<SortData> messages{
        mail(1, "P", 10, "<a@x>"),
        mail(2, "Re: P", 30, "<b@x>", "<a@x>"),
        mail(3, "Re: P", 20, "<c@x>", "<a@x>"),
        mail(4, "Re: P", 20, "<d@x>", "<a@x>"),
        mail(5, "Re: Q", 5, "<e@x>", "<q@x>"),
        mail(6, "Re: Q", 40, "<f@x>", "<q@x>"),
    };
    // The dummy thread sorts by its first child, 5.
    EXPECT_EQ(threadReferences(messages), "((5)(6))(1 (3)(4)(2))");
}

TEST(ThreadReferences, SameSubjectThreadsJoinTheNonReply)
{
    // The reply comes first, yet the original is the thread's root (step 5.B).
    EXPECT_EQ(threadReferences({mail(1, "Re: topic", 1, "<a@x>"), mail(2, "topic", 2, "<b@x>")}), "(2 1)");
    EXPECT_EQ(threadReferences({mail(1, "topic", 1, "<a@x>"), mail(2, "Re: topic", 2, "<b@x>")}), "(1 2)");
    EXPECT_EQ(threadReferences({mail(1, "topic (fwd)", 1), mail(2, "topic", 2)}), "(2 1)");
    EXPECT_EQ(threadReferences({mail(1, "[fwd: topic]", 1), mail(2, "TOPIC", 2)}), "(2 1)");
}

TEST(ThreadReferences, SameSubjectNonRepliesShareADummy)
{
    EXPECT_EQ(threadReferences({mail(1, "topic", 1), mail(2, "Topic", 2), mail(3, "[list] topic", 3)}),
              "((1)(2)(3))");
    // Two replies: also siblings under a dummy.
    EXPECT_EQ(threadReferences({mail(1, "Re: topic", 1), mail(2, "Fwd: topic", 2)}), "((1)(2))");
}

TEST(ThreadReferences, SameSubjectThreadsJoinADummy)
{
    // A dummy thread (replies to absent <p>) takes in the message of the same subject.
    EXPECT_EQ(threadReferences({mail(1, "Re: S", 1, "<a@x>", "<p@x>"), mail(2, "Re: S", 2, "<b@x>", "<p@x>"),
                                mail(3, "S", 3, "<c@x>")}),
              "((1)(2)(3))");
    // Two dummy threads of the same subject merge their children.
    EXPECT_EQ(threadReferences({mail(1, "Re: S", 1, "<a@x>", "<p@x>"), mail(2, "Re: S", 3, "<b@x>", "<p@x>"),
                                mail(3, "Re: S", 2, "<c@x>", "<q@x>"), mail(4, "Re: S", 4, "<d@x>", "<q@x>")}),
              "((1)(3)(2)(4))");
}

TEST(ThreadReferences, EmptySubjectsAreNotGrouped)
{
    EXPECT_EQ(threadReferences({mail(1, "", 1), mail(2, "Re: ", 2), mail(3, "hello", 3)}), "(1)(2)(3)");
}

TEST(ThreadReferences, DeepBranchingThreadIsWrittenInFull)
{
    std::vector<SortData> messages;
    for (std::uint32_t n = 1; n <= 5000; ++n) {
        const std::string references = n == 1 ? "" : "<m" + std::to_string(n - 1) + "@x>";
        messages.push_back(mail(n, "Re: deep", n, "<m" + std::to_string(n) + "@x>", references));
        // Each message also gets a leaf reply, so every level branches.
        messages.push_back(
            mail(n + 5000, "Re: deep", n, "<leaf" + std::to_string(n) + "@x>", "<m" + std::to_string(n) + "@x>"));
    }
    const auto thread = threadReferences(messages);
    EXPECT_TRUE(thread.starts_with("(1 (5001)(2 (5002)(3 "));
    EXPECT_TRUE(thread.ends_with("(4999 (9999)(5000 10000" + std::string(5000, ')')));
    EXPECT_EQ(std::count(thread.begin(), thread.end(), '('), std::count(thread.begin(), thread.end(), ')'));
}
