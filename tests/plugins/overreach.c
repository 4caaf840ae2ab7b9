/* Registers a message hook without declaring PLEXUS_CAP_MESSAGE_HOOK: the host
 * refuses the registration, so init fails and plexusd must not start. */
#include <plexus/plugin.h>

static plexus_status hook(void* user, const plexus_session_info* session, const plexus_envelope* envelope,
                          plexus_message* message, plexus_verdict* verdict)
{
    (void)user;
    (void)session;
    (void)envelope;
    (void)message;
    (void)verdict;
    return PLEXUS_OK;
}

static plexus_status overreach_init(const plexus_host_api* api, plexus_host* host, void** state)
{
    *state = 0;
    const plexus_status status = api->register_message_hook(host, hook, 0);
    if (status != PLEXUS_OK) api->set_error(host, "the host refused the message hook");
    return status;
}

static void overreach_shutdown(void* state) { (void)state; }

static const plexus_plugin_descriptor descriptor = {
    sizeof(plexus_plugin_descriptor), PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR, "overreach", "0.1.0",
    "Uses a hook it did not declare", PLEXUS_CAP_TIMERS, overreach_init, overreach_shutdown,
};

PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void) { return &descriptor; }
