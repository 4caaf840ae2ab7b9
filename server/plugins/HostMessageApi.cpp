// The host-services table, messages: reading a message (the one a message hook
// is given, or one opened from a mailbox, audited), its parts as streams, and
// the edits a message hook may make.
#include "plugins/HostContext.h"

#include "accounts/AccountStore.h"
#include "events/EventLog.h"
#include "store/FolderStore.h"

#include <Poco/JSON/Object.h>

#include <memory>

namespace plexus::plugins {

namespace {

plexus_status messageOpen(plexus_host* host, const char* mailbox, const char* folder, std::uint32_t uid,
                          plexus_message** message)
{
    if (!host || !mailbox || !folder || !message || uid == 0) return PLEXUS_ERR_INVALID;
    *message = nullptr;
    if (!host->may(PLEXUS_CAP_MESSAGE_READ))
        return refuse(host, PLEXUS_ERR_DENIED, "message_open needs capability message_read");
    try {
        auto db = host->services.reads.acquire();
        const auto account = accounts::AccountStore::find(*db, mailbox);
        if (!account) return PLEXUS_ERR_NOT_FOUND;
        const auto found = store::FolderStore::find(*db, account->id, folder);
        if (!found) return PLEXUS_ERR_NOT_FOUND;
        const auto rows = store::FolderStore::messages(*db, found->id, uid, uid);
        if (rows.empty()) return PLEXUS_ERR_NOT_FOUND;
        auto structure = mime::MessageStructure::fromJson(store::FolderStore::structure(*db, rows.front().blobId));
        auto opened = std::make_unique<plexus_message>(
            *host, MessageView(host->services.mailboxes, rows.front().blobPath, std::move(structure)), false);
        Poco::JSON::Object detail;
        detail.set("folder", found->name);
        detail.set("uid", uid);
        const events::Event event{"message.read", host->actor(), "local", account->address, "success",
                                  events::detailJson(detail)};
        host->services.commits.post([event](store::Database& w) { events::EventLog::append(w, event); });
        *message = opened.release();  // the plugin gives it back with message_close
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_INTERNAL, std::string("message_open: ") + e.what());
    }
}

void messageClose(plexus_message* message)
{
    if (message && !message->editable) std::unique_ptr<plexus_message> closing(message);
}

plexus_status messageInfo(plexus_message* message, plexus_message_info* info)
{
    if (!message || !info || info->struct_size < sizeof(plexus_message_info)) return PLEXUS_ERR_INVALID;
    message->from = message->view.from();
    info->size = message->view.size();
    info->message_id = message->view.messageId().c_str();
    info->subject = message->view.subject().c_str();
    info->from = message->from.c_str();
    info->part_count = message->view.parts().size();
    return PLEXUS_OK;
}

plexus_status messageHeader(plexus_message* message, const char* name, std::size_t index, plexus_bytes_sink sink,
                            void* user)
{
    if (!message || !name || !sink) return PLEXUS_ERR_INVALID;
    try {
        const auto value = message->view.header(name, index);
        if (!value) return PLEXUS_ERR_NOT_FOUND;
        sink(user, value->data(), value->size());
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(&message->owner, PLEXUS_ERR_INTERNAL, std::string("message_header: ") + e.what());
    }
}

plexus_status messagePart(plexus_message* message, std::size_t index, plexus_part_info* info)
{
    if (!message || !info || info->struct_size < sizeof(plexus_part_info)) return PLEXUS_ERR_INVALID;
    const auto& parts = message->view.parts();
    if (index >= parts.size()) return PLEXUS_ERR_NOT_FOUND;
    const auto& part = parts[index];
    info->section = part.section.c_str();
    info->content_type = part.contentType.c_str();
    info->charset = part.charset.c_str();
    info->filename = part.filename.c_str();
    info->disposition = part.disposition.c_str();
    info->encoding = part.encoding.c_str();
    info->size = part.size;
    info->depth = part.depth;
    info->is_multipart = part.multipart ? 1 : 0;
    return PLEXUS_OK;
}

plexus_status messageRead(plexus_message* message, std::size_t part, plexus_read_mode mode, plexus_stream** stream)
{
    if (!message || !stream || (mode != PLEXUS_READ_RAW && mode != PLEXUS_READ_DECODED)) return PLEXUS_ERR_INVALID;
    *stream = nullptr;
    if (part != PLEXUS_WHOLE_MESSAGE && part >= message->view.parts().size()) return PLEXUS_ERR_NOT_FOUND;
    try {
        auto opened = std::make_unique<plexus_stream>(plexus_stream{message->view.read(
            part == PLEXUS_WHOLE_MESSAGE ? MessageView::kWholeMessage : part,
            mode == PLEXUS_READ_DECODED ? ReadMode::Decoded : ReadMode::Raw)});
        *stream = opened.release();  // the plugin gives it back with stream_close
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(&message->owner, PLEXUS_ERR_INTERNAL, std::string("message_read: ") + e.what());
    }
}

plexus_status streamRead(plexus_stream* stream, void* buffer, std::size_t capacity, std::size_t* size)
{
    if (!stream || !size || (capacity && !buffer)) return PLEXUS_ERR_INVALID;
    try {
        *size = stream->stream.read(static_cast<char*>(buffer), capacity);
        return PLEXUS_OK;
    } catch (const std::exception&) {
        *size = 0;
        return PLEXUS_ERR_INTERNAL;
    }
}

void streamClose(plexus_stream* stream) { std::unique_ptr<plexus_stream> closing(stream); }

plexus_status messageAddHeader(plexus_message* message, const char* name, const char* value)
{
    if (!message || !name || !value) return PLEXUS_ERR_INVALID;
    if (!message->editable) return refuse(&message->owner, PLEXUS_ERR_INVALID, "message_add_header outside a message hook");
    HeaderAddition header{name, value};
    try {
        validateHeader(header);
    } catch (const std::exception& e) {
        return refuse(&message->owner, PLEXUS_ERR_INVALID, std::string("message_add_header: ") + e.what());
    }
    message->additions.push_back(std::move(header));
    return PLEXUS_OK;
}

plexus_status messageReplaceWrite(plexus_message* message, const void* data, std::size_t size)
{
    if (!message || (size && !data)) return PLEXUS_ERR_INVALID;
    if (!message->editable)
        return refuse(&message->owner, PLEXUS_ERR_INVALID, "message_replace_write outside a message hook");
    const auto& services = message->owner.services;
    try {
        if (!message->replacement)
            message->replacement.emplace(services.mailboxes, services.maxMessageSize, services.maxHeaderSize);
        message->replacement->write(std::string_view(static_cast<const char*>(data), size));
        return PLEXUS_OK;
    } catch (const MessageTooLarge& e) {
        return refuse(&message->owner, PLEXUS_ERR_TOO_LARGE, std::string("message_replace_write: ") + e.what());
    } catch (const std::exception& e) {
        return refuse(&message->owner, PLEXUS_ERR_INTERNAL, std::string("message_replace_write: ") + e.what());
    }
}

}  // namespace

void fillMessageApi(plexus_host_api& api)
{
    api.message_open = messageOpen;
    api.message_close = messageClose;
    api.message_info = messageInfo;
    api.message_header = messageHeader;
    api.message_part = messagePart;
    api.message_read = messageRead;
    api.stream_read = streamRead;
    api.stream_close = streamClose;
    api.message_add_header = messageAddHeader;
    api.message_replace_write = messageReplaceWrite;
}

}  // namespace plexus::plugins
