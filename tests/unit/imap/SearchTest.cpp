#include "imap/Search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

using namespace plexus::imap;
using Kind = SearchKey::Kind;

namespace {

// Test input in IMAP syntax: atoms, "quoted strings" (with \" and \\) and
// parenthesized lists; what CommandReader would hand over.
class ArgScanner {
public:
    explicit ArgScanner(std::string_view text) : text_(text) {}

    std::vector<Arg> scan()
    {
        std::vector<Arg> args;
        while (skipSpaces(), position_ < text_.size() && text_[position_] != ')') args.push_back(next());
        return args;
    }

private:
    void skipSpaces()
    {
        while (position_ < text_.size() && text_[position_] == ' ') ++position_;
    }

    Arg next()
    {
        Arg arg;
        if (text_[position_] == '(') {
            ++position_;
            arg.kind = Arg::Kind::List;
            arg.items = scan();
            ++position_;  // ')'
        } else if (text_[position_] == '"') {
            arg.kind = Arg::Kind::String;
            for (++position_; text_[position_] != '"'; ++position_) {
                if (text_[position_] == '\\') ++position_;
                arg.text += text_[position_];
            }
            ++position_;
        } else {
            const auto end = std::min(text_.find_first_of(" ()", position_), text_.size());
            arg.text = text_.substr(position_, end - position_);
            arg.kind = arg.text == "NIL" ? Arg::Kind::Nil : Arg::Kind::Atom;
            position_ = end;
        }
        return arg;
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

std::vector<Arg> args(std::string_view text)
{
    return ArgScanner(text).scan();
}

SearchQuery query(std::string_view text, std::size_t maxDepth = 32)
{
    return parseSearchQuery(args(text), 0, maxDepth);
}

// The only key of a one-key search.
SearchKey key(std::string_view text)
{
    const auto parsed = query(text);
    EXPECT_EQ(parsed.root.kind, Kind::And);
    EXPECT_EQ(parsed.root.children.size(), 1u);
    return parsed.root.children.at(0);
}

// The message of CommandError thrown by parsing `text`, or "" if none.
std::string parseError(std::string_view text, std::size_t maxDepth = 32)
{
    try {
        query(text, maxDepth);
    } catch (const CommandError& error) {
        EXPECT_EQ(error.tag(), "");
        return error.what();
    }
    return "";
}

std::int64_t utc(std::chrono::year_month_day day, std::chrono::seconds time = {})
{
    return (std::chrono::sys_days{day} + time).time_since_epoch().count();
}

using namespace std::chrono_literals;

const std::string kHeader =
    "Return-Path: <f.berard@chu-lyon.mssante.fr>\r\n"
    "From: =?UTF-8?Q?Dr_Fran=C3=A7ois_B=C3=A9rard?= <f.berard@chu-lyon.mssante.fr>\r\n"
    "To: secretariat@cabinet.mssante.fr,\r\n"
    "\t\"Dupont, Jean\" <jean.dupont@cabinet.mssante.fr>\r\n"
    "Cc: =?ISO-8859-1?B?SPRwaXRhbCDJZG91YXJkIEhlcnJpb3Q=?= <hopital@chu-lyon.mssante.fr>\r\n"
    "Subject: =?UTF-8?Q?R=C3=A9sultats?= d'analyses\r\n"
    "Date: Mon, 3 Jun 2024 23:30:00 -0200\r\n"
    "X-MSS-Patient-INS: 1234567890123\r\n"
    "X-Empty:\r\n"
    "\r\n";

class FakeMessage : public SearchSubject {
public:
    std::uint32_t sequence = 3, largestSequence = 5, uidValue = 30, largestUidValue = 50;
    std::set<std::string> flags;  // lower case
    std::int64_t internal = utc(2024y / std::chrono::June / 3, 12h);
    std::uint64_t bytes = 1000;
    std::uint64_t modseqValue = 100;
    std::string headerBlock = kHeader;
    std::string body = "Le bilan est normal.";
    std::vector<std::pair<std::string, bool>> textQueries;
    bool indexSaysAbsent = false;  // the full-text prefilter rules the message out
    int headerReads = 0;

    std::uint32_t sequenceNumber() const override { return sequence; }
    std::uint32_t uid() const override { return uidValue; }
    std::uint32_t largestSequenceNumber() const override { return largestSequence; }
    std::uint32_t largestUid() const override { return largestUidValue; }
    bool hasFlag(std::string_view flag) const override
    {
        std::string lower(flag);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        return flags.contains(lower);
    }
    std::int64_t internalDate() const override { return internal; }
    std::uint64_t size() const override { return bytes; }
    std::uint64_t modseq() const override { return modseqValue; }
    const std::string& header() override
    {
        ++headerReads;
        return headerBlock;
    }
    bool headerMayContain(std::string_view) override { return !indexSaysAbsent; }
    bool textContains(std::string_view needle, bool withHeader) override
    {
        textQueries.emplace_back(needle, withHeader);
        return containsFolded(withHeader ? headerBlock + body : body, needle);
    }
};

bool search(std::string_view text, FakeMessage& message)
{
    return matches(query(text).root, message);
}

}  // namespace

// ---- parsing ----

TEST(SearchParse, FlagKeys)
{
    const std::vector<std::tuple<std::string, Kind, std::string>> cases = {
        {"ANSWERED", Kind::Flag, "\\Answered"},   {"UNANSWERED", Kind::NoFlag, "\\Answered"},
        {"DELETED", Kind::Flag, "\\Deleted"},     {"UNDELETED", Kind::NoFlag, "\\Deleted"},
        {"DRAFT", Kind::Flag, "\\Draft"},         {"UNDRAFT", Kind::NoFlag, "\\Draft"},
        {"FLAGGED", Kind::Flag, "\\Flagged"},     {"UNFLAGGED", Kind::NoFlag, "\\Flagged"},
        {"SEEN", Kind::Flag, "\\Seen"},           {"UNSEEN", Kind::NoFlag, "\\Seen"},
        {"KEYWORD $Urgent", Kind::Flag, "$Urgent"}, {"UNKEYWORD $Urgent", Kind::NoFlag, "$Urgent"},
    };
    for (const auto& [text, kind, flag] : cases) {
        const auto parsed = key(text);
        EXPECT_EQ(parsed.kind, kind) << text;
        EXPECT_EQ(parsed.field, flag) << text;
    }
}

TEST(SearchParse, KeysWithoutArguments)
{
    EXPECT_EQ(key("ALL").kind, Kind::All);
    EXPECT_EQ(key("NEW").kind, Kind::New);
    EXPECT_EQ(key("OLD").kind, Kind::Old);
    EXPECT_EQ(key("RECENT").kind, Kind::Recent);
}

TEST(SearchParse, KeyNamesIgnoreCase)
{
    EXPECT_EQ(key("unseen").kind, Kind::NoFlag);
    EXPECT_EQ(key("Subject x").field, "Subject");
    EXPECT_EQ(key("sentSince 1-Feb-2024").kind, Kind::SentSince);
}

TEST(SearchParse, HeaderKeys)
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"BCC", "Bcc"}, {"CC", "Cc"}, {"FROM", "From"}, {"SUBJECT", "Subject"}, {"TO", "To"}};
    for (const auto& [name, field] : cases) {
        const auto parsed = key(name + " \"Dr Martin\"");
        EXPECT_EQ(parsed.kind, Kind::Header) << name;
        EXPECT_EQ(parsed.field, field) << name;
        EXPECT_EQ(parsed.value, "Dr Martin") << name;
    }
    const auto header = key("HEADER X-MSS-Patient-INS \"\"");
    EXPECT_EQ(header.kind, Kind::Header);
    EXPECT_EQ(header.field, "X-MSS-Patient-INS");
    EXPECT_EQ(header.value, "");
}

