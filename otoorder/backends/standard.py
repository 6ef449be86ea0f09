"""Standard Bestellprozess: the normal purchase order, executed by the supplier's order method.

* e-mail: the PDF order form goes to the supplier's order address by SMTP (``EMAIL_URL``),
  the order number in the subject, the order's UUID in the Message-ID so that a lab's
  mail system can recognise a re-delivery;
* print, fax, phone: the PDF is produced and the order waits for staff to confirm that they
  printed, faxed or phoned it (``awaiting_manual``).

Wire format: ``docs/interfaces/standard.md``.
"""

import os
import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import BaseBackend
from .exceptions import (
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from .options import Option
from .pdf import render_order_form
from .result import DispatchResult, ResultStatus

MANUAL_METHODS = {"print", "fax", "phone"}


class _ConnectionCache:
    """One open SMTP connection per worker process, reused from order to order.

    Opening a connection (TCP, greeting, EHLO, maybe TLS and login) costs more than sending
    one order. A connection the server has closed meanwhile shows up as
    ``SMTPServerDisconnected`` before the message was accepted; then one fresh connection
    is tried. The key follows the settings, so a changed ``EMAIL_URL`` (or a forked worker)
    never reuses the wrong connection.
    """

    def __init__(self):
        self.key = self.connection = None

    def _key(self, timeout):
        names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS", "EMAIL_USE_SSL")
        return (os.getpid(), timeout, *(getattr(settings, name, None) for name in names))

    def send(self, message, *, timeout):
        key = self._key(timeout)
        if self.connection is None or self.key != key:
            self.close()
            self.connection, self.key = get_connection(fail_silently=False, timeout=timeout), key
            self.connection.open()
        try:
            return self.connection.send_messages([message])
        except smtplib.SMTPServerDisconnected:
            self.close()
            self.connection, self.key = get_connection(fail_silently=False, timeout=timeout), key
            self.connection.open()
            return self.connection.send_messages([message])
        except Exception:
            self.close()
            raise

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - a broken connection is dropped either way
                pass
        self.connection = self.key = None


_connections = _ConnectionCache()


class StandardBackend(BaseBackend):
    key = "standard"
    label = "Standard Bestellprozess"
    description = gettext_lazy(
        "Bestellung nach der Bestellform des Lieferanten: E-Mail mit PDF-Bestellformular, "
        "oder Druck/Fax/Telefon mit Bestätigung durch den Mitarbeiter."
    )
    options = (
        Option(
            "from_email",
            gettext_lazy("Absender-Adresse"),
            kind="email",
            required=False,
            help_text=gettext_lazy("Leer: die Standard-Absenderadresse des Systems."),
        ),
        Option(
            "reply_to",
            gettext_lazy("Antwort an"),
            kind="email",
            required=False,
            help_text=gettext_lazy("Leer: die E-Mail-Adresse der bestellenden Filiale."),
        ),
        Option("cc", gettext_lazy("Kopie an"), kind="email", required=False),
    )
    #: The e-mail carries the order's attachments after the order form.
    accepts_attachments = True

    def validate(self, document):
        super().validate(document)
        method = document.supplier_order_method
        if method == "email" and not document.supplier.email:
            raise OrderRejected(
                _("Der Lieferant „%(name)s“ hat keine Bestell-E-Mail-Adresse.") % {"name": document.supplier.name}
            )
        if method not in MANUAL_METHODS | {"email"}:
            raise ConfigurationError(
                _("Der Lieferant „%(name)s“ bestellt per Schnittstelle; der Standard-Bestellprozess kann ihn nicht bedienen.")
                % {"name": document.supplier.name}
            )

    def build_payload(self, document):
        pdf = render_order_form(document)
        if document.supplier_order_method in MANUAL_METHODS:
            return {"pdf": pdf, "message": None}
        subject = _("Otoplastik-Bestellung %(number)s – Kd.-Nr. %(account)s") % {
            "number": document.order_number,
            "account": document.supplier_account or "-",
        }
        body = _(
            "Sehr geehrte Damen und Herren,\n\nim Anhang erhalten Sie unsere Otoplastik-Bestellung "
            "%(number)s (%(items)s).\nUnsere Kundennummer: %(account)s\nBestellende Filiale: %(branch)s\n\n"
            "Bitte geben Sie bei Rückfragen die Bestellnummer an.\n\nMit freundlichen Grüßen\n%(branch)s"
        ) % {
            "number": document.order_number,
            "items": ", ".join(item.side_label for item in document.items),
            "account": document.supplier_account or "-",
            "branch": document.branch.name,
        }
        reply_to = self.config.get("reply_to") or document.branch.email
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=self.config.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=[document.supplier.email],
            cc=[self.config["cc"]] if self.config.get("cc") else None,
            reply_to=[reply_to] if reply_to else None,
            headers={
                "Message-ID": f"<{document.order_id}@otoorder>",
                "X-Otoorder-Order-Id": document.order_id,
            },
        )
        message.attach(f"Bestellung-{document.order_number}.pdf", pdf, "application/pdf")
        for attachment in document.attachments:
            message.attach(attachment.name, attachment.content, attachment.content_type)
        return {"pdf": pdf, "message": message}

    def transmit(self, payload, document):
        message = payload["message"]
        if message is None:
            return None
        try:
            sent = _connections.send(message, timeout=self.timeout)
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigurationError(_("Der E-Mail-Server hat die Anmeldung abgelehnt."), detail=str(exc)) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            if any(code >= 500 for code in codes):
                raise PermanentError(
                    _("Der E-Mail-Server hat die Empfängeradresse %(to)s abgelehnt.") % {"to": ", ".join(exc.recipients)},
                    detail=str(exc.recipients),
                ) from exc
            raise TransientError(_("Der E-Mail-Server nimmt die Nachricht gerade nicht an."), detail=str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentError(
                    _("Der E-Mail-Server hat die Bestellung abgelehnt (%(code)s).") % {"code": exc.smtp_code},
                    detail=str(exc.smtp_error),
                ) from exc
            raise TransientError(
                _("Der E-Mail-Server ist vorübergehend nicht bereit (%(code)s).") % {"code": exc.smtp_code},
                detail=str(exc.smtp_error),
            ) from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TransientError(
                _("Der E-Mail-Server ist nicht erreichbar (%(kind)s).") % {"kind": type(exc).__name__}, detail=str(exc)
            ) from exc
        if not sent:
            raise TransientError(_("Die E-Mail wurde nicht versendet."))
        return sent

    def parse_result(self, response, payload, document):
        summary = {"order_method": document.supplier_order_method, "pdf_bytes": len(payload["pdf"])}
        if payload["message"] is None:
            return DispatchResult(
                ResultStatus.AWAITING_MANUAL,
                message=_("Bestellformular erstellt: bitte per %(method)s bestellen und danach bestätigen.")
                % {"method": {"print": _("Druck/Post"), "fax": _("Fax"), "phone": _("Telefon")}[document.supplier_order_method]},
                request_summary=summary,
            )
        message = payload["message"]
        summary.update({"to": message.to, "subject": message.subject})
        return DispatchResult(
            ResultStatus.ORDERED,
            message=_("Bestellung per E-Mail an %(to)s gesendet.") % {"to": ", ".join(message.to)},
            request_summary=summary,
            raw_response=_("SMTP: Nachricht angenommen."),
        )

    def check_connection(self):
        try:
            connection = get_connection(fail_silently=False, timeout=min(self.timeout, 10))
            if hasattr(connection, "open"):
                connection.open()
                connection.close()
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(
                _("Der E-Mail-Server ist nicht erreichbar: %(error)s") % {"error": exc}
            ) from exc
        return _("Der E-Mail-Server ist erreichbar.")
