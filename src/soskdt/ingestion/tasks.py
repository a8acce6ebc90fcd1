"""Background jobs of the ingestion context (django-tasks, database backend): thin and safe to repeat."""

from __future__ import annotations

from django_tasks import task


@task()
def process_submission_task(submission_id: str) -> None:
    """Load an archived submission; a repeat after a crash resumes after the last committed HOSO."""
    from soskdt.ingestion.services import process_submission

    process_submission(submission_id=submission_id)
