/* A plugin built for the next ABI major: plexusd must refuse it, naming both versions. */
#include <plexus/plugin.h>

static plexus_status future_init(const plexus_host_api* api, plexus_host* host, void** state)
{
    (void)api;
    (void)host;
    *state = 0;
    return PLEXUS_OK;
}

static void future_shutdown(void* state) { (void)state; }

static const plexus_plugin_descriptor descriptor = {
    sizeof(plexus_plugin_descriptor), PLEXUS_ABI_MAJOR + 1, 0, "future-major", "2.0.0",
    "Built for an ABI major this host does not provide", 0, future_init, future_shutdown,
};

PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void) { return &descriptor; }
