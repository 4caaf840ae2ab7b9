// plexus/plugin.hpp seen through its C face: a plugin class exported with
// PLEXUS_PLUGIN, driven by a recording plexus_host_api table. The table is a
// test double of the host, so what is tested is the C++ layer's translation
// (registrations, exceptions to statuses, verdict filling, RAII), not the host.
#include <plexus/plugin.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace plexus::sdk;

// --- The recording host ---------------------------------------------------

struct plexus_stream {
    plexus_host* host;
    std::string data;
    std::size_t position = 0;
};

struct plexus_message {
    plexus_host* host;
    std::vector<std::pair<std::string, std::string>> header;
    std::vector<plexus_part_info> parts;
    std::string raw;
    std::vector<std::pair<std::string, std::string>> added;
    std::string replacement;
    int replaceWrites = 0;
};

struct plexus_http_response {
    int status = 0;
    std::string contentType;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct plexus_host {
    bool initialising = true;
    std::map<std::string, std::string> config;
    std::vector<std::string> errors;  // set_error()
    std::vector<std::pair<plexus_log_level, std::string>> logs;

    plexus_connect_hook connect = nullptr;
    void* connectUser = nullptr;
    plexus_mail_from_hook mailFrom = nullptr;
    void* mailFromUser = nullptr;
    plexus_rcpt_to_hook rcptTo = nullptr;
    void* rcptToUser = nullptr;
    plexus_message_hook message = nullptr;
    void* messageUser = nullptr;
    plexus_auth_hook auth = nullptr;
    void* authUser = nullptr;
    plexus_consumer_spec consumer{};
    std::string consumerName, consumerPrefixes;
    plexus_timer_callback timer = nullptr;
    void* timerUser = nullptr;
    std::uint32_t timerInterval = 0;
    plexus_http_handler route = nullptr;
    void* routeUser = nullptr;
    std::string routeMethod, routePath;

    std::map<std::string, std::string> storage;
    std::vector<std::vector<std::string>> audits;  // type, object, outcome, detail, actor, client
    std::uint32_t auditStructSize = 0;
    std::vector<std::string> submittedRecipients;
    std::string submittedContent;
    // What message_open() and message_read() handed out, until closed.
    std::vector<std::unique_ptr<plexus_message>> openMessages;
    std::vector<std::unique_ptr<plexus_stream>> openStreams;
};

namespace {

plexus_message makeMessage(plexus_host* host)
{
    plexus_message message{host, {{"Subject", "hi"}, {"X-Test", "a"}, {"X-Test", "b"}}, {}, {}, {}, {}, 0};
    message.raw = "Subject: hi\r\nX-Test: a\r\nX-Test: b\r\n\r\nbody of the message\r\n";
    plexus_part_info root{sizeof(plexus_part_info), "", "multipart/mixed", "", "", "", "7bit", 20, 0, 1};
    plexus_part_info text{sizeof(plexus_part_info), "1", "text/plain", "utf-8", "", "inline", "7bit", 10, 1, 0};
    plexus_part_info zip{sizeof(plexus_part_info), "2", "application/zip", "", "IHE_XDM.ZIP", "attachment",
                         "base64", 30, 1, 0};
    message.parts = {root, text, zip};
    return message;
}

plexus_status registration(plexus_host* host) { return host->initialising ? PLEXUS_OK : PLEXUS_ERR_INVALID; }

template <class T>
void forget(std::vector<std::unique_ptr<T>>& open, T* closed)
{
    open.erase(std::find_if(open.begin(), open.end(), [&](const auto& handle) { return handle.get() == closed; }));
}

void appendTo(plexus_bytes_sink sink, void* user, const std::string& text) { sink(user, text.data(), text.size()); }

plexus_host_api recordingApi()
{
    plexus_host_api api{};
    api.struct_size = sizeof api;
    api.abi_major = PLEXUS_ABI_MAJOR;
    api.abi_minor = PLEXUS_ABI_MINOR;
    api.host_version = "test";
    api.log = [](plexus_host* host, plexus_log_level level, const char* text) { host->logs.emplace_back(level, text); };
    api.config_get = [](plexus_host* host, const char* key) -> const char* {
        const auto found = host->config.find(key);
        return found == host->config.end() ? nullptr : found->second.c_str();
    };
    api.set_error = [](plexus_host* host, const char* text) { host->errors.emplace_back(text); };
    api.register_connect_hook = [](plexus_host* host, plexus_connect_hook hook, void* user) {
        host->connect = hook;
        host->connectUser = user;
        return registration(host);
    };
    api.register_mail_from_hook = [](plexus_host* host, plexus_mail_from_hook hook, void* user) {
        host->mailFrom = hook;
        host->mailFromUser = user;
        return registration(host);
    };
    api.register_rcpt_to_hook = [](plexus_host* host, plexus_rcpt_to_hook hook, void* user) {
        host->rcptTo = hook;
        host->rcptToUser = user;
        return registration(host);
    };
    api.register_message_hook = [](plexus_host* host, plexus_message_hook hook, void* user) {
        host->message = hook;
        host->messageUser = user;
        return registration(host);
    };
    api.register_auth_hook = [](plexus_host* host, plexus_auth_hook hook, void* user) {
        host->auth = hook;
        host->authUser = user;
        return registration(host);
    };
    api.register_event_consumer = [](plexus_host* host, const plexus_consumer_spec* spec) {
        host->consumer = *spec;
        host->consumerName = spec->name;
        host->consumerPrefixes = spec->type_prefixes;
        return registration(host);
    };
    api.register_timer = [](plexus_host* host, std::uint32_t interval, plexus_timer_callback callback, void* user) {
        host->timerInterval = interval;
        host->timer = callback;
        host->timerUser = user;
        return registration(host);
    };
    api.register_http_route = [](plexus_host* host, const char* method, const char* path,
                                 plexus_http_handler handler, void* user) {
        host->routeMethod = method;
        host->routePath = path;
        host->route = handler;
        host->routeUser = user;
        return registration(host);
    };
    api.http_respond = [](plexus_http_response* response, int status, const char* contentType, const void* body,
                          std::size_t size) {
        response->status = status;
        response->contentType = contentType;
        response->body.assign(static_cast<const char*>(body), size);
        return PLEXUS_OK;
    };
    api.http_set_header = [](plexus_http_response* response, const char* name, const char* value) {
        response->headers.emplace_back(name, value);
        return PLEXUS_OK;
    };
    api.message_open = [](plexus_host* host, const char*, const char*, std::uint32_t uid, plexus_message** message) {
        if (uid != 1) return PLEXUS_ERR_NOT_FOUND;
        *message = host->openMessages.emplace_back(std::make_unique<plexus_message>(makeMessage(host))).get();
        return PLEXUS_OK;
    };
    api.message_close = [](plexus_message* message) { forget(message->host->openMessages, message); };
    api.message_info = [](plexus_message* message, plexus_message_info* info) {
        info->size = message->raw.size();
        info->message_id = "<1@test>";
        info->subject = "hi";
        info->from = "a@b.test";
        info->part_count = message->parts.size();
        return PLEXUS_OK;
    };
    api.message_header = [](plexus_message* message, const char* name, std::size_t index, plexus_bytes_sink sink,
                            void* user) {
        for (const auto& [field, value] : message->header)
            if (field == name && index-- == 0) {
                appendTo(sink, user, value);
                return PLEXUS_OK;
            }
        return PLEXUS_ERR_NOT_FOUND;
    };
    api.message_part = [](plexus_message* message, std::size_t index, plexus_part_info* info) {
        if (index >= message->parts.size()) return PLEXUS_ERR_NOT_FOUND;
        *info = message->parts[index];
        return PLEXUS_OK;
    };
    api.message_read = [](plexus_message* message, std::size_t part, plexus_read_mode, plexus_stream** stream) {
        if (part != PLEXUS_WHOLE_MESSAGE) return PLEXUS_ERR_UNSUPPORTED;
        auto opened = std::make_unique<plexus_stream>(plexus_stream{message->host, message->raw});
        *stream = message->host->openStreams.emplace_back(std::move(opened)).get();
        return PLEXUS_OK;
    };
    api.stream_read = [](plexus_stream* stream, void* buffer, std::size_t capacity, std::size_t* size) {
        *size = std::min({capacity, stream->data.size() - stream->position, std::size_t{7}});  // short reads
        std::memcpy(buffer, stream->data.data() + stream->position, *size);
        stream->position += *size;
        return PLEXUS_OK;
    };
    api.stream_close = [](plexus_stream* stream) { forget(stream->host->openStreams, stream); };
    api.message_add_header = [](plexus_message* message, const char* name, const char* value) {
        message->added.emplace_back(name, value);
        return PLEXUS_OK;
    };
    api.message_replace_write = [](plexus_message* message, const void* data, std::size_t size) {
        ++message->replaceWrites;
        message->replacement.append(static_cast<const char*>(data), size);
        return PLEXUS_OK;
    };
    api.submit_message = [](plexus_host* host, const plexus_submission* submission, plexus_bytes_sink sink,
                            void* user) {
        for (std::size_t i = 0; i < submission->recipient_count; ++i)
            host->submittedRecipients.emplace_back(submission->recipients[i]);
        host->submittedContent.assign(static_cast<const char*>(submission->content), submission->content_size);
        if (sink) appendTo(sink, user, "Q42");
        return PLEXUS_OK;
    };
    api.directory_lookup = [](plexus_host*, const char* address, plexus_directory_sink sink, void* user) {
        if (std::string(address) != "dr.martin@hopital.test") return PLEXUS_ERR_NOT_FOUND;
        const plexus_directory_entry entry{sizeof entry, address, "PER", "810001234567", "", "Dr Martin",
                                           "Médecin", "Lyon", "local"};
        sink(user, &entry);
        return PLEXUS_OK;
    };
    api.storage_put = [](plexus_host* host, const char* key, const void* value, std::size_t size) {
        host->storage[key].assign(static_cast<const char*>(value), size);
        return PLEXUS_OK;
    };
    api.storage_get = [](plexus_host* host, const char* key, plexus_bytes_sink sink, void* user) {
        const auto found = host->storage.find(key);
        if (found == host->storage.end()) return PLEXUS_ERR_NOT_FOUND;
        appendTo(sink, user, found->second);
        return PLEXUS_OK;
    };
    api.storage_delete = [](plexus_host* host, const char* key) {
        return host->storage.erase(key) ? PLEXUS_OK : PLEXUS_ERR_NOT_FOUND;
    };
    api.storage_list = [](plexus_host* host, const char* prefix,
                          void (*each)(void*, const char*, const void*, std::size_t), void* user) {
        for (const auto& [key, value] : host->storage)
            if (key.rfind(prefix, 0) == 0) each(user, key.c_str(), value.data(), value.size());
        return PLEXUS_OK;
    };
    api.audit = [](plexus_host* host, const plexus_audit_event* event) {
        host->audits.push_back(
            {event->type, event->object, event->outcome, event->detail_json, event->actor, event->client});
        host->auditStructSize = event->struct_size;
        return PLEXUS_OK;
    };
    api.metric_add = [](plexus_host*, const char* metric, const char*, std::uint64_t) {
        return std::strchr(metric, '-') ? PLEXUS_ERR_INVALID : PLEXUS_OK;
    };
    return api;
}

// --- The plugin under test ------------------------------------------------

// What the plugin's callbacks do, set by each test.
struct Script {
    std::function<void(Host&)> construct = [](Host&) {};
    ConnectHook connect;
    MailFromHook mailFrom;
    RcptToHook rcptTo;
    MessageHook message;
    AuthHook auth;
    EventConsumer consume;
    TimerCallback timer;
    HttpHandler route;
};

Script& script()
{
    static Script current;
    return current;
}

// Plugin objects alive: a member, so that it also counts down when the constructor throws.
int liveInstances = 0;
struct Alive {
    Alive() { ++liveInstances; }
    ~Alive() { --liveInstances; }
};

class TestPlugin : public Plugin {
public:
    explicit TestPlugin(Host& host) : Plugin(host)
    {
        onConnect([](const Session& s) { return script().connect(s); });
        onMailFrom([](const Session& s, const std::string& sender) { return script().mailFrom(s, sender); });
        onRcptTo([](const Session& s, const Envelope& e, const std::string& r) { return script().rcptTo(s, e, r); });
        onMessage([](const Session& s, const Envelope& e, Message& m) { return script().message(s, e, m); });
        onAuth([](const Session& s, const std::string& mechanism) { return script().auth(s, mechanism); });
        consumeEvents("audit-copy", {"message.", "auth."}, EventStart::fromOldest,
                      [](const Event& event) { return script().consume(event); });
        every(std::chrono::milliseconds(250), [] { script().timer(); });
        route("POST", "/items/*", [](const HttpRequest& request) { return script().route(request); });
        script().construct(host);  // last, so that a throw comes after registrations, the hardest case
    }
    void registerLate()
    {
        onConnect([](const Session&) { return Verdict::proceed(); });
    }

private:
    Alive alive_;
};

}  // namespace

PLEXUS_PLUGIN(TestPlugin, "sdk-test", "2.3.4", "Exercises plugin.hpp", PLEXUS_CAP_SMTP_HOOKS | PLEXUS_CAP_EVENTS)

namespace {

const plexus_session_info kSession{sizeof(plexus_session_info), "submission", "192.0.2.7", "client.test", 1,
                                   "dr.martin@hopital.test", ""};

class PluginTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        script() = Script{};
        descriptor_ = plexus_plugin_entry();
        ASSERT_EQ(descriptor_->init(&api_, &host_, &state_), PLEXUS_OK);
        host_.initialising = false;
        ASSERT_EQ(liveInstances, 1);
    }
    void TearDown() override
    {
        descriptor_->shutdown(state_);
        EXPECT_EQ(liveInstances, 0);
    }

