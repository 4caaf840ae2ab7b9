// FETCH (RFC 3501 §6.4.5, §7.4.2; CONDSTORE RFC 7162 §3.1.4): parsing the
// requested data items and writing them for one message, from its stored
// MIME structure and, for body sections, its blob.
#pragma once

#include "imap/Command.h"
#include "mime/MessageStructure.h"
#include "store/BlobReader.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace plexus::imap {

// section-spec of BODY[...] (RFC 3501 §6.4.5).
struct Section {
    enum class Text { Whole, Header, HeaderFields, HeaderFieldsNot, Text, Mime };
    std::vector<std::uint32_t> part;  // "1.2.3"; empty for the top level
    Text text = Text::Whole;          // Whole with a part number: that part's body
    std::vector<std::string> fields;  // HEADER.FIELDS (.NOT) names, as requested
};

struct FetchItem {
    enum class Kind {
        Envelope, Flags, InternalDate, Rfc822, Rfc822Header, Rfc822Size, Rfc822Text,
        Body,           // BODY without section: non-extensible BODYSTRUCTURE
        BodyStructure,
        BodySection,    // BODY[...] / BODY.PEEK[...]
        Uid, ModSeq
    };
    Kind kind;
    Section section;  // BodySection
    bool peek = false;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> partial;  // <offset.length>
};

struct FetchRequest {
    std::vector<FetchItem> items;  // in request order, macros expanded
    // Modifiers (RFC 7162): CHANGEDSINCE and (QRESYNC, UID FETCH only) VANISHED.
    std::optional<std::uint64_t> changedSince;
    bool vanished = false;

    // RFC 3501 §6.4.5: BODY[...] (not PEEK), RFC822 and RFC822.TEXT set \Seen.
    bool setsSeen() const;
    bool needsStructure() const;  // envelope, body structure or a section
    bool needsBlob() const;       // any message bytes
    bool wants(FetchItem::Kind kind) const;
};

// Parses the FETCH arguments after the sequence set: one item, a
// parenthesized list or a macro (ALL, FAST, FULL), then optional modifiers
// "(CHANGEDSINCE n VANISHED)". Throws CommandError (empty tag: the session
// sets it) with a precise message when malformed.
FetchRequest parseFetchRequest(const std::vector<Arg>& args, std::size_t first);

// What the session knows of one message.
struct FetchedMessage {
    std::uint32_t uid = 0;
    std::string flags;  // already formatted: "\Seen $Forwarded" (without parentheses)
    std::int64_t internalDate = 0;
    std::uint64_t size = 0;
    std::uint64_t modseq = 0;
    const mime::MessageStructure* structure = nullptr;  // set when the request needsStructure()
    std::function<store::BlobReader&()> blob;          // opened on first use
};

// The parenthesized item list of one "* n FETCH (...)" response, in request
// order (the session adds UID first when the command was UID FETCH and UID was
// not requested). Literals are written as "{n}\r\n" + bytes.
std::string renderFetchItems(const FetchRequest& request, const FetchedMessage& message);

// Pieces usable alone (and unit-tested alone).
std::string renderEnvelope(const mime::Envelope& envelope);
std::string renderBodyStructure(const mime::BodyPart& root, bool extensible);
// The bytes of a section (RFC 3501 §6.4.5: HEADER, HEADER.FIELDS, TEXT, MIME,
// part numbers of any depth, message/rfc822 parts); a non-existent part gives "".
std::string sectionBytes(const Section& section, const mime::MessageStructure& structure, store::BlobReader& blob);

}  // namespace plexus::imap
