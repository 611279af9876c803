/* fuzz_fleet_doc.c: what a peer sends. The first byte picks the document kind (enum
 * fleet_doc_kind; one more value picks a peer list, as in --peers-file), the rest is the body.
 * fleet_doc_parse() must refuse it with a message that is valid UTF-8 or accept it; an
 * accepted document takes the place of that kind in an otherwise valid peer, next to a second
 * peer, and the merge (twice, so peaks are carried) and every fleet document rendered from it
 * must succeed and parse back as JSON with the members they promise. */
#include <jansson.h>
#include <stdio.h>

#include "api/fleet_doc.h"
#include "api/fleet_url.h"
#include "api/fleet_view.h"
#include "api/utf8.h"
#include "fuzz.h"

static const char *const base_docs[_FLEET_DOC_MAX] = {
    [FLEET_DOC_NODE] = "{\"snapshot\":{\"seq\":3,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},"
                       "\"hostname\":\"h\",\"max_map_count\":65530}",
    [FLEET_DOC_PROCESSES] =
        "{\"snapshot\":{\"seq\":3,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},\"total\":1,"
        "\"processes\":[{\"pid\":1,\"ppid\":0,\"id\":\"1:1\",\"comm\":\"init\",\"cmdline\":\"\","
        "\"threads\":1,\"kthread\":false,\"memory\":{\"vm_rss\":4096},\"rollup\":null,"
        "\"hiwater\":{},\"errors\":[]}]}",
    [FLEET_DOC_HUGEPAGES] =
        "{\"snapshot\":{\"seq\":3,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},\"pools\":["
        "{\"size_bytes\":2097152,\"numa_node\":null,\"total\":2,\"free\":1,\"reserved\":0,"
        "\"surplus\":0}],\"thp\":{\"anon\":0}}",
};

static struct fleet_doc *base(int kind) {
    static struct fleet_doc *docs[_FLEET_DOC_MAX];
    if (docs[kind])
        return docs[kind];
    char text[1024];
    if (kind >= FLEET_DOC_HIWATER)
        snprintf(text, sizeof(text),
                 "{\"snapshot\":{\"seq\":3,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},"
                 "\"group_by\":\"%s\",\"groups\":[{\"key\":\"init\",\"processes\":1,\"rss\":4096,"
                 "\"vm_hwm_sum\":4096,\"vm_hwm_max\":4096,\"vm_hwm_max_pid\":1,"
                 "\"vm_peak_max\":8192,\"observed_rss_peak\":4096,\"exited\":0,"
                 "\"exited_vm_hwm_max\":0}]}",
                 vm_group_by_name(kind - FLEET_DOC_HIWATER));
    else
        snprintf(text, sizeof(text), "%s", base_docs[kind]);
    if (fleet_doc_parse(kind, text, strlen(text), 10, &docs[kind], NULL, 0) < 0)
        abort();
    return docs[kind];
}

static void check_json(const char *body, size_t len, const char *member) {
    json_t *doc = json_loadb(body, len, 0, NULL);
    FUZZ_CHECK(doc != NULL);
    FUZZ_CHECK(!member || json_object_get(doc, member) != NULL);
    json_decref(doc);
}

static void check_tree(json_t *tree, const char *member) {
    FUZZ_CHECK(tree != NULL);
    char *body = NULL;
    size_t len = 0;
    FUZZ_CHECK(render_dump(tree, NULL, &body, &len) == 0);
    json_decref(tree);
    check_json(body, len, member);
    free(body);
}

static void use(int kind, struct fleet_doc *d) {
    struct fleet_result res[2] = {0};
    struct fleet_round round = {.started_at_ms = 1795543201000ull, .n = 2, .peers = res};
    for (int i = 0; i < 2; i++) {
        const char *url = i ? "http://b:2" : "http://a:1";
        if (fleet_url_parse(url, strlen(url), &res[i].url, NULL, 0) < 0)
            abort();
        res[i].up = true;
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            res[i].docs[k] = fleet_doc_ref(i == 0 && k == kind ? d : base(k));
    }
    struct fleet_view *v1 = NULL, *v2 = NULL;
    if (fleet_merge(NULL, &round, &v1) == 0 && fleet_merge(v1, &round, &v2) == 0) {
        char *body = NULL;
        size_t len = 0;
        struct proc_query q;
        proc_query_init(&q);
        q.kthreads = PROC_KTHREADS_INCLUDE;
        FUZZ_CHECK(render_fleet_processes(v2, &q, NULL, NULL, &body, &len) == 0);
        check_json(body, len, "processes");
        free(body);
        for (int by = 0; by < _VM_GROUP_MAX; by++) {
            FUZZ_CHECK(render_fleet_hiwater(v2, by, NULL, &body, &len) == 0);
            check_json(body, len, "groups");
            free(body);
        }
        check_tree(render_fleet_nodes(v2), "nodes");
        check_tree(render_fleet_hugepages(v2), "totals");
        check_tree(render_fleet_targets(v2), NULL);
        FILE *f = open_memstream(&body, &len);
        render_fleet_metrics(f, v2, true);
        fclose(f);
        free(body);
    }
    fleet_view_unref(v1);
    fleet_view_unref(v2);
    for (int i = 0; i < 2; i++) {
        fleet_url_done(&res[i].url);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(res[i].docs[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20))
        return 0;
    int kind = data[0] % (_FLEET_DOC_MAX + 1);
    char *buf = fuzz_exact(data + 1, size - 1);
    char err[256];
    err[0] = 0;
    if (kind == _FLEET_DOC_MAX) {
        struct fleet_url *list = NULL;
        size_t n = 0;
        int r = fleet_urls_parse(buf, size - 1, "peers", &list, &n, err, sizeof(err));
        FUZZ_CHECK(r == 0 || (r == -EINVAL && n == 0 && utf8_valid(err, strlen(err))));
        for (size_t i = 0; r == 0 && i < n; i++) {
            size_t ulen = strlen(list[i].url);
            FUZZ_CHECK(ulen <= VM_FLEET_URL_MAX + 16 && strchr(list[i].node, ':'));
            /* A normalized URL parses back to itself. */
            struct fleet_url again;
            FUZZ_CHECK(fleet_url_parse(list[i].url, ulen, &again, NULL, 0) == 0);
            FUZZ_CHECK(strcmp(again.url, list[i].url) == 0 &&
                       strcmp(again.node, list[i].node) == 0);
            fleet_url_done(&again);
        }
        fleet_urls_free(list, n);
    } else {
        struct fleet_doc *d = NULL;
        int r = fleet_doc_parse(kind, buf, size - 1, 10, &d, err, sizeof(err));
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
            FUZZ_CHECK(err[0] && utf8_valid(err, strlen(err)));
        } else {
            FUZZ_CHECK(d->kind == kind);
            use(kind, d);
            fleet_doc_unref(d);
        }
    }
    free(buf);
    return 0;
}
