#!/usr/bin/env python3
"""Writes N realistic Squid native access.log lines to stdout (for benchmarks).

A mix of allowed and denied requests, CONNECT tunnels, search-engine URLs
(some matching the quickstart's alert rules), users and anonymous clients.
Deterministic: the same N gives the same file.
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(42)
sites = ["www.bbc.co.uk/bitesize", "www.wikipedia.org/wiki/Volcano", "classroom.google.com/u/0/h",
         "www.youtube.com/watch?v=dQw4w9WgXcQ", "www.sumdog.com/user/sign_in", "www.mathsisfun.com/algebra"]
queries = ["volcano+facts", "times+tables+game", "minecraft+castle", "year+6+sats+revision",
           "how+to+self+harm", "free+vpn+for+school", "buy+a+knife"]
out = sys.stdout
t = 1794819600.0
for i in range(n):
    t += rng.random() * 0.01
    ip = f"10.{20 + i % 3}.{(i // 250) % 250}.{i % 250}"
    user = f"pupil{i % 900:03d}" if i % 5 else "-"
    r = rng.random()
    if r < 0.1:
        line = f"{t:.3f} {rng.randint(0, 50):6d} {ip} TCP_DENIED/403 3890 GET http://blocked{i % 97}.example/ {user} HIER_NONE/- text/html"
    elif r < 0.4:
        line = f"{t:.3f} {rng.randint(20, 9000):6d} {ip} TCP_TUNNEL/200 {rng.randint(500, 90000)} CONNECT www.site{i % 500}.example:443 {user} HIER_DIRECT/93.184.216.{i % 250} -"
    elif r < 0.55:
        q = queries[i % len(queries)] if i % 1000 == 0 else queries[i % 4]
        line = f"{t:.3f} {rng.randint(20, 900):6d} {ip} TCP_MISS/200 {rng.randint(5000, 90000)} GET https://www.google.co.uk/search?q={q}&hl=en {user} HIER_DIRECT/142.250.187.195 text/html"
    else:
        line = f"{t:.3f} {rng.randint(1, 900):6d} {ip} TCP_MISS/200 {rng.randint(200, 200000)} GET https://{sites[i % len(sites)]}?id={i} {user} HIER_DIRECT/151.101.0.81 text/html"
    out.write(line + "\n")