TEST(SearchParse, StringArgumentsMayBeAtomsQuotedLiteralsOrNil)
{
    EXPECT_EQ(key("BODY bilan").value, "bilan");
    EXPECT_EQ(key("TEXT \"a \\\"b\\\"\"").value, "a \"b\"");
    EXPECT_EQ(key("SUBJECT NIL").value, "NIL");

    auto withLiteral = args("SUBJECT");
    Arg literal;
    literal.kind = Arg::Kind::String;
    literal.literal = true;
    literal.text = "R\xC3\xA9sultats";
    withLiteral.push_back(literal);
    const auto parsed = parseSearchQuery(withLiteral, 0);
    EXPECT_EQ(parsed.root.children.at(0).value, "R\xC3\xA9sultats");
}

TEST(SearchParse, DateKeys)
{
    const auto june3 = utc(2024y / std::chrono::June / 3);
    const std::vector<std::pair<std::string, Kind>> cases = {
        {"BEFORE", Kind::Before},         {"ON", Kind::On},         {"SINCE", Kind::Since},
        {"SENTBEFORE", Kind::SentBefore}, {"SENTON", Kind::SentOn}, {"SENTSINCE", Kind::SentSince}};
    for (const auto& [name, kind] : cases) {
        const auto parsed = key(name + " 3-Jun-2024");
        EXPECT_EQ(parsed.kind, kind) << name;
        EXPECT_EQ(parsed.number, june3) << name;
    }
    EXPECT_EQ(key("SINCE \"03-Jun-2024\"").number, june3);
}

