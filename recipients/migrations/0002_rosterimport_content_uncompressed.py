from django.db import migrations


def store_uncompressed(apps, schema_editor):
    # Roster files are stored once and read a few times; compressing 10+ MB with pglz on every
    # upload cost more time than the import's own SQL. PostgreSQL only.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE recipients_rosterimport ALTER COLUMN content SET STORAGE EXTERNAL")


def store_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE recipients_rosterimport ALTER COLUMN content SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("recipients", "0001_initial")]

    operations = [migrations.RunPython(store_uncompressed, store_default)]
