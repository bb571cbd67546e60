/*
 * helperload.c -- load driver for the helper protocol (issue #7, SPEC §2,
 * §10): latency, throughput, memory and start-up time of CGPCloudmark in
 * helper mode, the way CGP drives it.
 *
 * DESIGN
 *  - The helper is spawned with pipes on its stdin and stdout, in the
 *    CGP base directory given (-d), so "FILE Queue/..." paths resolve as
 *    they do under CGP.  Its stderr is inherited.
 *  - Load mode (-P): a sender thread writes "<seq> FILE <path>" lines on
 *    an open-loop schedule (request i of a phase is due at start + i/rate;
 *    rate 0 = flat out, with at most -w requests in flight).  The main
 *    thread reads the answers, matches them by seq and stamps them.  A
 *    request's latency runs from the time it was DUE (not from the time
 *    the sender got to write it), so a helper that stalls the pipe is
 *    charged for the requests queued behind the stall (no coordinated
 *    omission).  Phases run one after another on the same helper process;
 *    each starts when the previous one has been fully answered.  A short
 *    unreported warm-up comes first.
 *  - "* <seq> ..." lines mark fail-open answers; they are counted, so a
 *    helper that answers fast because it does nothing is visible.  Other
 *    "*" lines that contain the -m text are events (e.g. "installed" for a
 *    cartridge swap): their times are printed, with the longest latency of
 *    the reported requests answered within one second of each event.
 *  - -x S:CMD runs CMD (/bin/sh -c) S seconds after the first reported
 *    phase started (e.g. publishing a new cartridge for the updater).
 *  - -D FILE writes every reported request's phase rate, latency and
 *    path (to find the slow messages).
 *  - At the end, before QUIT, VmHWM and VmRSS come from /proc/<pid>/status
 *    and the helper's CPU time from /proc/<pid>/stat.
 *  - Start-up mode (-S K): K times, spawn the helper, write INTF and one
 *    FILE at once, and time spawn -> the FILE answer; then QUIT.
 *
 * Output: one "key=value ..." line per phase, event and run on stdout (bench
 * /run.sh parses them).  Exit 0 when the runs completed, 1 when the helper
 * could not be driven (spawn failed, it exited, answers missing), 2 for bad
 * arguments.  No timing is asserted here: the numbers are only printed.
 *
 * Limits: HL_MAX_REQ requests in all, HL_MAX_PATHS paths of at most
 * HL_PATH_MAX bytes, HL_MAX_PHASES phases, answer lines up to HL_LINE_MAX.
 * Bench code: not part of libcm, built by bench/run.sh with $(CC).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HL_MAX_REQ 400000u
#define HL_MAX_PATHS 100000u
#define HL_PATH_MAX 1024u
#define HL_MAX_PHASES 16u
#define HL_LINE_MAX 8192u
#define HL_WARMUP 200u
#define HL_SEQ_BASE 100u
#define HL_EVENTS_MAX 16u
#define HL_EVENT_WINDOW_NS 1000000000ull
#define HL_ANSWER_TIMEOUT_MS 30000

struct hl_phase {
    double rate;       /* requests per second; 0 = flat out */
    size_t n;          /* requests */
    size_t first;      /* index of its first request */
    bool is_reported;  /* false for the warm-up */
    uint64_t start_ns; /* when its first request was due */
};

struct hl_req {
    uint64_t due_ns;
    uint64_t done_ns; /* 0 until answered */
    bool is_fail_open;
};

struct hl_event {
    uint64_t t_ns;
    char text[160];
};

struct hl_run {
    /* set up before the threads start, then read-only */
    char **paths;
    size_t n_paths;
    struct hl_phase phases[HL_MAX_PHASES + 1];
    size_t n_phases;
    size_t n_req;
    size_t window;
    int to_helper;
    double trigger_s;
    const char *trigger_cmd;
    const char *event_text;
    const char *dump_path;

    struct hl_req *reqs; /* due_ns by the sender, the rest by the reader */

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;
    size_t in_flight;
    size_t answered;
    bool is_dead;     /* the helper's stdout ended */
    bool send_failed; /* a write to the helper failed */
    uint64_t measure_start_ns;
    pid_t trigger_pid;

