// FETCH: data item parsing, ENVELOPE, BODYSTRUCTURE and BODY[section] from
// real messages stored in encrypted blobs.
#include "FetchTestMessages.h"
#include "imap/Fetch.h"
#include "mime/StructureParser.h"
#include "store/AtRestKey.h"
#include "store/BlobFile.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::imap {
namespace {

namespace fs = std::filesystem;
using test::crlf;
using Kind = FetchItem::Kind;
using Text = Section::Text;

// ---- arguments as the command reader gives them ------------------------------

Arg atom(std::string text)
{
    Arg arg;
    arg.text = std::move(text);
    return arg;
}

Arg list(std::vector<Arg> items)
{
    Arg arg;
    arg.kind = Arg::Kind::List;
    arg.items = std::move(items);
    return arg;
}

Arg atomList(const std::vector<std::string>& texts)
{
    std::vector<Arg> items;
    for (const auto& text : texts) items.push_back(atom(text));
    return list(std::move(items));
}

// "FETCH 1 <args>": the data items are args[1], after the sequence set.
FetchRequest parse(std::vector<Arg> args)
{
    args.insert(args.begin(), atom("1"));
    return parseFetchRequest(args, 1);
}

FetchRequest parseItems(const std::vector<std::string>& items)
{
    return parse({atomList(items)});
}

// The CommandError message for those arguments, or "" when they parse.
std::string parseError(std::vector<Arg> args)
{
    try {
        parse(std::move(args));
    } catch (const CommandError& error) {
        EXPECT_EQ(error.tag(), "");
        return error.what();
    }
    return "";
}

std::string itemError(const std::string& item)
{
    return parseError({atom(item)});
}

std::vector<Kind> kinds(const FetchRequest& request)
{
    std::vector<Kind> out;
    for (const auto& item : request.items) out.push_back(item.kind);
    return out;
}

Section onlySection(const std::string& item)
{
    const auto request = parse({atom(item)});
    EXPECT_EQ(request.items.size(), 1u);
    return request.items.at(0).section;
}

// ---- parsing ----------------------------------------------------------------

TEST(FetchParse, MacrosExpandInRfcOrder)
{
    EXPECT_EQ(kinds(parse({atom("FAST")})), (std::vector{Kind::Flags, Kind::InternalDate, Kind::Rfc822Size}));
    EXPECT_EQ(kinds(parse({atom("all")})),
              (std::vector{Kind::Flags, Kind::InternalDate, Kind::Rfc822Size, Kind::Envelope}));
    EXPECT_EQ(kinds(parse({atom("Full")})),
              (std::vector{Kind::Flags, Kind::InternalDate, Kind::Rfc822Size, Kind::Envelope, Kind::Body}));
}

TEST(FetchParse, SingleItemsAndListsIgnoreCase)
{
    EXPECT_EQ(kinds(parse({atom("bodystructure")})), std::vector{Kind::BodyStructure});
    EXPECT_EQ(kinds(parseItems({"envelope", "Flags", "INTERNALDATE", "rfc822", "RFC822.Header", "rfc822.size",
                                "RFC822.TEXT", "body", "BodyStructure", "uid", "ModSeq"})),
              (std::vector{Kind::Envelope, Kind::Flags, Kind::InternalDate, Kind::Rfc822, Kind::Rfc822Header,
                           Kind::Rfc822Size, Kind::Rfc822Text, Kind::Body, Kind::BodyStructure, Kind::Uid,
                           Kind::ModSeq}));
}

TEST(FetchParse, BodySections)
{
    const auto whole = parse({atom("BODY[]")}).items.at(0);
    EXPECT_EQ(whole.kind, Kind::BodySection);
    EXPECT_FALSE(whole.peek);
    EXPECT_TRUE(whole.section.part.empty());
    EXPECT_EQ(whole.section.text, Text::Whole);
    EXPECT_FALSE(whole.partial);

    const auto peek = parse({atom("body.peek[4.1.2.MIME]<10.200>")}).items.at(0);
    EXPECT_TRUE(peek.peek);
    EXPECT_EQ(peek.section.part, (std::vector<std::uint32_t>{4, 1, 2}));
    EXPECT_EQ(peek.section.text, Text::Mime);
    ASSERT_TRUE(peek.partial);
    EXPECT_EQ(*peek.partial, (std::pair<std::uint64_t, std::uint64_t>{10, 200}));

    EXPECT_EQ(onlySection("BODY[3]").part, std::vector<std::uint32_t>{3});
    EXPECT_EQ(onlySection("BODY[3]").text, Text::Whole);
    EXPECT_EQ(onlySection("BODY[header]").text, Text::Header);
    EXPECT_EQ(onlySection("BODY[Text]").text, Text::Text);
    EXPECT_EQ(onlySection("BODY[4.HEADER]").part, std::vector<std::uint32_t>{4});
    EXPECT_EQ(onlySection("BODY[4.TEXT]").text, Text::Text);
    EXPECT_EQ(onlySection("BODY[4294967295]").part, std::vector<std::uint32_t>{4294967295u});
}

TEST(FetchParse, HeaderFieldListsAreAstrings)
{
    const auto fields = onlySection(R"(BODY.PEEK[HEADER.FIELDS (From "X-Odd Name" to "Quo\"te" X-MSS-Patient-INS)])");
    EXPECT_EQ(fields.text, Text::HeaderFields);
    EXPECT_EQ(fields.fields,
              (std::vector<std::string>{"From", "X-Odd Name", "to", "Quo\"te", "X-MSS-Patient-INS"}));

    const auto nested = onlySection("BODY[4.header.fields.not (Subject)]<0.1>");
    EXPECT_EQ(nested.part, std::vector<std::uint32_t>{4});
    EXPECT_EQ(nested.text, Text::HeaderFieldsNot);
    EXPECT_EQ(nested.fields, std::vector<std::string>{"Subject"});
}

