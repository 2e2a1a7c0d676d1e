
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payouts', '0003_failed_line_index'),
        ('payouts', '0003_offsets_and_funds_override'),
    ]

    operations = [
    ]
