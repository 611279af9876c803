/* status.h: parser for /proc/PID/status (memory lines, Uid, Threads, Kthread, PPid). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/fields.h"

struct status_info {
    uint64_t memory[_VM_MEM_MAX]; /* bytes, enum vm_mem_field */
    uint32_t memory_present;      /* bit per enum vm_mem_field */
    uint32_t uid[4];              /* Uid: real effective saved fs */
    bool has_uid;
    int kthread;      /* Kthread: 0/1, -1 when the line is absent */
    uint64_t threads; /* Threads: */
    bool has_threads;
    int32_t ppid; /* PPid: */
    bool has_ppid;
    char state; /* State: first letter, 0 when absent */
};

/* Parse status text. Unknown keys are ignored, keys are matched by name (VM_MEMORY_FIELDS rows
 * for the memory lines, whose kB values become bytes); lines that are not "Key:value" lines are
 * skipped. A known key whose value is malformed (no " kB", overflow, Uid: without exactly four
 * ids, Kthread: not 0/1, PPid: beyond int32) leaves that field absent. Processes without an mm
 * (kernel threads, zombies) have no memory lines: memory_present stays 0. Returns 0, or -EINVAL
 * when the buffer holds no "Key:value" line at all (*ret is then untouched). */
int status_parse(const char *buf, size_t len, struct status_info *ret);