TEST(SearchParse, SizesAndModSeq)
{
    const auto larger = key("LARGER 10240");
    EXPECT_EQ(larger.kind, Kind::Larger);
    EXPECT_EQ(larger.number, 10240);
    EXPECT_EQ(key("SMALLER 0").kind, Kind::Smaller);

    const auto modseq = key("MODSEQ 620162338");
    EXPECT_EQ(modseq.kind, Kind::ModSeq);
    EXPECT_EQ(modseq.number, 620162338);
    // RFC 7162 §3.1.5 example.
    EXPECT_EQ(key("MODSEQ \"/flags/\\\\draft\" all 620162338").number, 620162338);
    EXPECT_EQ(key("MODSEQ \"/flags/$Urgent\" PRIV 9223372036854775807").number, 9223372036854775807);
    EXPECT_EQ(key("MODSEQ 0").number, 0);
}

TEST(SearchParse, SequenceAndUidSets)
{
    const auto sequences = key("2:4,*");
    EXPECT_EQ(sequences.kind, Kind::SequenceNumbers);
    ASSERT_TRUE(sequences.set);
    EXPECT_TRUE(sequences.set->usesStar());

    const auto uids = key("UID 10:*");
    EXPECT_EQ(uids.kind, Kind::Uids);
    ASSERT_TRUE(uids.set);
    EXPECT_TRUE(uids.set->contains(12, 20));
}

TEST(SearchParse, NestingOrAndNot)
{
    const auto parsed = query("(SEEN (FLAGGED DRAFT)) NOT OR 1 UID 2 FROM x");
    const auto& root = parsed.root;
    ASSERT_EQ(root.kind, Kind::And);
    ASSERT_EQ(root.children.size(), 3u);

    const auto& list = root.children[0];
    ASSERT_EQ(list.kind, Kind::And);
    ASSERT_EQ(list.children.size(), 2u);
    EXPECT_EQ(list.children[1].kind, Kind::And);
    EXPECT_EQ(list.children[1].children.size(), 2u);

    const auto& negation = root.children[1];
    ASSERT_EQ(negation.kind, Kind::Not);
    ASSERT_EQ(negation.children.size(), 1u);
    const auto& alternative = negation.children[0];
    ASSERT_EQ(alternative.kind, Kind::Or);
    ASSERT_EQ(alternative.children.size(), 2u);
    EXPECT_EQ(alternative.children[0].kind, Kind::SequenceNumbers);
    EXPECT_EQ(alternative.children[1].kind, Kind::Uids);

    EXPECT_EQ(root.children[2].kind, Kind::Header);
}

