"""Jobs that share the work: a job cut into chunks of people gives exactly what one chunk gives, a chunk that fails
is retried alone, the page shows chunks done / total, and jobs of different counties run side by side."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from applications.jobs.chunks import WAITING, chunks_plan
from applications.jobs.runner import jobs_sweep
from applications.models import Case, Job, JobChunk, Lead, LeadSettlement, YearlyBurden
from applications.policy.services import policy_load_preset
from applications.proactive import crosscheck as crosscheck_module
from applications.proactive.crosscheck import crosscheck_close_job, crosscheck_now, crosscheck_request
from applications.secondary.services import secondary_now
from audit.models import AuditEvent
from tests.factories import CountyFactory, IdentityFactory, PersonFactory, TownshipFactory, settle

D = Decimal
TODAY = datetime.datetime(2025, 12, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def county_people(township):
    """Nine people of one county: stays with and without one-stop assistance, two years, a category that ends."""
    policy_load_preset(name="maoming-2018", county=township.county)
    other_town = TownshipFactory(county=township.county)
    people = []
    for i in range(9):
        p = PersonFactory(township=township if i % 2 else other_town)
        IdentityFactory(person=p, category=["DB", "TK", "JD"][i % 3], valid_from=datetime.date(2024, 1, 1))
        settle(p, day=datetime.date(2025, 3 + i % 6, 10))
        settle(p, day=datetime.date(2024, 11, 2), total=D(str(9000 + 700 * i)), in_policy=D("8000"), basic=D("4000"))
        if i % 3 == 0:
            settle(p, day=datetime.date(2025, 9, 1), onestop=D("1500"), total=D("30000"), in_policy=D("20000"))
        people.append(p)
    return people


def leads_snapshot():
    return sorted(
        (lead.person_id, lead.year, lead.status, lead.estimate, lead.settlement_count, lead.category)
        for lead in Lead.objects.all()
    ), sorted(LeadSettlement.objects.values_list("settlement_number", "active", "estimate", "category"))


def secondary_snapshot():
    cases = sorted(
        Case.objects.filter(source=Case.Source.SECONDARY).values_list("person_id", "year", "status", "proposed_amount")
    )
    burdens = sorted(YearlyBurden.objects.values_list("person_id", "year", "burden", "due", "items", "pending"))
    return cases, burdens


FIGURES = ["rows_examined", "candidates", "people", "processed", "created", "updated", "closed", "reopened"]


def figures(job):
    return [getattr(job, name) for name in FIGURES] + [job.total_amount, job.status]


def test_a_job_in_several_chunks_gives_exactly_what_one_chunk_gives(county_people, settings):
    settings.JOB_CHUNK_PEOPLE = 100
    one = crosscheck_now(reason="one chunk")
    leads = leads_snapshot()
    second_one = secondary_now(reason="one chunk")
    cases = secondary_snapshot()
    assert one.chunks_total == 1 and one.created == 9 and second_one.created > 0
    Lead.objects.all().delete()
    Case.objects.filter(source=Case.Source.SECONDARY).delete()
    YearlyBurden.objects.all().delete()
    Job.objects.all().delete()

    settings.JOB_CHUNK_PEOPLE = 2
    many = crosscheck_now(reason="five chunks")
    assert many.chunks_total == 5 and many.chunks_done == 5
    assert leads_snapshot() == leads
    assert figures(many) == figures(one)
    again = crosscheck_now(reason="re-run")
    assert (again.created, again.updated, again.closed, again.reopened) == (0, 0, 0, 0) and leads_snapshot() == leads
    second_many = secondary_now(reason="five chunks")
    assert secondary_snapshot() == cases
    assert figures(second_many) == figures(second_one)
    audit = AuditEvent.objects.get(action="job.crosscheck", object_id=str(many.pk))
    assert audit.after["chunks"] == 5 and audit.after["created"] == 9 and D(audit.after["total"]) == one.total_amount


def test_chunks_cut_every_county_by_person_id_and_leave_the_outer_ranges_open(county_people, settings):
    other = TownshipFactory(county=CountyFactory(code="440982", name="信宜市"))
    PersonFactory(township=other)
    job = Job.objects.create(kind=Job.Kind.CROSSCHECK, status=Job.Status.RUNNING)
    assert chunks_plan(job, size=4) == 4
    ranges = list(job.chunks.values_list("county_id", "after_id", "upto_id"))
    ids = sorted(p.pk for p in county_people)
    county = county_people[0].township.county_id
    assert ranges[:3] == [(county, None, ids[3]), (county, ids[3], ids[7]), (county, ids[7], None)]
    assert ranges[3] == (other.county_id, None, None)


def test_a_failing_chunk_is_retried_alone_and_the_job_completes(county_people, settings, monkeypatch):
    settings.JOB_CHUNK_PEOPLE = 3
    real, calls = crosscheck_module.estimate, []
    unlucky = county_people[4].pk

    def flaky(candidates, **kwargs):
        people = {c.person_id for c in candidates}
        calls.append(people)
        if unlucky in people and sum(unlucky in seen for seen in calls) == 1:
            raise RuntimeError("connection lost")
        return real(candidates, **kwargs)

    monkeypatch.setattr(crosscheck_module, "estimate", flaky)
    job = crosscheck_now(reason="test")
    assert job.status == Job.Status.DONE and job.created == 9 and Lead.objects.count() == 9
    attempts = dict(job.chunks.values_list("number", "attempts"))
    assert sorted(attempts.values()) == [1, 1, 2] and len(calls) == 4  # only the failed chunk ran twice
    assert job.chunks_done == 3 and job.chunks_failed == 0


def test_a_chunk_that_always_fails_fails_the_job_and_the_other_chunks_stay_written(
    county_people, settings, monkeypatch
):
    settings.JOB_CHUNK_PEOPLE = 3
    real = crosscheck_module.estimate
    unlucky = county_people[4].pk

    def broken(candidates, **kwargs):
        if unlucky in {c.person_id for c in candidates}:
            raise RuntimeError("always")
        return real(candidates, **kwargs)

    monkeypatch.setattr(crosscheck_module, "estimate", broken)
    job = crosscheck_now(reason="test")
    assert job.status == Job.Status.FAILED and job.chunks_failed == 1 and job.chunks_done == 2
    assert "1 / 3 个分块失败" in job.message
    assert Lead.objects.count() == 6 and job.created == 6
    assert job.chunks.get(status=JobChunk.Status.FAILED).attempts == 3
    assert AuditEvent.objects.filter(action="job.failed", object_id=str(job.pk)).exists()


def test_job_page_shows_chunks_done_of_total(client, reviewer, db):
    Job.objects.create(
        kind=Job.Kind.CROSSCHECK,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        phase="写入线索",
        chunks_total=12,
        chunks_done=5,
        processed=1234,
    )
    client.force_login(reviewer)
    page = client.get("/jobs/").text
    assert "分块 5 / 12" in page and "已测算 1,234 人" in page and "写入线索" in page


def two_counties(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    other = TownshipFactory(county=CountyFactory(code="440982", name="信宜市"))
    policy_load_preset(name="maoming-2018", county=other.county)
    found = []
    for town in (township, other):
        p = PersonFactory(township=town)
        IdentityFactory(person=p, category="DB", valid_from=datetime.date(2024, 1, 1))
        settle(p)
        found.append(p)
    return found


def test_two_counties_jobs_run_side_by_side_and_touch_only_their_people(township, settings):
    here, there = two_counties(township)
    # County A's job is under way on the workers: planned, its chunk not yet run.
    a = crosscheck_request(reason="A", county_id=here.township.county_id, enqueue=False)
    Job.objects.filter(pk=a.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    a.refresh_from_db()
    chunks_plan(a, size=settings.JOB_CHUNK_PEOPLE)
    # County B's runs meanwhile, to the end, and writes only its own people's leads.
    b = crosscheck_now(reason="B", county_id=there.township.county_id)
    assert b.status == Job.Status.DONE and b.created == 1
    assert list(Lead.objects.values_list("person_id", flat=True)) == [there.pk]
    from applications.proactive.crosscheck import crosscheck_run_chunk

    crosscheck_run_chunk(chunk_id=a.chunks.get().pk)
    a = crosscheck_close_job(job_id=a.pk)
    assert a.status == Job.Status.DONE and a.created == 1 and Lead.objects.count() == 2
    assert a.total_amount == b.total_amount == Lead.objects.get(person=here).estimate


def test_requests_for_people_of_two_counties_become_a_job_per_county(township, django_capture_on_commit_callbacks):
    from applications.secondary.services import secondary_after_commit

    here, there = two_counties(township)
    with django_capture_on_commit_callbacks(execute=True):
        secondary_after_commit(person_ids=[here.pk, there.pk], reason="test")
    jobs = {j.county_id: j.people_ids for j in Job.objects.filter(kind=Job.Kind.SECONDARY)}
    assert jobs == {here.township.county_id: [here.pk], there.township.county_id: [there.pk]}


@pytest.fixture
def sent(monkeypatch):
    """The tasks the jobs' chunk code sends on commit, by name and argument."""
    from applications.jobs import chunks

    calls = []
    monkeypatch.setattr(chunks, "enqueue_on_commit", lambda name, *args: calls.append((name, *args)))
    return calls


