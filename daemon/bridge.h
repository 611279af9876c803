/* bridge.h: the socket between the collector process (privileged, reads /proc, no network)
 * and the server process (unprivileged, speaks HTTP): a SOCK_SEQPACKET socketpair carrying
 * small fixed-size messages, and snapshots as sealed memfds passed with SCM_RIGHTS. */
#pragma once

#include <stdint.h>

#include "vmatlas/snapshot.h"

enum bridge_type {
    BRIDGE_SNAPSHOT = 1, /* collector -> server: a new snapshot (fd attached) */
    BRIDGE_NOTIFY,       /* collector -> server: sd_notify text for the main process to send */
    BRIDGE_REFRESH,      /* server -> collector: walk pid (value) now */
    BRIDGE_REFRESH_DONE, /* collector -> server: its result (value: 0/-errno, arg: retry s) */
    BRIDGE_RELOAD,       /* server -> collector: SIGHUP reached the main process */
};

struct bridge_msg {
    uint32_t type;  /* enum bridge_type */
    int32_t value;
    uint64_t arg;
    char text[256]; /* BRIDGE_NOTIFY, NUL-terminated */
};

/* Send msg, with fd attached when fd >= 0. Returns 0 or -errno (-EPIPE: the peer is gone). */
int bridge_send(int sock, const struct bridge_msg *msg, int fd);

/* Receive one message; an attached fd goes to *ret_fd (-1 when none; close it). Returns 0,
 * -ECONNRESET when the peer closed its end, -EBADMSG for a message of the wrong size or type
 * (its fd, if any, is closed), or -errno. */
int bridge_recv(int sock, struct bridge_msg *msg, int *ret_fd);

/* The snapshot in a new sealed memfd (no write, grow or shrink any more): *ret_fd. */
int bridge_snapshot_to_fd(const struct vm_snapshot *s, int *ret_fd);

/* A private copy (refcount 1) of the snapshot in a sealed memfd, validated (the server trusts
 * no block it did not check). Returns 0, -EPERM when the memfd is not sealed, -EBADMSG when
 * the block does not validate, or -errno. */
int bridge_snapshot_from_fd(int fd, struct vm_snapshot **ret);
