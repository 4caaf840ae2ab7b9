// plexus/plugin.hpp: the C++ layer over plexus/plugin.h (header-only, C++17).
//
// A plugin is one class derived from plexus::sdk::Plugin that registers its
// hooks in its constructor, and one PLEXUS_PLUGIN(...) line that exports it:
//
//   class MyPlugin : public plexus::sdk::Plugin {
//   public:
//       explicit MyPlugin(plexus::sdk::Host& host) : Plugin(host) {
//           onMessage([this](const Session& s, const Envelope& e, Message& m) { ...; return Verdict::proceed(); });
//       }
//   };
//   PLEXUS_PLUGIN(MyPlugin, "my-plugin", "1.0.0", "What it does", PLEXUS_CAP_MESSAGE_HOOK)
//
// What this layer adds to the rules of plugin.h (which all still apply):
//   - init() constructs the class with a Host, shutdown() destroys it; the
//     object lives in between, and so do the callbacks it registered.
//   - Callbacks are std::function objects receiving value types (Session,
//     Envelope, Event, HttpRequest) copied from the host's structs, so they may
//     be kept; Message and Stream are the exceptions: they wrap host handles and
//     are valid only during the call that gave them (or until destroyed, for
//     ones you opened).
//   - A host function that fails throws plexus::sdk::Error (its status and the
//     host function's name), except lookups whose "not found" is an empty
//     std::optional.
//   - No exception crosses the C boundary: every callback, and the
//     constructor, is run under a guard that calls set_error() with the
//     exception's message and returns its status (Error::status(), otherwise
//     PLEXUS_ERR_INTERNAL).
//   - Host is two pointers and every method is const: copy it freely, call it
//     from any thread, as plugin.h allows for host services.
#ifndef PLEXUS_PLUGIN_HPP
#define PLEXUS_PLUGIN_HPP

#include <plexus/plugin.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace plexus::sdk {

// ---------------------------------------------------------------------------
// Errors