TEST(SearchParse, ReturnOptions)
{
    EXPECT_FALSE(query("ALL").ret.esearch);

    const auto some = query("RETURN (MIN count) ALL").ret;
    EXPECT_TRUE(some.esearch);
    EXPECT_TRUE(some.min);
    EXPECT_TRUE(some.count);
    EXPECT_FALSE(some.max);
    EXPECT_FALSE(some.all);

    const auto every = query("RETURN (MIN MAX ALL COUNT) SEEN").ret;
    EXPECT_TRUE(every.min && every.max && every.all && every.count);

    const auto empty = query("RETURN () SEEN").ret;  // RFC 4731 §3.1: means ALL
    EXPECT_TRUE(empty.esearch);
    EXPECT_TRUE(empty.all);
    EXPECT_FALSE(empty.min || empty.max || empty.count);
}

TEST(SearchParse, Charset)
{
    EXPECT_EQ(query("ALL").charset, "US-ASCII");
    EXPECT_EQ(query("CHARSET utf-8 SUBJECT x").charset, "UTF-8");
    EXPECT_EQ(query("CHARSET \"US-ASCII\" SUBJECT x").charset, "US-ASCII");
    const auto both = query("RETURN (COUNT) CHARSET UTF-8 SEEN");
    EXPECT_TRUE(both.ret.count);
    EXPECT_EQ(both.charset, "UTF-8");
    EXPECT_EQ(both.root.children.at(0).kind, Kind::Flag);

    EXPECT_TRUE(parseError("CHARSET ISO-8859-1 SUBJECT x").starts_with("[BADCHARSET (US-ASCII UTF-8)]"));
}

TEST(SearchParse, UsesModSeq)
{
    EXPECT_FALSE(query("SEEN OR 1 2").usesModSeq());
    EXPECT_TRUE(query("SEEN (NOT MODSEQ 5)").usesModSeq());
}

TEST(SearchParse, KeysForSortAndThread)
{
    const auto keys = parseSearchKeys(args("REVERSE UTF-8 SEEN LARGER 5"), 2);
    EXPECT_EQ(keys.kind, Kind::And);
    ASSERT_EQ(keys.children.size(), 2u);
    EXPECT_EQ(keys.children[1].kind, Kind::Larger);
}

TEST(SearchParse, Errors)
{
    const std::vector<std::string> malformed = {
        "",                         // no key
        "FOO",                      // unknown key
        "\"SEEN\"",                 // a string is no key
        "SUBJECT",                  // missing argument
        "HEADER X-Name",            // missing value
        "KEYWORD",                  //
        "UID",                      //
        "UID abc",                  // bad set
        "0:3",                      // bad set as a key
        "LARGER",                   //
        "LARGER abc",               // not a number
        "SMALLER -1",               //
        "LARGER 99999999999999999999",
        "BEFORE 32-Jan-2024",       // bad date
        "ON 2024-01-31",            //
        "SINCE",                    //
        "SUBJECT (x)",              // a list is no string
        "()",                       // empty list
        "NOT",                      //
        "OR SEEN",                  //
        "MODSEQ",                   //
        "MODSEQ x",                 //
        "MODSEQ 9223372036854775808",
        "MODSEQ \"/flags/\\\\Seen\" both 5",
        "MODSEQ \"/other/x\" all 5", //
        "MODSEQ \"/flags/\\\\Seen\" all", //
        "RETURN (SAVE) ALL",        // unsupported option
        "RETURN MIN ALL",           // not a list
        "RETURN (MIN)",             // no key
        "CHARSET",                  //
        "CHARSET UTF-8",            // no key
    };
    for (const auto& text : malformed) EXPECT_NE(parseError(text), "") << text;
    EXPECT_NE(parseError("FOO").find("FOO"), std::string::npos);
}