    struct hl_event events[HL_EVENTS_MAX];
    size_t n_events; /* reader only */
    size_t unmatched;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
sleep_until_ns(uint64_t t)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(t / 1000000000ull);
    ts.tv_nsec = (long)(t % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
           EINTR) {
    }
}

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads a decimal at *p (no sign); false when there is none or it is too
 * large. */
static bool
parse_u64(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;

    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9u) / 10u) {
            return false;
        }
        v = v * 10u + (uint64_t)(*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* ---- spawning ------------------------------------------------------ */

struct hl_child {
    pid_t pid;
    int to_fd;   /* its stdin */
    int from_fd; /* its stdout */
};

static int
spawn_helper(const char *dir, char **argv, struct hl_child *c)
{
    int in_pipe[2];
    int out_pipe[2];
    pid_t pid;

    if (pipe(in_pipe) != 0) {
        return -1;
    }
    if (pipe(out_pipe) != 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(out_pipe[1]);
        return -1;
    }
    if (pid == 0) {
        if (dup2(in_pipe[0], 0) < 0 || dup2(out_pipe[1], 1) < 0) {
            _exit(126);
        }
        close(in_pipe[0]);
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(out_pipe[1]);
        if (dir != NULL && chdir(dir) != 0) {
            perror(dir);
            _exit(126);
        }
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    c->pid = pid;
    c->to_fd = in_pipe[1];
    c->from_fd = out_pipe[0];
    return 0;
}

/* Line reader over a pipe, with a deadline per line. */
struct hl_lines {
    int fd;
    char buf[HL_LINE_MAX * 4];
    size_t len;
    size_t off;
    uint64_t stamp_ns; /* when the bytes of the current chunk arrived */
};

/* Next line (NUL-terminated, LF stripped) into line; 1 on a line, 0 on
 * EOF, -1 on timeout or error.  Over-long lines are cut. */
static int
next_line(struct hl_lines *r, char *line, size_t max, int timeout_ms)
{
    for (;;) {
        char *lf = memchr(r->buf + r->off, '\n', r->len - r->off);

        if (lf != NULL) {
            size_t n = (size_t)(lf - (r->buf + r->off));
            size_t keep = n < max - 1 ? n : max - 1;

            memcpy(line, r->buf + r->off, keep);
            line[keep] = '\0';
            r->off += n + 1;
            return 1;
        }
        if (r->off > 0) {
            memmove(r->buf, r->buf + r->off, r->len - r->off);
            r->len -= r->off;
            r->off = 0;
        }
        if (r->len == sizeof(r->buf)) {
            r->len = 0; /* a line longer than the buffer: drop it */
        }
        {
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            int pr = poll(&pfd, 1, timeout_ms);
            ssize_t n;

            if (pr < 0 && errno == EINTR) {
                continue;
            }
            if (pr <= 0) {
                return -1;
            }
            n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                return 0;
            }
            r->stamp_ns = now_ns();
            r->len += (size_t)n;
        }
    }
}

static long
proc_status_kb(pid_t pid, const char *key)
{
    char path[64];
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *p = line + klen + 1;
            uint64_t kb;

            while (*p == ' ' || *p == '\t') {
                p++;
            }
            if (parse_u64(&p, &kb)) {
                v = (long)kb;
            }
            break;
        }
    }
    fclose(f);
    return v;
}

/* utime + stime of pid (all its threads), in clock ticks, and stime
 * alone in *sys_ticks; -1 if unknown. */
static long long
proc_cpu_ticks(pid_t pid, long long *sys_ticks)
{
    char path[64];
    char buf[1024];
    const char *p;
    size_t n;
    int field;
    uint64_t ut = 0;
    uint64_t st = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces: fields count from the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    p++;
    for (field = 3; field <= 15 && *p != '\0'; field++) {
        while (*p == ' ') {
            p++;
        }
        if (field == 14 && !parse_u64(&p, &ut)) {
            return -1;
        }
        if (field == 15 && !parse_u64(&p, &st)) {
            return -1;
        }
        while (*p != ' ' && *p != '\0') {
            p++;
        }
    }
    *sys_ticks = (long long)st;
    return (long long)(ut + st);
}

static int
reap(pid_t pid, int timeout_ms)
{
    int status = 0;
    int waited;

    for (waited = 0; waited < timeout_ms; waited += 5) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        if (r < 0) {
            return -1;
        }
        sleep_until_ns(now_ns() + 5000000ull);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
}

