"""Background jobs of the web service: a plan run started through the API, with progress and cancel.

The job row lives in the store (``jobs``), so a restart does not lose it: at startup every job still queued or
running is marked ``interrupted`` (no worker holds it any more). A job runs on its own thread with the app's open
store. Cancelling before the solver starts stops the job; cancelling while the solver runs cannot stop the solver
(it runs to its time limit), so the job then ends ``cancelled`` with a message that the plan it saved is kept.
"""

from __future__ import annotations

import json
import threading

from sapper.domain.users import Job, JobState, Principal
from sapper.errors import Fault, SapperError, ValidationError
from sapper.messages import msg
from sapper.plan import Engine
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import Store
from sapper.store import accounts as repo


def interrupt_stale(store: Store) -> int:
    """Mark jobs left queued or running by a previous process interrupted; how many."""
    with store.write() as uow:
        return repo.interrupt_running_jobs(uow.connection)


def shutdown(store: Store) -> None:
    """Called when the app stops: jobs still running will be marked interrupted at the next start."""


def get(store: Store, job_id: int) -> Job:
    with store.write() as uow:
        return repo.job(uow.connection, job_id)


def listed(store: Store) -> list[Job]:
    with store.write() as uow:
        return repo.jobs(uow.connection)


def _update(store: Store, job_id: int, **values: object) -> Job:
    with store.write() as uow:
        repo.update_job(uow.connection, job_id, **values)  # type: ignore[arg-type]
        return repo.job(uow.connection, job_id)


def start_plan(store: Store, principal: Principal, *, time_limit_s: float, seed: int = 0,
               wait: bool = False) -> Job:
    """Queue a plan of the whole register and run it on a background thread (``wait``: join it, for tests)."""
    if time_limit_s <= 0:
        raise ValidationError(msg("job"), [Fault(msg("job"), msg("time_limit_s must be positive"), "time_limit_s")])
    params = json.dumps({"time_limit_s": time_limit_s, "seed": seed})
    with store.write() as uow:
        job = repo.add_job(uow.connection, "plan", principal.name, params)
    thread = threading.Thread(target=_run_plan, args=(store, job.id, time_limit_s, seed), daemon=True,
                              name=f"sapper-job-{job.id}")
    thread.start()
    if wait:
        thread.join()
    return get(store, job.id)


def cancel(store: Store, job_id: int) -> Job:
    """Ask a job to stop (a queued job stops at once; see the module docstring for a running solver)."""
    job = get(store, job_id)
    if job.state not in (JobState.QUEUED, JobState.RUNNING):
        raise ValidationError(f"job {job_id}", [Fault(f"job {job_id}", f"the job is already {job.state.value}",
                                                      "state")])
    return _update(store, job_id, cancel=True)


def _run_plan(store: Store, job_id: int, time_limit_s: float, seed: int) -> None:
    try:
        if get(store, job_id).cancel_requested:
            _update(store, job_id, state=JobState.CANCELLED, message="cancelled before it started")
            return
        _update(store, job_id, state=JobState.RUNNING, progress=0.05, message="starting")
        steps = iter((0.2, 0.4, 0.6, 0.8))

        def progress(message: str) -> None:
            _update(store, job_id, progress=next(steps, 0.9), message=message)

        outcome = plan_store(store, settings=PlanSettings(time_limit_s=time_limit_s, seed=seed, workers=1,
                                                          engine=Engine.CPSAT), progress=progress)
        plan_id = outcome.run.id
        if get(store, job_id).cancel_requested:
            _update(store, job_id, state=JobState.CANCELLED, progress=1.0, plan_id=plan_id,
                    message=f"cancelled while solving; the solver finished and plan {plan_id} was saved")
            return
        _update(store, job_id, state=JobState.DONE, progress=1.0, plan_id=plan_id,
                message=f"plan {plan_id} saved ({outcome.result.status})")
    except SapperError as exc:
        _update(store, job_id, state=JobState.FAILED, message=exc.message)
    except Exception as exc:  # a job thread must end with its state written, whatever went wrong
        _update(store, job_id, state=JobState.FAILED, message=f"unexpected error: {type(exc).__name__}")
