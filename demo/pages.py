"""The main pages of the portal as a county's staff open them, for measuring them at full size (`bench_pages`).

`page_plan()` names, for the database at hand (seed_county's), every request of the load test: the page it
belongs to, the login that opens it, its URL with real filter values (a township, a hospital, a person's name or ID
to search for). The Locust users replay it over HTTP (benchmarks/locustfile.py reads it as JSON); `profile()`
runs it in this process through Django's test client and reports each request's time and queries, with the
slowest query of each and, on request, its plan (EXPLAIN ANALYZE)."""

import statistics
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import User
from recipients.models import Person, Township
from settlements.models import Settlement

from .management.commands.seed_demo import COUNTY, DEMO_USERS, DEMO_USERS_EXTRA

PASSWORDS = {username: password for username, _, _, _, password in DEMO_USERS} | DEMO_USERS_EXTRA
# The 20 users of the load test, by login: the township windows are the most, then the county's staff.
LOAD_USERS = ["clerk"] * 4 + ["clerk2"] * 3 + ["reviewer"] * 4 + ["approver"] * 3 + ["finance"] * 2
LOAD_USERS += ["supervisor"] * 3 + ["admin"]


@dataclass
class Request:
    page: str  # the page the figure is given for
    name: str  # this request among the page's
    login: str
    path: str
    search: str = ""  # posted as q, then the list is read through the key the post gives (lib.searches)
    data: dict = field(default_factory=dict)


def page_plan() -> list[Request]:
    """Every request of the load test on this database (the demo county's logins and data)."""
    county = Township.objects.filter(county__code=COUNTY[1])
    other_town = county.exclude(pk=User.objects.get(username="clerk").township_id).order_by("pk").first()
    clerk_town = User.objects.get(username="clerk").township
    person = Person.objects.filter(township=clerk_town).order_by("pk")[100]
    someone = Person.objects.filter(township__county__code=COUNTY[1]).order_by("pk")[5000]
    hospital = Settlement.objects.filter(id_number=someone.id_number).values_list("hospital", flat=True).first()
    number = Settlement.objects.filter(id_number=someone.id_number).values_list("number", flat=True).first()
    year = timezone.localdate().year
    t = other_town.pk
    r = Request
    return [
        # 首页 of each role: queues, reminders, registry counts.
        *(r("首页", f"首页（{login}）", login, "/") for login in ("clerk", "reviewer", "approver", "finance")),
        r("首页", "首页（supervisor）", "supervisor", "/"),
        r("首页", "首页（admin）", "admin", "/"),
        # 救助案件 with its filters.
        r("案件列表", "全部（乡镇）", "clerk", "/cases/"),
        r("案件列表", "已受理（乡镇）", "clerk", "/cases/?status=accepted"),
        r("案件列表", "窗口待办提醒", "clerk", "/cases/?due=window"),
        r("案件列表", "全部（县）", "reviewer", "/cases/"),
        r("案件列表", "待审核", "reviewer", "/cases/?status=review"),
        r("案件列表", "已超期", "reviewer", "/cases/?due=overdue"),
        r("案件列表", "5 个工作日内到期", "reviewer", "/cases/?due=soon"),
        r("案件列表", "一个乡镇", "reviewer", f"/cases/?township={t}"),
        r("案件列表", "二次救助、已发放", "reviewer", "/cases/?source=secondary&status=paid"),
        r("案件列表", "受理日期", "reviewer", f"/cases/?accepted_from={year}-03-01&accepted_to={year}-03-31"),
        r("案件列表", "第 2 页", "reviewer", "/cases/?page=2"),
        r("案件列表", "第 300 页", "reviewer", "/cases/?page=300"),
        r("案件列表", "按姓名查询", "reviewer", "/cases/", search=someone.name),
        r("案件列表", "按身份证号查询", "clerk", "/cases/", search=person.id_number),
        r("待审批", "待审批", "approver", "/cases/approval/"),
        r("待审批", "按金额倒序", "approver", "/cases/approval/?sort=amount&order=desc"),
        # 二次救助名单 and 预警名单.
        r("二次救助名单", "本年度", "approver", "/secondary/"),
        r("二次救助名单", "待审批", "reviewer", "/secondary/?status=approval"),
        r("二次救助名单", "一个乡镇", "supervisor", f"/secondary/?township={t}"),
        r("二次救助名单", "乡镇", "clerk", "/secondary/"),
        r("二次救助名单", "第 2 页", "approver", "/secondary/?page=2"),
        r("预警名单", "预警名单", "reviewer", "/secondary/warnings/"),
        # 救助对象 search.
        r("救助对象查询", "列表（乡镇）", "clerk", "/recipients/people/"),
        r("救助对象查询", "列表（县）", "reviewer", "/recipients/people/"),
        r("救助对象查询", "姓名", "clerk", "/recipients/people/", search=person.name),
        r("救助对象查询", "姓名（县）", "reviewer", "/recipients/people/", search=someone.name[:2]),
        r("救助对象查询", "完整身份证号", "reviewer", "/recipients/people/", search=someone.id_number),
        r("救助对象查询", "身份证号前 10 位", "reviewer", "/recipients/people/", search=someone.id_number[:10]),
        r("救助对象查询", "身份证号后 4 位", "clerk", "/recipients/people/", search=person.id_number[-4:]),
        r("救助对象查询", "一个乡镇", "reviewer", f"/recipients/people/?township={t}"),
        # 主动救助线索.
        r("线索列表", "待跟进（乡镇）", "clerk", "/leads/"),
        r("线索列表", "待跟进（县）", "reviewer", "/leads/"),
        r("线索列表", "已关闭", "reviewer", "/leads/?status=closed"),
        r("线索列表", "全部状态", "supervisor", "/leads/?status="),
        r("线索列表", "一个乡镇", "reviewer", f"/leads/?township={t}"),
        r("线索列表", "按姓名查询", "clerk", "/leads/", search=person.name),
        # 统计看板.
        r("统计看板", "全县", "supervisor", "/reports/"),
        r("统计看板", "一个乡镇", "supervisor", f"/reports/?township={t}"),
        r("统计看板", "上半年", "reviewer", "/reports/?from=1&to=6"),
        r("统计看板", "乡镇", "clerk", "/reports/"),
        # 结算数据.
        r("结算数据", "按医疗机构（全部年度）", "reviewer", "/settlements/hospitals/"),
        r("结算数据", "按医疗机构（本年度）", "supervisor", f"/settlements/hospitals/?year={year}"),
        r("结算数据", "乡镇", "clerk", "/settlements/hospitals/"),
        r("结算数据", "一家医院的结算", "reviewer", f"/settlements/list/?hospital={hospital}"),
        r("结算数据", "一家医院的结算（乡镇）", "clerk", f"/settlements/list/?hospital={hospital}"),
        r("结算数据", "结算单号前缀", "reviewer", f"/settlements/list/?q={number[:12]}"),
        # 支付批次.
        r("支付批次", "批次列表", "finance", "/payouts/"),
        r("支付批次", "批次列表（督查）", "supervisor", "/payouts/"),
        # 审计日志.
        r("审计日志", "全部", "supervisor", "/audit/"),
        r("审计日志", "登录", "supervisor", "/audit/?action=auth.login"),
        r("审计日志", "第 2 页", "admin", "/audit/?page=2"),
        r("审计日志", "一个对象", "admin", f"/audit/?object_type=applications.case&object_id={someone.pk}"),
        # 比对任务 and the import histories.
        r("比对任务", "任务列表", "reviewer", "/jobs/"),
        r("导入记录", "名册导入", "reviewer", "/recipients/imports/"),
        r("导入记录", "结算数据导入", "reviewer", "/settlements/imports/"),
    ]