TEST(FetchParse, MalformedSectionsGivePreciseErrors)
{
    EXPECT_EQ(itemError("BODY[0]"),
              R"(Invalid FETCH data item "BODY[0]": part numbers are positive numbers without leading zeros)");
    EXPECT_EQ(itemError("BODY[1.02]"),
              R"(Invalid FETCH data item "BODY[1.02]": part numbers are positive numbers without leading zeros)");
    EXPECT_EQ(itemError("BODY[4294967296]"),
              R"(Invalid FETCH data item "BODY[4294967296]": part numbers are positive numbers without leading zeros)");
    EXPECT_EQ(itemError("BODY[MIME]"), R"(Invalid FETCH data item "BODY[MIME]": MIME needs a part number)");
    EXPECT_EQ(itemError("BODY[1.BOGUS]"),
              R"(Invalid FETCH data item "BODY[1.BOGUS]": expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, )"
              R"(TEXT, MIME or a part number in the section)");
    EXPECT_EQ(itemError("BODY[BOGUS]"),
              R"(Invalid FETCH data item "BODY[BOGUS]": expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, )"
              R"(TEXT or a part number in the section)");
    EXPECT_EQ(itemError("BODY[1 ]"),
              R"(Invalid FETCH data item "BODY[1 ]": expected '.' or ']' after the part number)");
    EXPECT_EQ(itemError("BODY[HEADER"), R"(Invalid FETCH data item "BODY[HEADER": expected ']' to close the section)");
    EXPECT_EQ(itemError("BODY[HEADER.FIELDS]"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS]": expected a space before the header field list)");
    EXPECT_EQ(itemError("BODY[HEADER.FIELDS From]"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS From]": expected '(' to open the header field list)");
    EXPECT_EQ(itemError("BODY[HEADER.FIELDS ()]"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS ()]": expected a header field name)");
    EXPECT_EQ(itemError("BODY[HEADER.FIELDS (From]"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS (From]": expected ')' to close the header field list)");
    EXPECT_EQ(itemError(R"(BODY[HEADER.FIELDS ("From)])"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS ("From)]": unterminated quoted field name)");
    EXPECT_EQ(itemError(R"(BODY[HEADER.FIELDS ("a\b")])"),
              R"(Invalid FETCH data item "BODY[HEADER.FIELDS ("a\b")]": )"
              R"(only \" and \\ may be escaped in a quoted field name)");
    EXPECT_EQ(itemError("BODY[HEADER.FIELDS ({4}\r\nFrom)]"),
              "Invalid FETCH data item \"BODY[HEADER.FIELDS ({4}??From)]\": expected a header field name");
    EXPECT_EQ(itemError("BODY[TEXT]<0>"), R"(Invalid FETCH data item "BODY[TEXT]<0>": )"
                                          R"(expected '.' between the partial origin and length)");
    EXPECT_EQ(itemError("BODY[TEXT]<0.0>"),
              R"(Invalid FETCH data item "BODY[TEXT]<0.0>": the partial length must not be 0)");
    EXPECT_EQ(itemError("BODY[TEXT]<x.1>"),
              R"(Invalid FETCH data item "BODY[TEXT]<x.1>": expected a number for the partial origin)");
    EXPECT_EQ(itemError("BODY[TEXT]<0.1"),
              R"(Invalid FETCH data item "BODY[TEXT]<0.1": expected '>' to close the partial)");
    EXPECT_EQ(itemError("BODY[TEXT]<0.99999999999999999999>"),
              R"(Invalid FETCH data item "BODY[TEXT]<0.99999999999999999999>": )"
              R"(expected a number for the partial length)");
    EXPECT_EQ(itemError("BODY[]x"), R"(Invalid FETCH data item "BODY[]x": unexpected "x" after the section)");
    EXPECT_EQ(itemError("BODY.PEK[]"), R"(Unknown FETCH data item "BODY.PEK[]")");
    EXPECT_EQ(itemError("BODYSTRUCTURE[]"), R"(Unknown FETCH data item "BODYSTRUCTURE[]")");
    EXPECT_EQ(itemError("BODY[" + std::string(100, '1')),
              "Invalid FETCH data item \"BODY[" + std::string(55, '1') +
                  "...\": part numbers are positive numbers without leading zeros");
}

