
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('recipients', '0010_identity_ending'),
        ('recipients', '0010_merge_0009_list_indexes_0009_village_code'),
    ]

    operations = [
    ]
