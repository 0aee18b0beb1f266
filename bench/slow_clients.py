#!/usr/bin/env python3
"""Slow download clients for bench/downloads.sh: N connections that each GET the URL and read
16 KiB every 100 ms (about 160 KiB/s) for SECONDS, then hang up. Prints how many got a 200.

usage: slow_clients.py URL N SECONDS
"""
import asyncio
import sys
import urllib.parse


async def one(host, port, path, seconds, ok):
    reader, writer = await asyncio.open_connection(host, port, limit=16384)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " in status:
        ok.append(1)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        data = await reader.read(16384)
        if not data:
            break
        await asyncio.sleep(0.1)
    writer.close()


async def main():
    url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    u = urllib.parse.urlsplit(url)
    ok = []
    await asyncio.gather(*(one(u.hostname, u.port, u.path, seconds, ok) for _ in range(n)),
                         return_exceptions=True)
    print(f"{len(ok)} of {n} slow clients got 200", file=sys.stderr)


asyncio.run(main())
