"""How every form of otoorder renders its fields (``settings.FORM_RENDERER``).

Required fields carry ``aria-required="true"`` besides the asterisk of their label, so that a
screen reader says so before the first error; the order form switches the browser's own
checks off (``novalidate``), and a field that is required there must still be announced.
"""

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates


class AccessibleBoundField(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.field.required and not (widget or self.field.widget).is_hidden:
            attrs.setdefault("aria-required", "true")
        return attrs


class FormRenderer(DjangoTemplates):
    bound_field_class = AccessibleBoundField
