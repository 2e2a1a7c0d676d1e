from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete expired sessions (idle-timed-out logins) and login-failure records past their cool-off."""
    call_command("clearsessions")
    call_command("axes_reset_failure_logs", "--age", "30")
