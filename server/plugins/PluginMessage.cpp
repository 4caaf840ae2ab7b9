#include "plugins/PluginMessage.h"

#include "mime/HeaderFields.h"
#include "mime/StructureParser.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Exception.h>
#include <Poco/Net/QuotedPrintableDecoder.h>
#include <Poco/String.h>

#include <algorithm>
#include <exception>
#include <istream>
#include <stdexcept>
#include <streambuf>

namespace plexus::plugins {
namespace {

using mime::BodyPart;

// The bytes [offset, offset + size) of a blob as a std::streambuf, read one
// chunk at a time, so Poco's decoders can pull from it.
class BlobRangeBuffer : public std::streambuf {
public:
    BlobRangeBuffer(store::BlobReader blob, std::uint64_t offset, std::uint64_t size)
        : blob_(std::move(blob)), next_(offset), end_(offset + size), chunk_(kChunkSize)
    {
    }

protected:
    int_type underflow() override
    {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (next_ >= end_) return traits_type::eof();
        const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.size(), end_ - next_));
        const std::size_t got = blob_.read(next_, chunk_.data(), wanted);
        // The structure says the part goes on: a blob that ends first does not hold this message.
        if (got == 0) throw store::BlobError("message blob ends at byte " + std::to_string(next_) + ", inside a part");
        next_ += got;
        setg(chunk_.data(), chunk_.data(), chunk_.data() + got);
        return traits_type::to_int_type(chunk_.front());
    }

private:
    static constexpr std::size_t kChunkSize = 16 * 1024;

    store::BlobReader blob_;
    std::uint64_t next_;
    std::uint64_t end_;
    std::vector<char> chunk_;
};

// RFC 2045 §6: the encodings to undo; the others (7bit, 8bit, binary, unknown
// tokens) leave the bytes as they are.
std::unique_ptr<std::istream> decoderFor(std::string_view encoding, std::istream& encoded)
{
    if (encoding == "base64") return std::make_unique<Poco::Base64Decoder>(encoded);
    if (encoding == "quoted-printable") return std::make_unique<Poco::Net::QuotedPrintableDecoder>(encoded);
    return nullptr;
}

std::string subsection(const std::string& parent, std::size_t number)
{
    return parent.empty() ? std::to_string(number) : parent + "." + std::to_string(number);
}

PartInfo describe(const BodyPart& part, std::string section, std::uint32_t depth)
{
    const auto filename = mime::detail::firstNamed(part.dispositionParams, "filename");
    return PartInfo{
        .section = std::move(section),
        .contentType = Poco::toLower(part.type + "/" + part.subtype),
        .charset = std::string(part.param("charset").value_or("")),
        .filename = std::string(filename ? *filename : part.param("name").value_or("")),
        .disposition = Poco::toLower(part.disposition),
        .encoding = Poco::toLower(part.encoding),
        .size = part.bodySize,
        .depth = depth,
        .multipart = part.isMultipart(),
    };
}

// Appends `part` (named `section`) and its descendants, depth first. Its
// sub-parts are numbered under `parent` (RFC 3501 §6.4.5).
void listParts(const BodyPart& part, std::string section, const std::string& parent, std::uint32_t depth,
               std::vector<PartInfo>& parts, std::vector<std::uint64_t>& bodyOffsets)
{
    parts.push_back(describe(part, std::move(section), depth));
    bodyOffsets.push_back(part.bodyOffset);
    if (part.isMultipart()) {
        for (std::size_t i = 0; i < part.children.size(); ++i) {
            const std::string child = subsection(parent, i + 1);
            listParts(part.children[i], child, child, depth + 1, parts, bodyOffsets);
        }
    } else if (part.isEncapsulatedMessage() && !part.children.empty()) {
        // The parts of a message/rfc822 part are those of its message: a
        // multipart root's parts directly, otherwise the root's body as part 1.
        const BodyPart& message = part.children.front();
        if (message.isMultipart()) {
            listParts(message, parent + ".TEXT", parent, depth + 1, parts, bodyOffsets);
        } else {
            const std::string body = subsection(parent, 1);
            listParts(message, body, body, depth + 1, parts, bodyOffsets);
        }
    }
}

}  // namespace

// ---- PartStream --------------------------------------------------------------