inline const char* statusName(plexus_status status) noexcept
{
    switch (status) {
    case PLEXUS_OK: return "ok";
    case PLEXUS_ERR_INVALID: return "invalid argument";
    case PLEXUS_ERR_NOT_FOUND: return "not found";
    case PLEXUS_ERR_EXISTS: return "already exists";
    case PLEXUS_ERR_DENIED: return "denied";
    case PLEXUS_ERR_TOO_LARGE: return "too large";
    case PLEXUS_ERR_TEMPORARY: return "temporary failure";
    case PLEXUS_ERR_PERMANENT: return "permanent failure";
    case PLEXUS_ERR_UNSUPPORTED: return "unsupported";
    case PLEXUS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

// A failed host call, or what a callback throws to return a given status
// (e.g. Error(PLEXUS_ERR_TEMPORARY, "registry unreachable")).
class Error : public std::runtime_error {
public:
    Error(plexus_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    plexus_status status() const noexcept { return status_; }

private:
    plexus_status status_;
};

namespace detail {

inline void check(plexus_status status, const char* hostFunction)
{
    if (status != PLEXUS_OK) throw Error(status, std::string(hostFunction) + ": " + statusName(status));
}

inline std::string copy(const char* text) { return text ? std::string(text) : std::string(); }

inline std::vector<std::string> copyAll(const char* const* texts, std::size_t count)
{
    std::vector<std::string> copies;
    copies.reserve(count);
    for (std::size_t i = 0; i < count; ++i) copies.push_back(copy(texts[i]));
    return copies;
}

inline std::vector<const char*> pointersTo(const std::vector<std::string>& texts)
{
    std::vector<const char*> pointers;
    pointers.reserve(texts.size());
    for (const auto& text : texts) pointers.push_back(text.c_str());
    return pointers;
}

// Host sinks are C callbacks: an exception thrown in one (bad_alloc...) is
// kept here and rethrown once the host function has returned.
class SinkGuard {
public:
    template <class Body>
    void run(Body&& body) noexcept
    {
        if (error_) return;
        try {
            body();
        } catch (...) {
            error_ = std::current_exception();
        }
    }
    void rethrow() const
    {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::exception_ptr error_;
};

struct StringSink {
    std::string value;
    SinkGuard guard;

    static void append(void* user, const void* data, std::size_t size)
    {
        auto* self = static_cast<StringSink*>(user);
        self->guard.run([&] { self->value.append(static_cast<const char*>(data), size); });
    }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Value types copied from the host's structs

enum class LogLevel {
    error = PLEXUS_LOG_ERROR,
    warning = PLEXUS_LOG_WARNING,
    info = PLEXUS_LOG_INFO,
    debug = PLEXUS_LOG_DEBUG
};
enum class ReadMode { raw = PLEXUS_READ_RAW, decoded = PLEXUS_READ_DECODED };
enum class EventStart { fromNow = PLEXUS_EVENTS_FROM_NOW, fromOldest = PLEXUS_EVENTS_FROM_OLDEST };

// PLEXUS_WHOLE_MESSAGE, without its C cast (-Wold-style-cast).
constexpr std::size_t kWholeMessage = std::numeric_limits<std::size_t>::max();

struct Session {
    std::string service;  // "mx", "submission", "submissions", "imap", "imaps"
    std::string clientAddress;
    std::string helo;
    bool tls = false;
    std::string identity;  // authenticated mailbox; "" when none
    std::string peerCertificateDn;

    static Session from(const plexus_session_info& info)
    {
        return {detail::copy(info.service),  detail::copy(info.client_address), detail::copy(info.helo),
                info.tls != 0,               detail::copy(info.identity),       detail::copy(info.peer_certificate_dn)};
    }
};

struct Envelope {
    std::string sender;  // "" for the null sender
    std::vector<std::string> recipients;

    static Envelope from(const plexus_envelope& envelope)
    {
        return {detail::copy(envelope.sender), detail::copyAll(envelope.recipients, envelope.recipient_count)};
    }
};

struct Event {
    std::int64_t id = 0;  // unique and increasing: de-duplicate with it
    std::chrono::system_clock::time_point time;
    std::string type;
    std::string actor;
    std::string client;
    std::string object;
    std::string outcome;
    std::string detailJson;

    static Event from(const plexus_event& event)
    {
        return {event.id,
                std::chrono::system_clock::time_point(std::chrono::microseconds(event.time_us)),
                detail::copy(event.type),
                detail::copy(event.actor),
                detail::copy(event.client),
                detail::copy(event.object),
                detail::copy(event.outcome),
                detail::copy(event.detail_json)};
    }
};

struct HttpRequest {
    std::string method;
    std::string path;  // after /api/plugins/<name>, starting with '/'
    std::string query;
    std::string identity;  // the authenticated account
    std::string contentType;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // The first header of that name (case-insensitive).
    std::optional<std::string> header(std::string_view name) const
    {
        const auto sameLetters = [](char a, char b) { return lower(a) == lower(b); };
        for (const auto& [fieldName, value] : headers)
            if (std::equal(fieldName.begin(), fieldName.end(), name.begin(), name.end(), sameLetters)) return value;
        return std::nullopt;
    }

    static HttpRequest from(const plexus_http_request& request)
    {
        HttpRequest copied{detail::copy(request.method), detail::copy(request.path),     detail::copy(request.query),
                           detail::copy(request.identity), detail::copy(request.content_type), {}, {}};
        for (std::size_t i = 0; i < request.header_count; ++i)
            copied.headers.emplace_back(detail::copy(request.headers[2 * i]), detail::copy(request.headers[2 * i + 1]));
        if (request.body_size) copied.body.assign(static_cast<const char*>(request.body), request.body_size);
        return copied;
    }

private:
    static char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
};

struct HttpResponse {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct MessageInfo {
    std::uint64_t size = 0;
    std::string messageId;
    std::string subject;  // raw (RFC 2047 words not decoded)
    std::string from;
    std::size_t partCount = 0;
};

// One MIME entity; `index` is what Message::read() takes (0 = the root).
struct PartInfo {
    std::size_t index = 0;
    std::string section;  // IMAP section: "" for the root, "1", "1.2"...
    std::string contentType;
    std::string charset;
    std::string filename;
    std::string disposition;
    std::string encoding;
    std::uint64_t size = 0;  // encoded body bytes
    std::uint32_t depth = 0;
    bool isMultipart = false;
};

struct DirectoryEntry {
    std::string address;
    std::string type;  // "PER", "ORG", "APP", "CAB"
    std::string nationalId;
    std::string structureId;
    std::string displayName;
    std::string profession;
    std::string city;
    std::string source;

    static DirectoryEntry from(const plexus_directory_entry& entry)
    {
        return {detail::copy(entry.address),      detail::copy(entry.type),         detail::copy(entry.national_id),
                detail::copy(entry.structure_id), detail::copy(entry.display_name), detail::copy(entry.profession),
                detail::copy(entry.city),         detail::copy(entry.source)};
    }
};

struct DirectoryQuery {
    std::string text;  // free text (name or address prefix); "" any
    std::string nationalId;
    std::string profession;
    std::string city;
    std::uint32_t limit = 0;  // 0: the host's default (50)
};

struct MailboxSpec {
    std::string address;
    std::string type;  // "PER", "ORG", "APP", "CAB"
    std::string nationalId;
    std::string structureId;
    std::uint64_t quotaMb = 0;  // 0: the instance's default
};

// A new message from the plugin's technical identity (config key `submit_as`).
struct Submission {
    std::string sender;  // "" = submit_as
    std::vector<std::string> recipients;
    std::string content;  // a complete RFC 5322 message, CRLF lines
};

struct AuditEvent {
    std::string type;  // logged as plugin.<name>.<type>
    std::string object;
    std::string outcome;  // "" = "success"
    std::string detailJson;  // a JSON object, or ""
    std::string actor;  // "" = plugin:<name>
    std::string client;  // "" = "local"
};

struct StoredValue {
    std::string key;
    std::string value;
};

// ---------------------------------------------------------------------------
// Verdicts and event results

// What a verdict hook answers. Codes must be of the action's class (5xx for
// reject, 4xx for defer) or the host uses its defaults (550 5.7.1, 451 4.7.1).
class Verdict {
public:
    static Verdict proceed() { return Verdict(PLEXUS_CONTINUE, {}, 0, {}); }
    static Verdict reject(std::string text = {}, std::uint16_t smtpCode = 0, std::string enhancedCode = {})
    {
        return Verdict(PLEXUS_REJECT, std::move(text), smtpCode, std::move(enhancedCode));
    }
    static Verdict defer(std::string text = {}, std::uint16_t smtpCode = 0, std::string enhancedCode = {})
    {
        return Verdict(PLEXUS_DEFER, std::move(text), smtpCode, std::move(enhancedCode));
    }
    // Message hook only: the message is accepted (250) and the plugin delivers it.
    static Verdict takeOver() { return Verdict(PLEXUS_TAKE_OVER, {}, 0, {}); }

    plexus_verdict_action action() const noexcept { return action_; }
    const std::string& text() const noexcept { return text_; }
    std::uint16_t smtpCode() const noexcept { return smtpCode_; }
    const std::string& enhancedCode() const noexcept { return enhancedCode_; }

    // Texts are cut to the buffers and made printable ASCII (anything else
    // becomes '?'), since the host sends them on an SMTP reply line.
    void fill(plexus_verdict& verdict) const noexcept
    {
        verdict.action = action_;
        verdict.smtp_code = smtpCode_;
        copyPrintable(enhancedCode_, verdict.enhanced_code);
        copyPrintable(text_, verdict.text);
    }

private:
    Verdict(plexus_verdict_action action, std::string text, std::uint16_t smtpCode, std::string enhancedCode)
        : action_(action), text_(std::move(text)), smtpCode_(smtpCode), enhancedCode_(std::move(enhancedCode))
    {
    }

    template <std::size_t N>
    static void copyPrintable(const std::string& from, char (&to)[N]) noexcept
    {
        const std::size_t size = std::min(from.size(), N - 1);
        for (std::size_t i = 0; i < size; ++i) to[i] = (from[i] >= 0x20 && from[i] < 0x7f) ? from[i] : '?';
        to[size] = '\0';
    }

    plexus_verdict_action action_;
    std::string text_;
    std::uint16_t smtpCode_;
    std::string enhancedCode_;
};

// What an event consumer answers (see plexus_event_consumer for the retries).
class EventResult {
public:
    static EventResult done() { return EventResult(PLEXUS_OK, {}); }
    // Same event again after a backoff, for as long as it takes.
    static EventResult retryLater(std::string reason) { return EventResult(PLEXUS_ERR_TEMPORARY, std::move(reason)); }
    // Same event again, but set aside as poison after `event_max_attempts`.
    static EventResult failed(std::string reason) { return EventResult(PLEXUS_ERR_INTERNAL, std::move(reason)); }
    // Set aside as poison at once: it can never be processed.
    static EventResult permanent(std::string reason) { return EventResult(PLEXUS_ERR_PERMANENT, std::move(reason)); }

    plexus_status status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    EventResult(plexus_status status, std::string reason) : status_(status), reason_(std::move(reason)) {}

    plexus_status status_;
    std::string reason_;
};

// ---------------------------------------------------------------------------
// Message access

// The bytes of a message or a part; closed when destroyed.
class Stream {
public:
    Stream(const plexus_host_api* api, plexus_stream* stream) noexcept : api_(api), stream_(stream) {}
    Stream(Stream&& other) noexcept : api_(other.api_), stream_(std::exchange(other.stream_, nullptr)) {}
    Stream& operator=(Stream&& other) noexcept
    {
        if (this != &other) {
            close();
            api_ = other.api_;
            stream_ = std::exchange(other.stream_, nullptr);
        }
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { close(); }

    // Up to `capacity` bytes; 0 at the end.
    std::size_t read(char* buffer, std::size_t capacity)
    {
        std::size_t size = 0;
        detail::check(api_->stream_read(stream_, buffer, capacity, &size), "stream_read");
        return size;
    }

    // The rest of the stream; Error(PLEXUS_ERR_TOO_LARGE) past `limit` bytes,
    // rather than a silently cut document.
    std::string readAll(std::size_t limit)
    {
        std::string content;
        char buffer[16384];
        while (const std::size_t size = read(buffer, sizeof buffer)) {
            if (size > limit - content.size())
                throw Error(PLEXUS_ERR_TOO_LARGE, "stream longer than " + std::to_string(limit) + " bytes");
            content.append(buffer, size);
        }
        return content;
    }

    plexus_stream* handle() const noexcept { return stream_; }

private:
    void close() noexcept
    {
        if (stream_) api_->stream_close(stream_);
    }

    const plexus_host_api* api_;
    plexus_stream* stream_;
};

// A message: the one given to a message hook (not owned), or one opened with
// Host::openMessage() (closed when destroyed).
class Message {
public:
    // The message of a message hook: borrowed for the call.
    static Message borrowed(const plexus_host_api* api, plexus_message* message) noexcept
    {
        return Message(api, message, false);
    }
    static Message owned(const plexus_host_api* api, plexus_message* message) noexcept
    {
        return Message(api, message, true);
    }

    Message(Message&& other) noexcept
        : api_(other.api_), message_(std::exchange(other.message_, nullptr)), owned_(other.owned_)
    {
    }
    Message& operator=(Message&& other) noexcept
    {
        if (this != &other) {
            close();
            api_ = other.api_;
            message_ = std::exchange(other.message_, nullptr);
            owned_ = other.owned_;
        }
        return *this;
    }
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    ~Message() { close(); }

    MessageInfo info() const
    {
        plexus_message_info info{};
        info.struct_size = sizeof info;
        detail::check(api_->message_info(message_, &info), "message_info");
        return {info.size, detail::copy(info.message_id), detail::copy(info.subject), detail::copy(info.from),
                info.part_count};
    }

    // The `index`-th field of that name in the top-level header, unfolded.
    std::optional<std::string> header(const std::string& name, std::size_t index = 0) const
    {
        detail::StringSink sink;
        const plexus_status status =
            api_->message_header(message_, name.c_str(), index, &detail::StringSink::append, &sink);
        sink.guard.rethrow();
        if (status == PLEXUS_ERR_NOT_FOUND) return std::nullopt;
        detail::check(status, "message_header");
        return std::move(sink.value);
    }

    PartInfo part(std::size_t index) const
    {
        plexus_part_info part{};
        part.struct_size = sizeof part;
        detail::check(api_->message_part(message_, index, &part), "message_part");
        return {index,
                detail::copy(part.section),
                detail::copy(part.content_type),
                detail::copy(part.charset),
                detail::copy(part.filename),
                detail::copy(part.disposition),
                detail::copy(part.encoding),
                part.size,
                part.depth,
                part.is_multipart != 0};
    }

    // Every MIME entity, depth first, the root first.
    std::vector<PartInfo> parts() const
    {
        const std::size_t count = info().partCount;
        std::vector<PartInfo> all;
        all.reserve(count);
        for (std::size_t index = 0; index < count; ++index) all.push_back(part(index));
        return all;
    }

    // A part's body (kWholeMessage with ReadMode::raw: header and body).
    Stream read(std::size_t part = kWholeMessage, ReadMode mode = ReadMode::raw) const
    {
        plexus_stream* stream = nullptr;
        detail::check(api_->message_read(message_, part, static_cast<plexus_read_mode>(mode), &stream),
                      "message_read");
        return Stream(api_, stream);
    }

    // Message hook only: a header field prepended to the stored message.
    void addHeader(const std::string& name, const std::string& value)
    {
        detail::check(api_->message_add_header(message_, name.c_str(), value.c_str()), "message_add_header");
    }

    // Message hook only: `content` (a complete RFC 5322 message, CRLF lines)
    // replaces the message. Like message_replace_write, a second call in the
    // same hook appends to the new content, so a large one can be written
    // piece by piece.
    void replace(std::string_view content)
    {
        constexpr std::size_t kChunk = 64 * 1024;
        do {
            const std::size_t size = std::min(content.size(), kChunk);
            detail::check(api_->message_replace_write(message_, content.data(), size), "message_replace_write");
            content.remove_prefix(size);
        } while (!content.empty());
    }

    plexus_message* handle() const noexcept { return message_; }

private:
    Message(const plexus_host_api* api, plexus_message* message, bool owned) noexcept
        : api_(api), message_(message), owned_(owned)
    {
    }
    void close() noexcept
    {
        if (owned_ && message_) api_->message_close(message_);
    }

    const plexus_host_api* api_;
    plexus_message* message_;
    bool owned_;
};

// ---------------------------------------------------------------------------
// Host services

class Host;

// The plugin's persistent key-value storage (durable once a call returns).
class Storage {
public:
    explicit Storage(const Host& host) noexcept;

    void put(const std::string& key, std::string_view value) const;
    std::optional<std::string> get(const std::string& key) const;
    // True when the key was there.
    bool remove(const std::string& key) const;
    // Keys with that prefix, in key order, with their values.
    std::vector<StoredValue> list(const std::string& prefix) const;

private:
    const plexus_host_api* api_;
    plexus_host* host_;
};

class Host {
public:
    Host(const plexus_host_api* api, plexus_host* host) noexcept : api_(api), host_(host) {}

    const plexus_host_api* api() const noexcept { return api_; }
    plexus_host* handle() const noexcept { return host_; }
    std::string hostVersion() const { return detail::copy(api_->host_version); }
    // The name the plugin is configured under (may differ from the descriptor's).
    std::string name() const { return detail::copy(api_->plugin_name(host_)); }

    void log(LogLevel level, const std::string& text) const
    {
        api_->log(host_, static_cast<plexus_log_level>(level), text.c_str());
    }
    void debug(const std::string& text) const { log(LogLevel::debug, text); }
    void info(const std::string& text) const { log(LogLevel::info, text); }
    void warning(const std::string& text) const { log(LogLevel::warning, text); }
    void error(const std::string& text) const { log(LogLevel::error, text); }

    // A key of the plugin's section [plugin.<name>].
    std::optional<std::string> config(const std::string& key) const
    {
        const char* value = api_->config_get(host_, key.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    }

    // Says why the current callback fails; the guards call it for exceptions.
    void setError(const char* message) const noexcept { api_->set_error(host_, message); }

    Storage storage() const noexcept { return Storage(*this); }

    void audit(const AuditEvent& event) const
    {
        plexus_audit_event audited{};
        audited.struct_size = sizeof audited;
        audited.type = event.type.c_str();
        audited.actor = event.actor.c_str();
        audited.client = event.client.c_str();
        audited.object = event.object.c_str();
        audited.outcome = event.outcome.c_str();
        audited.detail_json = event.detailJson.c_str();
        detail::check(api_->audit(host_, &audited), "audit");
    }

    // Exposed as plexus_plugin_<name>_<metric>.
    void metricAdd(const std::string& metric, const std::string& help, std::uint64_t amount = 1) const
    {
        detail::check(api_->metric_add(host_, metric.c_str(), help.c_str(), amount), "metric_add");
    }
    void metricSet(const std::string& metric, const std::string& help, std::int64_t value) const
    {
        detail::check(api_->metric_set(host_, metric.c_str(), help.c_str(), value), "metric_set");
    }

    // Accepted once durable; returns the queue id.
    std::string submit(const Submission& message) const
    {
        const std::vector<const char*> recipients = detail::pointersTo(message.recipients);
        plexus_submission submission{};
        submission.struct_size = sizeof submission;
        submission.sender = message.sender.c_str();
        submission.recipients = recipients.data();
        submission.recipient_count = recipients.size();
        submission.content = message.content.data();
        submission.content_size = message.content.size();
        detail::StringSink queueId;
        const plexus_status status = api_->submit_message(host_, &submission, &detail::StringSink::append, &queueId);
        queueId.guard.rethrow();
        detail::check(status, "submit_message");
        return std::move(queueId.value);
    }

    void createMailbox(const MailboxSpec& mailbox) const
    {
        plexus_mailbox_spec spec{};
        spec.struct_size = sizeof spec;
        spec.address = mailbox.address.c_str();
        spec.type = mailbox.type.c_str();
        spec.national_id = mailbox.nationalId.c_str();
        spec.structure_id = mailbox.structureId.c_str();
        spec.quota_mb = mailbox.quotaMb;
        detail::check(api_->mailbox_create(host_, &spec), "mailbox_create");
    }
    void createFolder(const std::string& mailbox, const std::string& folder) const
    {
        detail::check(api_->folder_create(host_, mailbox.c_str(), folder.c_str()), "folder_create");
    }
    void addDelegate(const std::string& orgMailbox, const std::string& personMailbox) const
    {
        detail::check(api_->delegate_add(host_, orgMailbox.c_str(), personMailbox.c_str()), "delegate_add");
    }
    // RFC 4314 rights ("lrswipkxtea"...); "" removes the identifier's entry.
    void setAcl(const std::string& mailbox, const std::string& folder, const std::string& identifier,
                const std::string& rights) const
    {
        detail::check(api_->acl_set(host_, mailbox.c_str(), folder.c_str(), identifier.c_str(), rights.c_str()),
                      "acl_set");
    }

    std::optional<DirectoryEntry> directoryLookup(const std::string& address) const
    {
        std::vector<DirectoryEntry> found =
            collectDirectory("directory_lookup", [&](plexus_directory_sink sink, void* user) {
                return api_->directory_lookup(host_, address.c_str(), sink, user);
            });
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }
    std::vector<DirectoryEntry> directorySearch(const DirectoryQuery& query) const
    {
        plexus_directory_query asked{};
        asked.struct_size = sizeof asked;
        asked.text = query.text.c_str();
        asked.national_id = query.nationalId.c_str();
        asked.profession = query.profession.c_str();
        asked.city = query.city.c_str();
        asked.limit = query.limit;
        return collectDirectory("directory_search", [&](plexus_directory_sink sink, void* user) {
            return api_->directory_search(host_, &asked, sink, user);
        });
    }

    // A stored message, closed when the Message is destroyed.
    Message openMessage(const std::string& mailbox, const std::string& folder, std::uint32_t uid) const
    {
        plexus_message* message = nullptr;
        detail::check(api_->message_open(host_, mailbox.c_str(), folder.c_str(), uid, &message), "message_open");
        return Message::owned(api_, message);
    }

private:
    // Runs a directory call; "not found" is no entries.
    template <class Call>
    static std::vector<DirectoryEntry> collectDirectory(const char* hostFunction, Call&& call)
    {
        struct Collected {
            std::vector<DirectoryEntry> entries;
            detail::SinkGuard guard;
        } collected;
        const plexus_directory_sink sink = [](void* user, const plexus_directory_entry* entry) {
            auto* self = static_cast<Collected*>(user);
            self->guard.run([&] { self->entries.push_back(DirectoryEntry::from(*entry)); });
        };
        const plexus_status status = call(sink, &collected);
        collected.guard.rethrow();
        if (status != PLEXUS_ERR_NOT_FOUND) detail::check(status, hostFunction);
        return std::move(collected.entries);
    }

    const plexus_host_api* api_;
    plexus_host* host_;
};

inline Storage::Storage(const Host& host) noexcept : api_(host.api()), host_(host.handle()) {}

inline void Storage::put(const std::string& key, std::string_view value) const
{
    detail::check(api_->storage_put(host_, key.c_str(), value.data(), value.size()), "storage_put");
}

inline std::optional<std::string> Storage::get(const std::string& key) const
{
    detail::StringSink sink;
    const plexus_status status = api_->storage_get(host_, key.c_str(), &detail::StringSink::append, &sink);
    sink.guard.rethrow();
    if (status == PLEXUS_ERR_NOT_FOUND) return std::nullopt;
    detail::check(status, "storage_get");
    return std::move(sink.value);
}

inline bool Storage::remove(const std::string& key) const
{
    const plexus_status status = api_->storage_delete(host_, key.c_str());
    if (status == PLEXUS_ERR_NOT_FOUND) return false;
    detail::check(status, "storage_delete");
    return true;
}

inline std::vector<StoredValue> Storage::list(const std::string& prefix) const
{
    struct Collected {
        std::vector<StoredValue> values;
        detail::SinkGuard guard;
    } collected;
    const auto each = [](void* user, const char* key, const void* value, std::size_t size) {
        auto* self = static_cast<Collected*>(user);
        self->guard.run([&] {
            self->values.push_back({detail::copy(key), std::string(static_cast<const char*>(value), size)});
        });
    };
    const plexus_status status = api_->storage_list(host_, prefix.c_str(), each, &collected);
    collected.guard.rethrow();
    detail::check(status, "storage_list");
    return std::move(collected.values);
}

namespace detail {

// Runs a callback for the host: what it throws becomes set_error() and a status.
template <class Body>
plexus_status guarded(const Host& host, Body&& body) noexcept
{
    try {
        return body();
    } catch (const Error& e) {
        host.setError(e.what());
        return e.status() == PLEXUS_OK ? PLEXUS_ERR_INTERNAL : e.status();
    } catch (const std::exception& e) {
        host.setError(e.what());
        return PLEXUS_ERR_INTERNAL;
    } catch (...) {
        host.setError("unknown exception");
        return PLEXUS_ERR_INTERNAL;
    }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// The plugin's base class

using ConnectHook = std::function<Verdict(const Session&)>;
using MailFromHook = std::function<Verdict(const Session&, const std::string& sender)>;
using RcptToHook = std::function<Verdict(const Session&, const Envelope&, const std::string& recipient)>;
using MessageHook = std::function<Verdict(const Session&, const Envelope&, Message&)>;
using AuthHook = std::function<Verdict(const Session&, const std::string& mechanism)>;
using EventConsumer = std::function<EventResult(const Event&)>;
using TimerCallback = std::function<void()>;
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Derive from it, register in the constructor, export with PLEXUS_PLUGIN.
// Registering anywhere else throws Error(PLEXUS_ERR_INVALID) (the host
// accepts registrations during init() only).
class Plugin {
public:
    explicit Plugin(const Host& host) : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    const Host& host() const noexcept { return host_; }

protected:
    void onConnect(ConnectHook hook)
    {
        const auto trampoline = [](void* user, const plexus_session_info* session, plexus_verdict* verdict) {
            return answer<ConnectHook>(user, verdict, [&](const ConnectHook& fn, const Host&) {
                return fn(Session::from(*session));
            });
        };
        detail::check(host_.api()->register_connect_hook(host_.handle(), trampoline, registered(std::move(hook))),
                      "register_connect_hook");
    }

    void onMailFrom(MailFromHook hook)
    {
        const auto trampoline = [](void* user, const plexus_session_info* session, const char* sender,
                                   plexus_verdict* verdict) {
            return answer<MailFromHook>(user, verdict, [&](const MailFromHook& fn, const Host&) {
                return fn(Session::from(*session), detail::copy(sender));
            });
        };
        detail::check(host_.api()->register_mail_from_hook(host_.handle(), trampoline, registered(std::move(hook))),
                      "register_mail_from_hook");
    }

    void onRcptTo(RcptToHook hook)
    {
        const auto trampoline = [](void* user, const plexus_session_info* session, const plexus_envelope* envelope,
                                   const char* recipient, plexus_verdict* verdict) {
            return answer<RcptToHook>(user, verdict, [&](const RcptToHook& fn, const Host&) {
                return fn(Session::from(*session), Envelope::from(*envelope), detail::copy(recipient));
            });
        };
        detail::check(host_.api()->register_rcpt_to_hook(host_.handle(), trampoline, registered(std::move(hook))),
                      "register_rcpt_to_hook");
    }

    void onMessage(MessageHook hook)
    {
        const auto trampoline = [](void* user, const plexus_session_info* session, const plexus_envelope* envelope,
                                   plexus_message* message, plexus_verdict* verdict) {
            return answer<MessageHook>(user, verdict, [&](const MessageHook& fn, const Host& host) {
                Message borrowed = Message::borrowed(host.api(), message);
                return fn(Session::from(*session), Envelope::from(*envelope), borrowed);
            });
        };
        detail::check(host_.api()->register_message_hook(host_.handle(), trampoline, registered(std::move(hook))),
                      "register_message_hook");
    }

    void onAuth(AuthHook hook)
    {
        const auto trampoline = [](void* user, const plexus_session_info* session, const char* mechanism,
                                   plexus_verdict* verdict) {
            return answer<AuthHook>(user, verdict, [&](const AuthHook& fn, const Host&) {
                return fn(Session::from(*session), detail::copy(mechanism));
            });
        };
        detail::check(host_.api()->register_auth_hook(host_.handle(), trampoline, registered(std::move(hook))),
                      "register_auth_hook");
    }

    // `name` keeps the consumer's position across restarts ([a-z0-9_-]{1,32});
    // `typePrefixes` such as {"message.", "auth."}; empty for every event.
    void consumeEvents(const std::string& name, const std::vector<std::string>& typePrefixes, EventStart start,
                       EventConsumer consumer)
    {
        std::string prefixes;
        for (const auto& prefix : typePrefixes) prefixes.append(prefixes.empty() ? "" : ",").append(prefix);
        plexus_consumer_spec spec{};
        spec.struct_size = sizeof spec;
        spec.name = keepString(name);
        spec.type_prefixes = keepString(std::move(prefixes));
        spec.start = static_cast<plexus_event_start>(start);
        spec.consume = [](void* user, const plexus_event* event) {
            auto* self = static_cast<Registered<EventConsumer>*>(user);
            return detail::guarded(self->host, [&] {
                const EventResult result = self->fn(Event::from(*event));
                if (result.status() != PLEXUS_OK) self->host.setError(result.reason().c_str());
                return result.status();
            });
        };
        spec.user = registered(std::move(consumer));
        detail::check(host_.api()->register_event_consumer(host_.handle(), &spec), "register_event_consumer");
    }

    // Every `interval` (at least 100 ms), on the plugin's timer thread.
    void every(std::chrono::milliseconds interval, TimerCallback callback)
    {
        if (interval.count() < 0 || interval.count() > std::numeric_limits<std::uint32_t>::max())
            throw Error(PLEXUS_ERR_INVALID, "timer interval out of range");
        const auto trampoline = [](void* user) {
            auto* self = static_cast<Registered<TimerCallback>*>(user);
            return detail::guarded(self->host, [&] {
                self->fn();
                return PLEXUS_OK;
            });
        };
        detail::check(host_.api()->register_timer(host_.handle(), static_cast<std::uint32_t>(interval.count()),
                                                  trampoline, registered(std::move(callback))),
                      "register_timer");
    }

    // `method` "GET", "POST"... or "*"; `path` exact ("/status") or a prefix
    // ending in '*' ("/teams/*"), under /api/plugins/<name>.
    void route(const std::string& method, const std::string& path, HttpHandler handler)
    {
        const auto trampoline = [](void* user, const plexus_http_request* request, plexus_http_response* response) {
            auto* self = static_cast<Registered<HttpHandler>*>(user);
            return detail::guarded(self->host, [&] {
                const HttpResponse answer = self->fn(HttpRequest::from(*request));
                const plexus_host_api* api = self->host.api();
                for (const auto& [name, value] : answer.headers)
                    detail::check(api->http_set_header(response, name.c_str(), value.c_str()), "http_set_header");
                detail::check(api->http_respond(response, answer.status, answer.contentType.c_str(),
                                                answer.body.data(), answer.body.size()),
                              "http_respond");
                return PLEXUS_OK;
            });
        };
        detail::check(host_.api()->register_http_route(host_.handle(), keepString(method), keepString(path), trampoline,
                                                       registered(std::move(handler))),
                      "register_http_route");
    }

private:
    // A callback with the Host its trampoline needs; its address is the
    // `user` pointer the host passes back.
    template <class Fn>
    struct Registered {
        Host host;
        Fn fn;
    };

    // Kept for the plugin's lifetime: callbacks, and the strings given to the
    // host at registration (plugin.h does not say the host copies them).
    template <class T>
    T* keep(T value)
    {
        auto owned = std::make_shared<T>(std::move(value));
        T* raw = owned.get();
        kept_.push_back(std::move(owned));
        return raw;
    }
    template <class Fn>
    Registered<Fn>* registered(Fn fn)
    {
        return keep(Registered<Fn>{host_, std::move(fn)});
    }
    const char* keepString(std::string text) { return keep(std::move(text))->c_str(); }

    // A verdict hook's trampoline: the hook's answer, through the guard, into `verdict`.
    template <class Hook, class Invoke>
    static plexus_status answer(void* user, plexus_verdict* verdict, Invoke&& invoke) noexcept
    {
        const auto* self = static_cast<const Registered<Hook>*>(user);
        return detail::guarded(self->host, [&] {
            invoke(self->fn, self->host).fill(*verdict);
            return PLEXUS_OK;
        });
    }

    Host host_;
    std::vector<std::shared_ptr<void>> kept_;
};

namespace detail {

template <class P>
plexus_status initPlugin(const plexus_host_api* api, plexus_host* handle, void** state) noexcept
{
    static_assert(std::is_base_of_v<Plugin, P>, "PLEXUS_PLUGIN's class must derive from plexus::sdk::Plugin");
    Host host(api, handle);
    return guarded(host, [&] {
        auto plugin = std::make_unique<P>(host);
        *state = plugin.release();  // owned by the host until shutdownPlugin<P>
        return PLEXUS_OK;
    });
}

template <class P>
void shutdownPlugin(void* state) noexcept
{
    std::unique_ptr<P> plugin(static_cast<P*>(state));
}

}  // namespace detail

}  // namespace plexus::sdk

// Exports `Class` as the plugin: its descriptor and plexus_plugin_entry().
// Once per shared library.
#define PLEXUS_PLUGIN(Class, name, version, description, capabilities)                                    \
    extern "C" PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void)                      \
    {                                                                                                       \
        static const plexus_plugin_descriptor descriptor = {sizeof(plexus_plugin_descriptor),             \
                                                            PLEXUS_ABI_MAJOR,                               \
                                                            PLEXUS_ABI_MINOR,                               \
                                                            name,                                           \
                                                            version,                                        \
                                                            description,                                    \
                                                            (capabilities),                                 \
                                                            &::plexus::sdk::detail::initPlugin<Class>,      \
                                                            &::plexus::sdk::detail::shutdownPlugin<Class>}; \
        return &descriptor;                                                                                 \
    }

#endif  // PLEXUS_PLUGIN_HPP