    plexus_verdict callConnect()
    {
        plexus_verdict verdict{};
        verdict.struct_size = sizeof verdict;
        lastStatus_ = host_.connect(host_.connectUser, &kSession, &verdict);
        return verdict;
    }

    plexus_host_api api_ = recordingApi();
    plexus_host host_;
    const plexus_plugin_descriptor* descriptor_ = nullptr;
    void* state_ = nullptr;
    plexus_status lastStatus_ = PLEXUS_OK;
};

TEST(PluginDescriptor, CarriesTheMacrosArgumentsAndTheAbiItWasBuiltWith)
{
    const plexus_plugin_descriptor* descriptor = plexus_plugin_entry();
    EXPECT_EQ(descriptor, plexus_plugin_entry());
    EXPECT_EQ(descriptor->struct_size, sizeof(plexus_plugin_descriptor));
    EXPECT_EQ(descriptor->abi_major, PLEXUS_ABI_MAJOR);
    EXPECT_EQ(descriptor->abi_minor, PLEXUS_ABI_MINOR);
    EXPECT_STREQ(descriptor->name, "sdk-test");
    EXPECT_STREQ(descriptor->version, "2.3.4");
    EXPECT_STREQ(descriptor->description, "Exercises plugin.hpp");
    EXPECT_EQ(descriptor->capabilities, PLEXUS_CAP_SMTP_HOOKS | PLEXUS_CAP_EVENTS);
    EXPECT_NE(descriptor->init, nullptr);
    EXPECT_NE(descriptor->shutdown, nullptr);
}