TEST(SearchParse, NestingLimit)
{
    std::string nots;
    for (int i = 0; i < 31; ++i) nots += "NOT ";
    EXPECT_EQ(parseError(nots + "SEEN"), "");  // SEEN at depth 32
    EXPECT_NE(parseError("NOT " + nots + "SEEN"), "");
    EXPECT_NE(parseError("((((SEEN))))", 4), "");
    EXPECT_EQ(parseError("(((SEEN)))", 4), "");

    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "NOT ";
    EXPECT_NE(parseError(deep + "SEEN"), "");  // no stack overflow
}

// ---- evaluation ----

TEST(SearchMatch, AddressAndSubjectHeadersAreDecoded)
{
    FakeMessage message;
    EXPECT_TRUE(search("FROM \"fran\xC3\xA7ois b\xC3\xA9rard\"", message));
    EXPECT_TRUE(search("FROM \"FRAN\xC3\x87OIS\"", message));  // Ç folds to ç
    EXPECT_TRUE(search("FROM chu-lyon.MSSANTE.fr", message));
    EXPECT_TRUE(search("SUBJECT \"R\xC3\x89SULTATS D'ANALYSES\"", message));
    EXPECT_FALSE(search("SUBJECT resultats", message));  // accents are kept
    EXPECT_TRUE(search("CC \"h\xC3\xB4pital \xC3\xA9" "douard\"", message));  // ISO-8859-1, B encoding
    EXPECT_TRUE(search("TO \"dupont, jean\"", message));  // on a folded line
    EXPECT_TRUE(search("TO \"mssante.fr, \\\"Dupont\"", message));  // unfolded across the line break
    EXPECT_FALSE(search("TO berard", message));
    EXPECT_FALSE(search("BCC mssante", message));  // no Bcc field
}

TEST(SearchMatch, HeaderField)
{
    FakeMessage message;
    EXPECT_TRUE(search("HEADER x-mss-patient-ins 4567", message));
    EXPECT_FALSE(search("HEADER X-MSS-Patient-INS 999", message));
    EXPECT_TRUE(search("HEADER X-MSS-Patient-INS \"\"", message));
    EXPECT_TRUE(search("HEADER X-Empty \"\"", message));
    EXPECT_FALSE(search("HEADER X-Absent \"\"", message));
    EXPECT_TRUE(search("HEADER Return-Path \"<f.berard\"", message));
}

TEST(SearchMatch, HeaderKeysAskThePrefilterBeforeReadingTheHeader)
{
    FakeMessage message;
    message.indexSaysAbsent = true;
    EXPECT_FALSE(search("FROM berard", message));
    EXPECT_FALSE(search("SUBJECT analyses", message));
    EXPECT_EQ(message.headerReads, 0);
    // Field presence ("") does not depend on any text: the header is read.
    EXPECT_TRUE(search("HEADER X-Empty \"\"", message));
    EXPECT_EQ(message.headerReads, 1);
    message.indexSaysAbsent = false;
    EXPECT_TRUE(search("FROM berard", message));
}

TEST(SearchMatch, Flags)
{
    FakeMessage message;
    message.flags = {"\\seen", "$urgent"};
    EXPECT_TRUE(search("SEEN", message));
    EXPECT_FALSE(search("UNSEEN", message));
    EXPECT_TRUE(search("UNANSWERED UNDELETED UNDRAFT UNFLAGGED", message));
    EXPECT_FALSE(search("ANSWERED", message));
    EXPECT_TRUE(search("KEYWORD $Urgent", message));
    EXPECT_FALSE(search("UNKEYWORD $URGENT", message));
    EXPECT_FALSE(search("KEYWORD $Other", message));
    message.flags = {"\\answered", "\\deleted", "\\draft", "\\flagged"};
    EXPECT_TRUE(search("ANSWERED DELETED DRAFT FLAGGED", message));
}

TEST(SearchMatch, RecentNewOld)
{
    FakeMessage message;
    message.flags = {"\\recent"};
    EXPECT_TRUE(search("RECENT", message));
    EXPECT_TRUE(search("NEW", message));
    EXPECT_FALSE(search("OLD", message));
    message.flags = {"\\recent", "\\seen"};
    EXPECT_FALSE(search("NEW", message));
    EXPECT_FALSE(search("OLD", message));
    message.flags = {};
    EXPECT_FALSE(search("RECENT", message));
    EXPECT_FALSE(search("NEW", message));
    EXPECT_TRUE(search("OLD", message));
}

