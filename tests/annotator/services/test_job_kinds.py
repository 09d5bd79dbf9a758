"""The job-kind registry: every kind has a complete spec, ``resume_jobs`` re-enqueues every kind, and a new kind
is one spec (a toy kind registered here runs start -> chunks on the worker queue -> result)."""

from __future__ import annotations

import inspect
import io
import os

import pytest
from django.apps import apps
from django.core.management import call_command
from django_tasks.base import Task

from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Job, JobChunk
from annotator.selectors.jobs import job_dict
from annotator.services.job_kinds import JOB_KINDS, JobSpec, counts_and_mean, job_spec, sum_counts
from annotator.services.jobs import ChunkInputError, chunk_done, job_create, job_run_local
from annotator.tasks import job_chunk_task, job_enqueue, job_submit

USING_REDIS = bool(os.environ.get("REDIS_URL"))
TOY = "toy_squares"


class JobSpecTests:
    @pytest.mark.parametrize("kind", Job.Kind.values)
    def test_every_kind_has_a_complete_spec(self, kind):
        spec = job_spec(kind)
        assert spec.kind == kind
        start, run_chunk, result = (spec.function(role) for role in ("start", "run_chunk", "result"))
        assert callable(start) and callable(run_chunk) and callable(result)
        # The runner calls run_chunk(job=..., chunk=..., **options) and start(..., created_by=...).
        assert {"job", "chunk"} <= set(inspect.signature(run_chunk).parameters)
        assert "created_by" in inspect.signature(start).parameters
        assert isinstance(result([{"n": 1}, {"n": 2}]), dict)

    def test_every_registered_kind_is_a_model_choice_and_the_task_is_a_task(self):
        assert set(JOB_KINDS) == set(Job.Kind.values)
        assert isinstance(job_chunk_task, Task) and job_chunk_task.module_path == "annotator.tasks.job_chunk_task"

    def test_an_unknown_kind_or_role_is_a_clear_error(self):
        with pytest.raises(ApplicationError, match="unknown job kind 'nope'; known kinds: quality_score"):
            job_spec("nope")
        with pytest.raises(ValueError, match="no 'write' function"):
            job_spec(Job.Kind.EXPORT).function("write")

    def test_results_sum_counts_and_weight_means(self):
        results = [{"scored": 2, "mean": 1.0, "ok": True}, {"scored": 6, "mean": 3.0, "skipped_views": []}, {}]
        assert sum_counts(results) == {"scored": 8}
        assert counts_and_mean(results) == {"scored": 8, "mean": 2.5}


@pytest.mark.django_db
class ResumeEveryKindTests:
    def test_resume_jobs_enqueues_the_unfinished_chunks_of_every_kind(self, django_capture_on_commit_callbacks):
        dataset = Dataset.objects.create(name="d")
        jobs = {}
        for kind in Job.Kind.values:
            job = job_create(kind=kind, dataset=dataset, params={}, payloads=[{}, {}, {}])
            chunk_done(chunk=job.chunks.get(index=0), result={})
            jobs[kind] = job
        done = job_create(kind=Job.Kind.EXPORT, dataset=dataset, params={}, payloads=[{}])
        chunk_done(chunk=done.chunks.get(), result={})
        out = io.StringIO()
        # Sent to the database queue, whose rows roll back with the test; Redis would keep them for later tests.
        with django_capture_on_commit_callbacks(execute=apps.is_installed("django_tasks_db")) as callbacks:
            call_command("resume_jobs", stdout=out)
        for kind, job in jobs.items():
            assert f"{kind}#{job.pk}: enqueued 2 unfinished chunks" in out.getvalue()
        assert f"#{done.pk}:" not in out.getvalue() and len(callbacks) == len(Job.Kind.values)
        if apps.is_installed("django_tasks_db"):  # what reached the database queue: one task per chunk left
            from django_tasks_db.models import DBTaskResult

            sent = sorted(tuple(r.args_kwargs["args"][:2]) for r in DBTaskResult.objects.all())
            assert {r.task_path for r in DBTaskResult.objects.all()} == {job_chunk_task.module_path}
            assert sent == sorted((job.pk, i) for job in jobs.values() for i in (1, 2))


# The toy kind: squares of numbers, two per chunk; a negative number is bad input.


