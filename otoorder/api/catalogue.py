"""GET /api/v1/catalogue/?supplier=<id>[&on=YYYY-MM-DD]: what a lab offers, with its constraints.

Per field the values to offer (value, our German label, the lab's code and label); a field
without catalogue entries is unrestricted and lists every canonical value without a code
(colour, free text, then lists none). The rules limit the vent per style/material. Read by
every authenticated user: a catalogue holds no personal data. Answers come from
``suppliers.catalogue.overview``, the same source the order form and the server checks use.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from suppliers import catalogue
from suppliers.models import Supplier


class CatalogueQuerySerializer(serializers.Serializer):
    supplier = serializers.UUIDField(required=False, help_text=gettext_lazy("ID des Lieferanten (Pflicht)"))
    on = serializers.DateField(
        required=False, input_formats=["iso-8601"],
        help_text=gettext_lazy("Stichtag JJJJ-MM-TT; ohne Angabe: heute"),
    )


class CatalogueValueSerializer(serializers.Serializer):
    value = serializers.CharField(help_text=gettext_lazy("Unser kanonischer Wert (wie in Bestellungen)"))
    label = serializers.CharField(help_text=gettext_lazy("Unsere deutsche Bezeichnung"))
    code = serializers.CharField(help_text=gettext_lazy("Code des Labors; leer bei uneingeschränkten Feldern"))
    lab_label = serializers.CharField(help_text=gettext_lazy("Bezeichnung beim Labor"))


class CatalogueFieldSerializer(serializers.Serializer):
    label = serializers.CharField()
    restricted = serializers.BooleanField(
        help_text=gettext_lazy("true: nur diese Werte; false: jeder Wert (bei Farbe freier Text)")
    )
    values = CatalogueValueSerializer(many=True)


class CatalogueRuleSerializer(serializers.Serializer):
    style = serializers.CharField(help_text=gettext_lazy("leer: jede Bauform"))
    material = serializers.CharField(help_text=gettext_lazy("leer: jedes Material"))
    max_vent_mm = serializers.DecimalField(max_digits=3, decimal_places=1, coerce_to_string=True)
    note = serializers.CharField()
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


class CatalogueSerializer(serializers.Serializer):
    supplier = serializers.UUIDField(source="supplier.pk")
    supplier_name = serializers.CharField(source="supplier.display_name")
    on = serializers.DateField()
    fields = serializers.DictField(
        child=CatalogueFieldSerializer(),
        help_text=gettext_lazy("Je Feld: %(fields)s") % {"fields": ", ".join(catalogue.CATALOGUE_FIELDS)},
    )
    rules = CatalogueRuleSerializer(many=True)


class CatalogueError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail, code):
        super().__init__(detail, code)
        self.default_code = code


def _error_example(code, detail):
    return OpenApiExample(code, value={"code": code, "detail": detail}, status_codes=["400"])


class CatalogueView(APIView):
    """What the lab offers on a day, per field, with its constraints."""

    @extend_schema(
        operation_id="catalogue_retrieve",
        summary="Laborkatalog eines Lieferanten",
        parameters=[CatalogueQuerySerializer],
        responses={
            200: CatalogueSerializer,
            400: OpenApiResponse(
                description="supplier_missing, unknown_supplier oder invalid (Stichtag)",
                examples=[
                    _error_example("supplier_missing", "Bitte den Lieferanten angeben: ?supplier=<ID>."),
                    _error_example("unknown_supplier", "Diesen Lieferanten gibt es nicht (oder er ist inaktiv)."),
                ],
            ),
        },
    )
    def get(self, request):
        if not request.query_params.get("supplier"):
            raise CatalogueError(_("Bitte den Lieferanten angeben: ?supplier=<ID>."), "supplier_missing")
        query = CatalogueQuerySerializer(data=request.query_params)
        if not query.is_valid():
            if "supplier" in query.errors:
                raise CatalogueError(_("Diesen Lieferanten gibt es nicht (oder er ist inaktiv)."), "unknown_supplier")
            raise exceptions.ValidationError(query.errors)
        supplier = Supplier.objects.filter(pk=query.validated_data["supplier"], is_active=True).first()
        if supplier is None:
            raise CatalogueError(_("Diesen Lieferanten gibt es nicht (oder er ist inaktiv)."), "unknown_supplier")
        data = catalogue.overview(supplier, query.validated_data.get("on") or timezone.localdate())
        return Response(CatalogueSerializer({"supplier": supplier, **data}).data)
