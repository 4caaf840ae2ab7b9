// A test plugin on the raw C ABI, exercising every kind of hook and most host
// services. What it does is driven by its configuration and by the messages:
//   [plugin.policy] defer_sender = ADDRESS       MAIL FROM hook: 450 (default 4.7.1) for it
//                   reject_recipient = ADDRESS   RCPT TO hook: 550 5.7.1 for it
//                   refuse_login = ADDRESS       authentication hook: refuses it
//                   block_file = PATH            connect hook: 554 while the file exists
//                   events_file = PATH           consumer "log": appends "id type object" per event
//                   pause_file = PATH            consumer "log": PLEXUS_ERR_TEMPORARY while it exists
//   Subject "[reject]" → 554 5.7.1, "[defer]" → 451 default, "[error]" → error return,
//   "[throw]" → a C++ exception out of the hook, "[sleep]" → sleeps past the deadline,
//   "[takeover]" → TAKE_OVER (the message is kept in storage, key "taken/<Message-ID>"),
//   "[replace]" → the content is replaced; every message gets X-Policy-Parts: <parts>.
//   Consumer "poison" fails permanently on events whose object contains "poison".
//   Timer: storage key "ticks" counts every 200 ms.
//   HTTP: GET /ticks, GET /whoami, POST /submit (body: recipient), POST /workspace
//   (body: address of an ORG mailbox to create and share with the caller),
//   GET /directory?q=TEXT, POST /audit, GET /message?mailbox=ADDRESS&uid=N (a stored
//   INBOX message: Subject header, parts, decoded content of the first attachment).
#include <plexus/plugin.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

const plexus_host_api* api = nullptr;
plexus_host* self = nullptr;

std::string config(const char* key)
{
    const char* value = api->config_get(self, key);
    return value ? value : "";
}

bool exists(const std::string& path) { return !path.empty() && access(path.c_str(), F_OK) == 0; }

void appendTo(std::string* out, const void* data, size_t size) { out->append(static_cast<const char*>(data), size); }

void sinkString(void* user, const void* data, size_t size) { appendTo(static_cast<std::string*>(user), data, size); }

void setText(plexus_verdict* verdict, const char* text) { std::snprintf(verdict->text, sizeof verdict->text, "%s", text); }

plexus_status onConnect(void*, const plexus_session_info*, plexus_verdict* verdict)
{
    if (exists(config("block_file"))) {
        verdict->action = PLEXUS_REJECT;
        setText(verdict, "Connections refused by the test policy");
    }
    return PLEXUS_OK;
}

plexus_status onMailFrom(void*, const plexus_session_info*, const char* sender, plexus_verdict* verdict)
{
    if (config("defer_sender") == sender) {
        verdict->action = PLEXUS_DEFER;
        verdict->smtp_code = 450;
        setText(verdict, "Sender paused by the test policy");
    }
    return PLEXUS_OK;
}

plexus_status onRcptTo(void*, const plexus_session_info*, const plexus_envelope*, const char* recipient,
                       plexus_verdict* verdict)
{
    if (config("reject_recipient") == recipient) {
        verdict->action = PLEXUS_REJECT;
        verdict->smtp_code = 550;
        std::snprintf(verdict->enhanced_code, sizeof verdict->enhanced_code, "5.7.1");
        setText(verdict, "Recipient refused by the test policy");
    }
    return PLEXUS_OK;
}

plexus_status onAuth(void*, const plexus_session_info* session, const char*, plexus_verdict* verdict)
{
    if (config("refuse_login") == session->identity) {
        verdict->action = PLEXUS_REJECT;
        setText(verdict, "Login refused by the test policy");
    }
    return PLEXUS_OK;
}

std::string readWhole(plexus_message* message)
{
    plexus_stream* stream = nullptr;
    if (api->message_read(message, PLEXUS_WHOLE_MESSAGE, PLEXUS_READ_RAW, &stream) != PLEXUS_OK) return {};
    std::string content;
    char buffer[4096];
    size_t got = 0;
    while (api->stream_read(stream, buffer, sizeof buffer, &got) == PLEXUS_OK && got > 0) content.append(buffer, got);
    api->stream_close(stream);
    return content;
}