TEST_F(PluginTest, TheConstructorRegistersEveryHook)
{
    EXPECT_NE(host_.connect, nullptr);
    EXPECT_NE(host_.mailFrom, nullptr);
    EXPECT_NE(host_.rcptTo, nullptr);
    EXPECT_NE(host_.message, nullptr);
    EXPECT_NE(host_.auth, nullptr);
    EXPECT_EQ(host_.consumerName, "audit-copy");
    EXPECT_EQ(host_.consumerPrefixes, "message.,auth.");
    EXPECT_EQ(host_.consumer.start, PLEXUS_EVENTS_FROM_OLDEST);
    EXPECT_EQ(host_.consumer.struct_size, sizeof(plexus_consumer_spec));
    EXPECT_EQ(host_.timerInterval, 250u);
    EXPECT_EQ(host_.routeMethod, "POST");
    EXPECT_EQ(host_.routePath, "/items/*");
    // Each registration has its own `user`: the std::function kept in the plugin.
    EXPECT_NE(host_.connectUser, host_.mailFromUser);
    EXPECT_NE(host_.consumer.user, host_.timerUser);
}

TEST_F(PluginTest, RegisteringAfterInitThrowsTheHostsStatus)
{
    try {
        static_cast<TestPlugin*>(state_)->registerLate();
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), PLEXUS_ERR_INVALID);
        EXPECT_NE(std::string(e.what()).find("register_connect_hook"), std::string::npos);
    }
}

