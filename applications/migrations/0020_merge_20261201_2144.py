
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0019_list_indexes'),
        ('applications', '0019_recoveries_and_approval_levels'),
    ]

    operations = [
    ]
