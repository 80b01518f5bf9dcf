"""A child process with scripted behaviour, for the process watcher's tests.

Usage: child.py PIDFILE MODE. It writes its pid to PIDFILE, then:
- ``chatty``: prints a line every 0.1 s for 1.2 s, then exits 0;
- ``echo``: prints $DISCORD_TOKEN to stdout and stderr, many lines, then exits 3;
- ``sleep``: sleeps two minutes.
"""

import os
import sys
import time

pidfile, mode = sys.argv[1], sys.argv[2]
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))
if mode == "chatty":
    for i in range(12):
        print(f"progress {i}", flush=True)
        time.sleep(0.1)
elif mode == "echo":
    token = os.environ.get("DISCORD_TOKEN", "")
    for i in range(30):
        print(f"line {i}", flush=True)
    print(f"stdout says {token}", flush=True)
    print(f"stderr says {token}\nsecond line", file=sys.stderr, flush=True)
    sys.exit(3)
elif mode == "sleep":
    time.sleep(120)