TEST(FetchParse, MalformedItemListsAreRefused)
{
    EXPECT_EQ(parseError({}), "FETCH needs data items");
    EXPECT_EQ(itemError("RFC822.PEEK"), R"(Unknown FETCH data item "RFC822.PEEK")");
    EXPECT_EQ(parseError({atomList({})}), "Empty FETCH data item list");
    EXPECT_EQ(parseError({atomList({"FLAGS", "ALL"})}), R"(FETCH macro "ALL" inside a list)");
    EXPECT_EQ(parseError({atomList({"FLAGS", "BOGUS"})}), R"(Unknown FETCH data item "BOGUS")");
    Arg string = atom("FLAGS");
    string.kind = Arg::Kind::String;
    EXPECT_EQ(parseError({string}), "Expected a FETCH data item, not a string, NIL or list");
    EXPECT_EQ(parseError({list({atomList({"FLAGS"})})}), "Expected a FETCH data item, not a string, NIL or list");
}

TEST(FetchParse, ChangedSinceAndVanishedModifiers)
{
    const auto changed = parse({atomList({"FLAGS"}), atomList({"CHANGEDSINCE", "12345"})});
    EXPECT_EQ(changed.changedSince, 12345u);
    EXPECT_FALSE(changed.vanished);
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    EXPECT_EQ(kinds(changed), (std::vector{Kind::Flags, Kind::ModSeq}));

    const auto vanished = parse({atom("UID"), atomList({"changedsince", "0", "vanished"})});
    EXPECT_EQ(vanished.changedSince, 0u);
    EXPECT_TRUE(vanished.vanished);

    const auto already = parse({atomList({"MODSEQ", "FLAGS"}), atomList({"VANISHED", "CHANGEDSINCE", "7"})});
    EXPECT_EQ(kinds(already), (std::vector{Kind::ModSeq, Kind::Flags}));
    EXPECT_TRUE(already.vanished);

    EXPECT_FALSE(parse({atom("FLAGS")}).changedSince);
}

TEST(FetchParse, MalformedModifiersAreRefused)
{
    const auto modifiers = [](const std::vector<std::string>& words) {
        return parseError({atom("FLAGS"), atomList(words)});
    };
    EXPECT_EQ(modifiers({"VANISHED"}), "VANISHED needs CHANGEDSINCE");
    EXPECT_EQ(modifiers({"CHANGEDSINCE"}), "CHANGEDSINCE needs a mod-sequence number");
    EXPECT_EQ(modifiers({"CHANGEDSINCE", "12x"}), R"(CHANGEDSINCE needs a mod-sequence number, not "12x")");
    EXPECT_EQ(modifiers({"CHANGEDSINCE", "9223372036854775808"}),
              R"(CHANGEDSINCE needs a mod-sequence number, not "9223372036854775808")");
    EXPECT_EQ(modifiers({"CHANGEDSINCE", "1", "CHANGEDSINCE", "2"}),
              R"(Unknown or repeated FETCH modifier "CHANGEDSINCE")");
    EXPECT_EQ(modifiers({"CHANGEDSINCE", "1", "VANISHED", "VANISHED"}),
              R"(Unknown or repeated FETCH modifier "VANISHED")");
    EXPECT_EQ(modifiers({"UNCHANGEDSINCE", "1"}), R"(Unknown or repeated FETCH modifier "UNCHANGEDSINCE")");
    EXPECT_EQ(modifiers({}), "Expected a list of FETCH modifiers after the data items");
    EXPECT_EQ(parseError({atom("FLAGS"), atom("CHANGEDSINCE")}),
              "Expected a list of FETCH modifiers after the data items");
    EXPECT_EQ(parseError({atom("FLAGS"), atomList({"CHANGEDSINCE", "1"}), atom("x")}),
              "Unexpected argument after the FETCH modifiers");
}

TEST(FetchParse, WhatARequestNeeds)
{
    const auto flags = parse({atom("FAST")});
    EXPECT_FALSE(flags.setsSeen());
    EXPECT_FALSE(flags.needsStructure());
    EXPECT_FALSE(flags.needsBlob());
    EXPECT_TRUE(flags.wants(Kind::Rfc822Size));
    EXPECT_FALSE(flags.wants(Kind::Uid));

    const auto envelope = parse({atom("ALL")});
    EXPECT_TRUE(envelope.needsStructure());
    EXPECT_FALSE(envelope.needsBlob());
    EXPECT_TRUE(parse({atom("BODY")}).needsStructure());
    EXPECT_TRUE(parse({atom("BODYSTRUCTURE")}).needsStructure());

    for (const std::string peeking : {"BODY.PEEK[]", "RFC822.HEADER", "BODY.PEEK[1.MIME]"}) {
        const auto request = parse({atom(peeking)});
        EXPECT_FALSE(request.setsSeen()) << peeking;
        EXPECT_TRUE(request.needsBlob()) << peeking;
        EXPECT_TRUE(request.needsStructure()) << peeking;
    }
    // RFC 3501 §6.4.5: these set \Seen.
    for (const std::string seeing : {"BODY[]", "RFC822", "RFC822.TEXT", "BODY[HEADER]"}) {
        const auto request = parse({atom(seeing)});
        EXPECT_TRUE(request.setsSeen()) << seeing;
        EXPECT_TRUE(request.needsBlob()) << seeing;
    }
}

