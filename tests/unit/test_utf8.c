/* test_utf8.c: UTF-8 validation and "\xHH" escaping of kernel strings for JSON. */
#include "api/utf8.h"
#include "test.h"

/* json_kernel_stringn(in) must be the string want, and dump to valid JSON. */
static void check_escape(const char *in, size_t len, const char *want) {
    json_t *v = json_kernel_stringn(in, len);
    CHECK(json_is_string(v));
    if (!v)
        return;
    CHECK_EQ_U64(json_string_length(v), strlen(want));
    CHECK_STREQ(json_string_value(v), want);
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    CHECK(text != NULL);
    json_t *back = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    CHECK(back && json_equal(back, v));
    json_decref(back);
    free(text);
    json_decref(v);
}
#define ESC(lit, want) check_escape(lit, sizeof(lit) - 1, want)

static void test_sequence_length(void) {
    CHECK_EQ_INT(utf8_sequence_length("", 0), 0);
    CHECK_EQ_INT(utf8_sequence_length("a", 1), 1);
    CHECK_EQ_INT(utf8_sequence_length("\0", 1), 0);
    CHECK_EQ_INT(utf8_sequence_length("\x7f", 1), 1);
    CHECK_EQ_INT(utf8_sequence_length("\xc3\xa9", 2), 2);         /* é */
    CHECK_EQ_INT(utf8_sequence_length("\xc3\xa9", 1), 0);         /* cut short */
    CHECK_EQ_INT(utf8_sequence_length("\xc0\x80", 2), 0);         /* overlong NUL */
    CHECK_EQ_INT(utf8_sequence_length("\xc1\xbf", 2), 0);         /* overlong */
    CHECK_EQ_INT(utf8_sequence_length("\xe2\x82\xac", 3), 3);     /* € */
    CHECK_EQ_INT(utf8_sequence_length("\xe0\x80\xaf", 3), 0);     /* overlong '/' */
    CHECK_EQ_INT(utf8_sequence_length("\xe0\xa0\x80", 3), 3);     /* U+0800 */
    CHECK_EQ_INT(utf8_sequence_length("\xed\x9f\xbf", 3), 3);     /* U+D7FF */
    CHECK_EQ_INT(utf8_sequence_length("\xed\xa0\x80", 3), 0);     /* U+D800 surrogate */
    CHECK_EQ_INT(utf8_sequence_length("\xef\xbf\xbf", 3), 3);     /* U+FFFF */
    CHECK_EQ_INT(utf8_sequence_length("\xf0\x9f\x98\x80", 4), 4); /* U+1F600 */
    CHECK_EQ_INT(utf8_sequence_length("\xf0\x8f\xbf\xbf", 4), 0); /* overlong */
    CHECK_EQ_INT(utf8_sequence_length("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
    CHECK_EQ_INT(utf8_sequence_length("\xf4\x90\x80\x80", 4), 0); /* U+110000 */
    CHECK_EQ_INT(utf8_sequence_length("\xf5\x80\x80\x80", 4), 0);
    CHECK_EQ_INT(utf8_sequence_length("\x80", 1), 0); /* lone continuation */
    CHECK_EQ_INT(utf8_sequence_length("\xff", 1), 0);
    CHECK_EQ_INT(utf8_sequence_length("\xe2\x82" "a", 3), 0);
}

static void test_valid(void) {
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("systemd", 7));
    CHECK(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    CHECK(!utf8_valid("a\0b", 3));
    CHECK(!utf8_valid("\xff\xfe", 2));
    CHECK(!utf8_valid("\xc3", 1));
    CHECK(!utf8_valid("ab\xed\xa0\x80", 5));
}

static void test_escape(void) {
    ESC("", "");
    ESC("systemd", "systemd");
    ESC("a) b (c\n", "a) b (c\n"); /* control characters are valid: jansson escapes them */
    ESC("back\\slash \"q\"", "back\\slash \"q\"");
    ESC("caf\xc3\xa9", "caf\xc3\xa9");
    ESC("\xff\xfe x", "\\xff\\xfe x");
    ESC("a\0b", "a\\x00b");
    ESC("\xc0\x80", "\\xc0\\x80");
    ESC("\xed\xa0\x80!", "\\xed\\xa0\\x80!");
    ESC("\xe2\x82", "\\xe2\\x82");        /* truncated at the end */
    ESC("\xe2\x82" "a", "\\xe2\\x82a");   /* truncated in the middle */
    ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
    ESC("ok\xf0\x9f\x98\x80\x80", "ok\xf0\x9f\x98\x80\\x80"); /* valid kept, stray escaped */
    ESC("/memfd:x (deleted)", "/memfd:x (deleted)");

    json_t *v = json_kernel_string(NULL);
    CHECK(json_is_null(v));
    json_decref(v);
    v = json_kernel_string("plain");
    CHECK_STREQ(json_string_value(v), "plain");
    json_decref(v);
    v = json_kernel_stringn(NULL, 5);
    CHECK_STREQ(json_string_value(v), "");
    json_decref(v);

    /* every single byte value */
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        json_t *e = json_kernel_stringn(&in, 1);
        CHECK(e != NULL);
        if (!e)
            continue;
        if (c > 0 && c < 0x80)
            CHECK(json_string_length(e) == 1 && json_string_value(e)[0] == in);
        else
            CHECK_EQ_U64(json_string_length(e), 4);
        json_decref(e);
    }
}

int main(void) {
    test_sequence_length();
    test_valid();
    test_escape();
    return test_result("test_utf8");
}