TEST(SearchMatch, InternalDateUsesTheUtcDay)
{
    FakeMessage message;
    message.internal = utc(2024y / std::chrono::June / 3, 23h + 59min + 59s);
    EXPECT_TRUE(search("ON 3-Jun-2024", message));
    EXPECT_TRUE(search("SINCE 3-Jun-2024", message));
    EXPECT_TRUE(search("BEFORE 4-Jun-2024", message));
    EXPECT_FALSE(search("BEFORE 3-Jun-2024", message));
    EXPECT_FALSE(search("SINCE 4-Jun-2024", message));

    message.internal = utc(2024y / std::chrono::June / 4);
    EXPECT_TRUE(search("ON 4-Jun-2024", message));
    EXPECT_FALSE(search("ON 3-Jun-2024", message));
    EXPECT_TRUE(search("SINCE 4-Jun-2024", message));
    EXPECT_FALSE(search("BEFORE 4-Jun-2024", message));

    message.internal = -1;  // 1969-12-31T23:59:59Z
    EXPECT_TRUE(search("ON 31-Dec-1969", message));
    EXPECT_TRUE(search("BEFORE 1-Jan-1970", message));
}

TEST(SearchMatch, SentDateUsesTheDateFieldsOwnDay)
{
    FakeMessage message;  // Date: Mon, 3 Jun 2024 23:30:00 -0200, i.e. 4 Jun 01:30 UTC
    EXPECT_TRUE(search("SENTON 3-Jun-2024", message));
    EXPECT_FALSE(search("SENTON 4-Jun-2024", message));
    EXPECT_TRUE(search("SENTBEFORE 4-Jun-2024", message));
    EXPECT_FALSE(search("SENTBEFORE 3-Jun-2024", message));
    EXPECT_TRUE(search("SENTSINCE 3-Jun-2024", message));
    EXPECT_FALSE(search("SENTSINCE 4-Jun-2024", message));

    message.headerBlock = "Date: 1 Feb 24 08:00 +0100\r\n\r\n";  // obsolete two-digit year
    EXPECT_TRUE(search("SENTON 1-Feb-2024", message));
}

TEST(SearchMatch, MessagesWithoutAParsableDateFailSentKeys)
{
    FakeMessage message;
    for (const std::string date : {"Date: demain\r\n", "Date: Mon, 31 Feb 2024 10:00:00 +0000\r\n", ""}) {
        message.headerBlock = "Subject: x\r\n" + date + "\r\n";
        EXPECT_FALSE(search("SENTON 3-Jun-2024", message)) << date;
        EXPECT_FALSE(search("SENTBEFORE 1-Jan-2100", message)) << date;
        EXPECT_FALSE(search("SENTSINCE 1-Jan-1970", message)) << date;
        EXPECT_TRUE(search("NOT SENTSINCE 1-Jan-1970", message)) << date;
    }
}

TEST(SearchMatch, Sizes)
{
    FakeMessage message;
    message.bytes = 1000;
    EXPECT_TRUE(search("LARGER 999", message));
    EXPECT_FALSE(search("LARGER 1000", message));
    EXPECT_TRUE(search("SMALLER 1001", message));
    EXPECT_FALSE(search("SMALLER 1000", message));
}

TEST(SearchMatch, SequenceAndUidSetsWithStar)
{
    FakeMessage message;  // sequence 3 of 5, UID 30 of 50
    EXPECT_TRUE(search("1:3", message));
    EXPECT_FALSE(search("4:*", message));
    EXPECT_TRUE(search("*:2", message));
    EXPECT_FALSE(search("*", message));
    message.sequence = 5;
    EXPECT_TRUE(search("*", message));
    EXPECT_TRUE(search("UID 30", message));
    EXPECT_FALSE(search("UID 40:*", message));
    EXPECT_TRUE(search("UID 1,29:31", message));
    message.uidValue = 50;
    EXPECT_TRUE(search("UID *", message));
    EXPECT_TRUE(search("UID 60:*", message));  // RFC 3501: 60:* is 50:60 here
}

