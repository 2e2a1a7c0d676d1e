from django.db import migrations


class Migration(migrations.Migration):
    """Created the nightly cross-check schedule. Schedules are now declared in config/schedules.py and created
    after every migrate (accounts.apps); this migration is kept for the history and does nothing."""

    dependencies = [
        ("applications", "0010_job_lead_leadcontact_leadsettlement_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
