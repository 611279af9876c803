/* replay.c: runs a fuzz target over every file of its corpus directories (used when the build
 * has no libFuzzer, e.g. gcc), so corpora stay regression tests in every build. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dirfd, const char *name) {
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf)
        return -1;
    (void)LLVMFuzzerTestOneInput(buf, got); /* exact size: ASan sees overreads */
    free(buf);
    return 1;
}

int main(int argc, char **argv) {
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: cannot open corpus %s\n", argv[i]);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.' && run_file(dirfd(d), de->d_name) > 0)
                files++;
        closedir(d);
    }
    printf("replayed %d corpus files\n", files);
    return files > 0 ? 0 : 1;
}