plexus_status onMessage(void*, const plexus_session_info*, const plexus_envelope*, plexus_message* message,
                        plexus_verdict* verdict)
{
    plexus_message_info info{};
    info.struct_size = sizeof info;
    if (api->message_info(message, &info) != PLEXUS_OK) return PLEXUS_ERR_INTERNAL;
    const std::string subject = info.subject;
    if (subject.find("[error]") != std::string::npos) {
        api->set_error(self, "the test policy was asked to fail");
        return PLEXUS_ERR_INTERNAL;
    }
    if (subject.find("[throw]") != std::string::npos) throw std::runtime_error("thrown by the test policy");
    if (subject.find("[sleep]") != std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    if (subject.find("[reject]") != std::string::npos) {
        verdict->action = PLEXUS_REJECT;
        verdict->smtp_code = 554;
        std::snprintf(verdict->enhanced_code, sizeof verdict->enhanced_code, "5.7.1");
        setText(verdict, "Message refused by the test policy");
        return PLEXUS_OK;
    }
    if (subject.find("[defer]") != std::string::npos) {
        verdict->action = PLEXUS_DEFER;
        return PLEXUS_OK;
    }
    if (subject.find("[takeover]") != std::string::npos) {
        const std::string content = readWhole(message);
        const std::string key = std::string("taken/") + info.message_id;
        if (api->storage_put(self, key.c_str(), content.data(), content.size()) != PLEXUS_OK) return PLEXUS_ERR_TEMPORARY;
        verdict->action = PLEXUS_TAKE_OVER;
        return PLEXUS_OK;
    }
    if (subject.find("[replace]") != std::string::npos) {
        const std::string replacement = "From: policy@plexus.test\r\nSubject: replaced by the test policy\r\n\r\n"
                                        "The original content was withheld.\r\n";
        if (api->message_replace_write(message, replacement.data(), replacement.size()) != PLEXUS_OK)
            return PLEXUS_ERR_INTERNAL;
    }
    const std::string parts = std::to_string(info.part_count);
    return api->message_add_header(message, "X-Policy-Parts", parts.c_str());
}

plexus_status logEvent(void*, const plexus_event* event)
{
    if (exists(config("pause_file"))) return PLEXUS_ERR_TEMPORARY;
    std::ofstream out(config("events_file"), std::ios::app);
    out << event->id << ' ' << event->type << ' ' << event->object << '\n';
    out.flush();
    return out ? PLEXUS_OK : PLEXUS_ERR_TEMPORARY;
}

plexus_status refusePoison(void*, const plexus_event* event)
{
    if (std::strstr(event->object, "poison")) {
        api->set_error(self, "poisonous object");
        return PLEXUS_ERR_PERMANENT;
    }
    return PLEXUS_OK;
}

long storedNumber(const char* key)
{
    std::string value;
    return api->storage_get(self, key, sinkString, &value) == PLEXUS_OK ? std::stol(value) : 0;
}

plexus_status tick(void*)
{
    const std::string next = std::to_string(storedNumber("ticks") + 1);
    return api->storage_put(self, "ticks", next.data(), next.size());
}

plexus_status respond(plexus_http_response* response, int status, const std::string& json)
{
    return api->http_respond(response, status, "application/json", json.data(), json.size());
}

plexus_status getTicks(void*, const plexus_http_request*, plexus_http_response* response)
{
    // Framing headers stay the server's: this one must be refused.
    const bool framingRefused = api->http_set_header(response, "Content-Length", "1") == PLEXUS_ERR_INVALID;
    api->http_set_header(response, "Cache-Control", "no-store");
    return respond(response, 200, "{\"ticks\": " + std::to_string(storedNumber("ticks")) +
                                      ", \"framing_refused\": " + (framingRefused ? "true" : "false") + "}");
}

plexus_status whoami(void*, const plexus_http_request* request, plexus_http_response* response)
{
    return respond(response, 200, std::string("{\"identity\": \"") + request->identity + "\"}");
}

std::string bodyOf(const plexus_http_request* request)
{
    return std::string(static_cast<const char*>(request->body), request->body_size);
}

plexus_status submit(void*, const plexus_http_request* request, plexus_http_response* response)
{
    const std::string recipient = bodyOf(request);
    const std::string content = "From: " + config("submit_as") + "\r\nTo: " + recipient +
                                "\r\nSubject: alert from the test policy\r\nMessage-ID: <alert@plexus.test>\r\n\r\n"
                                "Measurement missing.\r\n";
    const char* recipients[] = {recipient.c_str()};
    plexus_submission submission{sizeof submission, "", recipients, 1, content.data(), content.size()};
    std::string queueId;
    const plexus_status status = api->submit_message(self, &submission, sinkString, &queueId);
    return respond(response, status == PLEXUS_OK ? 200 : 422,
                   "{\"status\": " + std::to_string(status) + ", \"queue_id\": \"" + queueId + "\"}");
}

plexus_status workspace(void*, const plexus_http_request* request, plexus_http_response* response)
{
    const std::string address = bodyOf(request);
    plexus_mailbox_spec spec{sizeof spec, address.c_str(), "ORG", "", "750000099", 0};
    plexus_status status = api->mailbox_create(self, &spec);
    if (status == PLEXUS_OK) status = api->folder_create(self, address.c_str(), "Team");
    if (status == PLEXUS_OK) status = api->acl_set(self, address.c_str(), "Team", request->identity, "lrswi");
    return respond(response, status == PLEXUS_OK ? 201 : 409, "{\"status\": " + std::to_string(status) + "}");
}

void addEntry(void* user, const plexus_directory_entry* entry)
{
    auto* json = static_cast<std::string*>(user);
    *json += std::string(json->size() > 1 ? ", " : "") + "\"" + entry->address + "\"";
}

plexus_status directory(void*, const plexus_http_request* request, plexus_http_response* response)
{
    const std::string query = request->query;
    const std::string text = query.rfind("q=", 0) == 0 ? query.substr(2) : "";
    plexus_directory_query search{sizeof search, text.c_str(), "", "", "", 10};
    std::string json = "[";
    const plexus_status status = api->directory_search(self, &search, addEntry, &json);
    json += "]";
    return respond(response, status == PLEXUS_OK ? 200 : 500, json);
}

plexus_status auditRoute(void*, const plexus_http_request* request, plexus_http_response* response)
{
    const std::string object = bodyOf(request);
    plexus_audit_event event{sizeof event, "workspace.checked", "", "", object.c_str(), "", "{\"from\": \"http\"}"};
    const plexus_status status = api->audit(self, &event);
    return respond(response, status == PLEXUS_OK ? 200 : 500, "{\"status\": " + std::to_string(status) + "}");
}

std::string queryValue(const std::string& query, const std::string& name)
{
    const auto start = ("&" + query).find("&" + name + "=");
    if (start == std::string::npos) return "";
    const auto from = start + name.size() + 1;
    return query.substr(from, query.find('&', from) - from);
}

std::string jsonString(const std::string& text)
{
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"";
}

std::string readPart(plexus_message* message, size_t part)
{
    plexus_stream* stream = nullptr;
    if (api->message_read(message, part, PLEXUS_READ_DECODED, &stream) != PLEXUS_OK) return {};
    std::string content;
    char buffer[7];  // small on purpose: the stream is read in many pieces
    size_t got = 0;
    while (api->stream_read(stream, buffer, sizeof buffer, &got) == PLEXUS_OK && got > 0) content.append(buffer, got);
    api->stream_close(stream);
    return content;
}

plexus_status storedMessage(void*, const plexus_http_request* request, plexus_http_response* response)
{
    const std::string mailbox = queryValue(request->query, "mailbox");
    const std::string uid = queryValue(request->query, "uid");
    plexus_message* message = nullptr;
    const plexus_status opened =
        api->message_open(self, mailbox.c_str(), "INBOX", static_cast<uint32_t>(std::stoul(uid.empty() ? "0" : uid)),
                          &message);
    if (opened != PLEXUS_OK) return respond(response, 404, "{\"status\": " + std::to_string(opened) + "}");
    std::string subject;
    api->message_header(message, "subject", 0, sinkString, &subject);
    plexus_message_info info{};
    info.struct_size = sizeof info;
    api->message_info(message, &info);
    std::string parts = "[";
    std::string attachment;
    for (size_t i = 0; i < info.part_count; ++i) {
        plexus_part_info part{};
        part.struct_size = sizeof part;
        if (api->message_part(message, i, &part) != PLEXUS_OK) break;
        parts += std::string(i ? ", " : "") + "[" + jsonString(part.section) + ", " + jsonString(part.content_type) +
                 ", " + jsonString(part.filename) + "]";
        if (attachment.empty() && *part.filename) attachment = readPart(message, i);
    }
    api->message_close(message);
    return respond(response, 200, "{\"subject\": " + jsonString(subject) + ", \"parts\": " + parts +
                                      "], \"attachment\": " + jsonString(attachment) + "}");
}

plexus_status init(const plexus_host_api* hostApi, plexus_host* host, void** state)
{
    api = hostApi;
    self = host;
    *state = nullptr;
    const plexus_consumer_spec log{sizeof log, "log", "message.,plugin.", PLEXUS_EVENTS_FROM_NOW, logEvent, nullptr};
    const plexus_consumer_spec poison{sizeof poison, "poison", "plugin.", PLEXUS_EVENTS_FROM_NOW, refusePoison, nullptr};
    plexus_status status = PLEXUS_OK;
    const auto check = [&status](plexus_status s) { if (status == PLEXUS_OK) status = s; };
    check(api->register_connect_hook(host, onConnect, nullptr));
    check(api->register_mail_from_hook(host, onMailFrom, nullptr));
    check(api->register_rcpt_to_hook(host, onRcptTo, nullptr));
    check(api->register_auth_hook(host, onAuth, nullptr));
    check(api->register_message_hook(host, onMessage, nullptr));
    check(api->register_event_consumer(host, &log));
    check(api->register_event_consumer(host, &poison));
    check(api->register_timer(host, 200, tick, nullptr));
    check(api->register_http_route(host, "GET", "/ticks", getTicks, nullptr));
    check(api->register_http_route(host, "GET", "/whoami", whoami, nullptr));
    check(api->register_http_route(host, "POST", "/submit", submit, nullptr));
    check(api->register_http_route(host, "POST", "/workspace", workspace, nullptr));
    check(api->register_http_route(host, "GET", "/directory", directory, nullptr));
    check(api->register_http_route(host, "POST", "/audit", auditRoute, nullptr));
    check(api->register_http_route(host, "GET", "/message", storedMessage, nullptr));
    if (status != PLEXUS_OK) api->set_error(host, "a registration was refused");
    return status;
}

void shutdown(void*) { api->log(self, PLEXUS_LOG_INFO, "policy plugin stopping"); }

const plexus_plugin_descriptor descriptor{
    sizeof(plexus_plugin_descriptor),
    PLEXUS_ABI_MAJOR,
    PLEXUS_ABI_MINOR,
    "policy",
    "1.2.3",
    "Test policy: every kind of hook, driven by configuration and subjects",
    PLEXUS_CAP_SMTP_HOOKS | PLEXUS_CAP_MESSAGE_HOOK | PLEXUS_CAP_AUTH_HOOK | PLEXUS_CAP_EVENTS | PLEXUS_CAP_TIMERS |
        PLEXUS_CAP_HTTP | PLEXUS_CAP_SUBMIT | PLEXUS_CAP_MAILBOX_ADMIN | PLEXUS_CAP_DIRECTORY | PLEXUS_CAP_MESSAGE_READ,
    init,
    shutdown,
};

}  // namespace

extern "C" PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void) { return &descriptor; }
