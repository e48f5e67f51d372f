#!/usr/bin/env python3
# The load benchmark (issue #13): the release server under N console users and gateways ingesting at a set rate, on
# SQLite or PostgreSQL. Not part of CI (it runs for minutes); figures go to BENCHMARKS.md.
#
#   scripts/build && python3 scripts/bench-load.py --engine sqlite --consoles 500 --rate 2000 --seconds 300
#   python3 scripts/bench-load.py --engine postgres --postgres-url postgres://postgres@127.0.0.1:5432/postgres ...
#
# It starts the server itself (demo users, a fresh database), registers gateways with `sra-server admin`, then:
# - each console user lists a view (a mix of six filter sets, as a person would use them), opens that view's event
#   stream from the listing's changes token, and every 20 s asks what changed since its latest token (the console's
#   fallback refresh, run here alongside the stream to load both paths); a `reset` answer lists the view again;
# - gateways report batches of session changes (start, connect, complete) at the set rate in all;
# and reports per request kind the count, rate, p50 / p99 latency and errors, the stream events received, the ingest
# rate achieved, and the server's RssAnon (before, peak, after).
import argparse, collections, json, multiprocessing, os, random, resource, select, socket, subprocess, sys, tempfile
import threading, time
import urllib.error, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "target", "release", "sra-server")
ALL = ["connecting", "connected", "failed", "completed", "terminated"]
LOGINS = ["admin", "olivia", "oscar", "alice", "bob", "carol"]
# (console URL parameters, the same view as API keys)
VIEWS = [
    ([("status", "connecting"), ("status", "connected")], {"status-type": ["connecting", "connected"]}),
    ([("status", s) for s in ALL], {"status-type": ALL}),
    ([("status", "failed"), ("resource", "ssh")], {"status-type": ["failed"], "resource-type": ["ssh"]}),
    ([("status", s) for s in ALL] + [("gateway", "gw-load-03")], {"status-type": ALL, "gateway": ["gw-load-03"]}),
    ([("status", s) for s in ALL] + [("client", "cli"), ("resource", "k8s")],
     {"status-type": ALL, "client-interface": ["cli"], "resource-type": ["k8s"]}),
    ([("status", s) for s in ALL] + [("q", "alice")], {"status-type": ALL, "search": "alice"}),
]

args = argparse.ArgumentParser(description=__doc__)
args.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
args.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
args.add_argument("--consoles", type=int, default=500)
args.add_argument("--rate", type=int, default=2000, help="updates per second, all gateways together")
args.add_argument("--gateways", type=int, default=20)
args.add_argument("--seconds", type=float, default=300)
args.add_argument("--port", type=int, default=3191)
args.add_argument("--processes", type=int, default=4, help="generator processes the consoles and gateways are spread over")
opts = args.parse_args()

stats = collections.defaultdict(list)  # kind -> latencies (s)
errors = collections.Counter()
events = collections.Counter()
applied = [0]
received = [0]  # stream bytes
lock = threading.Lock()
stop = threading.Event()


def note(kind, seconds=None, error=None):
    with lock:
        if error is not None:
            errors[f"{kind}: {error}"[:120]] += 1
        else:
            stats[kind].append(seconds)


def post(path, body, token=None, timeout=60):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://127.0.0.1:{opts.port}{path}", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


def timed(kind, path, body, token=None):
    started = time.monotonic()
    try:
        answer = post(path, body, token)
    except urllib.error.HTTPError as e:
        note(kind, error=f"{e.code} {e.read()[:80]!r}")
        return None
    except Exception as e:  # noqa: BLE001 — any failure is counted, by kind
        note(kind, error=type(e).__name__)
        return None
    note(kind, time.monotonic() - started)
    return answer


