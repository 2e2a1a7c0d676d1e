"""Each Celery worker child gets a memory ceiling: a runaway task fails with MemoryError, the host stays up."""

import subprocess
import sys
import textwrap


def test_a_worker_child_cannot_allocate_past_its_ceiling():
    script = textwrap.dedent(
        """
        import os
        os.environ["WORKER_MEMORY_LIMIT_MB"] = "512"
        os.environ["DJANGO_TESTING"] = "1"
        import django
        django.setup()
        from config.celery import apply_memory_ceiling
        apply_memory_ceiling()
        try:
            blob = bytearray(1024 * 1024 * 1024)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        """
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-1000:]
    assert result.stdout.strip() == "MemoryError"
