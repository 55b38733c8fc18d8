#!/usr/bin/env python3
"""Login timing: a wrong email and a wrong password should cost the same.

Starts nothing itself: point it at a running Weaverse with one known account.
  bench/login_timing.py http://127.0.0.1:8000 known@example.com [rounds=4]
Prints the median and spread of both kinds of failure. Each failure counts
toward the login limits (5 per account, 20 per address per 15 minutes), so
more than 4 rounds against one account hit the limit (fast 429s) and skew the figures.
"""
import http.cookiejar
import re
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def main() -> None:
    base, email = sys.argv[1].rstrip("/"), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def attempt(login: str) -> float:
        body = urllib.parse.urlencode({"email": login, "password": "not the password 123", "csrf_token": token}).encode()
        request = urllib.request.Request(f"{base}/login", data=body, headers={"Origin": base})
        started = time.perf_counter()
        try:
            opener.open(request)
        except urllib.error.HTTPError as err:
            if err.code not in (401, 429):
                raise
        return (time.perf_counter() - started) * 1000

    wrong_password, wrong_email = [], []
    for i in range(rounds):
        wrong_password.append(attempt(email))
        wrong_email.append(attempt(f"nobody{i}@example.com"))
    for name, samples in (("wrong password", wrong_password), ("wrong email", wrong_email)):
        print(f"{name:15} median {statistics.median(samples):7.1f} ms  min {min(samples):7.1f}  max {max(samples):7.1f}")
    print(f"difference of medians: {abs(statistics.median(wrong_password) - statistics.median(wrong_email)):.1f} ms")


if __name__ == "__main__":
    main()
