# Console-like readers against a running server on a big store: each thread signs in (as admin) and lists sessions
# through /list-sra-sessions over and over with the mix of views an admin uses, for a while; prints each view's
# median and p99 latency, the requests per second, the errors, and the server's RssAnon before, at its peak and after.
#
#   python3 scripts/bench-listing-rss.py PORT PID ADMIN_PASSWORD [SECONDS] [THREADS]
import collections, datetime, json, sys, threading, time, urllib.request

port, pid, password = sys.argv[1], sys.argv[2], sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
ALL = ["connecting", "connected", "failed", "completed", "terminated"]


def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) // 1024


def post(path, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def day_ago():
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


VIEWS = {
    "active (the default)": lambda: {},
    "30 days, every status": lambda: {"status-type": ALL},
    "failed ssh": lambda: {"status-type": ["failed"], "resource-type": ["ssh"]},
    "search a user's name": lambda: {"status-type": ALL, "search": "user00042"},
    "one gateway by -duration": lambda: {"status-type": ALL, "gateway": ["gw-003"], "sort": "-duration"},
    "24 h by user": lambda: {"status-type": ALL, "from": day_ago(), "sort": "user:asc"},
    "cli + k8s": lambda: {"status-type": ALL, "client-interface": ["cli"], "resource-type": ["k8s"]},
}

token = post("/auth", {"access-type": "password", "admin-email": "admin", "admin-password": password})["token"]
times = collections.defaultdict(list)
errors = collections.Counter()
before = rss()
peak = [before]
done = [False]


def reader(i):
    names = list(VIEWS)
    n = i
    while not done[0]:
        name = names[n % len(names)]
        n += 1
        body = VIEWS[name]()
        start = time.perf_counter()
        try:
            page = post("/list-sra-sessions", body, token)
            times[name].append(time.perf_counter() - start)
            if name == "30 days, every status" and page.get("next_page"):
                start = time.perf_counter()
                post("/list-sra-sessions", {**body, "pagination-token": page["next_page"]}, token)
                times["30 days, page 2"].append(time.perf_counter() - start)
        except urllib.error.HTTPError as e:
            errors[e.code] += 1
        except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
            errors[type(e).__name__] += 1


def watch():
    while not done[0]:
        peak[0] = max(peak[0], rss())
        time.sleep(0.05)


w = threading.Thread(target=watch)
w.start()
workers = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
started = time.perf_counter()
[t.start() for t in workers]
time.sleep(seconds)
done[0] = True
[t.join() for t in workers]
w.join()
elapsed = time.perf_counter() - started
total = sum(len(v) for v in times.values())
print(f"{threads} readers for {elapsed:.0f} s: {total} listings, {total / elapsed:.1f}/s, errors {dict(errors) or 0}")
print("| view | listings | median | p99 |")
print("|---|---:|---:|---:|")
for name, values in times.items():
    values.sort()
    p = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000  # noqa: E731
    print(f"| {name} | {len(values)} | {p(0.5):.1f} ms | {p(0.99):.1f} ms |")
print(f"RssAnon before {before} MB, peak {peak[0]} MB, after {rss()} MB")