def plan_json() -> dict:
    return {
        "users": [{"login": login, "password": PASSWORDS[login]} for login in LOAD_USERS],
        "requests": [asdict(q) for q in page_plan()],
    }


# Static file URLs without a collectstatic manifest (the page is otherwise as served).
STATIC = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@dataclass
class Measured:
    request: Request
    status: int
    seconds: float
    queries: int
    slowest_sql: str
    slowest_seconds: float
    plan: str = ""


def profile(requests: list[Request], *, repeat: int = 3, explain: bool = False) -> list[Measured]:
    """Each request through the test client, `repeat` times: the median time, its queries and the slowest one."""
    clients: dict[str, Client] = {}
    results = []
    with override_settings(STORAGES={**settings.STORAGES, **STATIC}):
        for q in requests:
            client = clients.get(q.login)
            if client is None:
                client = clients[q.login] = Client(SERVER_NAME="localhost", HTTP_HOST="localhost")
                client.force_login(User.objects.get(username=q.login))
            times, captured, status = [], None, 0
            for _ in range(repeat):
                connection.queries_log.clear()  # a page of more queries than the log keeps would count none
                with CaptureQueriesContext(connection) as queries:
                    t0 = time.perf_counter()
                    response = _get(client, q)
                    times.append(time.perf_counter() - t0)
                status, captured = response.status_code, queries.captured_queries
            slowest = max(captured, key=lambda c: float(c["time"]), default={"sql": "", "time": "0"})
            measured = Measured(
                q, status, statistics.median(times), len(captured), slowest["sql"], float(slowest["time"])
            )
            if explain and slowest["sql"]:
                measured.plan = _explain(slowest["sql"])
            results.append(measured)
    return results


def _get(client: Client, q: Request):
    if q.search:
        posted = client.post(q.path, {"q": q.search, **q.data}, secure=True)
        return client.get(posted["Location"], secure=True)
    return client.get(q.path, secure=True)


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())