TEST_F(PluginTest, VerdictHooksGetCopiesOfSessionAndEnvelope)
{
    Session seen;
    Envelope envelope;
    std::string recipient, sender, mechanism;
    script().connect = [&](const Session& s) {
        seen = s;
        return Verdict::proceed();
    };
    script().mailFrom = [&](const Session&, const std::string& from) {
        sender = from;
        return Verdict::proceed();
    };
    script().rcptTo = [&](const Session&, const Envelope& e, const std::string& r) {
        envelope = e;
        recipient = r;
        return Verdict::defer("busy", 450, "4.2.1");
    };
    script().auth = [&](const Session&, const std::string& m) {
        mechanism = m;
        return Verdict::reject();
    };

    EXPECT_EQ(callConnect().action, PLEXUS_CONTINUE);
    EXPECT_EQ(seen.service, "submission");
    EXPECT_EQ(seen.clientAddress, "192.0.2.7");
    EXPECT_EQ(seen.helo, "client.test");
    EXPECT_TRUE(seen.tls);
    EXPECT_EQ(seen.identity, "dr.martin@hopital.test");
    EXPECT_EQ(seen.peerCertificateDn, "");

    plexus_verdict verdict{};
    EXPECT_EQ(host_.mailFrom(host_.mailFromUser, &kSession, "a@b.test", &verdict), PLEXUS_OK);
    EXPECT_EQ(sender, "a@b.test");

    const char* const accepted[] = {"x@hopital.test", "y@hopital.test"};
    const plexus_envelope cEnvelope{sizeof(plexus_envelope), "", accepted, 2};
    EXPECT_EQ(host_.rcptTo(host_.rcptToUser, &kSession, &cEnvelope, "z@hopital.test", &verdict), PLEXUS_OK);
    EXPECT_EQ(envelope.sender, "");
    EXPECT_EQ(envelope.recipients, (std::vector<std::string>{"x@hopital.test", "y@hopital.test"}));
    EXPECT_EQ(recipient, "z@hopital.test");
    EXPECT_EQ(verdict.action, PLEXUS_DEFER);
    EXPECT_EQ(verdict.smtp_code, 450);
    EXPECT_STREQ(verdict.enhanced_code, "4.2.1");
    EXPECT_STREQ(verdict.text, "busy");

    verdict = plexus_verdict{};
    EXPECT_EQ(host_.auth(host_.authUser, &kSession, "PLAIN", &verdict), PLEXUS_OK);
    EXPECT_EQ(mechanism, "PLAIN");
    EXPECT_EQ(verdict.action, PLEXUS_REJECT);
    EXPECT_EQ(verdict.smtp_code, 0);
    EXPECT_STREQ(verdict.text, "");
    EXPECT_TRUE(host_.errors.empty());
}

