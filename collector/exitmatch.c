/* exitmatch.c: taskstats exit records against /proc identities. */
#include "collector/exitmatch.h"

/* The start of the exited process on CLOCK_BOOTTIME (the clock of /proc's starttime), ns;
 * 0 when not known. */
static uint64_t start_ns(const struct vm_task_exit *x) {
    uint64_t lived = x->elapsed_us * 1000;
    return x->seen_boottime_ns > lived ? x->seen_boottime_ns - lived : 0;
}

bool exit_matches(const struct vm_task_exit *x, int32_t pid, uint64_t starttime,
                  uint32_t clk_tck) {
    uint64_t a = start_ns(x);
    if (x->tgid != pid || a == 0 || clk_tck == 0)
        return false;
    uint64_t b = starttime * (1000000000ull / clk_tck);
    return (a > b ? a - b : b - a) <= EXIT_MATCH_NS;
}

void exit_enrich(struct vm_exited *e, const struct vm_task_exit *x) {
    e->flags |= VM_EXITED_TASKSTATS;
    e->exit_code = x->exit_code;
    e->uid = x->uid;
    e->exit_ms = x->exit_ms;
    e->exit_hiwater_rss = x->hiwater_rss_bytes;
    e->exit_hiwater_vm = x->hiwater_vm_bytes;
}

struct vm_exited exit_unseen(const struct vm_task_exit *x, uint32_t clk_tck,
                             uint64_t boot_time_ms, uint64_t now_ms) {
    uint64_t start = start_ns(x);
    struct vm_exited e = {
        .pid = x->tgid,
        .flags = VM_EXITED_HWM | VM_EXITED_PEAK | VM_EXITED_UNSEEN,
        .starttime = clk_tck ? start / (1000000000ull / clk_tck) : 0,
        .start_time_ms = boot_time_ms + start / 1000000,
        .exited_by_ms = now_ms,
        .vm_hwm = x->hiwater_rss_bytes,
        .vm_peak = x->hiwater_vm_bytes,
    };
    exit_enrich(&e, x);
    return e;
}