// ---- rendering from stored messages -----------------------------------------

class FetchTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-fetch-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        store::AtRestKey::generateFile((dir_ / "key").string());
        key_ = std::make_unique<store::AtRestKey>(store::AtRestKey::loadFile((dir_ / "key").string()));
    }

    void TearDown() override { fs::remove_all(dir_); }

    struct Stored {
        std::string bytes;
        mime::MessageStructure structure;
        std::unique_ptr<store::BlobReader> blob;
        int blobOpenings = 0;
    };

    // Writes the message to an encrypted blob, as delivery does, and parses it.
    Stored& store(const std::string& message)
    {
        const std::string path = (dir_ / ("blob" + std::to_string(stored_.size()))).string();
        store::BlobWriter writer(*key_, path);
        writer.write(message.data(), message.size());
        writer.commit();
        auto& stored = *stored_.emplace_back(std::make_unique<Stored>());
        stored.bytes = message;
        stored.structure = mime::parseMessage(message);
        stored.blob = std::make_unique<store::BlobReader>(*key_, path);
        return stored;
    }

    static FetchedMessage fetched(Stored& stored)
    {
        FetchedMessage message;
        message.uid = 42;
        message.flags = "\\Seen $Forwarded";
        message.internalDate = 1717486200;  // 2024-06-04 07:30:00 UTC
        message.size = stored.bytes.size();
        message.modseq = 77;
        message.structure = &stored.structure;
        message.blob = [&stored]() -> store::BlobReader& {
            ++stored.blobOpenings;
            return *stored.blob;
        };
        return message;
    }

    std::string fetch(const std::string& message, const std::vector<std::string>& items)
    {
        return renderFetchItems(parseItems(items), fetched(store(message)));
    }

    std::string section(const std::string& message, const std::string& item)
    {
        auto& stored = store(message);
        return sectionBytes(onlySection(item), stored.structure, *stored.blob);
    }

private:
    fs::path dir_;
    std::unique_ptr<store::AtRestKey> key_;
    std::vector<std::unique_ptr<Stored>> stored_;
};