TEST(SearchMatch, ModSeq)
{
    FakeMessage message;
    message.modseqValue = 100;
    EXPECT_TRUE(search("MODSEQ 100", message));
    EXPECT_TRUE(search("MODSEQ \"/flags/\\\\Seen\" shared 99", message));
    EXPECT_FALSE(search("MODSEQ 101", message));
}

TEST(SearchMatch, BodyAndTextAskTheSubject)
{
    FakeMessage message;
    EXPECT_TRUE(search("BODY BILAN", message));
    EXPECT_FALSE(search("BODY analyses", message));
    EXPECT_TRUE(search("TEXT analyses", message));
    const std::vector<std::pair<std::string, bool>> expected = {{"BILAN", false}, {"analyses", false}, {"analyses", true}};
    EXPECT_EQ(message.textQueries, expected);
}

TEST(SearchMatch, BooleanCombinations)
{
    FakeMessage message;
    message.flags = {"\\seen"};
    EXPECT_TRUE(search("ALL", message));
    EXPECT_TRUE(search("SEEN FROM berard", message));
    EXPECT_FALSE(search("SEEN FROM martin", message));
    EXPECT_TRUE(search("OR FROM martin SEEN", message));
    EXPECT_FALSE(search("OR FROM martin UNSEEN", message));
    EXPECT_TRUE(search("NOT FROM martin", message));
    EXPECT_TRUE(search("NOT NOT SEEN", message));
    EXPECT_TRUE(search("(SEEN (LARGER 10 SMALLER 10000)) OR DRAFT (SUBJECT analyses)", message));
    EXPECT_FALSE(search("(SEEN (LARGER 10 SMALLER 100))", message));
}

// ---- helpers ----

TEST(SearchText, HeaderValues)
{
    const std::string block =
        "Received: from a\r\n"
        "\tby b\r\n"
        "subject : Hello\r\n"
        "RECEIVED: from c\r\n"
        "Broken line without colon\r\n"
        "X-Bare-Lf: yes\n"
        "\r\n"
        "Received: from the body\r\n";
    EXPECT_EQ(headerValues(block, "Received"), (std::vector<std::string>{"from a\tby b", "from c"}));
    EXPECT_EQ(headerValues(block, "Subject"), std::vector<std::string>{"Hello"});
    EXPECT_EQ(headerValues(block, "X-Bare-Lf"), std::vector<std::string>{"yes"});
    EXPECT_TRUE(headerValues(block, "To").empty());
    EXPECT_TRUE(headerValues(block, "").empty());
}

TEST(SearchText, ContainsFolded)
{
    EXPECT_TRUE(containsFolded("Compte Rendu", "RENDU"));
    EXPECT_TRUE(containsFolded("anything", ""));
    EXPECT_FALSE(containsFolded("", "x"));
    EXPECT_TRUE(containsFolded("\xC3\x89TAT", "\xC3\xA9tat"));                 // É / é
    EXPECT_TRUE(containsFolded("\xC3\x80 NOTER", "\xC3\xA0 noter"));            // À / à
    EXPECT_TRUE(containsFolded("\xC5\x92" "D\xC3\x88ME", "\xC5\x93" "d\xC3\xA8me"));  // Œ / œ, È / è
    EXPECT_TRUE(containsFolded("\xC5\xB8", "\xC3\xBF"));                        // Ÿ / ÿ
    EXPECT_TRUE(containsFolded("\xC4\xB9", "\xC4\xBA"));                        // Ĺ / ĺ
    EXPECT_FALSE(containsFolded("\xC3\x97", "\xC3\xB7"));                       // × and ÷ are no pair
    EXPECT_FALSE(containsFolded("resultats", "r\xC3\xA9sultats"));
    EXPECT_TRUE(containsFolded("bad \xFF bytes", "\xFF BYTES"));
}
