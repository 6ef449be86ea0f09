from django.db import migrations

#: Frozen copy of ``choices.STANDARD_REASONS`` as of this migration.
STANDARD_REASONS = (
    ("fit_pressure", "passt nicht / drückt", "fit"),
    ("feedback", "Rückkopplung", "fit"),
    ("retention", "Halt", "fit"),
    ("material_breakage", "Material/Bruch", "material"),
    ("wrong_execution", "falsche Ausführung", "material"),
    ("loss", "Verlust", "material"),
)


def seed(apps, schema_editor):
    Chain = apps.get_model("branches", "Chain")
    ComplaintReason = apps.get_model("complaints", "ComplaintReason")
    for chain in Chain.objects.all():
        for position, (code, label, category) in enumerate(STANDARD_REASONS):
            ComplaintReason.objects.get_or_create(
                chain=chain, code=code, defaults={"label": label, "category": category, "position": position}
            )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_complaints")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
