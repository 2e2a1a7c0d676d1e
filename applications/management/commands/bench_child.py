"""Run an operator command inside a transaction that is rolled back: for benchmarks that measure a command in a
process of its own (lib.bench.child_peak). Nothing stays written and no on-commit work runs."""

import resource

from django.core.management import call_command
from django.core.management.base import BaseCommand

from lib.bench import rolled_back


class Command(BaseCommand):
    help = "Run a command rolled back and print its peak memory (benchmarks only)."

    def add_arguments(self, parser):
        parser.add_argument("command")
        parser.add_argument("arguments", nargs="*")

    def handle(self, *args, command, arguments, **options):
        with rolled_back():
            call_command(command, *arguments, stdout=self.stdout, stderr=self.stderr)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"peak {peak:.0f} MB")
