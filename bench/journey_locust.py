"""Virtual learners for bench/journey.sh (Locust).

Each virtual learner signs in with its own account (made by journey.sh),
buys the nano-degree through the cart, checkout and the demo gateway, then,
with a few seconds' thought between steps, as a person would: browses the
catalogue, opens a course, opens a lesson and sends the player's watch
events, answers a quiz, submits code now and then, and asks the AI tutor.
Requests carry a browser's Accept-Encoding and the session cookies; each
step is reported under its own name. FastHttpUser (geventhttpclient) costs
the load generator a fraction of python-requests' CPU, which matters when it
shares the server's cores.
"""

import itertools
import os
import re
import threading
import time
import uuid

from locust import FastHttpUser, between, task

ENCODING = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept": "text/html"}
PASSWORD = "correct horse battery 42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

LESSONS = os.environ["JOURNEY_LESSONS"].split(",")
COURSES = os.environ["JOURNEY_COURSES"].split(",")
QUIZ = os.environ["JOURNEY_QUIZ"]
QUIZ_FIELDS = [f.split("=", 1) for f in os.environ["JOURNEY_QUIZ_ANSWERS"].split("&")]
CODE_MISSION = os.environ["JOURNEY_CODE_MISSION"]
CODE_QUESTION = os.environ["JOURNEY_CODE_QUESTION"]
CURRICULUM = os.environ["JOURNEY_CURRICULUM"]
VIDEO_SECS = float(os.environ.get("JOURNEY_VIDEO_SECS", "600"))

_learners = itertools.count(1)
_picks = itertools.count(1)
_lock = threading.Lock()


def next_learner():
    """The next account journey.sh made (load-1, load-2, ...)."""
    with _lock:
        return next(_learners)


def pick(items):
    """The next of `items`, round-robin across learners."""
    with _lock:
        return items[next(_picks) % len(items)]


class Learner(FastHttpUser):
    wait_time = between(3, 10)

    def on_start(self):
        self.email = f"load-{next_learner()}@example.com"
        self.token = None
        self.watch = None
        self.lesson = pick(LESSONS)
        page = self.client.get("/login", headers=ENCODING, name="sign in (form)")
        self.token = CSRF.search(page.text).group(1)
        self.post("/login", {"email": self.email, "password": PASSWORD}, "sign in")
        self.post("/cart/items", {"curriculum_id": CURRICULUM}, "buy: cart")
        page = self.post(
            "/checkout",
            {"address_id": "none", "gateway": "demo", "agree_refund": "yes",
             "form_key": str(uuid.uuid4())},
            "buy: checkout",
        )
        order = page.headers.get("location", "").rsplit("/", 1)[-1]
        self.post(f"/payments/demo/{order}/approve", {"amount": "50000"}, "buy: approve")

    def post(self, path, fields, name, expect=(200, 201, 202, 303)):
        data = dict(fields)
        data["csrf_token"] = self.token
        with self.client.post(
            path, data=data, headers={**ENCODING, "Origin": self.host},
            allow_redirects=False, name=name, catch_response=True,
        ) as response:
            if response.status_code in expect:
                response.success()
            else:
                response.failure(f"{response.status_code}")
            return response

    @task(3)
    def browse(self):
        self.client.get("/courses", headers=ENCODING, name="/courses")
        self.client.get("/", headers=ENCODING, name="/ (roadmap)")

    @task(2)
    def course(self):
        course = pick(COURSES)
        self.client.get(f"/courses/{course}", headers=ENCODING, name="course page")

    @task(4)
    def lesson(self):
        page = self.client.get(f"/learn/topics/{self.lesson}", headers=ENCODING, name="lesson page")
        found = re.search(r'data-watch-session="([^"]+)"', page.text)
        if found:
            self.watch = {"session": found.group(1), "seq": 0, "position": 0.0,
                          "opened": time.time(), "claimed": 0.0, "playing": False}

    @task(6)
    def watch_events(self):
        w = self.watch
        if w is None:
            return self.lesson()
        now = time.time()
        events = []
        if not w["playing"]:
            w["seq"] += 1
            events.append({"type": "play", "position": w["position"], "duration": VIDEO_SECS, "seq": w["seq"]})
            w["playing"] = True
        else:
            # Claim no more than has passed since the page was handed out.
            room = (now - w["opened"]) - w["claimed"] - 1.0
            step = max(0.0, min(10.0, room))
            since = w["position"]
            w["position"] = min(VIDEO_SECS - 1, since + step)
            w["claimed"] += w["position"] - since
            w["seq"] += 1
            events.append({"type": "heartbeat", "position": w["position"], "since": since,
                           "duration": VIDEO_SECS, "seq": w["seq"]})
        with self.client.post(
            f"/learn/topics/{self.lesson}/events",
            json={"session": w["session"], "events": events},
            headers={"Origin": self.host, "X-CSRF-Token": self.token},
            name="watch events", catch_response=True,
        ) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"{response.status_code} {response.text[:120]}")

    @task(1)
    def quiz(self):
        self.client.get(f"/missions/{QUIZ}", headers=ENCODING, name="mission page")
        self.post(f"/missions/{QUIZ}/attempts", {}, "quiz: start", expect=(200, 303, 409, 429))
        self.post(f"/missions/{QUIZ}/submissions", QUIZ_FIELDS, "quiz: answer", expect=(200, 303, 409, 422, 429))

    @task(1)
    def code(self):
        code = "function sum(numbers) {\n  return numbers.reduce((a, b) => a + b, 0);\n}\n"
        with self.client.post(
            f"/missions/{CODE_MISSION}/submissions",
            data={"csrf_token": self.token, "question_id": CODE_QUESTION, "code": code},
            headers={**ENCODING, "Origin": self.host, "HX-Request": "true"},
            name="code: submit", catch_response=True,
        ) as response:
            # One submission in grading at a time per learner: 409 is the
            # page's answer while the previous one is graded.
            if response.status_code in (202, 409, 429):
                response.success()
            else:
                response.failure(f"{response.status_code}")

    @task(1)
    def tutor(self):
        self.post(f"/learn/topics/{self.lesson}/tutor", {"question": "변수와 상수는 어떻게 다른가요?", "position": "30"},
                  "tutor: ask", expect=(200, 303, 429))
