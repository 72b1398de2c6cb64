#!/usr/bin/env python3
"""A slow link between a client and a TCP server, for bench/run.sh.

    slowlink.py LISTEN_PORT TARGET_PORT DELAY_MS RATE_KBIT

Listens on 127.0.0.1:LISTEN_PORT and relays every connection to
127.0.0.1:TARGET_PORT.  Each direction behaves like one hop of a slow
line: bytes leave at RATE_KBIT kbit/s, one after another, and arrive
DELAY_MS later (so the round trip gains 2 x DELAY_MS).  At most QUEUE
bytes wait in each direction; beyond that the relay stops reading, and
TCP's own flow control pushes back on the sender, as a full router
queue would.

Used where the kernel has no netem qdisc to do the same to a veth pair.
"""

import asyncio
import sys
import time

CHUNK = 16384
QUEUE = 256 * 1024


async def pump(reader, writer, delay, rate_bps):
    """Copy reader to writer through a delay line of its own."""
    line = asyncio.Queue()
    room = asyncio.Semaphore(QUEUE // CHUNK)

    async def deliver():
        while True:
            due, data = await line.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            room.release()
            await writer.drain()
        try:
            writer.write_eof()
        except OSError:
            pass

    task = asyncio.ensure_future(deliver())
    free_at = time.monotonic()
    try:
        while True:
            await room.acquire()
            data = await reader.read(CHUNK)
            if not data:
                break
            # Serialisation: the line is busy until free_at; then the
            # chunk takes len/rate to send, and delay to arrive.
            start = max(time.monotonic(), free_at)
            free_at = start + len(data) * 8 / rate_bps
            await line.put((free_at + delay, data))
    except (ConnectionError, OSError):
        pass
    await line.put((0, None))
    try:
        await task
    except (ConnectionError, OSError):
        pass


async def relay(target_port, delay, rate_bps, creader, cwriter):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(pump(creader, swriter, delay, rate_bps),
                         pump(sreader, cwriter, delay, rate_bps))
    for w in (cwriter, swriter):
        w.close()


async def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    delay = float(sys.argv[3]) / 1000
    rate_bps = float(sys.argv[4]) * 1000
    server = await asyncio.start_server(
        lambda r, w: relay(target_port, delay, rate_bps, r, w),
        "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
