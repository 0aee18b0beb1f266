#!/usr/bin/env python3
"""Time from POST .../downloads to the API reporting the download ready, for bench/downloads.sh.

Deletes the video's downloads, flushes the page cache's dirty pages (sync), then POSTs and polls
GET .../downloads every 2 ms over one keep-alive connection, so the figure is the server's time
to ready within a few milliseconds, not the cost of starting a client per poll. Prints seconds.

usage: ready_time.py API_BASE TOKEN UID     (API_BASE ends in .../accounts/ACCOUNT/stream)
"""
import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    api, token, uid = sys.argv[1], sys.argv[2], sys.argv[3]
    url = urllib.parse.urlparse(api)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": "Bearer " + token}
    path = f"{url.path}/{uid}/downloads"

    def call(method):
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, body

    call("DELETE")
    os.sync()
    t0 = time.monotonic()
    status, body = call("POST")
    if status != 200:
        sys.exit(f"POST answered {status}: {body[:200]!r}")
    while True:
        status, body = call("GET")
        state = json.loads(body)["result"]["default"]["status"]
        if state != "inprogress":
            break
        time.sleep(0.002)
    elapsed = time.monotonic() - t0
    if state != "ready":
        sys.exit(f"download ended in {state}")
    print(f"{elapsed:.4f}")


if __name__ == "__main__":
    main()
