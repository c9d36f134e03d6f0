#ifndef RELAYGATE_PATHS_H
#define RELAYGATE_PATHS_H

/*
 * paths - compiled-in locations, overridable with -c on every command.
 */

#ifndef RELAYGATE_CONF
#define RELAYGATE_CONF "/etc/relaygate/relaygate.conf"
#endif

#define RELAYGATE_VERSION_STRING "0.1.0"

#endif