TEST_F(PluginTest, VerdictTextIsCutToTheBufferTerminatedAndPrintable)
{
    script().connect = [](const Session&) {
        return Verdict::reject(std::string(1000, 'x'), 554, "5.7.1-and-far-too-long");
    };
    plexus_verdict verdict;
    std::memset(&verdict, 'Z', sizeof verdict);  // no NUL for the layer to rely on
    EXPECT_EQ(host_.connect(host_.connectUser, &kSession, &verdict), PLEXUS_OK);
    EXPECT_EQ(verdict.action, PLEXUS_REJECT);
    EXPECT_EQ(verdict.smtp_code, 554);
    EXPECT_EQ(std::string(verdict.text), std::string(sizeof verdict.text - 1, 'x'));
    EXPECT_EQ(std::string(verdict.enhanced_code), std::string("5.7.1-and-far-too-long").substr(0, 15));

    script().connect = [](const Session&) { return Verdict::reject("refusé\r\nRCPT"); };
    verdict = callConnect();
    EXPECT_STREQ(verdict.text, "refus????RCPT");
}

TEST_F(PluginTest, AStdExceptionIsAnInternalErrorWithItsMessage)
{
    script().connect = [](const Session&) -> Verdict { throw std::runtime_error("database locked"); };
    callConnect();
    EXPECT_EQ(lastStatus_, PLEXUS_ERR_INTERNAL);
    EXPECT_EQ(host_.errors, std::vector<std::string>{"database locked"});
}

