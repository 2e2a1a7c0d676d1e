"""Load test of the main pages (`python manage.py bench_pages`, part of `make bench`).

Each Locust user logs in with the next login of the plan (demo/pages.py: the county's township windows, reviewers,
approvers, finance, supervisors, an administrator), fetches the static files the login page links to once, as a
browser with an empty cache does, then opens its role's pages of the plan at random, waiting BENCH_WAIT_MIN to
BENCH_WAIT_MAX seconds between them (a person reading a page). A search posts its text and reads the list the
redirect names, as the browser does (lib.searches). Every page request's time is written to BENCH_TIMINGS (one
JSON line: page, request, milliseconds, status, when), which bench_pages reads; Locust's summary goes to stdout.

Runs inside Locust (gevent), not Django: the plan comes as JSON in BENCH_PLAN."""

import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["BENCH_PLAN"], encoding="utf-8").read())  # noqa: SIM115
TIMINGS = open(os.environ["BENCH_TIMINGS"], "a", encoding="utf-8")  # noqa: SIM115 (closed at quit)
LOGINS = itertools.cycle(PLAN["users"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')


@events.request.add_listener
def record(request_type, name, response_time, response_length, response, exception, context, **kwargs):
    if context.get("static"):
        line = {"static": context["static"], "ms": response_time, "status": getattr(response, "status_code", 0)}
        TIMINGS.write(json.dumps(line) + "\n")
    elif context.get("page"):
        line = {
            "page": context["page"],
            "request": context["request"],
            "login": context["login"],
            "ms": response_time,
            "status": getattr(response, "status_code", 0),
            "error": str(exception) if exception else "",
            "at": time.time(),
        }
        TIMINGS.write(json.dumps(line, ensure_ascii=False) + "\n")


@events.quitting.add_listener
def close(environment, **kwargs):
    TIMINGS.close()


class Staff(HttpUser):
    wait_time = between(float(os.environ.get("BENCH_WAIT_MIN", "1")), float(os.environ.get("BENCH_WAIT_MAX", "3")))

    def on_start(self):
        self.login = next(LOGINS)
        self.plan = [r for r in PLAN["requests"] if r["login"] == self.login["login"]]
        page = self.client.get("/login/", name="登录页")
        for path in sorted(set(STATIC.findall(page.text))):
            with self.client.get(path, name="静态文件", context={"static": path}, catch_response=True) as asset:
                if asset.status_code != 200:
                    asset.failure(f"{path}: {asset.status_code}")
        answer = self.client.post(
            "/login/",
            {"username": self.login["login"], "password": self.login["password"], "csrfmiddlewaretoken": _token(page)},
            name="登录",
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"{self.login['login']} could not log in: {answer.status_code}")

    @task
    def open_a_page(self):
        r = random.choice(self.plan)
        context = {"page": r["page"], "request": r["name"], "login": r["login"]}
        path = r["path"]
        if r["search"]:
            csrf = self.client.cookies.get("csrftoken", "")
            posted = self.client.post(
                path, {"q": r["search"], "csrfmiddlewaretoken": csrf}, name="查询提交", allow_redirects=False
            )
            path = posted.headers.get("Location", path)
        with self.client.get(path, name=f"{r['page']}：{r['name']}", context=context, catch_response=True) as page:
            if page.status_code != 200:
                page.failure(f"{path}: {page.status_code}")


def _token(page) -> str:
    found = CSRF.search(page.text)
    return found.group(1) if found else ""
