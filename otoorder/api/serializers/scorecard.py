"""Lab scorecards (``GET /api/v1/suppliers/{id}/scorecard/``): the query and the figures."""

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from branches.models import Branch
from otoorder.orders import scorecard

DATE_ERRORS = {
    "invalid": gettext_lazy("Bitte ein Datum im Format JJJJ-MM-TT angeben."),
    "required": gettext_lazy("Bitte den Zeitraum angeben (von und bis)."),
}


class ScorecardQuerySerializer(serializers.Serializer):
    """``from``/``to`` (``from`` is a Python keyword: the fields are renamed in ``__init__``,
    their values stay ``date_from``/``date_to``)
    and an optional ``branch`` the user may see; without it, every branch the user may see."""

    date_from = serializers.DateField(error_messages=DATE_ERRORS, help_text=gettext_lazy("Beginn des Zeitraums (bestellt ab)."))
    date_to = serializers.DateField(error_messages=DATE_ERRORS, help_text=gettext_lazy("Ende des Zeitraums (bestellt bis)."))
    branch = serializers.UUIDField(
        required=False,
        error_messages={"invalid": gettext_lazy("Diese Filiale gibt es nicht.")},
        help_text=gettext_lazy("Eine Filiale; ohne Angabe alle Filialen, die Sie sehen dürfen."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = self.fields.pop("date_from")
        self.fields["to"] = self.fields.pop("date_to")

    def validate_branch(self, value):
        if not Branch.objects.visible_to(self.context["request"].user).filter(pk=value).exists():
            raise serializers.ValidationError(gettext_lazy("Diese Filiale gibt es nicht."))
        return value

    def validate(self, attrs):
        error = scorecard.period_error(attrs["date_from"], attrs["date_to"])
        if error:
            raise serializers.ValidationError({"to": [error]})
        return attrs

    def branch_ids(self):
        """The branches the figures cover."""
        branch = self.validated_data.get("branch")
        if branch is not None:
            return [branch]
        return list(Branch.objects.visible_to(self.context["request"].user).values_list("pk", flat=True))


class ScorecardSerializer(serializers.Serializer):
    supplier_id = serializers.UUIDField()
    supplier = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    branch = serializers.UUIDField(allow_null=True)
    orders = serializers.IntegerField()
    shipped_median_days = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Median bestellt → versandt (Tage)"))
    shipped_p90_days = serializers.FloatField(allow_null=True, help_text=gettext_lazy("90. Perzentil bestellt → versandt (Tage)"))
    received_median_days = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Median bestellt → Wareneingang (Tage)"))
    received_p90_days = serializers.FloatField(allow_null=True, help_text=gettext_lazy("90. Perzentil bestellt → Wareneingang (Tage)"))
    received = serializers.IntegerField()
    with_date_required = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    remakes = serializers.IntegerField(help_text=gettext_lazy("Nachfertigungen innerhalb des Fensters für die kostenlose Nachfertigung"))
    remake_rate = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Nachfertigungen je eingegangene Bestellung"))
    fit_remakes = serializers.IntegerField(help_text=gettext_lazy("davon Passform (im Passform-Fenster)"))
    fit_remake_rate = serializers.FloatField(allow_null=True)
    material_remakes = serializers.IntegerField(help_text=gettext_lazy("davon Material (im Material-Fenster)"))
    material_remake_rate = serializers.FloatField(allow_null=True)
    uncategorised_remakes = serializers.IntegerField(
        help_text=gettext_lazy("davon ohne Kategorie (im Passform-Fenster gezählt)")
    )
    uncategorised_remake_rate = serializers.FloatField(allow_null=True)
    rejected = serializers.IntegerField()
    failed_sends = serializers.IntegerField()
    cancellations_refused = serializers.IntegerField()