TEST_F(PluginTest, AnSdkErrorReturnsItsStatus)
{
    script().connect = [](const Session&) -> Verdict { throw Error(PLEXUS_ERR_TEMPORARY, "registry down"); };
    callConnect();
    EXPECT_EQ(lastStatus_, PLEXUS_ERR_TEMPORARY);
    EXPECT_EQ(host_.errors, std::vector<std::string>{"registry down"});
}

TEST_F(PluginTest, AnythingElseThrownIsAnInternalError)
{
    script().connect = [](const Session&) -> Verdict { throw 42; };
    callConnect();
    EXPECT_EQ(lastStatus_, PLEXUS_ERR_INTERNAL);
    EXPECT_EQ(host_.errors.size(), 1u);
}

TEST_F(PluginTest, TheMessageHookReadsAndRewritesItsMessage)
{
    std::vector<PartInfo> parts;
    std::optional<std::string> second, missing;
    std::string whole;
    script().message = [&](const Session&, const Envelope&, Message& message) {
        parts = message.parts();
        second = message.header("X-Test", 1);
        missing = message.header("X-Test", 2);
        whole = message.read().readAll(1000);
        message.addHeader("X-Plexus-Test", "seen");
        message.replace(std::string(150 * 1024, 'r'));
        return Verdict::takeOver();
    };
    plexus_message message = makeMessage(&host_);
    const plexus_envelope envelope{sizeof(plexus_envelope), "a@b.test", nullptr, 0};
    plexus_verdict verdict{};
    EXPECT_EQ(host_.message(host_.messageUser, &kSession, &envelope, &message, &verdict), PLEXUS_OK);

    EXPECT_EQ(verdict.action, PLEXUS_TAKE_OVER);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].index, 0u);
    EXPECT_TRUE(parts[0].isMultipart);
    EXPECT_EQ(parts[2].index, 2u);
    EXPECT_EQ(parts[2].section, "2");
    EXPECT_EQ(parts[2].filename, "IHE_XDM.ZIP");
    EXPECT_EQ(parts[2].disposition, "attachment");
    EXPECT_EQ(parts[2].depth, 1u);
    EXPECT_EQ(second, "b");
    EXPECT_EQ(missing, std::nullopt);
    EXPECT_EQ(whole, message.raw);
    EXPECT_TRUE(host_.openStreams.empty());
    EXPECT_EQ(message.added, (std::vector<std::pair<std::string, std::string>>{{"X-Plexus-Test", "seen"}}));
    EXPECT_EQ(message.replacement, std::string(150 * 1024, 'r'));
    EXPECT_EQ(message.replaceWrites, 3);  // 64 KiB chunks
}

TEST_F(PluginTest, ReadAllRefusesMoreThanItsLimit)
{
    script().message = [](const Session&, const Envelope&, Message& message) {
        message.read().readAll(10);
        return Verdict::proceed();
    };
    plexus_message message = makeMessage(&host_);
    const plexus_envelope envelope{sizeof(plexus_envelope), "", nullptr, 0};
    plexus_verdict verdict{};
    EXPECT_EQ(host_.message(host_.messageUser, &kSession, &envelope, &message, &verdict), PLEXUS_ERR_TOO_LARGE);
    EXPECT_TRUE(host_.openStreams.empty());
}