@pytest.mark.postgres
def test_a_job_of_all_counties_waits_for_a_county_job_and_is_sent_when_it_closes(township, settings, sent):
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite a running job found by another is one a stopped process left")
    from applications.proactive.crosscheck import crosscheck_run_chunk, crosscheck_run_job

    here, _ = two_counties(township)
    a = crosscheck_request(reason="A", county_id=here.township.county_id, enqueue=False)
    Job.objects.filter(pk=a.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    a.refresh_from_db()
    chunks_plan(a, size=settings.JOB_CHUNK_PEOPLE)
    everybody = crosscheck_request(reason="all", enqueue=False)
    waiting = crosscheck_run_job(job_id=everybody.pk, inline=False)  # as its task would
    assert waiting.status == Job.Status.QUEUED and waiting.phase == WAITING
    crosscheck_run_chunk(chunk_id=a.chunks.get().pk)
    assert sent == [("applications.close_crosscheck_job", a.pk)]  # the last chunk sends the close
    crosscheck_close_job(job_id=a.pk)
    assert sent[-1] == ("applications.run_crosscheck_job", everybody.pk)  # the waiting job is sent again
    assert crosscheck_run_job(job_id=everybody.pk).status == Job.Status.DONE


def test_the_sweep_queues_again_a_chunk_whose_worker_died_and_fails_it_after_max_attempts(county_people, sent):
    job = crosscheck_request(reason="test", enqueue=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    job.refresh_from_db()
    chunks_plan(job, size=100)
    chunk = job.chunks.get()
    long_ago = timezone.now() - datetime.timedelta(minutes=10)
    JobChunk.objects.filter(pk=chunk.pk).update(status=JobChunk.Status.RUNNING, attempts=1, heartbeat_at=long_ago)
    assert jobs_sweep() == 0
    chunk.refresh_from_db()
    assert chunk.status == JobChunk.Status.QUEUED and sent == [("applications.run_crosscheck_chunk", chunk.pk)]
    JobChunk.objects.filter(pk=chunk.pk).update(status=JobChunk.Status.RUNNING, attempts=3, heartbeat_at=long_ago)
    jobs_sweep()
    chunk.refresh_from_db()
    assert chunk.status == JobChunk.Status.FAILED and sent[-1] == ("applications.close_crosscheck_job", job.pk)
    job = crosscheck_close_job(job_id=job.pk)
    assert job.status == Job.Status.FAILED and job.chunks_failed == 1
    assert AuditEvent.objects.filter(action="job.interrupted", object_id=str(job.pk)).count() == 2
