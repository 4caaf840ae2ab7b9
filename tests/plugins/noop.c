/* The smallest plugin: registers nothing. Loads, initialises and shuts down. */
#include <plexus/plugin.h>

static plexus_status noop_init(const plexus_host_api* api, plexus_host* host, void** state)
{
    (void)api;
    (void)host;
    *state = 0;
    return PLEXUS_OK;
}

static void noop_shutdown(void* state) { (void)state; }

static const plexus_plugin_descriptor descriptor = {
    sizeof(plexus_plugin_descriptor), PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR, "noop", "1.0.0",
    "Does nothing; for load and configuration tests", 0, noop_init, noop_shutdown,
};

PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void) { return &descriptor; }
