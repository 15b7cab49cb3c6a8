/*
 * Where the runtime (sockets) and state (keys, peers) directories are.
 * Runtime: $RUNTIME_DIRECTORY (systemd), else /run/atmosphere as root, else
 * $XDG_RUNTIME_DIR/atmosphere, else /tmp/atmosphere-UID.
 * State: $STATE_DIRECTORY, else /var/lib/atmosphere as root, else
 * $XDG_STATE_HOME/atmosphere or ~/.local/state/atmosphere.
 * Config: $ATMOSPHERE_CONFIG, else $CONFIGURATION_DIRECTORY/atmosphere.conf,
 * else /etc/atmosphere/atmosphere.conf.
 */
#ifndef COMMON_PATHS_H
#define COMMON_PATHS_H

#include <stddef.h>

int	paths_runtime_dir(char *buf, size_t len);
int	paths_state_dir(char *buf, size_t len);
int	paths_config_file(char *buf, size_t len);
/* $runtime/<daemon>.sock */
int	paths_socket(const char *daemon, char *buf, size_t len);
/* mkdir -p with the given mode for the last component */
int	paths_mkdir(const char *dir, unsigned int mode);

#endif
