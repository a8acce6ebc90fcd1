"""Background jobs of the ingestion context (django-tasks, database backend): thin and safe to repeat."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task()
def process_submission_task(submission_id: str) -> None:
    """Load an archived submission; a repeat after a crash resumes after the last committed HOSO.

    When another run holds the submission (a duplicate task, or a worker that died a moment ago), try again
    once its lease would have expired: the holder has finished by then, or it is dead and this takes over.
    """
    from soskdt.ingestion.models import SubmissionStatus
    from soskdt.ingestion.services import LEASE, process_submission

    submission = process_submission(submission_id=submission_id)
    if submission.status in (SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING):
        later = process_submission_task.using(run_after=timezone.now() + LEASE)
        if later.get_backend().supports_defer:
            later.enqueue(submission_id)
