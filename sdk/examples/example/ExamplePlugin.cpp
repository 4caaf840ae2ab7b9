// The example plugin: adds an X-Plexus-Example header to every message
// received, e.g. "X-Plexus-Example: seen by example 1.0.0 (MIME parts: 3)",
// naming the plugin as the operator configured it.
// The text before the parentheses comes from the `header_value` key of its
// configuration section when set.
#include <plexus/plugin.hpp>

#include <string>

namespace {

constexpr const char* kName = "example";
constexpr const char* kVersion = "1.0.0";

class ExamplePlugin : public plexus::sdk::Plugin {
public:
    explicit ExamplePlugin(plexus::sdk::Host& host)
        : Plugin(host),
          headerValue_(host.config("header_value").value_or("seen by " + host.name() + " " + kVersion))
    {
        // Called from many session threads at once: it only reads headerValue_.
        onMessage([this](const plexus::sdk::Session&, const plexus::sdk::Envelope&, plexus::sdk::Message& message) {
            const std::size_t parts = message.parts().size();
            message.addHeader("X-Plexus-Example", headerValue_ + " (MIME parts: " + std::to_string(parts) + ")");
            this->host().metricAdd("messages_total", "Messages the example plugin added its header to");
            return plexus::sdk::Verdict::proceed();
        });
        host.info("adding X-Plexus-Example: " + headerValue_);
    }

private:
    const std::string headerValue_;
};

}  // namespace

PLEXUS_PLUGIN(ExamplePlugin, kName, kVersion, "Adds X-Plexus-Example to every message received",
              PLEXUS_CAP_MESSAGE_HOOK)
