#include "intake/MessageReceiver.h"

namespace plexus::intake {

MessageReceiver::MessageReceiver(const store::MailboxStore& store, std::uint64_t maxSize, std::uint64_t maxHeaderSize)
    : blob_(store.createBlob()), maxSize_(maxSize), maxHeaderSize_(maxHeaderSize)
{
}

void MessageReceiver::reject(MessageProblem problem)
{
    if (problem_ == MessageProblem::None) problem_ = problem;
}

void MessageReceiver::trackHeader(std::string_view bytes)
{
    for (char c : bytes) {
        ++headerSize_;
        if (c == '\n') {
            if (++newlinesInARow_ == 2) {
                inHeader_ = false;
                break;  // the limit applies to the header just ended too
            }
        } else if (c != '\r') {
            newlinesInARow_ = 0;
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