TEST_F(FetchTest, MessageAttributesNeedNeitherStructureNorBlob)
{
    auto& stored = store(test::richMessage());
    FetchedMessage message = fetched(stored);
    message.structure = nullptr;
    const auto request = parseItems({"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "MODSEQ"});
    EXPECT_EQ(renderFetchItems(request, message),
              "(UID 42 FLAGS (\\Seen $Forwarded) INTERNALDATE \" 4-Jun-2024 07:30:00 +0000\" RFC822.SIZE " +
                  std::to_string(stored.bytes.size()) + " MODSEQ (77))");
    EXPECT_EQ(stored.blobOpenings, 0);

    message.flags.clear();
    EXPECT_EQ(renderFetchItems(parse({atom("FLAGS")}), message), "(FLAGS ())");
}

TEST_F(FetchTest, EnvelopeWithGroupFoldingAndRawEncodedWords)
{
    EXPECT_EQ(fetch(test::richMessage(), {"ENVELOPE"}),
              "(ENVELOPE (\"Tue, 4 Jun 2024 09:30:00 +0200\" "
              "\"=?ISO-8859-1?Q?R=E9sultats_d'analyses?= du patient\" "
              "((\"=?UTF-8?Q?Dr_Ren=C3=A9e_Martin?=\" NIL \"renee.martin\" \"chu-nantes.mssante.fr\")) "
              "((\"Secretariat\" NIL \"secretariat\" \"chu-nantes.mssante.fr\")) "
              // Reply-To defaults to From (RFC 3501 §7.4.2).
              "((\"=?UTF-8?Q?Dr_Ren=C3=A9e_Martin?=\" NIL \"renee.martin\" \"chu-nantes.mssante.fr\")) "
              "((NIL NIL \"Equipe soins\" NIL)(NIL NIL \"infirmier\" \"ch.mssante.fr\")"
              "(\"Dupont, Jean\" NIL \"jean.dupont\" \"ch.mssante.fr\")(NIL NIL NIL NIL)"
              "(NIL NIL \"patient\" \"example.org\")) "
              "((\"Pharmacie\" NIL \"pharma\" \"ch.mssante.fr\")) "
              "NIL \"<prev@ch.mssante.fr>\" \"<a1b2c3@chu-nantes.mssante.fr>\"))");
}

TEST_F(FetchTest, EnvelopeWithMissingFieldsEmptyGroupAndEightBitSubject)
{
    EXPECT_EQ(fetch(test::singlePartMessage(), {"ENVELOPE"}),
              "(ENVELOPE (NIL {11}\r\nRappel \xE0 9h "
              // Sender defaults to From.
              "((NIL NIL \"secretariat\" \"cabinet.mssante.fr\")) ((NIL NIL \"secretariat\" \"cabinet.mssante.fr\")) "
              "((\"Cabinet \\\"Les Tilleuls\\\"\" NIL \"accueil\" \"cabinet.mssante.fr\")) "
              "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))");
    EXPECT_EQ(renderEnvelope(mime::Envelope{}), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST_F(FetchTest, EnvelopeAddressWithoutHost)
{
    mime::Envelope envelope;
    envelope.to = {{.name = "", .adl = "", .mailbox = "root", .host = std::string(mime::Address::kMissingHost)}};
    EXPECT_EQ(renderEnvelope(envelope),
              "(NIL NIL NIL NIL NIL ((NIL NIL \"root\" \".MISSING-HOST-NAME.\")) NIL NIL NIL NIL)");
}

// Sizes and line counts come from the MIME parser: sizes exclude the line
// break before a boundary (RFC 2046 §5.1.1; so does Dovecot, except for
// message/rfc822 parts), lines count a last line without a line break
// (Dovecot counts line feeds only: one less for such parts).
const std::string kRichInnerMessage =
    "(\"Mon, 3 Jun 2024 18:00:00 +0200\" \"Transfert\" ((\"Labo\" NIL \"labo\" \"labo.mssante.fr\")) "
    "((\"Labo\" NIL \"labo\" \"labo.mssante.fr\")) ((\"Labo\" NIL \"labo\" \"labo.mssante.fr\")) "
    "((NIL NIL \"renee.martin\" \"chu-nantes.mssante.fr\")) NIL NIL NIL \"<inner@labo.mssante.fr>\")";

TEST_F(FetchTest, BodyStructureOfNestedMultipartWithAttachedMessage)
{
    EXPECT_EQ(fetch(test::richMessage(), {"BODYSTRUCTURE"}),
              "(BODYSTRUCTURE ("
              "(\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 35 2 NIL NIL NIL NIL)"
              "(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"8BIT\" 14 1 NIL NIL NIL NIL)"
              "(\"APPLICATION\" \"PDF\" (\"name\" \"resultats.pdf\") \"<pdf1@chu>\" \"Compte rendu\" \"BASE64\" 34 "
              "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"resultats.pdf\")) (\"fr\") "
              "\"resultats.pdf\")"
              "(\"MESSAGE\" \"RFC822\" NIL NIL \"Message transfere\" \"7BIT\" 630 " +
                  kRichInnerMessage +
                  " ("
                  "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
                  "(\"TEXT\" \"HTML\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 11 1 NIL NIL (\"fr\" \"en\") NIL)"
                  " \"ALTERNATIVE\" (\"boundary\" \"alt\") NIL NIL NIL)"
                  "(\"TEXT\" \"XML\" (\"name\" \"cda.xml\") NIL NIL \"7BIT\" 19 1 NIL "
                  "(\"attachment\" (\"filename\" \"cda.xml\" \"size\" \"25\")) NIL NIL)"
                  " \"MIXED\" (\"boundary\" \"inner-mixed\") NIL NIL NIL) 28 NIL NIL NIL NIL)"
                  " \"MIXED\" (\"boundary\" \"==outer==\") NIL NIL NIL))");
}

TEST_F(FetchTest, BodyIsTheNonExtensibleForm)
{
    EXPECT_EQ(fetch(test::richMessage(), {"BODY"}),
              "(BODY ("
              "(\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 35 2)"
              "(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"8BIT\" 14 1)"
              "(\"APPLICATION\" \"PDF\" (\"name\" \"resultats.pdf\") \"<pdf1@chu>\" \"Compte rendu\" \"BASE64\" 34)"
              "(\"MESSAGE\" \"RFC822\" NIL NIL \"Message transfere\" \"7BIT\" 630 " +
                  kRichInnerMessage +
                  " ("
                  "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 10 1)"
                  "(\"TEXT\" \"HTML\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 11 1) \"ALTERNATIVE\")"
                  "(\"TEXT\" \"XML\" (\"name\" \"cda.xml\") NIL NIL \"7BIT\" 19 1) \"MIXED\") 28)"
                  " \"MIXED\"))");
}

TEST_F(FetchTest, BodyStructureOfSinglePartMessages)
{
    EXPECT_EQ(fetch(test::singlePartMessage(), {"BODYSTRUCTURE", "BODY"}),
              "(BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"charset\" \"iso-8859-1\" \"format\" \"flowed\") NIL NIL \"8BIT\" "
              "34 2 NIL NIL NIL NIL) "
              "BODY (\"TEXT\" \"PLAIN\" (\"charset\" \"iso-8859-1\" \"format\" \"flowed\") NIL NIL \"8BIT\" 34 2))");
    // RFC 2045 defaults.
    EXPECT_EQ(fetch(test::headerOnlyMessage(), {"BODYSTRUCTURE"}),
              "(BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL))");
}

TEST_F(FetchTest, EmptyMultipartHoldsAnEmptyTextPart)
{
    EXPECT_EQ(fetch(test::emptyMultipartMessage(), {"BODYSTRUCTURE", "BODY"}),
              "(BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)"
              " \"MIXED\" NIL (\"inline\" NIL) (\"fr\") NIL) "
              "BODY ((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) \"MIXED\"))");
}

TEST_F(FetchTest, EncodedMessageRfc822HasAnEmptyEnvelopeAndBody)
{
    EXPECT_EQ(fetch(test::encodedMessageMessage(), {"BODYSTRUCTURE"}),
              "(BODYSTRUCTURE ((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 20 "
              "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
              "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL) 1 NIL NIL NIL NIL)"
              " \"MIXED\" (\"boundary\" \"b\") NIL NIL NIL))");
}

TEST_F(FetchTest, MessageGlobalIsABasicBody)
{
    // RFC 3501's body-type-msg is for MESSAGE/RFC822 only.
    const std::string message = crlf(
        "Content-Type: message/global\n"
        "\n"
        "Subject: inner\n"
        "\n"
        "corps\n");
    EXPECT_EQ(fetch(message, {"BODYSTRUCTURE"}),
              "(BODYSTRUCTURE (\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"7BIT\" 25 NIL NIL NIL NIL))");
    EXPECT_EQ(section(message, "BODY[1.HEADER]"), "Subject: inner\r\n\r\n");
}

TEST_F(FetchTest, TopLevelSections)
{
    const std::string rich = test::richMessage();
    const auto blankLine = rich.find("\r\n\r\n") + 4;
    EXPECT_EQ(section(rich, "BODY[]"), rich);
    EXPECT_EQ(section(rich, "BODY[HEADER]"), rich.substr(0, blankLine));
    EXPECT_EQ(section(rich, "BODY[TEXT]"), rich.substr(blankLine));
    EXPECT_EQ(section(rich, "BODY[HEADER]").size(), 571u);  // as Dovecot
}

TEST_F(FetchTest, HeaderFieldsKeepFoldedLinesInMessageOrder)
{
    EXPECT_EQ(section(test::richMessage(), R"(BODY[HEADER.FIELDS (x-mss-patient-ins "Subject" TO Bcc)])"),
              "To: Equipe soins: infirmier@ch.mssante.fr, \"Dupont, Jean\" <jean.dupont@ch.mssante.fr>;,\r\n"
              " patient@example.org\r\n"
              "Subject: =?ISO-8859-1?Q?R=E9sultats_d'analyses?=\r\n"
              " du patient\r\n"
              "X-MSS-Patient-INS: 1234567890123\r\n"
              "\r\n");
    EXPECT_EQ(section(test::richMessage(), "BODY[HEADER.FIELDS.NOT (To Subject From Sender CC)]"),
              "Date: Tue, 4 Jun 2024 09:30:00 +0200\r\n"
              "Message-ID: <a1b2c3@chu-nantes.mssante.fr>\r\n"
              "In-Reply-To: <prev@ch.mssante.fr>\r\n"
              "X-MSS-Patient-INS: 1234567890123\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: multipart/mixed; boundary=\"==outer==\"\r\n"
              "\r\n");
    EXPECT_EQ(section(test::richMessage(), "BODY[HEADER.FIELDS (X-Absent)]"), "\r\n");
}

TEST_F(FetchTest, HeaderFieldsWithRepeatsObsoleteSpacingAndStrayLines)
{
    const std::string message = crlf(
        " stray continuation\n"
        "Received: from a\n"
        "\tby b\n"
        "Subject : obsolete spacing\n"
        "not a field\n"
        " continues nothing\n"
        "received: from c\n"
        "\n"
        "body\n");
    EXPECT_EQ(section(message, "BODY[HEADER.FIELDS (RECEIVED subject)]"),
              "Received: from a\r\n\tby b\r\nSubject : obsolete spacing\r\nreceived: from c\r\n\r\n");
    EXPECT_EQ(section(message, "BODY[HEADER.FIELDS.NOT (Received)]"), "Subject : obsolete spacing\r\n\r\n");
}

TEST_F(FetchTest, HeaderWithoutBlankLine)
{
    // RFC 3501 §6.4.5: no blank line when the message has none.
    const std::string message = test::headerOnlyMessage();
    EXPECT_EQ(section(message, "BODY[HEADER]"), message);
    EXPECT_EQ(section(message, "BODY[TEXT]"), "");
    EXPECT_EQ(section(message, "BODY[1]"), "");
    EXPECT_EQ(section(message, "BODY[1.MIME]"), message);
    EXPECT_EQ(section(message, "BODY[HEADER.FIELDS (Subject)]"), "Subject: Sans corps\r\n");
    EXPECT_EQ(section(message, "BODY[HEADER.FIELDS (X-Note)]"), "X-Note: pas de ligne vide");
}

TEST_F(FetchTest, PartsOfAMultipart)
{
    const std::string rich = test::richMessage();
    EXPECT_EQ(section(rich, "BODY[1]"), "Bonjour,\r\nR=C3=A9sultats ci-joints.");
    EXPECT_EQ(section(rich, "BODY[1.MIME]"),
              "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    EXPECT_EQ(section(rich, "BODY[2]"), "<p>Bonjour</p>");
    EXPECT_EQ(section(rich, "BODY[3]"), "JVBERi0xLjQKJcfs\r\nj6IKMSAwIG9iago=");
    // Only a message/rfc822 part has a HEADER or TEXT.
    EXPECT_EQ(section(rich, "BODY[1.HEADER]"), "");
    EXPECT_EQ(section(rich, "BODY[3.TEXT]"), "");
    EXPECT_EQ(section(rich, "BODY[1.1]"), "");
    EXPECT_EQ(section(rich, "BODY[5]"), "");
    EXPECT_EQ(section(rich, "BODY[5.MIME]"), "");
}

TEST_F(FetchTest, PartsOfAnAttachedMessage)
{
    const std::string rich = test::richMessage();
    const auto from = rich.find("From: Labo");
    const std::string inner = rich.substr(from, rich.find("\r\n--==outer==--") - from);
    const auto innerBlankLine = inner.find("\r\n\r\n") + 4;

    EXPECT_EQ(section(rich, "BODY[4]"), inner);
    // Dovecot counts 632: it gives the attached message the line break before the boundary.
    EXPECT_EQ(section(rich, "BODY[4]").size(), 630u);
    EXPECT_EQ(section(rich, "BODY[4.MIME]"),
              "Content-Type: message/rfc822\r\nContent-Description: Message transfere\r\n\r\n");
    EXPECT_EQ(section(rich, "BODY[4.HEADER]"), inner.substr(0, innerBlankLine));
    EXPECT_EQ(section(rich, "BODY[4.TEXT]"), inner.substr(innerBlankLine));
    EXPECT_EQ(section(rich, "BODY[4.HEADER.FIELDS (subject)]"), "Subject: Transfert\r\n\r\n");
    EXPECT_EQ(section(rich, "BODY[4.HEADER.FIELDS.NOT (From To Date Message-ID MIME-Version)]"),
              "Subject: Transfert\r\nContent-Type: multipart/mixed; boundary=inner-mixed\r\n\r\n");

    // 4.1 is the multipart/alternative inside the attached message's multipart/mixed.
    EXPECT_EQ(section(rich, "BODY[4.1.MIME]"), "Content-Type: multipart/alternative; boundary=alt\r\n\r\n");
    EXPECT_EQ(section(rich, "BODY[4.1]"),
              "--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nTexte brut\r\n"
              "--alt\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Language: fr, en\r\n\r\n<b>HTML</b>\r\n"
              "--alt--\r\n");
    EXPECT_EQ(section(rich, "BODY[4.1.1]"), "Texte brut");
    EXPECT_EQ(section(rich, "BODY[4.1.2]"), "<b>HTML</b>");
    EXPECT_EQ(section(rich, "BODY[4.1.2.MIME]"),
              "Content-Type: text/html; charset=us-ascii\r\nContent-Language: fr, en\r\n\r\n");
    EXPECT_EQ(section(rich, "BODY[4.2]"), "<ClinicalDocument/>");
    EXPECT_EQ(section(rich, "BODY[4.3]"), "");
    EXPECT_EQ(section(rich, "BODY[4.1.3]"), "");
    EXPECT_EQ(section(rich, "BODY[4.1.1.1]"), "");
}

TEST_F(FetchTest, PartOneOfASinglePartMessageIsItsBody)
{
    const std::string message = test::singlePartMessage();
    const auto blankLine = message.find("\r\n\r\n") + 4;
    EXPECT_EQ(section(message, "BODY[1]"), "Rendez-vous demain \xE0 9h.\r\nMerci.\r\n");
    EXPECT_EQ(section(message, "BODY[1.MIME]"), message.substr(0, blankLine));
    EXPECT_EQ(section(message, "BODY[2]"), "");
    EXPECT_EQ(section(message, "BODY[1.TEXT]"), "");
}

TEST_F(FetchTest, SinglePartMessageRfc822Message)
{
    const std::string message = crlf(
        "Subject: outer\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: inner\n"
        "Content-Type: multipart/alternative; boundary=x\n"
        "\n"
        "--x\n"
        "\n"
        "un\n"
        "--x\n"
        "\n"
        "deux\n"
        "--x--\n");
    EXPECT_EQ(fetch(message, {"BODYSTRUCTURE"}),
              "(BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 98 "
              "(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
              "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 2 1 NIL NIL NIL NIL)"
              "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 4 1 NIL NIL NIL NIL)"
              " \"ALTERNATIVE\" (\"boundary\" \"x\") NIL NIL NIL) 10 NIL NIL NIL NIL))");
    EXPECT_EQ(section(message, "BODY[1.HEADER]"),
              "Subject: inner\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n");
    EXPECT_EQ(section(message, "BODY[1.2]"), "deux");
    EXPECT_EQ(section(message, "BODY[1.2.MIME]"), "\r\n");
}

TEST_F(FetchTest, SectionResponsesEchoTheSectionAsLiterals)
{
    const std::string rich = test::richMessage();
    EXPECT_EQ(fetch(rich, {"BODY.PEEK[4.1.2]", "BODY[4.2.MIME]"}),
              "(BODY[4.1.2] {11}\r\n<b>HTML</b> "
              "BODY[4.2.MIME] {100}\r\nContent-Type: text/xml; name=cda.xml\r\n"
              "Content-Disposition: attachment; filename=cda.xml; size=25\r\n\r\n)");
    EXPECT_EQ(fetch(rich, {R"(BODY.PEEK[HEADER.FIELDS (Message-ID "X-Odd Name" "nil")])"}),
              "(BODY[HEADER.FIELDS (Message-ID \"X-Odd Name\" \"nil\")] {46}\r\n"
              "Message-ID: <a1b2c3@chu-nantes.mssante.fr>\r\n\r\n)");
    EXPECT_EQ(fetch(rich, {"BODY[4.HEADER.FIELDS.NOT (Subject)]<0.6>", "BODY[4.TEXT]<0.20>", "BODY[5]"}),
              "(BODY[4.HEADER.FIELDS.NOT (Subject)]<0> {6}\r\nFrom: "
              " BODY[4.TEXT]<0> {20}\r\n--inner-mixed\r\nConte BODY[5] {0}\r\n)");
}

TEST_F(FetchTest, PartialFetches)
{
    const std::string rich = test::richMessage();
    EXPECT_EQ(fetch(rich, {"BODY.PEEK[4.1.2]<3.5>"}), "(BODY[4.1.2]<3> {5}\r\nHTML<)");
    EXPECT_EQ(fetch(rich, {"BODY.PEEK[4.1.2]<8.100>"}), "(BODY[4.1.2]<8> {3}\r\n/b>)");
    EXPECT_EQ(fetch(rich, {"BODY.PEEK[4.1.2]<11.1>"}), "(BODY[4.1.2]<11> {0}\r\n)");
    EXPECT_EQ(fetch(rich, {"BODY[]<2000.1>"}), "(BODY[]<2000> {0}\r\n)");
    EXPECT_EQ(fetch(rich, {"BODY[]<0.5>"}), "(BODY[]<0> {5}\r\nFrom:)");
    EXPECT_EQ(fetch(rich, {"BODY[HEADER.FIELDS (Cc)]<5.1000>"}), "(BODY[HEADER.FIELDS (Cc)]<5> {35}\r\n"
                                                                 "harmacie <pharma@ch.mssante.fr>\r\n\r\n)");
}

TEST_F(FetchTest, Rfc822Items)
{
    const std::string message = test::singlePartMessage();
    const auto blankLine = message.find("\r\n\r\n") + 4;
    const auto literal = [](const std::string& bytes) { return "{" + std::to_string(bytes.size()) + "}\r\n" + bytes; };
    EXPECT_EQ(fetch(message, {"RFC822.HEADER", "RFC822.TEXT", "RFC822"}),
              "(RFC822.HEADER " + literal(message.substr(0, blankLine)) + " RFC822.TEXT " +
                  literal(message.substr(blankLine)) + " RFC822 " + literal(message) + ")");
}

TEST_F(FetchTest, SectionsOpenTheBlobOnUse)
{
    auto& stored = store(test::richMessage());
    const auto message = fetched(stored);
    renderFetchItems(parseItems({"ENVELOPE", "BODYSTRUCTURE"}), message);
    EXPECT_EQ(stored.blobOpenings, 0);
    renderFetchItems(parseItems({"BODY.PEEK[1]", "RFC822.SIZE", "BODY.PEEK[2]"}), message);
    EXPECT_EQ(stored.blobOpenings, 2);
}

TEST_F(FetchTest, StructureIsRequiredForStructureItems)
{
    auto& stored = store(test::richMessage());
    FetchedMessage message = fetched(stored);
    message.structure = nullptr;
    EXPECT_THROW(renderFetchItems(parse({atom("ENVELOPE")}), message), std::logic_error);
}

TEST_F(FetchTest, SectionsOfALargeMessageSpanBlobSegments)
{
    // Past the 64 KiB blob segments: offsets must stay absolute.
    std::string attachment;
    for (int line = 0; line < 3000; ++line) attachment += std::string(76, static_cast<char>('A' + line % 26)) + "\n";
    const std::string message = crlf(
        "Subject: gros\n"
        "Content-Type: multipart/mixed; boundary=big\n"
        "\n"
        "--big\n"
        "Content-Type: application/zip; name=IHE_XDM.ZIP\n"
        "Content-Transfer-Encoding: base64\n"
        "\n" +
        attachment +
        "--big\n"
        "Content-Type: text/plain\n"
        "\n"
        "apres la piece jointe\n"
        "--big--\n");
    ASSERT_GT(message.size(), 3u * 65536u);
    const auto start = message.find("AAAA");
    const auto end = message.find("\r\n--big\r\nContent-Type: text/plain");
    EXPECT_EQ(section(message, "BODY[1]"), message.substr(start, end - start));
    EXPECT_EQ(section(message, "BODY[2]"), "apres la piece jointe");
    EXPECT_EQ(section(message, "BODY[2.MIME]"), "Content-Type: text/plain\r\n\r\n");
    const auto partial = fetch(message, {"BODY.PEEK[1]<65530.20>"});
    EXPECT_EQ(partial, "(BODY[1]<65530> {20}\r\n" + message.substr(start + 65530, 20) + ")");
}

}  // namespace
}  // namespace plexus::imap
