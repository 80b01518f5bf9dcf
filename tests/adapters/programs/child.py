"""A child process with scripted behaviour, for the process watcher's tests.

Usage: child.py PIDFILE MODE. It writes its pid to PIDFILE, then:
- ``hang``: prints one line and sleeps (SIGTERM ends it);
- ``stubborn``: ignores SIGTERM, prints one line and sleeps (only SIGKILL ends it);
- ``chatty``: prints a line every 0.1 s for 1.2 s, then exits 0;
- ``echo``: prints $DISCORD_TOKEN to stdout and stderr, many lines, then exits 3.
"""

import os
import signal
import sys
import time

pidfile, mode = sys.argv[1], sys.argv[2]
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode in ("hang", "stubborn"):
    print("working...", flush=True)
    time.sleep(3600)
elif mode == "chatty":
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
