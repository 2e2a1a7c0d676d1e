
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payouts', '0003_payoutbatch_payer_name'),
        ('payouts', '0004_merge_20261201_2144'),
    ]

    operations = [
    ]
