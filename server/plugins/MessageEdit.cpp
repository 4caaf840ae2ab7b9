#include "plugins/MessageEdit.h"

#include "mime/HeaderFields.h"
#include "mime/Text.h"

#include <Poco/Format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace plexus::plugins {
namespace {

using intake::MessageProblem;

constexpr std::size_t kMaxNameLength = 76;   // "Name: " fits a 78-character line
constexpr std::size_t kMaxValueBytes = 900;  // the whole line stays under RFC 5322's 998
constexpr std::size_t kCopyChunk = 64 * 1024;

// RFC 5322 §3.6: fields a message has at most once. A plugin adding one may
// make a second; it replaces the content instead.
constexpr std::array<std::string_view, 11> kOnceOnlyFields{
    "Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To", "References", "Subject"};

// Text for an error message: printable ASCII as it is, other bytes as \xHH.
std::string printable(std::string_view text)
{
    std::string shown;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            shown += c;
        } else {
            shown += Poco::format("\\x%02x", unsigned{byte});
        }
    }
    return shown;
}

// "50 MiB", "256 KiB" or "1000 bytes", as a limit is most likely configured.
std::string bytesText(std::uint64_t bytes)
{
    if (bytes != 0 && bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
    if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

// MessageReceiver's verdict on the size limits, as an exception. (The other
// problems are set only by the SMTP DATA reader.)
void requireWithinLimits(const intake::MessageReceiver& receiver, const std::string& what, std::uint64_t maxSize,
                         std::uint64_t maxHeaderSize)
{
    if (receiver.problem() == MessageProblem::TooBig)
        throw MessageTooLarge(what + " exceeds the message size limit (" + bytesText(maxSize) + ")");
    if (receiver.problem() == MessageProblem::HeaderTooBig)
        throw MessageTooLarge(what + " has a header larger than the limit (" + bytesText(maxHeaderSize) + ")");
}

void validateName(std::string_view name)
{
    if (name.empty()) throw std::invalid_argument("header name is empty");
    if (name.size() > kMaxNameLength) {
        throw std::invalid_argument("header name \"" + printable(name.substr(0, 20)) + "...\" is " +
                                    std::to_string(name.size()) + " characters long; at most " +
                                    std::to_string(kMaxNameLength));
    }
    // RFC 5322 §3.6.8: ftext is printable US-ASCII except ':'.
    const auto bad = std::find_if(name.begin(), name.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 33 || byte > 126 || c == ':';
    });
    if (bad != name.end()) {
        const std::string character = *bad == ' ' ? "a space" : "\"" + printable(std::string_view(&*bad, 1)) + "\"";
        throw std::invalid_argument("header name \"" + printable(name) + "\" has " + character + " at position " +
                                    std::to_string(bad - name.begin()) +
                                    "; a field name is printable ASCII without spaces or ':'");
    }
    const auto named = [&](std::string_view field) { return mime::detail::equalsIgnoreCase(name, field); };
    if (std::any_of(kOnceOnlyFields.begin(), kOnceOnlyFields.end(), named)) {
        throw std::invalid_argument("header \"" + std::string(name) +
                                    "\" cannot be added: a message has at most one (RFC 5322 §3.6); "
                                    "replace the content to change it");
    }
    if (named("MIME-Version") || mime::detail::startsWithIgnoreCase(name, "Content-")) {
        throw std::invalid_argument("header \"" + std::string(name) +
                                    "\" cannot be added: it would change how the message's MIME structure is read; "
                                    "replace the content to change it");
    }
}

void validateValue(std::string_view name, std::string_view value)
{
    const std::string field = "value of header \"" + std::string(name) + "\"";
    if (value.size() > kMaxValueBytes) {
        throw std::invalid_argument(field + " is " + std::to_string(value.size()) + " bytes long; at most " +
                                    std::to_string(kMaxValueBytes));
    }
    // No control character but TAB; above all no CR or LF, which would end the
    // field and let the rest be read as fields of their own (header injection).
    const auto control = std::find_if(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && byte != '\t') || byte == 0x7f;
    });
    if (control != value.end()) {
        const std::string character = printable(std::string_view(&*control, 1));
        throw std::invalid_argument(field + " has the control character \"" + character + "\" at byte " +
                                    std::to_string(control - value.begin()) +
                                    "; only TAB is allowed, and a value is one line");
    }
    if (!mime::isValidUtf8(value)) throw std::invalid_argument(field + " is not valid UTF-8");
}

}  // namespace