def cpu_seconds(pid):
    # utime + stime, in clock ticks, fields 14 and 15 of /proc/<pid>/stat (after the command's parenthesis).
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def rss(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("RssAnon"):
                return int(line.split()[1]) // 1024
    except OSError:
        return 0
    return 0


# The server, on a fresh database.
data = tempfile.mkdtemp(prefix="sra-load-")
env = {k: v for k, v in os.environ.items() if not k.startswith("SRA_") and k != "DATABASE_URL"}
if opts.engine == "postgres":
    subprocess.run(["psql", opts.postgres_url, "-qc", "DROP DATABASE IF EXISTS sra_load WITH (FORCE)"], check=True)
    subprocess.run(["psql", opts.postgres_url, "-qc", "CREATE DATABASE sra_load"], check=True)
    env["DATABASE_URL"] = opts.postgres_url.rsplit("/", 1)[0] + "/sra_load"
common = ["--data-dir", data, "--audit-key-file", os.path.join(data, "audit.key")]
server = subprocess.Popen(
    [SERVER, *common, "--demo", "--port", str(opts.port), "--log-level", "warn", "--streams-per-user", "10000"],
    env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for line in server.stdout:
    if "is serving" in line:
        break
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()


def admin(*words):
    # The running server writes too (the demo's gateways): a command that found the database busy is run again.
    for attempt in range(10):
        done = subprocess.run([SERVER, *common, "admin", *words], env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout
        time.sleep(0.5)
    server.kill()
    sys.exit(f"sra-server admin {' '.join(words)} failed: {done.stderr}")


keys = []
for g in range(opts.gateways):
    name = f"gw-load-{g:02d}"
    admin("gateway", "register", name)
    keys.append((name, next(w for w in admin("gateway", "key", name).split() if w.startswith("g-"))))
tokens = {login: post("/auth", {"access-type": "password", "admin-email": login,
                                "admin-password": f"{login}-sra-demo"})["token"] for login in LOGINS}
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
admin_cpu = [usage.ru_utime + usage.ru_stime]
print(f"# {opts.engine}: {opts.consoles} console users, {opts.gateways} gateways at {opts.rate} updates/s, "
      f"{opts.seconds:.0f} s; server pid {server.pid}", flush=True)


def gateway(name, key, share):
    rng = random.Random(name)
    connecting, connected, n = [], [], 0
    batch_every = 0.25
    per_batch = max(1, round(share * batch_every))
    # Gateways are not synchronized: each reports at its own phase of the period (all at once would queue every batch
    # behind the others' at the one writer, and measure the generator's lockstep rather than the server).
    next_at = time.monotonic() + batch_every * (int(name.rsplit("-", 1)[1]) % opts.gateways) / opts.gateways
    while not stop.is_set():
        now_ms = int(time.time() * 1000)
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + f".{now_ms % 1000:03d}Z"
        reports = []
        while len(reports) < per_batch:
            pick = rng.random()
            if connected and pick < 0.33:
                sid = connected.pop(0)
                reports.append({"update-id": f"{sid}:done", "session-id": sid, "status": "completed", "at": at})
            elif connecting and pick < 0.66:
                sid = connecting.pop(0)
                connected.append(sid)
                reports.append({"update-id": f"{sid}:up", "session-id": sid, "status": "connected", "at": at})
            else:
                sid = f"{name}-{n}"
                n += 1
                connecting.append(sid)
                reports.append({"update-id": f"{sid}:start", "session-id": sid, "status": "connecting", "at": at,
                                "user": rng.choice(LOGINS), "client-interface": rng.choice(["cli", "desktop_app"]),
                                "resource-type": rng.choice(["ssh", "rdp", "k8s", "postgres"]),
                                "secret-name": f"/load/{name}/{rng.randrange(50)}", "target-name": "t"})
        # As a gateway does: the same batch (same update IDs) again until it is acknowledged.
        answer = None
        while answer is None and not stop.is_set():
            answer = timed("ingest batch", "/gateway/session-updates", {"updates": reports}, key)
        if answer is not None:
            with lock:
                applied[0] += sum(1 for r in answer["results"] if r["outcome"] == "applied")
        next_at += batch_every
        time.sleep(max(0.0, next_at - time.monotonic()))


def console(i):
    login = LOGINS[i % len(LOGINS)]
    token = tokens[login]
    params, body = VIEWS[i % len(VIEWS)]
    time.sleep(random.random() * 20)  # users arrive over the first 20 s
    listed = timed("list (full page)", "/list-sra-sessions", body, token)
    if listed is None:
        return
    since = listed.get("changes_token", "")
    query = urllib.parse.urlencode(params + [("since", since)])
    try:
        sock = socket.create_connection(("127.0.0.1", opts.port), timeout=30)
        sock.sendall(f"GET /stream-sra-sessions?{query} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
                     .encode())
    except OSError as e:
        note("stream open", error=type(e).__name__)
        return
    buffer, refresh_at = b"", time.monotonic() + 20
    while not stop.is_set():
        ready, _, _ = select.select([sock], [], [], 0.5)
        if ready:
            chunk = sock.recv(262144)
            if not chunk:
                note("stream", error="closed by the server")
                break
            with lock:
                received[0] += len(chunk)
            buffer += chunk
            # Only an event's name and ID are read (they come before its data): the generator must not spend the
            # cores the server is measured on parsing what it receives.
            end = buffer.find(b"\n\n")
            while end >= 0:
                for line in buffer[:min(end, 4096)].split(b"\n"):
                    if line.startswith(b"event:"):
                        with lock:
                            events[line[6:].strip().decode()] += 1
                    elif line.startswith(b"id:"):
                        since = line[3:].strip().decode()
                    elif line.startswith(b"data:"):
                        break
                buffer = buffer[end + 2:]
                end = buffer.find(b"\n\n")
        if time.monotonic() >= refresh_at:
            refresh_at += 20
            answer = timed("refresh (changes-since)", "/list-sra-sessions", {**body, "changes-since": since}, token)
            if answer is not None:
                since = answer["changes_token"]
                if answer["changes"] == "reset":
                    again = timed("list (full page)", "/list-sra-sessions", body, token)
                    since = (again or {}).get("changes_token", since)
    sock.close()


def share(index, queue):
    """One generator process's share of the gateways and consoles; sends its figures back when the run ends."""
    random.seed(index)  # forked processes would otherwise draw the same arrival times
    threads = [threading.Thread(target=gateway, args=(n, k, opts.rate / opts.gateways), daemon=True)
               for g, (n, k) in enumerate(keys) if g % opts.processes == index]
    threads += [threading.Thread(target=console, args=(i,), daemon=True)
                for i in range(opts.consoles) if i % opts.processes == index]
    for t in threads:
        t.start()
    time.sleep(opts.seconds)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    queue.put((dict(stats), errors, events, applied[0], received[0]))


before = rss(server.pid)
peak = [before]
cpu_before = cpu_seconds(server.pid)


def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss(server.pid))
        time.sleep(1)


# Several processes, so that a client's latency is not its wait for one interpreter's lock among hundreds of threads.
context = multiprocessing.get_context("fork")
results = context.Queue()
processes = [context.Process(target=share, args=(i, results)) for i in range(opts.processes)]
started = time.monotonic()
for p in processes:
    p.start()
threading.Thread(target=sample, daemon=True).start()
for _ in processes:
    their_stats, their_errors, their_events, their_applied, their_received = results.get()
    for kind, values in their_stats.items():
        stats[kind].extend(values)
    errors.update(their_errors)
    events.update(their_events)
    applied[0] += their_applied
    received[0] += their_received
for p in processes:
    p.join()
stop.set()
elapsed = time.monotonic() - started
after = rss(server.pid)
server_cpu = cpu_seconds(server.pid) - cpu_before
children = resource.getrusage(resource.RUSAGE_CHILDREN)
# The generator's processes, less the `sra-server admin` commands run before the start.
own_cpu = children.ru_utime + children.ru_stime - admin_cpu[0]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


print("| request | count | per second | p50 | p99 | errors |")
print("|---|---|---|---|---|---|")
for kind in sorted(set(stats) | {k.split(":")[0] for k in errors}):
    values = stats.get(kind, [])
    failed = sum(n for k, n in errors.items() if k.startswith(kind + ":"))
    print(f"| {kind} | {len(values)} | {len(values) / elapsed:.1f} | {pct(values, 0.5):.1f} ms | "
          f"{pct(values, 0.99):.1f} ms | {failed} |")
# The server's own latency histogram (/metrics): what the server took, without the generator's threads waiting for
# Python's interpreter lock (its clients share 2 cores with the server). Reported as the bucket bound reached.
buckets = collections.defaultdict(dict)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{opts.port}/metrics", timeout=30) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("sra_http_request_duration_seconds_bucket{"):
                labels, value = line[len("sra_http_request_duration_seconds_bucket{"):].rsplit("} ", 1)
                fields = dict(part.split("=", 1) for part in labels.split(","))
                route = fields["route"].strip('"')
                le = fields["le"].strip('"')
                buckets[route][float("inf") if le == "+Inf" else float(le)] = int(value)
except OSError as e:
    print(f"/metrics could not be read: {e}")


def bound(cumulative, q):
    total = cumulative[max(cumulative)]
    for le in sorted(cumulative):
        if cumulative[le] >= total * q:
            return "≤ %g ms" % (le * 1000) if le != float("inf") else "> 10 s"
    return "?"


print("\n| route (server side, /metrics) | requests | p50 | p99 |")
print("|---|---|---|---|")
for route in ["/list-sra-sessions", "/gateway/session-updates"]:
    if buckets.get(route):
        b = buckets[route]
        print(f"| {route} | {b[max(b)]} | {bound(b, 0.5)} | {bound(b, 0.99)} |")
print(f"\nupdates applied: {applied[0]} ({applied[0] / elapsed:.0f}/s of {opts.rate}/s asked)")
print(f"stream events: {dict(events)}")
print(f"stream data received: {received[0] / elapsed / 1e6:.1f} MB/s")
print(f"server RssAnon: {before} MB before, {peak[0]} MB at peak, {after} MB after")
print(f"CPU: server {server_cpu / elapsed:.2f} cores, this load generator {own_cpu / elapsed:.2f} cores (of 2)")
for error, n in errors.most_common(8):
    print(f"  {n} × {error}")
server.terminate()
server.wait(timeout=60)