TEST_F(PluginTest, EventResultsBecomeStatusesWithTheirReasons)
{
    Event seen;
    EventResult next = EventResult::done();
    script().consume = [&](const Event& event) {
        seen = event;
        return next;
    };
    const plexus_event event{sizeof(plexus_event), 17,   1700000000123456, "message.received", "a@b.test",
                             "192.0.2.7",          "<1@b.test>", "success", "{\"size\":3}"};
    const auto consume = [&] { return host_.consumer.consume(host_.consumer.user, &event); };

    EXPECT_EQ(consume(), PLEXUS_OK);
    EXPECT_EQ(seen.id, 17);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(seen.time.time_since_epoch()).count(),
              1700000000123456);
    EXPECT_EQ(seen.type, "message.received");
    EXPECT_EQ(seen.actor, "a@b.test");
    EXPECT_EQ(seen.client, "192.0.2.7");
    EXPECT_EQ(seen.object, "<1@b.test>");
    EXPECT_EQ(seen.outcome, "success");
    EXPECT_EQ(seen.detailJson, "{\"size\":3}");
    EXPECT_TRUE(host_.errors.empty());

    next = EventResult::retryLater("registry down");
    EXPECT_EQ(consume(), PLEXUS_ERR_TEMPORARY);
    next = EventResult::failed("bad CDA");
    EXPECT_EQ(consume(), PLEXUS_ERR_INTERNAL);
    next = EventResult::permanent("no INS");
    EXPECT_EQ(consume(), PLEXUS_ERR_PERMANENT);
    EXPECT_EQ(host_.errors, (std::vector<std::string>{"registry down", "bad CDA", "no INS"}));
}

TEST_F(PluginTest, TimerExceptionsAreCaught)
{
    int ticks = 0;
    script().timer = [&] {
        if (++ticks == 2) throw std::logic_error("no data");
    };
    EXPECT_EQ(host_.timer(host_.timerUser), PLEXUS_OK);
    EXPECT_EQ(host_.timer(host_.timerUser), PLEXUS_ERR_INTERNAL);
    EXPECT_EQ(host_.errors, std::vector<std::string>{"no data"});
}

TEST_F(PluginTest, ARouteAnswersThroughHttpRespond)
{
    HttpRequest seen;
    std::optional<std::string> token;
    script().route = [&](const HttpRequest& request) {
        seen = request;
        token = request.header("x-team-token");
        return HttpResponse{201, "application/json", "{\"id\":1}", {{"Location", "/items/1"}}};
    };
    const char* const headers[] = {"Content-Type", "application/json", "X-Team-Token", "t0k"};
    const std::string body = "{\"name\":\"cardio\"}";
    const plexus_http_request request{sizeof(plexus_http_request), "POST", "/items/", "dry=1", "dr.martin@h.test",
                                      "application/json", headers, 2, body.data(), body.size()};
    plexus_http_response response;
    EXPECT_EQ(host_.route(host_.routeUser, &request, &response), PLEXUS_OK);

    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/items/");
    EXPECT_EQ(seen.query, "dry=1");
    EXPECT_EQ(seen.identity, "dr.martin@h.test");
    EXPECT_EQ(seen.contentType, "application/json");
    EXPECT_EQ(seen.body, body);
    EXPECT_EQ(token, "t0k");
    EXPECT_EQ(seen.header("Missing"), std::nullopt);
    EXPECT_EQ(response.status, 201);
    EXPECT_EQ(response.contentType, "application/json");
    EXPECT_EQ(response.body, "{\"id\":1}");
    EXPECT_EQ(response.headers, (std::vector<std::pair<std::string, std::string>>{{"Location", "/items/1"}}));
}