def toy_start(*, dataset: Dataset, numbers: list[int], created_by=None) -> tuple[Job, bool]:
    if not numbers:
        raise ApplicationError("no numbers to square")
    payloads = [{"numbers": numbers[i : i + 2]} for i in range(0, len(numbers), 2)]
    return job_create(kind=TOY, dataset=dataset, params={"n": len(numbers)}, payloads=payloads,
                      created_by=created_by), False  # fmt: skip


def toy_chunk_run(*, job: Job, chunk: JobChunk, offset: int = 0) -> tuple[dict, None]:
    numbers = chunk.payload["numbers"]
    if any(n < 0 for n in numbers):
        raise ChunkInputError(f"negative number in chunk {chunk.index}")
    return {"count": len(numbers), "sum_squares": sum((n + offset) ** 2 for n in numbers)}, None


def toy_result(results: list[dict]) -> dict:
    totals = sum_counts(results)
    return {**totals, "mean_square": totals["sum_squares"] / totals["count"]} if totals else {}


def _empty_queue() -> None:
    # Redis outlives the test database: tasks other tests left there would run against this test's rows.
    if USING_REDIS:
        import django_rq

        django_rq.get_queue("default").empty()


def _run_worker() -> None:
    """Run every queued task in this process (which holds the toy kind's registration) on the configured queue."""
    if USING_REDIS:
        import django_rq
        from django_tasks_rq import Job as RQJob
        from rq import SimpleWorker

        django_rq.get_worker("default", job_class=RQJob, worker_class=SimpleWorker).work(burst=True)
    else:
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


@pytest.fixture
def toy_kind(monkeypatch):
    path = f"{__name__}."
    monkeypatch.setitem(JOB_KINDS, TOY, JobSpec(kind=TOY, start=path + "toy_start", run_chunk=path + "toy_chunk_run",
                                                 result=path + "toy_result"))  # fmt: skip


@pytest.mark.usefixtures("toy_kind")
class ToyKindTests:
    @pytest.mark.django_db(transaction=True)
    def test_a_kind_is_one_spec_start_chunks_on_the_queue_result(self):
        _empty_queue()
        dataset = Dataset.objects.create(name="toys")
        job, resumed, enqueued = job_submit(kind=TOY, dataset=dataset, numbers=[1, 2, 3, 4, 5], options={"offset": 1})
        assert (resumed, enqueued, job.progress_total, job.status) == (False, 3, 3, Job.Status.QUEUED)
        _run_worker()
        job.refresh_from_db()
        assert (job.status, job.progress_done) == (Job.Status.DONE, 3)
        # The options reached run_chunk, and the kind's own result function summed the chunks up.
        assert job_dict(job=job)["result"] == {"count": 5, "sum_squares": 90, "mean_square": 18.0}
        assert job_dict(job=job)["label"] == f"{TOY}#{job.pk}"

    @pytest.mark.django_db
    def test_bad_input_fails_the_chunk_at_once_and_the_rest_run(self):
        job, _ = toy_start(dataset=Dataset.objects.create(name="toys"), numbers=[1, -2, 3])
        job = job_run_local(job=job, progress=False)
        bad = job.chunks.get(index=0)
        assert (bad.status, bad.attempts, bad.error) == (JobChunk.Status.FAILED, 1, "negative number in chunk 0")
        assert job.status == Job.Status.FAILED and job.chunks.get(index=1).status == JobChunk.Status.DONE
        assert job_dict(job=job)["result"] == {"count": 1, "sum_squares": 9, "mean_square": 9.0}

    @pytest.mark.django_db
    def test_a_task_for_a_finished_chunk_skips_it(self):
        job, _ = toy_start(dataset=Dataset.objects.create(name="toys"), numbers=[2])
        assert job_chunk_task.call(job.pk, 0) == {"skipped": False, "chunk": "done", "job": "done"}
        assert job_chunk_task.call(job.pk, 0) == {"skipped": True}
        assert job_enqueue(job=job) == 0

    @pytest.mark.django_db
    def test_bad_start_input_writes_nothing(self):
        with pytest.raises(ApplicationError, match="no numbers"):
            job_submit(kind=TOY, dataset=Dataset.objects.create(name="toys"), numbers=[])
        assert not Job.objects.exists()
