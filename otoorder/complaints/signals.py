"""A chain created after the data migration gets the standard complaint reasons too."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from branches.models import Chain

from .choices import STANDARD_REASONS
from .models import ComplaintReason


def seed_standard_reasons(chain, reason_model=ComplaintReason):
    for position, (code, label, category) in enumerate(STANDARD_REASONS):
        reason_model.objects.get_or_create(
            chain_id=chain.pk, code=code, defaults={"label": label, "category": category, "position": position}
        )


@receiver(post_save, sender=Chain, dispatch_uid="complaints.seed_reasons")
def seed_for_new_chain(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        seed_standard_reasons(instance)
