from django.db import migrations, models

KEY_MATERIALS = ["医疗救助申请表", "申请人身份证或户口簿", "住院（门诊）医疗费用发票"]


def mark_key_materials(apps, schema_editor):
    """Versions already installed keep their list; its application, ID and invoice become key materials."""
    PolicyVersion = apps.get_model("applications", "PolicyVersion")
    for version in PolicyVersion.objects.all():
        version.key_materials = [m for m in KEY_MATERIALS if m in version.materials]
        version.save(update_fields=["key_materials"])


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0016_job_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="materials_supplied",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="窗口在材料清单上勾选的已收材料（含上传了扫描件的）",
                verbose_name="已收材料",
            ),
        ),
        migrations.AddField(
            model_name="policyversion",
            name="key_materials",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="清单中缺少时不能受理（也不能容缺受理）的材料",
                verbose_name="关键材料",
            ),
        ),
        migrations.RunPython(mark_key_materials, migrations.RunPython.noop),
    ]
