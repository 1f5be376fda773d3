"""Interruption harness driver: starts the CLI, waits until a temporary (.NAME.tmp-*) exists under WATCH, sends
the signal, and prints JSON: seen (temporaries seen before the signal), rc, stderr, left (temporaries left after).
Usage: interrupt_cli.py CLI WATCH SIGNAL ARG...  (SHARPTUNE_TEST_COMMIT_DELAY_MS holds commits back).
INTERRUPT_WATCH=TEXT signals once a name containing TEXT exists instead (seen lists those names), and
INTERRUPT_COMMIT_DELAY_MS sets the commit delay (default 60000; 0 for a verb whose interrupt itself commits, as train's
checkpoint). left always lists the temporaries (.tmp-) left."""
import json, os, signal, subprocess, sys, time

cli, watch, sig, args = sys.argv[1], sys.argv[2], getattr(signal, sys.argv[3]), sys.argv[4:]


marker = os.environ.get("INTERRUPT_WATCH", ".tmp-")


def temporaries(text=".tmp-"):
    found = []
    for root, dirs, files in os.walk(watch):
        found += [os.path.join(root, n) for n in dirs + files if text in n]
    return found


env = dict(os.environ, SHARPTUNE_TEST_COMMIT_DELAY_MS=os.environ.get("INTERRUPT_COMMIT_DELAY_MS", "60000"))
p = subprocess.Popen([cli] + args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
start = time.time()
while not temporaries(marker) and p.poll() is None and time.time() - start < 120:
    time.sleep(0.02)
seen = temporaries(marker)
if p.poll() is None:
    p.send_signal(sig)
try:
    _, err = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    _, err = p.communicate()
print(json.dumps({"seen": seen, "rc": p.returncode, "stderr": err.decode("utf-8", "replace"), "left": temporaries()}))
