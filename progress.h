/*
 * progress.h - one progress line on stderr for long transfers.
 *
 * The line is drawn only when stderr is a terminal and the caller asks
 * for it, first after PROGRESS_DELAY_MS, then at most every
 * PROGRESS_TICK_MS, from a timer the caller polls: counting costs
 * nothing but the additions.  Integers only.
 */
#ifndef REMOWT_PROGRESS_H
#define REMOWT_PROGRESS_H

#include <stdint.h>

#define PROGRESS_DELAY_MS	1000
#define PROGRESS_TICK_MS	250
#define PROGRESS_SAMPLES	16	/* the rate is measured over ~4 s */

struct progress {
	int fd;			/* the timer to poll, -1 when off */
	int shown;		/* a line is on the terminal */
	int drawn;		/* one was, at some time */
	uint64_t start_ms;
	/* The caller's counts. */
	uint64_t bytes, files;
	uint64_t total_bytes, total_files;
	int total_known;	/* the totals will not grow */
	struct {
		uint64_t ms, bytes;
	} sample[PROGRESS_SAMPLES];
	unsigned nsamples, next;
};

/* Start counting; the line is drawn only if on and stderr is a tty. */
void progress_start(struct progress *p, int on);
/* The timer is readable: redraw if it is time. */
void progress_tick(struct progress *p);
/* Take the line off the terminal before a message (the next tick
 * draws it again). */
void progress_clear(struct progress *p);
/* Draw the final counts, end the line, stop the timer. */
void progress_stop(struct progress *p);

#endif
