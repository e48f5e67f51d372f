# 200 parallel password sign-ins against a running server; prints its RssAnon before and after, and the answers.
import json, sys, threading, time, urllib.request, collections
port, pid = sys.argv[1], sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("RssAnon"): return int(line.split()[1]) // 1024
before = rss()
answers = collections.Counter()
peak = [before]
def attempt(i):
    body = json.dumps({"access-type": "password", "admin-email": f"user{i % 7}", "admin-password": "wrong-password-x"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/auth", data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r: answers[r.status] += 1
    except urllib.error.HTTPError as e: answers[e.code] += 1
    except Exception as e: answers[type(e).__name__] += 1
def watch():
    while not done[0]:
        peak[0] = max(peak[0], rss()); time.sleep(0.01)
done = [False]
w = threading.Thread(target=watch); w.start()
threads = [threading.Thread(target=attempt, args=(i,)) for i in range(200)]
[t.start() for t in threads]; [t.join() for t in threads]
done[0] = True; w.join()
print(f"RssAnon before {before} MB, peak {peak[0]} MB, after {rss()} MB; answers {dict(answers)}")