void validateHeader(const HeaderAddition& header)
{
    validateName(header.name);
    validateValue(header.name, header.value);
}

intake::MessageReceiver::Received prependHeaders(const store::MailboxStore& store, const std::string& blobPath,
                                                 const std::vector<HeaderAddition>& headers, std::uint64_t maxSize,
                                                 std::uint64_t maxHeaderSize)
{
    for (const auto& header : headers) validateHeader(header);
    intake::MessageReceiver receiver(store, maxSize, maxHeaderSize);
    const auto requireFits = [&] {
        requireWithinLimits(receiver, "the message with the added headers", maxSize, maxHeaderSize);
    };
    // Unfolded: the longest line (76 + 2 + 900 bytes) is within RFC 5322's 998.
    for (const auto& header : headers) receiver.append(header.name + ": " + header.value + "\r\n");
    requireFits();
    auto original = store.openBlob(blobPath);
    std::vector<char> chunk(kCopyChunk);
    for (std::uint64_t offset = 0; offset < original.size();) {
        const std::size_t got = original.read(offset, chunk.data(), chunk.size());
        receiver.append(std::string_view(chunk.data(), got));
        requireFits();  // before copying the rest for nothing
        offset += got;
    }
    return receiver.finish();
}

ContentReplacement::ContentReplacement(const store::MailboxStore& store, std::uint64_t maxSize,
                                       std::uint64_t maxHeaderSize)
    : receiver_(store, maxSize, maxHeaderSize), maxSize_(maxSize), maxHeaderSize_(maxHeaderSize)
{
}

void ContentReplacement::requireUsable() const
{
    if (failure_) std::rethrow_exception(failure_);
    if (finished_) throw std::logic_error("the replacement content is already finished");
}

void ContentReplacement::scan(std::string_view bytes)
{
    const std::uint64_t start = receiver_.size();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (afterCr_ && c != '\n') {
            throw std::invalid_argument("replacement content has a CR without LF before byte " +
                                        std::to_string(start + i) + "; lines end with CRLF");
        }
        if (c == '\n') {
            if (!afterCr_) {
                throw std::invalid_argument("replacement content has a bare LF at byte " + std::to_string(start + i) +
                                            "; lines end with CRLF");
            }
            if (lineEmpty_ && !headerComplete_) {
                if (start + i == 1) {
                    throw std::invalid_argument(
                        "replacement content starts with an empty line: it has no header fields");
                }
                headerComplete_ = true;
            }
            lineEmpty_ = true;
        } else if (c != '\r') {
            lineEmpty_ = false;
        }
        afterCr_ = c == '\r';
    }
}

void ContentReplacement::write(std::string_view bytes)
{
    requireUsable();
    try {
        scan(bytes);
        receiver_.append(bytes);
        requireWithinLimits(receiver_, "replacement content", maxSize_, maxHeaderSize_);
    } catch (...) {
        failure_ = std::current_exception();
        throw;
    }
}

intake::MessageReceiver::Received ContentReplacement::finish()
{
    requireUsable();
    try {
        if (receiver_.size() == 0) throw std::invalid_argument("replacement content is empty");
        if (afterCr_) throw std::invalid_argument("replacement content ends with a CR without LF; lines end with CRLF");
        if (!headerComplete_) {
            throw std::invalid_argument("replacement content has no empty line after its header fields; "
                                        "a message is header fields, an empty line, then the body");
        }
        finished_ = true;
        return receiver_.finish();
    } catch (...) {
        failure_ = std::current_exception();
        throw;
    }
}

}  // namespace plexus::plugins
