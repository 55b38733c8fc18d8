"""bench/tutor.sh's learners: signs N learners up and in through the forms
(cookies kept per learner), then each asks the tutor on the lesson with the
tutor script's request (Accept: text/event-stream) and reads the answer to
its end, again and again for BENCH_SECONDS. Prints how many answers arrived
and the times to the first piece and to the end."""
import http.cookiejar
import json
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

base, lesson, learners, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
password = "correct horse battery 42"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())


def token(opener, path):
    html = opener.open(base + path).read().decode()
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)


def post(opener, path, fields, headers=None):
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(base + path, data=data, headers={"Origin": base, **(headers or {})})
    try:
        return opener.open(req)
    except urllib.error.HTTPError as e:
        return e


def sign_up(i):
    opener = browser()
    email = f"asker{i}-{int(time.time())}@example.com"
    t = token(opener, "/signup")
    post(opener, "/signup", {"email": email, "password": password, "nickname": f"질문자{i}", "agree_terms": "yes",
                             "agree_privacy": "yes", "csrf_token": t})
    post(opener, "/login", {"email": email, "password": password, "csrf_token": t})
    return opener


openers = [sign_up(i) for i in range(learners)]
tokens = [token(o, f"/learn/topics/{lesson}") for o in openers]
print(f"{learners} learners signed in", flush=True)
go = threading.Event()
results, failures, lock = [], [], threading.Lock()
deadline = None


def ask(i):
    go.wait()
    n = 0
    while time.time() < deadline:
        n += 1
        started = time.time()
        resp = post(openers[i], f"/learn/topics/{lesson}/tutor",
                    {"question": f"const 변수는 다시 대입할 수 있나요? ({n})", "position": "41", "csrf_token": tokens[i]},
                    {"Accept": "text/event-stream"})
        if resp.status != 200:
            with lock:
                failures.append(f"HTTP {resp.status}")
            return
        first, end, buffer = None, None, b""
        while True:
            piece = resp.read1(65536)
            if not piece:
                break
            buffer += piece
            if first is None and b"event: delta" in buffer:
                first = time.time() - started
            if b"event: done" in buffer or b"event: failed" in buffer:
                end = time.time() - started
        if b"event: done" in buffer:
            with lock:
                results.append((first, end))
        else:
            with lock:
                failures.append("no answer" if b"event: failed" not in buffer else "failed")


threads = [threading.Thread(target=ask, args=(i,)) for i in range(learners)]
for t in threads:
    t.start()
deadline = time.time() + secs
go.set()
for t in threads:
    t.join()
firsts = sorted(r[0] for r in results)
ends = sorted(r[1] for r in results)
q = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")
print(json.dumps({
    "answers": len(results), "failures": len(failures), "why": sorted(set(failures)),
    "first_piece_p50_s": round(q(firsts, 0.5), 2), "first_piece_p99_s": round(q(firsts, 0.99), 2),
    "whole_answer_p50_s": round(q(ends, 0.5), 2), "whole_answer_p99_s": round(q(ends, 0.99), 2),
}))
