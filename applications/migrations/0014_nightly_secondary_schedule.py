from django.db import migrations


class Migration(migrations.Migration):
    """Created the nightly secondary schedule; now declared in config/schedules.py (see 0011)."""

    dependencies = [("applications", "0013_secondary_assistance")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
