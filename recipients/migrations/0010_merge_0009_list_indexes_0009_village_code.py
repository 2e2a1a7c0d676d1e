
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('recipients', '0009_list_indexes'),
        ('recipients', '0009_village_code'),
    ]

    operations = [
    ]
