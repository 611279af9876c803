/* fuzz_taskstats.c: taskstats_parse on the input after its first two bytes (the family id,
 * little-endian), from an exact-size copy, with room for 64 records and then for 2: the two
 * runs must agree on the records they share, and every record must keep the parser's promises. */
#include "collector/taskstats.h"
#include "fuzz.h"

#define ROOM 64

static void check_record(const struct vm_task_exit *e) {
    FUZZ_CHECK(e->tid >= 1 && e->tgid >= 1 && e->ppid >= 0);
    FUZZ_CHECK(e->version != 0);
    FUZZ_CHECK(memchr(e->comm, '\0', sizeof(e->comm)) != NULL);
    FUZZ_CHECK(e->hiwater_rss_bytes % 1024 == 0 && e->hiwater_vm_bytes % 1024 == 0);
    FUZZ_CHECK(e->seen_boottime_ns == 0);
    if (e->guessed)
        FUZZ_CHECK(e->group_dead && e->tgid == e->tid && e->version < 12);
}

static bool same(const struct vm_task_exit *a, const struct vm_task_exit *b) {
    return a->tid == b->tid && a->tgid == b->tgid && a->exit_ms == b->exit_ms &&
           a->btime_s == b->btime_s && a->hiwater_rss_bytes == b->hiwater_rss_bytes &&
           a->hiwater_vm_bytes == b->hiwater_vm_bytes && a->group_dead == b->group_dead &&
           strcmp(a->comm, b->comm) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct vm_task_exit out[ROOM], two[2];
    size_t n = ROOM + 1, n2 = 3;

    if (size < 2)
        return 0;
    uint16_t family = (uint16_t)(data[0] | data[1] << 8);
    char *p = fuzz_exact(data + 2, size - 2);

    int r = taskstats_parse(p, size - 2, family, out, ROOM, &n);
    FUZZ_CHECK(r <= 0 && r > -4096);
    FUZZ_CHECK(n <= ROOM);
    for (size_t i = 0; i < n; i++)
        check_record(&out[i]);

    int r2 = taskstats_parse(p, size - 2, family, two, 2, &n2);
    FUZZ_CHECK(n2 == (n < 2 ? n : 2));
    for (size_t i = 0; i < n2; i++)
        FUZZ_CHECK(same(&out[i], &two[i]));
    if (n <= 2)
        FUZZ_CHECK(r2 == r);
    else if (n > 2)
        FUZZ_CHECK(r2 != 0);
    free(p);
    return 0;
}
