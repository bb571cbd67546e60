/*
 * floorhelper.c -- the least work an External Filter helper can do, so
 * that make bench can show what the machine itself allows (issue #7).
 *
 * The helper latency target (p99 <= 2 ms at 200 requests/s) is measured
 * on whatever machine runs the bench.  On a virtual machine a wake-up, a
 * pipe write or a file read can cost tens of microseconds of kernel time
 * and, now and then, milliseconds of waiting for the host.  This program
 * answers the same requests from the same driver (bench/helperload.c)
 * with no scoring at all: one thread, each FILE's file opened, read to
 * its end and closed, "<seq> OK" written.  Its latency is the floor under
 * any helper's on that machine in that run; the difference to
 * CGPCloudmark's is what CGPCloudmark adds.
 *
 * Protocol subset (cgp-protocol.md §1): "<seq> INTF <n>" gets "<seq> INTF
 * <min(n, 3)>", "<seq> QUIT" gets "<seq> OK" and ends the program, every
 * other request line "<seq> OK".  Lines longer than the buffer are
 * answered once, from their first part.  Bench code: not part of libcm,
 * built by bench/run.sh with $(CC).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_LINE_MAX 4096
#define FLOOR_INTF_VERSION 3UL

/* Read the file at path to its end; errors are ignored (the answer is the
 * same), as the point is only the cost of the read. */
static void
read_whole(const char *path)
{
    static char buf[1 << 16];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        return;
    }
    do {
        n = read(fd, buf, sizeof(buf));
    } while (n > 0);
    close(fd);
}

/* Answer one request line (LF and CR already cut); returns 1 on QUIT. */
static int
answer(char *line)
{
    char *cmd = strchr(line, ' ');

    if (cmd == NULL) {
        return 0;
    }
    *cmd++ = '\0';
    if (strncmp(cmd, "INTF ", 5) == 0) {
        unsigned long v = strtoul(cmd + 5, NULL, 10);

        printf("%s INTF %lu\n", line, v < FLOOR_INTF_VERSION
                                          ? v : FLOOR_INTF_VERSION);
    } else if (strncmp(cmd, "FILE ", 5) == 0) {
        read_whole(cmd + 5);
        printf("%s OK\n", line);
    } else {
        printf("%s OK\n", line);
        if (strcmp(cmd, "QUIT") == 0) {
            return 1;
        }
    }
    return 0;
}

int
main(void)
{
    char line[FLOOR_LINE_MAX];
    int is_tail = 0;

    /* One write per answer, as CGPCloudmark does. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strcspn(line, "\r\n");
        int is_whole = line[len] != '\0';

        line[len] = '\0';
        if (!is_tail && answer(line)) {
            break;
        }
        is_tail = !is_whole;
    }
    return 0;
}