TEST_F(PluginTest, HostServicesReturnValuesAndThrowOnErrors)
{
    const Host& host = static_cast<TestPlugin*>(state_)->host();
    host_.config["header_value"] = "hello";
    EXPECT_EQ(host.config("header_value"), "hello");
    EXPECT_EQ(host.config("absent"), std::nullopt);

    host.storage().put("team/1", std::string("a\0b", 3));
    host.storage().put("team/2", "c");
    host.storage().put("other", "d");
    EXPECT_EQ(host.storage().get("team/1"), std::string("a\0b", 3));
    EXPECT_EQ(host.storage().get("absent"), std::nullopt);
    const std::vector<StoredValue> team = host.storage().list("team/");
    ASSERT_EQ(team.size(), 2u);
    EXPECT_EQ(team[1].key, "team/2");
    EXPECT_EQ(team[1].value, "c");
    EXPECT_TRUE(host.storage().remove("other"));
    EXPECT_FALSE(host.storage().remove("other"));

    EXPECT_EQ(host.submit({"", {"x@h.test", "y@h.test"}, "Subject: s\r\n\r\nb\r\n"}), "Q42");
    EXPECT_EQ(host_.submittedRecipients, (std::vector<std::string>{"x@h.test", "y@h.test"}));
    EXPECT_EQ(host_.submittedContent, "Subject: s\r\n\r\nb\r\n");

    const std::optional<DirectoryEntry> martin = host.directoryLookup("dr.martin@hopital.test");
    ASSERT_TRUE(martin);
    EXPECT_EQ(martin->nationalId, "810001234567");
    EXPECT_EQ(martin->profession, "Médecin");
    EXPECT_EQ(host.directoryLookup("nobody@hopital.test"), std::nullopt);

    host.audit({"team.created", "cardio@h.test", "", "{}", "", ""});
    const std::vector<std::string> audited{"team.created", "cardio@h.test", "", "{}", "", ""};
    EXPECT_EQ(host_.audits, std::vector<std::vector<std::string>>{audited});
    EXPECT_EQ(host_.auditStructSize, sizeof(plexus_audit_event));

    host.info("ready");
    EXPECT_EQ(host_.logs.back(), std::make_pair(PLEXUS_LOG_INFO, std::string("ready")));

    try {
        host.metricAdd("bad-name", "help");
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), PLEXUS_ERR_INVALID);
        EXPECT_STREQ(e.what(), "metric_add: invalid argument");
    }
}

TEST_F(PluginTest, OpenedMessagesAndStreamsCloseWhenDestroyed)
{
    const Host& host = static_cast<TestPlugin*>(state_)->host();
    {
        Message message = host.openMessage("dr.martin@hopital.test", "INBOX", 1);
        EXPECT_EQ(host_.openMessages.size(), 1u);
        EXPECT_EQ(message.info().partCount, 3u);
        Stream first = message.read();
        Stream moved = std::move(first);
        EXPECT_EQ(host_.openStreams.size(), 1u);
        char buffer[4];
        EXPECT_EQ(moved.read(buffer, sizeof buffer), 4u);
        Message other = std::move(message);
        EXPECT_EQ(host_.openMessages.size(), 1u);
    }
    EXPECT_TRUE(host_.openStreams.empty());
    EXPECT_TRUE(host_.openMessages.empty());

    try {
        host.openMessage("dr.martin@hopital.test", "INBOX", 2);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), PLEXUS_ERR_NOT_FOUND);
    }
}

TEST(PluginInit, AConstructorThrowingFailsInitWithItsStatusAndLeavesNothing)
{
    plexus_host_api api = recordingApi();
    const plexus_plugin_descriptor* descriptor = plexus_plugin_entry();
    const std::pair<std::function<void(Host&)>, plexus_status> failures[] = {
        {[](Host&) { throw Error(PLEXUS_ERR_INVALID, "header_value is empty"); }, PLEXUS_ERR_INVALID},
        {[](Host&) { throw std::runtime_error("out of luck"); }, PLEXUS_ERR_INTERNAL},
    };
    for (const auto& [construct, status] : failures) {
        script() = Script{};
        script().construct = construct;
        plexus_host host;
        void* state = nullptr;
        EXPECT_EQ(descriptor->init(&api, &host, &state), status);
        EXPECT_EQ(state, nullptr);
        EXPECT_EQ(liveInstances, 0);
        ASSERT_EQ(host.errors.size(), 1u);
    }
}

TEST(PluginInit, ShutdownDestroysThePlugin)
{
    script() = Script{};
    plexus_host_api api = recordingApi();
    plexus_host host;
    void* state = nullptr;
    const plexus_plugin_descriptor* descriptor = plexus_plugin_entry();
    ASSERT_EQ(descriptor->init(&api, &host, &state), PLEXUS_OK);
    EXPECT_NE(state, nullptr);
    EXPECT_EQ(liveInstances, 1);
    descriptor->shutdown(state);
    EXPECT_EQ(liveInstances, 0);
}

}  // namespace
