#include "intake/MessageReceiver.h"

#include <Poco/String.h>

namespace plexus::intake {

namespace {

constexpr std::string_view kTraceField = "received:";

}  // namespace

MessageReceiver::MessageReceiver(const store::MailboxStore& store, std::uint64_t maxSize, std::uint64_t maxHeaderSize)
    : blob_(store.createBlob()), maxSize_(maxSize), maxHeaderSize_(maxHeaderSize)
{
}

void MessageReceiver::reject(MessageProblem problem)
{
    if (problem_ == MessageProblem::None) problem_ = problem;
}

// Matches "Received:" at the start of each header line, case-insensitively
// (RFC 5322 1.2.2), whatever the chunking.
void MessageReceiver::countHop(char c)
{
    if (fieldStart_.size() >= kTraceField.size()) return;
    fieldStart_ += c;
    if (fieldStart_.size() == kTraceField.size() && Poco::icompare(fieldStart_, kTraceField.data()) == 0) {
        ++hops_;
        if (maxHops_ && hops_ > *maxHops_) reject(MessageProblem::TooManyHops);
    }
}

void MessageReceiver::trackHeader(std::string_view bytes)
{
    for (char c : bytes) {
        ++headerSize_;
        if (c == '\n') {
            fieldStart_.clear();
            if (++newlinesInARow_ == 2) {
                inHeader_ = false;
                break;  // the limit applies to the header just ended too
            }
        } else if (c != '\r') {
            newlinesInARow_ = 0;
            countHop(c);
        }
    }
    if (headerSize_ > maxHeaderSize_) reject(MessageProblem::HeaderTooBig);
}

void MessageReceiver::append(std::string_view bytes)
{
    size_ += bytes.size();
    if (size_ > maxSize_) reject(MessageProblem::TooBig);
    if (inHeader_) trackHeader(bytes);
    if (problem_ != MessageProblem::None) return;  // the rest is read and dropped
    blob_->writer.write(bytes.data(), bytes.size());
    parser_.feed(bytes.data(), bytes.size());
}

MessageReceiver::Received MessageReceiver::finish()
{
    blob_->writer.commit();
    return Received{blob_->relativePath, blob_->directory, size_, parser_.finish()};
}

}  // namespace plexus::intake