class PartStream::Source {
public:
    Source(store::BlobReader blob, std::uint64_t offset, std::uint64_t size, std::string_view undoneEncoding)
        : range_(std::move(blob), offset, size),
          encoded_(&range_),
          encoding_(undoneEncoding),
          decoded_(decoderFor(undoneEncoding, encoded_))
    {
        // Blob errors thrown while reading reach the caller instead of ending the stream quietly.
        encoded_.exceptions(std::ios::badbit);
        if (decoded_) decoded_->exceptions(std::ios::badbit);
    }

    std::size_t read(char* buffer, std::size_t capacity)
    {
        // A failed stream would read as ended: a plugin retrying must not take the bytes so far for all of them.
        if (failure_) std::rethrow_exception(failure_);
        std::istream& in = decoded_ ? *decoded_ : encoded_;
        try {
            in.read(buffer, static_cast<std::streamsize>(capacity));
            return static_cast<std::size_t>(in.gcount());
        } catch (const Poco::DataFormatException& e) {
            const std::string what = "malformed " + encoding_ + " content: " + e.displayText();
            failure_ = std::make_exception_ptr(std::runtime_error(what));
        } catch (...) {
            failure_ = std::current_exception();
        }
        std::rethrow_exception(failure_);
    }

private:
    BlobRangeBuffer range_;
    std::istream encoded_;
    std::string encoding_;
    std::unique_ptr<std::istream> decoded_;  // null: the bytes as stored
    std::exception_ptr failure_;
};

PartStream::PartStream(store::BlobReader blob, std::uint64_t offset, std::uint64_t size,
                       std::string_view undoneEncoding)
    : source_(std::make_unique<Source>(std::move(blob), offset, size, undoneEncoding))
{
}

PartStream::PartStream(PartStream&&) noexcept = default;
PartStream& PartStream::operator=(PartStream&&) noexcept = default;
PartStream::~PartStream() = default;

std::size_t PartStream::read(char* buffer, std::size_t capacity)
{
    return source_->read(buffer, capacity);
}

// ---- MessageView -------------------------------------------------------------

MessageView::MessageView(const store::MailboxStore& store, std::string blobPath, mime::MessageStructure structure)
    : store_(store), blobPath_(std::move(blobPath)), structure_(std::move(structure))
{
    // A single-part message's body is its part 1 (RFC 3501 §6.4.5).
    listParts(structure_.root, "", structure_.root.isMultipart() ? "" : "1", 0, parts_, bodyOffsets_);
}

std::string MessageView::from() const
{
    for (const auto& address : structure_.envelope.from) {
        const bool complete = !address.isGroupStart() && !address.isGroupEnd() && !address.mailbox.empty() &&
                              address.host != mime::Address::kMissingHost;
        if (complete) return address.mailbox + "@" + address.host;
    }
    return {};
}

const std::vector<mime::HeaderField>& MessageView::topLevelFields() const
{
    if (!topLevelFields_) {
        // The parser reads no more of a header block than this, nor do we.
        const auto length = std::min<std::uint64_t>(structure_.headerSize, mime::Limits{}.maxHeaderBytes);
        auto blob = store_.openBlob(blobPath_);
        topLevelFields_ = mime::detail::parseHeaderFields(blob.readRange(0, length));
    }
    return *topLevelFields_;
}

std::optional<std::string> MessageView::header(std::string_view name, std::size_t index) const
{
    std::size_t seen = 0;
    for (const auto& field : topLevelFields()) {
        if (mime::detail::equalsIgnoreCase(field.name, name) && seen++ == index) return field.value;
    }
    return std::nullopt;
}

PartStream MessageView::read(std::size_t part, ReadMode mode) const
{
    if (part == kWholeMessage) return PartStream(store_.openBlob(blobPath_), 0, structure_.size, "");
    if (part >= parts_.size()) {
        throw std::out_of_range("no part " + std::to_string(part) + ": the message has " +
                                std::to_string(parts_.size()) + " parts, numbered from 0");
    }
    const PartInfo& info = parts_[part];
    return PartStream(store_.openBlob(blobPath_), bodyOffsets_[part], info.size,
                      mode == ReadMode::Decoded ? info.encoding : "");
}

}  // namespace plexus::plugins
