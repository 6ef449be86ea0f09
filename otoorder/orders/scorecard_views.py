"""Branch administration: the lab scorecards (Laborkennzahlen) as a page with charts and as CSV.

Admins see the figures of the branches they administer (one, or all of them together).
"""

import csv
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.generic import TemplateView

from branches.views import AdminAccessMixin

from . import scorecard
from .scorecard_forms import ScorecardForm

#: (figure key, column label, kind): the table's and the CSV's columns.
COLUMNS = (
    ("orders", gettext_lazy("Bestellungen"), "count"),
    ("shipped_median_days", gettext_lazy("bestellt → versandt, Median (Tage)"), "days"),
    ("shipped_p90_days", gettext_lazy("bestellt → versandt, 90 % (Tage)"), "days"),
    ("received_median_days", gettext_lazy("bestellt → Wareneingang, Median (Tage)"), "days"),
    ("received_p90_days", gettext_lazy("bestellt → Wareneingang, 90 % (Tage)"), "days"),
    ("on_time_rate", gettext_lazy("termingerecht"), "rate"),
    ("remake_rate", gettext_lazy("Nachfertigungsquote"), "rate"),
    ("fit_remake_rate", gettext_lazy("Nachfertigungsquote Passform"), "rate"),
    ("material_remake_rate", gettext_lazy("Nachfertigungsquote Material"), "rate"),
    ("uncategorised_remake_rate", gettext_lazy("Nachfertigungsquote ohne Kategorie"), "rate"),
    ("rejected", gettext_lazy("abgelehnt"), "count"),
    ("failed_sends", gettext_lazy("fehlgeschlagene Sendungen"), "count"),
    ("cancellations_refused", gettext_lazy("Stornierung abgelehnt"), "count"),
)


class ScorecardView(AdminAccessMixin, TemplateView):
    template_name = "branches/scorecard.html"

    def get(self, request, *args, **kwargs):
        date_from, date_to = scorecard.default_period(timezone.localdate())
        data = request.GET if request.GET else {"date_from": date_from, "date_to": date_to}
        self.form = ScorecardForm(data, branches=self.scope.branches().order_by("name"))
        self.scores = (
            scorecard.compute(
                self.form.cleaned_data["date_from"], self.form.cleaned_data["date_to"], self.form.branch_ids()
            )
            if self.form.is_valid()
            else None
        )
        if self.scores is not None and request.GET.get("format") == "csv":
            return self.csv_response()
        return super().get(request, *args, **kwargs)

    def csv_response(self):
        cleaned = self.form.cleaned_data
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="laborkennzahlen-{cleaned["date_from"]:%Y-%m-%d}-{cleaned["date_to"]:%Y-%m-%d}.csv"'
        )
        response.write("\ufeff")  # Excel opens UTF-8 with the byte order mark
        writer = csv.writer(response, delimiter=";")
        writer.writerow([_("Labor"), *(str(label) for _key, label, _kind in COLUMNS)])
        for score in self.scores:
            figures = score.as_dict()
            writer.writerow([score.supplier, *("" if figures[key] is None else figures[key] for key, _l, _k in COLUMNS)])
        return response

    def get_context_data(self, **kwargs):
        rows = [
            {"supplier": score.supplier, "cells": [(score.as_dict()[key], kind) for key, _label, kind in COLUMNS]}
            for score in self.scores or []
        ]
        chart = {
            "labels": [score.supplier for score in self.scores or []],
            "series": {key: [getattr(score, key) for score in self.scores or []] for key, _label, _kind in COLUMNS},
            "titles": {
                "turnaround": _("Durchlaufzeit (Tage)"),
                "on-time": _("Termingerecht (%)"),
                "remakes": _("Nachfertigungsquote nach Kategorie (%)"),
            },
            # Chart legends: the short names (the table's column groups say the rest).
            "legend": {
                "shipped_median_days": _("versandt, Median"),
                "shipped_p90_days": _("versandt, 90 %"),
                "received_median_days": _("Wareneingang, Median"),
                "received_p90_days": _("Wareneingang, 90 %"),
                "on_time_rate": _("termingerecht"),
                "fit_remake_rate": _("Passform"),
                "material_remake_rate": _("Material"),
                "uncategorised_remake_rate": _("ohne Kategorie"),
            },
        }
        return super().get_context_data(
            form=self.form, rows=rows, chart=chart, has_scores=bool(rows),
            csv_query=self.csv_query(), **kwargs,
        )

    def csv_query(self):
        if self.scores is None:
            return ""
        cleaned = self.form.cleaned_data
        branch = cleaned.get("branch")
        return urlencode(
            {
                "date_from": cleaned["date_from"].isoformat(),
                "date_to": cleaned["date_to"].isoformat(),
                "branch": branch.pk if branch else "",
                "format": "csv",
            }
        )