/* ---- load mode ----------------------------------------------------- */

static void *
sender_main(void *arg)
{
    struct hl_run *run = arg;
    char line[HL_PATH_MAX + 64];
    size_t ph;

    for (ph = 0; ph < run->n_phases; ph++) {
        struct hl_phase *phase = &run->phases[ph];
        uint64_t start;
        size_t i;

        pthread_mutex_lock(&run->lock);
        while (run->in_flight > 0 && !run->is_dead) {
            pthread_cond_wait(&run->cond, &run->lock);
        }
        if (run->is_dead) {
            pthread_mutex_unlock(&run->lock);
            break;
        }
        start = now_ns() + 1000000ull;
        phase->start_ns = start;
        if (phase->is_reported && run->measure_start_ns == 0) {
            run->measure_start_ns = start;
            pthread_cond_broadcast(&run->cond);
        }
        pthread_mutex_unlock(&run->lock);
        for (i = 0; i < phase->n; i++) {
            size_t k = phase->first + i;
            struct hl_req *rq = &run->reqs[k];
            size_t len;
            uint64_t due = 0;
            bool ok;

            if (phase->rate > 0) {
                due = start + (uint64_t)((double)i * 1e9 / phase->rate);
                sleep_until_ns(due);
            }
            pthread_mutex_lock(&run->lock);
            while (phase->rate <= 0 && run->in_flight >= run->window &&
                   !run->is_dead) {
                pthread_cond_wait(&run->cond, &run->lock);
            }
            ok = !run->is_dead;
            if (phase->rate <= 0) {
                due = now_ns();
            }
            rq->due_ns = due;
            run->in_flight++;
            pthread_mutex_unlock(&run->lock);
            if (!ok) {
                break;
            }
            len = (size_t)snprintf(line, sizeof(line), "%zu FILE %s\n",
                                   k + HL_SEQ_BASE,
                                   run->paths[k % run->n_paths]);
            if (write_all(run->to_helper, line, len) != 0) {
                pthread_mutex_lock(&run->lock);
                run->send_failed = true;
                pthread_mutex_unlock(&run->lock);
                return NULL;
            }
        }
    }
    pthread_mutex_lock(&run->lock);
    while (run->in_flight > 0 && !run->is_dead) {
        pthread_cond_wait(&run->cond, &run->lock);
    }
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

static void *
trigger_main(void *arg)
{
    struct hl_run *run = arg;
    uint64_t start;
    pid_t pid;

    pthread_mutex_lock(&run->lock);
    while (run->measure_start_ns == 0 && !run->is_dead) {
        pthread_cond_wait(&run->cond, &run->lock);
    }
    start = run->measure_start_ns;
    pthread_mutex_unlock(&run->lock);
    if (start == 0) {
        return NULL;
    }
    sleep_until_ns(start + (uint64_t)(run->trigger_s * 1e9));
    pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        execl("/bin/sh", "sh", "-c", run->trigger_cmd, (char *)NULL);
        _exit(127);
    }
    printf("trigger t_ms=%.1f pid=%ld\n",
           (double)(now_ns() - start) / 1e6, (long)pid);
    fflush(stdout);
    pthread_mutex_lock(&run->lock);
    run->trigger_pid = pid;
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

/* One helper answer or "*" line. */
static void
take_line(struct hl_run *run, const char *line, uint64_t t)
{
    const char *p = line;
    uint64_t seq;
    bool is_star = false;

    if (p[0] == '*') {
        is_star = true;
        p++;
        while (*p == ' ') {
            p++;
        }
    }
    if (!parse_u64(&p, &seq) || *p != ' ' || seq < HL_SEQ_BASE ||
        seq - HL_SEQ_BASE >= run->n_req) {
        if (is_star && run->event_text != NULL &&
            strstr(line, run->event_text) != NULL &&
            run->n_events < HL_EVENTS_MAX) {
            struct hl_event *ev = &run->events[run->n_events++];
            size_t len = strnlen(line, sizeof(ev->text) - 1);

            ev->t_ns = t;
            memcpy(ev->text, line, len);
            ev->text[len] = '\0';
        } else if (!is_star) {
            run->unmatched++;
        }
        return;
    }
    if (is_star) {
        run->reqs[seq - HL_SEQ_BASE].is_fail_open = true;
        return;
    }
    pthread_mutex_lock(&run->lock);
    if (run->reqs[seq - HL_SEQ_BASE].done_ns == 0) {
        run->reqs[seq - HL_SEQ_BASE].done_ns = t;
        run->in_flight--;
        run->answered++;
        pthread_cond_broadcast(&run->cond);
    } else {
        run->unmatched++;
    }
    pthread_mutex_unlock(&run->lock);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Value at quantile q of sorted v[0..n). */
static double
quantile_ms(const uint64_t *v, size_t n, double q)
{
    size_t i;

    if (n == 0) {
        return 0;
    }
    i = (size_t)(q * (double)n);
    if (i >= n) {
        i = n - 1;
    }
    return (double)v[i] / 1e6;
}

static void
report_phase(const struct hl_run *run, const struct hl_phase *ph)
{
    uint64_t *lat = malloc((ph->n + 1) * sizeof(*lat));
    size_t n = 0;
    size_t fail_open = 0;
    uint64_t last = ph->start_ns;
    size_t i;

    if (lat == NULL) {
        return;
    }
    for (i = 0; i < ph->n; i++) {
        const struct hl_req *rq = &run->reqs[ph->first + i];

        if (rq->done_ns == 0) {
            continue;
        }
        lat[n++] = rq->done_ns - rq->due_ns;
        if (rq->done_ns > last) {
            last = rq->done_ns;
        }
        if (rq->is_fail_open) {
            fail_open++;
        }
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("phase rate=%s%.0f n=%zu answered=%zu fail_open=%zu "
           "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
           "throughput=%.1f\n",
           ph->rate > 0 ? "" : "flat", ph->rate > 0 ? ph->rate : 0.0, ph->n,
           n, fail_open, quantile_ms(lat, n, 0.50), quantile_ms(lat, n, 0.90),
           quantile_ms(lat, n, 0.99), quantile_ms(lat, n, 0.999),
           n > 0 ? (double)lat[n - 1] / 1e6 : 0.0,
           last > ph->start_ns ? (double)n * 1e9 / (double)(last -
                                                            ph->start_ns)
                               : 0.0);
    free(lat);
}

/* Every reported request: "<phase rate> <latency ms> <path>". */
static void
dump_requests(const struct hl_run *run)
{
    FILE *f = fopen(run->dump_path, "w");
    size_t ph;

    if (f == NULL) {
        perror(run->dump_path);
        return;
    }
    for (ph = 0; ph < run->n_phases; ph++) {
        const struct hl_phase *phase = &run->phases[ph];
        size_t i;

        if (!phase->is_reported) {
            continue;
        }
        for (i = 0; i < phase->n; i++) {
            size_t k = phase->first + i;
            const struct hl_req *rq = &run->reqs[k];

            fprintf(f, "%.0f\t%.3f\t%s\n", phase->rate,
                    rq->done_ns != 0 ? (double)(rq->done_ns - rq->due_ns) /
                                           1e6
                                     : -1.0,
                    run->paths[k % run->n_paths]);
        }
    }
    fclose(f);
}

static void
report_events(const struct hl_run *run)
{
    size_t e;

    for (e = 0; e < run->n_events; e++) {
        const struct hl_event *ev = &run->events[e];
        uint64_t worst = 0;
        size_t n = 0;
        size_t i;

        /* Reported requests only: the warm-up is sent flat out, and its
         * queueing would be charged to an event at the start. */
        for (i = run->phases[0].n; i < run->n_req; i++) {
            const struct hl_req *rq = &run->reqs[i];

            if (rq->done_ns == 0 ||
                rq->done_ns + HL_EVENT_WINDOW_NS < ev->t_ns ||
                rq->done_ns > ev->t_ns + HL_EVENT_WINDOW_NS) {
                continue;
            }
            n++;
            if (rq->done_ns - rq->due_ns > worst) {
                worst = rq->done_ns - rq->due_ns;
            }
        }
        printf("event t_ms=%.1f window_n=%zu window_max_ms=%.3f text=%s\n",
               run->measure_start_ns != 0 && ev->t_ns > run->measure_start_ns
                   ? (double)(ev->t_ns - run->measure_start_ns) / 1e6
                   : 0.0,
               n, (double)worst / 1e6, ev->text);
    }
}

static int
load_mode(struct hl_run *run, const char *dir, char **argv)
{
    struct hl_child c;
    struct hl_lines *rd;
    pthread_t sender;
    pthread_t trigger;
    bool has_trigger = run->trigger_cmd != NULL;
    char line[HL_LINE_MAX];
    long long cpu0;
    long long cpu1;
    long long sys0 = 0;
    long long sys1 = 0;
    uint64_t t_cpu0;
    uint64_t t_cpu1;
    long hwm;
    long rss;
    int rc = 0;
    int got;
    int status;
    size_t ph;
    size_t measured_n = 0;

    rd = calloc(1, sizeof(*rd));
    if (rd == NULL || spawn_helper(dir, argv, &c) != 0) {
        fprintf(stderr, "helperload: cannot start %s\n", argv[0]);
        free(rd);
        return 1;
    }
    rd->fd = c.from_fd;
    run->to_helper = c.to_fd;
    if (write_all(c.to_fd, "1 INTF 4\n", 9) != 0) {
        fprintf(stderr, "helperload: cannot write to the helper\n");
        rc = 1;
        goto out;
    }
    for (;;) {
        got = next_line(rd, line, sizeof(line), HL_ANSWER_TIMEOUT_MS);
        if (got <= 0) {
            fprintf(stderr, "helperload: no INTF answer\n");
            rc = 1;
            goto out;
        }
        if (strncmp(line, "1 INTF", 6) == 0) {
            break;
        }
        printf("star %s\n", line);
    }
    cpu0 = proc_cpu_ticks(c.pid, &sys0);
    t_cpu0 = now_ns();
    if (pthread_create(&sender, NULL, sender_main, run) != 0) {
        rc = 1;
        goto out;
    }
    if (has_trigger && pthread_create(&trigger, NULL, trigger_main, run) !=
                           0) {
        has_trigger = false;
    }
    for (;;) {
        bool done;

        pthread_mutex_lock(&run->lock);
        done = run->answered == run->n_req || run->send_failed;
        pthread_mutex_unlock(&run->lock);
        if (done) {
            break;
        }
        got = next_line(rd, line, sizeof(line), HL_ANSWER_TIMEOUT_MS);
        if (got <= 0) {
            fprintf(stderr, "helperload: %s after %zu answers\n",
                    got == 0 ? "the helper closed stdout"
                             : "no answer for 30 s",
                    run->answered);
            rc = 1;
            break;
        }
        take_line(run, line, rd->stamp_ns);
    }
    pthread_mutex_lock(&run->lock);
    run->is_dead = true; /* releases the sender's waits */
    pthread_cond_broadcast(&run->cond);
    pthread_mutex_unlock(&run->lock);
    pthread_join(sender, NULL);
    if (has_trigger) {
        pthread_join(trigger, NULL);
    }
    cpu1 = proc_cpu_ticks(c.pid, &sys1);
    t_cpu1 = now_ns();
    hwm = proc_status_kb(c.pid, "VmHWM");
    rss = proc_status_kb(c.pid, "VmRSS");
    for (ph = 0; ph < run->n_phases; ph++) {
        if (run->phases[ph].is_reported) {
            report_phase(run, &run->phases[ph]);
            measured_n += run->phases[ph].n;
        }
    }
    report_events(run);
    if (run->dump_path != NULL) {
        dump_requests(run);
    }
    {
        uint64_t quit_t0 = now_ns();
        int code;

        (void)write_all(c.to_fd, "2 QUIT\n", 7);
        while ((got = next_line(rd, line, sizeof(line), 10000)) > 0) {
            if (strncmp(line, "2 ", 2) == 0) {
                break;
            }
        }
        close(c.to_fd);
        c.to_fd = -1;
        code = reap(c.pid, 10000);
        printf("helper vmhwm_kb=%ld vmrss_kb=%ld cpu_ms=%.0f sys_ms=%.0f "
               "cpu_us_per_req=%.1f busy_pct=%.1f unmatched=%zu "
               "quit_ms=%.1f exit=%d\n",
               hwm, rss,
               cpu0 >= 0 && cpu1 >= cpu0
                   ? (double)(cpu1 - cpu0) * 1000.0 /
                         (double)sysconf(_SC_CLK_TCK)
                   : -1.0,
               cpu0 >= 0 && sys1 >= sys0
                   ? (double)(sys1 - sys0) * 1000.0 /
                         (double)sysconf(_SC_CLK_TCK)
                   : -1.0,
               cpu0 >= 0 && cpu1 >= cpu0 && run->n_req > 0
                   ? (double)(cpu1 - cpu0) * 1e6 /
                         (double)sysconf(_SC_CLK_TCK) / (double)run->n_req
                   : -1.0,
               cpu0 >= 0 && cpu1 >= cpu0 && t_cpu1 > t_cpu0
                   ? (double)(cpu1 - cpu0) * 1e11 /
                         (double)sysconf(_SC_CLK_TCK) /
                         (double)(t_cpu1 - t_cpu0)
                   : -1.0,
               run->unmatched, (double)(now_ns() - quit_t0) / 1e6, code);
        (void)measured_n;
        c.pid = -1;
    }
    if (run->trigger_pid > 0) {
        waitpid(run->trigger_pid, &status, 0);
    }
out:
    if (c.to_fd >= 0) {
        close(c.to_fd);
    }
    close(c.from_fd);
    if (c.pid > 0) {
        kill(c.pid, SIGTERM);
        reap(c.pid, 5000);
    }
    free(rd);
    return rc;
}

/* ---- start-up mode ------------------------------------------------- */

static int
startup_mode(const char *dir, char **argv, const char *path, int runs)
{
    double ms[64];
    int i;
    int n = 0;

    if (runs > 64) {
        runs = 64;
    }
    for (i = 0; i < runs; i++) {
        struct hl_child c;
        struct hl_lines *rd = calloc(1, sizeof(*rd));
        char req[HL_PATH_MAX + 64];
        char line[HL_LINE_MAX];
        uint64_t t0 = now_ns();
        size_t len;
        int got;
        bool ok = false;

        if (rd == NULL || spawn_helper(dir, argv, &c) != 0) {
            free(rd);
            fprintf(stderr, "helperload: cannot start %s\n", argv[0]);
            return 1;
        }
        rd->fd = c.from_fd;
        len = (size_t)snprintf(req, sizeof(req), "1 INTF 4\n2 FILE %s\n",
                               path);
        if (write_all(c.to_fd, req, len) == 0) {
            while ((got = next_line(rd, line, sizeof(line),
                                    HL_ANSWER_TIMEOUT_MS)) > 0) {
                if (strncmp(line, "2 ", 2) == 0) {
                    ok = true;
                    break;
                }
            }
        }
        if (ok) {
            ms[n] = (double)(rd->stamp_ns - t0) / 1e6;
            printf("startup run=%d first_answer_ms=%.2f answer=%.40s\n",
                   i + 1, ms[n], line);
            n++;
        }
        (void)write_all(c.to_fd, "3 QUIT\n", 7);
        close(c.to_fd);
        while (next_line(rd, line, sizeof(line), 10000) > 0) {
        }
        close(c.from_fd);
        reap(c.pid, 10000);
        free(rd);
    }
    if (n == 0) {
        fprintf(stderr, "helperload: no start-up run answered\n");
        return 1;
    }
    /* insertion sort: a handful of values */
    for (i = 1; i < n; i++) {
        double v = ms[i];
        int j = i - 1;

        while (j >= 0 && ms[j] > v) {
            ms[j + 1] = ms[j];
            j--;
        }
        ms[j + 1] = v;
    }
    printf("startup runs=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f\n", n,
           n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms[0],
           ms[n - 1]);
    return 0;
}

/* ---- arguments ----------------------------------------------------- */

static int
load_paths(struct hl_run *run, const char *list)
{
    FILE *f = fopen(list, "r");
    char line[HL_PATH_MAX + 2];

    if (f == NULL) {
        perror(list);
        return -1;
    }
    run->paths = calloc(HL_MAX_PATHS, sizeof(*run->paths));
    if (run->paths == NULL) {
        fclose(f);
        return -1;
    }
    while (run->n_paths < HL_MAX_PATHS &&
           fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\r\n");

        if (n == 0) {
            continue;
        }
        line[n] = '\0';
        run->paths[run->n_paths] = strdup(line);
        if (run->paths[run->n_paths] == NULL) {
            fclose(f);
            return -1;
        }
        run->n_paths++;
    }
    fclose(f);
    return run->n_paths > 0 ? 0 : -1;
}

/* "RATExCOUNT,..." with RATE 0 for flat out. */
static int
parse_phases(struct hl_run *run, const char *spec)
{
    const char *p = spec;

    run->phases[0].rate = 0;
    run->phases[0].n = HL_WARMUP;
    run->phases[0].is_reported = false;
    run->n_phases = 1;
    run->n_req = HL_WARMUP;
    while (*p != '\0') {
        struct hl_phase *ph;
        const char *x = strchr(p, 'x');
        uint64_t n;

        uint64_t rate;

        if (run->n_phases > HL_MAX_PHASES || x == NULL) {
            return -1;
        }
        ph = &run->phases[run->n_phases];
        if (!parse_u64(&p, &rate) || p != x || rate > 1000000u) {
            return -1;
        }
        ph->rate = (double)rate;
        p = x + 1;
        if (!parse_u64(&p, &n) || n == 0 || n > HL_MAX_REQ ||
            run->n_req + n > HL_MAX_REQ) {
            return -1;
        }
        ph->n = (size_t)n;
        ph->first = run->n_req;
        ph->is_reported = true;
        run->n_req += (size_t)n;
        run->n_phases++;
        if (*p == ',') {
            p++;
        } else if (*p != '\0') {
            return -1;
        }
    }
    return run->n_phases > 1 ? 0 : -1;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: helperload -d BASEDIR -l LIST -P RATExN[,RATExN...]\n"
            "                  [-w WINDOW] [-x SECONDS:CMD] [-m TEXT]"
            " [-D DUMP]\n"
            "                  -- HELPER [ARGS]\n"
            "       helperload -d BASEDIR -l LIST -S RUNS -- HELPER [ARGS]\n"
            "LIST: request paths relative to BASEDIR, one a line.\n"
            "RATE 0 = flat out with at most WINDOW (64) requests in "
            "flight.\n");
}

int
main(int argc, char **argv)
{
    struct hl_run run;
    const char *dir = NULL;
    const char *list = NULL;
    const char *phases = NULL;
    long startup_runs = 0;
    int i;
    int rc;

    memset(&run, 0, sizeof(run));
    run.window = 64;
    run.to_helper = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(a, "-d") == 0) {
            dir = v;
        } else if (strcmp(a, "-l") == 0) {
            list = v;
        } else if (strcmp(a, "-P") == 0) {
            phases = v;
        } else if (strcmp(a, "-w") == 0) {
            const char *p = v;
            uint64_t w;

            if (!parse_u64(&p, &w) || *p != '\0' || w == 0 || w > 100000) {
                usage();
                return 2;
            }
            run.window = (size_t)w;
        } else if (strcmp(a, "-S") == 0) {
            const char *p = v;
            uint64_t n;

            if (!parse_u64(&p, &n) || *p != '\0' || n == 0 || n > 64) {
                usage();
                return 2;
            }
            startup_runs = (long)n;
        } else if (strcmp(a, "-x") == 0) {
            const char *colon = strchr(v, ':');
            const char *p = v;
            uint64_t secs;

            if (colon == NULL || !parse_u64(&p, &secs) || p != colon ||
                secs > 3600) {
                usage();
                return 2;
            }
            run.trigger_s = (double)secs;
            run.trigger_cmd = colon + 1;
        } else if (strcmp(a, "-m") == 0) {
            run.event_text = v;
        } else if (strcmp(a, "-D") == 0) {
            run.dump_path = v;
        } else {
            usage();
            return 2;
        }
        i++;
    }
    if (i >= argc || dir == NULL || list == NULL ||
        (phases == NULL && startup_runs == 0)) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (load_paths(&run, list) != 0) {
        fprintf(stderr, "helperload: no paths in %s\n", list);
        return 2;
    }
    if (startup_runs > 0) {
        return startup_mode(dir, argv + i, run.paths[0], (int)startup_runs);
    }
    if (parse_phases(&run, phases) != 0) {
        usage();
        return 2;
    }
    run.reqs = calloc(run.n_req, sizeof(*run.reqs));
    if (run.reqs == NULL) {
        return 1;
    }
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.cond, NULL);
    rc = load_mode(&run, dir, argv + i);
    fflush(stdout);
    return rc;
}
