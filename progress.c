/*
 * progress.c - one progress line on stderr for long transfers.
 */
#include <sys/timerfd.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_start(struct progress *p, int on)
{
	struct itimerspec it;

	memset(p, 0, sizeof *p);
	p->fd = -1;
	p->start_ms = now_ms();
	if (!on || !isatty(STDERR_FILENO))
		return;
	p->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->fd < 0)
		return;
	memset(&it, 0, sizeof it);
	it.it_value.tv_nsec = PROGRESS_TICK_MS * 1000000L;
	it.it_interval = it.it_value;
	if (timerfd_settime(p->fd, 0, &it, NULL) != 0) {
		close(p->fd);
		p->fd = -1;
	}
}

/* "123 B", "12.3 KiB", ... one decimal, rounded down. */
static void fmt_bytes(char *out, size_t size, uint64_t v)
{
	static const char units[] = "KMGTPE";
	uint64_t div = 1024;
	int u = 0;

	if (v < 1024) {
		snprintf(out, size, "%llu B", (unsigned long long)v);
		return;
	}
	while (u < 5 && v / div >= 1024) {
		div *= 1024;
		u++;
	}
	snprintf(out, size, "%llu.%llu %ciB", (unsigned long long)(v / div),
	    (unsigned long long)(v % div * 10 / div), units[u]);
}

static void fmt_duration(char *out, size_t size, uint64_t s)
{
	if (s >= 100 * 3600)
		snprintf(out, size, ">99h");
	else if (s >= 3600)
		snprintf(out, size, "%llu:%02llu:%02llu",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60),
		    (unsigned long long)(s % 60));
	else
		snprintf(out, size, "%llu:%02llu", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
}

/* Bytes per second over the samples kept, 0 until there are two. */
static uint64_t rate_of(struct progress *p, uint64_t ms)
{
	unsigned oldest;

	p->sample[p->next].ms = ms;
	p->sample[p->next].bytes = p->bytes;
	p->next = (p->next + 1) % PROGRESS_SAMPLES;
	if (p->nsamples < PROGRESS_SAMPLES)
		p->nsamples++;
	oldest = (p->next + PROGRESS_SAMPLES - p->nsamples) % PROGRESS_SAMPLES;
	if (p->nsamples < 2 || ms <= p->sample[oldest].ms)
		return 0;
	return (p->bytes - p->sample[oldest].bytes) * 1000 /
	    (ms - p->sample[oldest].ms);
}

static void draw(struct progress *p, uint64_t ms)
{
	char done[24], total[24], rate[24], eta[16], line[160];
	uint64_t r = rate_of(p, ms);
	int n;

	fmt_bytes(done, sizeof done, p->bytes);
	fmt_bytes(rate, sizeof rate, r);
	if (p->total_known) {
		fmt_bytes(total, sizeof total, p->total_bytes);
		if (r > 0 && p->total_bytes > p->bytes)
			fmt_duration(eta, sizeof eta,
			    (p->total_bytes - p->bytes + r - 1) / r);
		else
			snprintf(eta, sizeof eta, "%s",
			    p->total_bytes > p->bytes ? "--:--" : "0:00");
		n = snprintf(line, sizeof line, "\r%s / %s  %llu/%llu files  "
		    "%s/s  ETA %s\033[K", done, total,
		    (unsigned long long)p->files,
		    (unsigned long long)p->total_files, rate, eta);
	} else {
		n = snprintf(line, sizeof line, "\r%s  %llu files  %s/s\033[K",
		    done, (unsigned long long)p->files, rate);
	}
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ?
	    (size_t)n : sizeof line - 1) > 0)
		p->shown = p->drawn = 1;
}

void progress_tick(struct progress *p)
{
	uint64_t expirations, ms;

	if (p->fd < 0)
		return;
	if (read(p->fd, &expirations, sizeof expirations) < 0)
		return;
	ms = now_ms();
	if (ms - p->start_ms >= PROGRESS_DELAY_MS)
		draw(p, ms);
}

void progress_clear(struct progress *p)
{
	static const char erase[] = "\r\033[K";

	if (p->shown && write(STDERR_FILENO, erase, sizeof erase - 1) > 0)
		p->shown = 0;
}

void progress_stop(struct progress *p)
{
	if (p->fd < 0)
		return;
	close(p->fd);
	p->fd = -1;
	if (!p->drawn)
		return;
	draw(p, now_ms());
	if (write(STDERR_FILENO, "\n", 1) < 0)
		(void)0;
	p->shown = 0;
}
