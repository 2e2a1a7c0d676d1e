import django.db.models.deletion
from django.db import migrations, models


def give_counties(apps, schema_editor):
    """A clerk's import belongs to its township's county; a county import of a one-county installation to it."""
    RosterImport = apps.get_model("recipients", "RosterImport")
    County = apps.get_model("recipients", "County")
    for record in RosterImport.objects.filter(township__isnull=False).select_related("township"):
        record.county_id = record.township.county_id
        record.save(update_fields=["county"])
    counties = list(County.objects.values_list("pk", flat=True)[:2])
    if len(counties) == 1:
        RosterImport.objects.filter(county__isnull=True).update(county_id=counties[0])


class Migration(migrations.Migration):
    dependencies = [
        ("recipients", "0007_rosterimport_profile"),
    ]

    operations = [
        migrations.AddField(
            model_name="rosterimport",
            name="county",
            field=models.ForeignKey(
                blank=True,
                help_text="县级上传的文件只能包含本县的数据；市级上传的文件按所填乡镇（名册）或人员分到各县（此时为空）",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="recipients.county",
                verbose_name="所属县（区）",
            ),
        ),
        migrations.RunPython(give_counties, migrations.RunPython.noop),
    ]
